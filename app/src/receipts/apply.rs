//! Receipts applied to messages: only at the door of the carrier (or application) that has the
//! message, never over an outcome already applied; and what is never confirmed, expired.

use sqlx::PgPool;

use crate::dispatch::model::MessageState;
use crate::error::AppError;

/// What became of a delivery of receipts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceiptTally {
    pub applied: u64,
    /// Kept until their message's result (or serial) is recorded.
    pub kept: u64,
    /// Receipts for messages that already have their outcome (a carrier's retry).
    pub repeated: u64,
    /// Naming no message (Herald's or the application's).
    pub unknown: u64,
}

impl std::ops::AddAssign for ReceiptTally {
    fn add_assign(&mut self, other: ReceiptTally) {
        self.applied += other.applied;
        self.kept += other.kept;
        self.repeated += other.repeated;
        self.unknown += other.unknown;
    }
}

/// Applies receipts: submitted messages become delivered or failed; receipts for messages being
/// handed over (their result not recorded yet) are kept; repeats change nothing. With
/// `application`, only that application's messages are touched; with `carrier`, only messages
/// that carrier took (a kept receipt applies only if it did). The rest count as unknown, messages
/// not handed to any carrier yet included: no receipt for them can be genuine.
pub async fn apply_receipts(
    pool: &PgPool,
    receipts: &[(i64, bool, String)],
    application: Option<i64>,
    carrier: Option<i64>,
) -> Result<ReceiptTally, AppError> {
    let mut tx = pool.begin().await?;
    let mut ids: Vec<i64> = receipts.iter().map(|r| r.0).collect();
    ids.sort_unstable();
    ids.dedup();
    // Locks first, in id order: a worker recording these messages finishes before we look.
    let state_of: std::collections::HashMap<i64, MessageState> = sqlx::query!(
        r#"SELECT m.id, m.state AS "state: MessageState"
           FROM messages m JOIN tasks t ON t.id = m.task_id
          WHERE m.id = ANY($1)
            AND ($2::bigint IS NULL OR t.application_id = $2)
            AND ($3::bigint IS NULL OR m.state = $4
                 OR coalesce(m.carrier_id, t.carrier_id) = $3)
          ORDER BY m.id FOR UPDATE OF m"#,
        &ids,
        application,
        carrier,
        MessageState::Submitting as _,
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|m| (m.id, m.state))
    .collect();
    let (mut now_ids, mut now_ok, mut now_code) = (Vec::new(), Vec::new(), Vec::new());
    let (mut later_ids, mut later_ok, mut later_code) = (Vec::new(), Vec::new(), Vec::new());
    let mut tally = ReceiptTally::default();
    let mut seen = std::collections::HashSet::new();
    for (id, ok, code) in receipts {
        if !seen.insert(*id) {
            tally.repeated += 1;
            continue;
        }
        match state_of.get(id).copied() {
            Some(MessageState::Submitted) => {
                now_ids.push(*id);
                now_ok.push(*ok);
                now_code.push(code.clone());
            }
            Some(MessageState::Queued) => tally.unknown += 1,
            Some(MessageState::Submitting) => {
                later_ids.push(*id);
                later_ok.push(*ok);
                later_code.push(code.clone());
            }
            Some(_) => tally.repeated += 1,
            None => tally.unknown += 1,
        }
    }
    let done = sqlx::query!(
        r#"WITH v AS (SELECT * FROM unnest($1::bigint[], $2::bool[], $3::text[]) AS v(id, ok, code))
         UPDATE messages m SET state = CASE WHEN v.ok THEN $4 ELSE $5 END,
                               code = v.code, done_at = greatest(now(), m.submitted_at)
           FROM v WHERE m.id = v.id AND m.state = $6
         RETURNING m.id, m.task_id, m.state = $4 AS "delivered!""#,
        &now_ids,
        &now_ok,
        &now_code,
        MessageState::Delivered as _,
        MessageState::Failed as _,
        MessageState::Submitted as _,
    )
    .fetch_all(&mut *tx)
    .await?;
    let done_ids: Vec<i64> = done.iter().map(|m| m.id).collect();
    crate::dispatch::recording::settled(&mut tx, &done_ids).await?;
    let mut counts: std::collections::BTreeMap<i64, (i64, i64)> = Default::default();
    for m in &done {
        let count = counts.entry(m.task_id).or_default();
        if m.delivered {
            count.0 += 1;
        } else {
            count.1 += 1;
        }
    }
    for (task_id, (delivered, failed)) in &counts {
        // Counts come as bigint; their sum is range-checked as the int4 counters store it.
        sqlx::query!(
            "UPDATE tasks SET delivered = delivered + $2::bigint, failed = failed + $3::bigint,
                              updated_at = now()
              WHERE id = $1",
            task_id,
            delivered,
            failed,
        )
        .execute(&mut *tx)
        .await?;
    }
    let kept = sqlx::query!(
        "INSERT INTO pending_receipts (message_id, delivered, code, carrier_id)
         SELECT *, $4::bigint FROM unnest($1::bigint[], $2::bool[], $3::text[])
         ON CONFLICT (message_id) DO NOTHING",
        &later_ids,
        &later_ok,
        &later_code,
        carrier,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    tally.applied = now_ids.len() as u64;
    tally.kept = kept;
    Ok(tally)
}

/// Where receipts naming carriers' own serials came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptSource {
    /// A carrier's receipt path: its serials.
    Carrier(i64),
    /// An application's receipt endpoint: serials of its messages at any carrier; a serial not
    /// recorded yet waits as the receipt of `carrier` (the application's).
    Application { id: i64, carrier: i64 },
}

/// A receipt or delivery status naming a carrier's own serial.
#[derive(Debug, Clone)]
pub struct CarrierReceipt {
    pub serial: String,
    pub delivered: bool,
    pub code: String,
    /// E.164, when the receipt says.
    pub phone: Option<String>,
    /// The batch's message id range, from a status's SessionContext.
    pub batch: Option<(i64, i64)>,
}

/// Receipts that name a carrier's own serials (not Herald's keys): applied to the messages the
/// serials were recorded for; a serial not recorded yet keeps its receipt until it (or the
/// unconfirmed message it names) is.
pub async fn apply_carrier_receipts(
    pool: &PgPool,
    source: ReceiptSource,
    receipts: &[CarrierReceipt],
) -> Result<ReceiptTally, AppError> {
    let serials: Vec<String> = receipts.iter().map(|r| r.serial.clone()).collect();
    let (carrier_id, application) = match source {
        ReceiptSource::Carrier(carrier) => (carrier, None),
        ReceiptSource::Application { id, carrier } => (carrier, Some(id)),
    };
    let known: std::collections::HashMap<String, i64> = sqlx::query!(
        "SELECT s.serial_no, s.message_id FROM carrier_serials s
          WHERE s.serial_no = ANY($2)
            AND CASE WHEN $3::bigint IS NULL THEN s.carrier_id = $1
                     ELSE EXISTS (SELECT 1 FROM messages m JOIN tasks t ON t.id = m.task_id
                                   WHERE m.id = s.message_id AND t.application_id = $3) END",
        carrier_id,
        &serials,
        application,
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|s| (s.serial_no, s.message_id))
    .collect();
    let mut found = Vec::new();
    let mut early: Vec<&CarrierReceipt> = Vec::new();
    for receipt in receipts {
        match known.get(&receipt.serial) {
            Some(id) => found.push((*id, receipt.delivered, receipt.code.clone())),
            None => early.push(receipt),
        }
    }
    // The serials were looked up at this carrier (or this application) already.
    let mut tally = apply_receipts(pool, &found, application, None).await?;
    // Serials recorded between the lookup above and this insert would strand their receipt, so
    // the insert skips serials that exist by now; those are applied on the carrier's next try.
    let phones: Vec<Option<String>> = early.iter().map(|r| r.phone.clone()).collect();
    let (lows, highs): (Vec<Option<i64>>, Vec<Option<i64>>) = early
        .iter()
        .map(|r| (r.batch.map(|b| b.0), r.batch.map(|b| b.1)))
        .unzip();
    let kept_early = sqlx::query!(
        "INSERT INTO carrier_receipts_early
                (carrier_id, serial_no, delivered, code, phone, first_id, last_id)
         SELECT $1, v.serial, v.ok, v.code, v.phone, v.lo, v.hi
           FROM unnest($2::text[], $3::bool[], $4::text[], $5::text[], $6::bigint[], $7::bigint[])
                AS v(serial, ok, code, phone, lo, hi)
          WHERE NOT EXISTS (SELECT 1 FROM carrier_serials s
                             WHERE s.carrier_id = $1 AND s.serial_no = v.serial)
         ON CONFLICT DO NOTHING",
        carrier_id,
        &early.iter().map(|r| r.serial.clone()).collect::<Vec<_>>(),
        &early.iter().map(|r| r.delivered).collect::<Vec<_>>(),
        &early.iter().map(|r| r.code.clone()).collect::<Vec<_>>(),
        &phones as &[Option<String>],
        &lows as &[Option<i64>],
        &highs as &[Option<i64>],
    )
    .execute(pool)
    .await?
    .rows_affected();
    tally.kept += kept_early;
    // A serial already waiting (a carrier's retry) is a repeat, not news.
    tally.repeated += early.len() as u64 - kept_early;
    Ok(tally)
}

/// Settles unconfirmed messages that delivery statuses name (by the batch's session context and
/// the number): the carrier did take them, under the serial the status carries.
pub async fn confirm_from_statuses(
    pool: &PgPool,
    carrier_id: i64,
    statuses: &[crate::carriers::model::PulledStatus],
) -> Result<u64, AppError> {
    let (mut lows, mut highs, mut phones, mut serials) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for status in statuses {
        if let Some((lo, hi)) = crate::carriers::model::session_range(&status.session) {
            lows.push(lo);
            highs.push(hi);
            phones.push(status.phone.clone());
            serials.push(status.serial.clone());
        }
    }
    if lows.is_empty() {
        return Ok(0);
    }
    let mut tx = pool.begin().await?;
    let confirmed = sqlx::query!(
        "WITH v AS (SELECT * FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[])
                      AS v(lo, hi, phone, serial)),
              settled AS (DELETE FROM unconfirmed_messages u USING v
                           WHERE u.carrier_id = $1 AND u.message_id BETWEEN v.lo AND v.hi
                             AND u.phone = v.phone
                          RETURNING u.message_id, v.serial),
              serials AS (UPDATE messages m SET serial_no = settled.serial
                            FROM settled WHERE m.id = settled.message_id)
         INSERT INTO carrier_serials (carrier_id, serial_no, message_id)
         SELECT $1, serial, message_id FROM settled ON CONFLICT DO NOTHING",
        carrier_id,
        &lows,
        &highs,
        &phones,
        &serials,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(confirmed)
}

/// Fails the carrier's unconfirmed messages older than its reconciliation window: no status
/// ever named them, so Herald cannot say they were sent (and never sends them again).
pub async fn expire_unconfirmed(
    pool: &PgPool,
    carrier_id: i64,
    minutes: i64,
) -> Result<u64, AppError> {
    let mut tx = pool.begin().await?;
    let failed_ids: Vec<i64> = sqlx::query_scalar!(
        "WITH gone AS (DELETE FROM unconfirmed_messages
                        WHERE carrier_id = $1 AND since < now() - make_interval(mins => $2)
                       RETURNING message_id)
         UPDATE messages m SET state = $3, code = 'Herald.OutcomeUnknown',
                               done_at = greatest(now(), m.submitted_at)
           FROM gone WHERE m.id = gone.message_id AND m.state = $4
         RETURNING m.id",
        carrier_id,
        minutes as i32,
        MessageState::Failed as _,
        MessageState::Submitted as _,
    )
    .fetch_all(&mut *tx)
    .await?;
    crate::dispatch::recording::settled(&mut tx, &failed_ids).await?;
    let failed = sqlx::query!(
        r#"SELECT task_id, count(*) AS "count!" FROM messages WHERE id = ANY($1) GROUP BY task_id"#,
        &failed_ids,
    )
    .fetch_all(&mut *tx)
    .await?;
    for task in &failed {
        sqlx::query!(
            "UPDATE tasks SET failed = failed + $2::bigint, updated_at = now() WHERE id = $1",
            task.task_id,
            task.count,
        )
        .execute(&mut *tx)
        .await?;
    }
    // Receipts for serials never recorded (sent by another system on the same account) would
    // otherwise wait forever.
    let stale = sqlx::query!(
        "DELETE FROM carrier_receipts_early
          WHERE carrier_id = $1 AND received_at < now() - interval '3 days'",
        carrier_id,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if stale > 0 {
        tracing::info!(carrier_id, stale, "receipts for unknown serials dropped");
    }
    tx.commit().await?;
    Ok(failed.iter().map(|task| task.count as u64).sum())
}

/// Carriers that hand out delivery statuses when asked, with their reconciliation windows.
pub async fn pulling_carriers(pool: &PgPool) -> Result<Vec<(i64, i64)>, AppError> {
    Ok(sqlx::query!(
        r#"SELECT id, coalesce((settings->>'reconcile_minutes')::bigint, 60) AS "minutes!"
             FROM carriers WHERE kind = 'tencent'"#
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|c| (c.id, c.minutes))
    .collect())
}
