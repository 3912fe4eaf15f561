//! The engine's SQL. Messages are only ever touched by primary-key range or id list.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::model::MessageState;
use crate::error::AppError;

/// Messages per claimed chunk.
pub const CHUNK_SIZE: i64 = 1000;

/// Creates a task's messages from its upload's accepted rows and splits them into chunks.
/// Runs in the transaction that starts the task.
pub async fn enqueue(
    conn: &mut PgConnection,
    task_id: i64,
    upload_id: i64,
) -> Result<(), AppError> {
    let (first, last): (Option<i64>, Option<i64>) = sqlx::query_as(
        "WITH created AS (
             INSERT INTO messages (task_id, phone, params, units)
             SELECT $1, phone, params, units FROM recipients
              WHERE upload_id = $2 AND reason IS NULL ORDER BY row_no
             RETURNING id)
         SELECT min(id), max(id) FROM created",
    )
    .bind(task_id)
    .bind(upload_id)
    .fetch_one(&mut *conn)
    .await?;
    let (Some(first), Some(last)) = (first, last) else {
        return Err(AppError::Conflict(
            "The upload has no recipients to send to.".into(),
        ));
    };
    open_chunks(conn, task_id, first, last).await
}

/// Hands a task's messages `first..=last` (already inserted) to the engine: the task's carrier
/// is fixed, its recipients counted per operator, its chunks opened and every engine woken.
pub async fn open_chunks(
    conn: &mut PgConnection,
    task_id: i64,
    first: i64,
    last: i64,
) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE tasks SET first_message_id = $2, last_message_id = $3,
                carrier_id = coalesce(carrier_id,
                                      (SELECT carrier_id FROM applications WHERE id = tasks.application_id),
                                      (SELECT id FROM carriers WHERE is_default))
          WHERE id = $1",
    )
    .bind(task_id)
    .bind(first)
    .bind(last)
    .execute(&mut *conn)
    .await?;
    crate::stats::counters::recipients(&mut *conn, task_id, &MessageSet::Range(first, last))
        .await?;
    sqlx::query(
        "INSERT INTO dispatch_chunks (task_id, first_id, last_id)
         SELECT $1, g, least(g + $4 - 1, $3) FROM generate_series($2::bigint, $3::bigint, $4::bigint) g",
    )
    .bind(task_id)
    .bind(first)
    .bind(last)
    .bind(CHUNK_SIZE)
    .execute(&mut *conn)
    .await?;
    notify(conn).await
}

/// Wakes every engine (in every process) at commit.
pub async fn notify(conn: &mut PgConnection) -> Result<(), AppError> {
    sqlx::query("SELECT pg_notify('herald_dispatch', '')")
        .execute(conn)
        .await?;
    Ok(())
}

/// On cancel: queued messages are cancelled and chunks nobody holds are closed. A chunk a
/// live worker holds is finished by that worker (it stops before its next call); messages a
/// dead worker left `submitting` may or may not have reached the carrier, and say so.
pub async fn cancel_unsent(conn: &mut PgConnection, task_id: i64) -> Result<(), AppError> {
    let open: Vec<(i64, i64, bool)> = sqlx::query_as(
        "UPDATE dispatch_chunks SET done = true
          WHERE task_id = $1 AND NOT done AND (lease_until IS NULL OR lease_until < now())
         RETURNING first_id, last_id, lease_until IS NOT NULL",
    )
    .bind(task_id)
    .fetch_all(&mut *conn)
    .await?;
    for (first, last, abandoned) in open {
        let unknown: Vec<i64> = sqlx::query_scalar::<_, Option<i64>>(
            "UPDATE messages SET state = CASE WHEN state = $5 THEN $7 ELSE $8 END,
                                 code = CASE WHEN state = $5 THEN NULL ELSE 'Herald.OutcomeUnknown' END,
                                 done_at = now()
              WHERE task_id = $1 AND id BETWEEN $2 AND $3 AND (state = $5 OR (state = $6 AND $4))
             RETURNING CASE WHEN state = $8 THEN id END",
        )
        .bind(task_id)
        .bind(first)
        .bind(last)
        .bind(abandoned)
        .bind(MessageState::Queued)
        .bind(MessageState::Submitting)
        .bind(MessageState::Cancelled)
        .bind(MessageState::Failed)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .flatten()
        .collect();
        let failed: Vec<SendResult> = unknown
            .into_iter()
            .map(|id| SendResult {
                id,
                state: MessageState::Failed,
                serial: None,
                code: Some("Herald.OutcomeUnknown".into()),
                units: 0,
                carrier: None,
                at: chrono::Utc::now(),
            })
            .collect();
        crate::stats::counters::sends(&mut *conn, task_id, &failed).await?;
    }
    Ok(())
}

/// What a worker holds: chunks of one task, as message id ranges. A bulk task's worker holds
/// one chunk of up to `CHUNK_SIZE` messages; a verification stream's holds up to
/// `STREAM_CLAIM` chunks of one message each (one per code), claimed together so that codes
/// requested one by one are sent and recorded in batches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub task_id: i64,
    pub ranges: Vec<(i64, i64)>,
    /// Of a verification stream: its messages are counted as recipients when recorded.
    pub stream: bool,
}

impl Chunk {
    fn firsts(&self) -> Vec<i64> {
        self.ranges.iter().map(|(first, _)| *first).collect()
    }

    /// Its messages, for SQL.
    pub fn messages(&self) -> MessageSet {
        match self.ranges.as_slice() {
            [(first, last)] => MessageSet::Range(*first, *last),
            ranges => MessageSet::Ids(ranges.iter().flat_map(|(f, l)| *f..=*l).collect()),
        }
    }
}

/// Messages a statement reads or changes: a range scans the primary key, a list probes it. (A
/// join against a list of ranges can be planned as a scan of the whole table.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageSet {
    Range(i64, i64),
    Ids(Vec<i64>),
}

impl MessageSet {
    /// The condition on `m.id`, over parameters `$2`, `$3` and `$4` bound from `params`.
    pub fn condition(&self) -> &'static str {
        match self {
            MessageSet::Range(..) => "m.id BETWEEN $2 AND $3",
            MessageSet::Ids(_) => "m.id = ANY($4)",
        }
    }

    /// `$2`, `$3`, `$4`: the bounds and the list (each variant's condition uses its own).
    pub fn params(&self) -> (i64, i64, Vec<i64>) {
        match self {
            MessageSet::Range(first, last) => (*first, *last, Vec::new()),
            MessageSet::Ids(ids) => (0, 0, ids.clone()),
        }
    }
}

/// Chunks of a verification stream claimed at once (each is one code's message).
pub const STREAM_CLAIM: i64 = 500;

/// Leases the next open chunk of a sending task nobody holds (or whose holder died) — and, for
/// a verification stream, its other open chunks nobody holds, up to `STREAM_CLAIM`. Tasks in
/// `skip` are not taken (the streams this process is sending: the codes that arrive meanwhile
/// make their next batch, as fewer, larger batches cost less than several workers racing for a
/// stream's rows). API requests go first: someone is waiting for each of those messages (a
/// login code, say), while a bulk task hardly notices one chunk's delay.
pub async fn claim(
    pool: &PgPool,
    owner: Uuid,
    lease_seconds: i64,
    skip: &[i64],
) -> Result<Option<Chunk>, AppError> {
    let row: Option<(i64, i64, i64, bool)> = sqlx::query_as(
        "UPDATE dispatch_chunks c
            SET lease_owner = $1, lease_until = now() + make_interval(secs => $2)
           FROM (SELECT c2.task_id, c2.first_id, t.stream_day IS NOT NULL AS stream
                   FROM dispatch_chunks c2 JOIN tasks t ON t.id = c2.task_id
                  WHERE NOT c2.done AND t.status = 'sending'
                    AND (c2.lease_until IS NULL OR c2.lease_until < now())
                    AND c2.task_id <> ALL($3)
                  ORDER BY t.origin = 'console', c2.task_id, c2.first_id
                  LIMIT 1
                  FOR UPDATE OF c2 SKIP LOCKED) pick
          WHERE c.task_id = pick.task_id AND c.first_id = pick.first_id
         RETURNING c.task_id, c.first_id, c.last_id, pick.stream",
    )
    .bind(owner)
    .bind(lease_seconds as f64)
    .bind(skip)
    .fetch_optional(pool)
    .await?;
    let Some((task_id, first_id, last_id, stream)) = row else {
        return Ok(None);
    };
    let mut ranges = vec![(first_id, last_id)];
    if stream {
        let more: Vec<(i64, i64)> = sqlx::query_as(
            "UPDATE dispatch_chunks c
                SET lease_owner = $1, lease_until = now() + make_interval(secs => $2)
               FROM (SELECT first_id FROM dispatch_chunks
                      WHERE task_id = $3 AND NOT done AND first_id <> $4
                        AND (lease_until IS NULL OR lease_until < now())
                      ORDER BY first_id LIMIT $5
                      FOR UPDATE SKIP LOCKED) more
              WHERE c.task_id = $3 AND c.first_id = more.first_id
             RETURNING c.first_id, c.last_id",
        )
        .bind(owner)
        .bind(lease_seconds as f64)
        .bind(task_id)
        .bind(first_id)
        .bind(STREAM_CLAIM - 1)
        .fetch_all(pool)
        .await?;
        ranges.extend(more);
        ranges.sort_unstable();
    }
    Ok(Some(Chunk {
        task_id,
        ranges,
        stream,
    }))
}

/// Keeps a chunk while a slow carrier call runs; false once any of it was taken over.
pub async fn renew(
    pool: &PgPool,
    chunk: &Chunk,
    owner: Uuid,
    lease_seconds: i64,
) -> Result<bool, AppError> {
    Ok(sqlx::query(
        "UPDATE dispatch_chunks SET lease_until = now() + make_interval(secs => $4)
          WHERE task_id = $1 AND first_id = ANY($2) AND lease_owner = $3 AND NOT done",
    )
    .bind(chunk.task_id)
    .bind(chunk.firsts())
    .bind(owner)
    .bind(lease_seconds as f64)
    .execute(pool)
    .await?
    .rows_affected()
        == chunk.ranges.len() as u64)
}

pub struct Pending {
    pub id: i64,
    pub phone: String,
    pub params: Vec<String>,
    pub units: i16,
    /// A dead worker left it `submitting`: it may have reached the carrier.
    pub taken_over: bool,
}

/// Marks the chunk's unsent messages `submitting` and returns them, including those a dead
/// worker left `submitting`. Only a carrier that cannot deduplicate needs to know which those
/// were (`taken_over`); finding out costs a second pass over the rows, so others skip it.
pub async fn take_messages(
    pool: &PgPool,
    chunk: &Chunk,
    mark_taken_over: bool,
) -> Result<Vec<Pending>, AppError> {
    let set = chunk.messages();
    let sql = if mark_taken_over {
        format!(
            "UPDATE messages m SET state = $5, attempts = m.attempts + 1
               FROM (SELECT id, state FROM messages m
                      WHERE {} AND task_id = $1 AND state IN ($5, $6)
                      FOR UPDATE) before
              WHERE m.id = before.id
             RETURNING m.id, m.phone, m.params, m.units, before.state = $5",
            set.condition()
        )
    } else {
        format!(
            "UPDATE messages m SET state = $5, attempts = attempts + 1
              WHERE {} AND task_id = $1 AND state IN ($5, $6)
             RETURNING id, phone, params, units, false",
            set.condition()
        )
    };
    let (first, last, ids) = set.params();
    let rows: Vec<(i64, String, Vec<String>, i16, bool)> = sqlx::query_as(&sql)
        .bind(chunk.task_id)
        .bind(first)
        .bind(last)
        .bind(ids)
        .bind(MessageState::Submitting)
        .bind(MessageState::Queued)
        .fetch_all(pool)
        .await?;
    let mut messages: Vec<Pending> = rows
        .into_iter()
        .map(|(id, phone, params, units, taken_over)| Pending {
            id,
            phone,
            params,
            units,
            taken_over,
        })
        .collect();
    messages.sort_by_key(|m| m.id);
    Ok(messages)
}

/// Numbers among `phones` that opted out after the upload was checked.
pub async fn opted_out(pool: &PgPool, phones: &[String]) -> Result<Vec<String>, AppError> {
    Ok(
        sqlx::query_scalar("SELECT phone FROM opt_outs WHERE phone = ANY($1)")
            .bind(phones)
            .fetch_all(pool)
            .await?,
    )
}

/// What a task needs to be sent, read once per chunk.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TaskContext {
    pub status: String,
    pub application_id: i64,
    pub signature: String,
    pub template_id: i64,
    pub template: String,
    pub carrier_id: Option<i64>,
    pub rules: sqlx::types::Json<crate::limits::FrequencyRules>,
    /// `console` (bulk), `api` or `verify`: the last two were admitted by the frequency limits
    /// when requested; a verification code's first variable is sealed.
    pub origin: String,
}

pub async fn task_context(pool: &PgPool, task_id: i64) -> Result<TaskContext, AppError> {
    Ok(sqlx::query_as(
        "SELECT t.status, t.application_id, t.signature_text AS signature,
                coalesce(t.template_id, 0) AS template_id, t.template_text AS template,
                t.carrier_id, a.frequency_rules AS rules, t.origin
           FROM tasks t JOIN applications a ON a.id = t.application_id WHERE t.id = $1",
    )
    .bind(task_id)
    .fetch_one(pool)
    .await?)
}

pub async fn task_status(pool: &PgPool, task_id: i64) -> Result<String, AppError> {
    Ok(sqlx::query_scalar("SELECT status FROM tasks WHERE id = $1")
        .bind(task_id)
        .fetch_one(pool)
        .await?)
}

/// The result of one message, to record.
#[derive(Debug, Clone)]
pub struct SendResult {
    pub id: i64,
    pub state: MessageState,
    /// `None` on a submitted message: the carrier may have it, but did not say (unconfirmed).
    pub serial: Option<String>,
    pub code: Option<String>,
    pub units: i64,
    /// The carrier that has (or may have) a submitted message.
    pub carrier: Option<i64>,
    /// When the carrier was asked (or Herald decided without asking): a submitted message's
    /// submission time, which its receipt can only follow, and a refused one's outcome time.
    pub at: chrono::DateTime<chrono::Utc>,
}

/// How a recording leaves the chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkEnd {
    /// Still being sent: the lease stays (progress shown while a slow carrier works).
    Continue,
    /// Everything sent; or the task stopped: `unsent` goes back to the queue (or is cancelled).
    Finish,
}

/// Records results in one transaction: message states, receipts that came early, task
/// counters, units moved from the reservation to `used`, and the chunk's lease (done, or
/// released with `unsent` back in the queue).
pub async fn record(
    pool: &PgPool,
    chunk: &Chunk,
    results: &[SendResult],
    unsent: &[i64],
    task_cancelled: bool,
    end: ChunkEnd,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let ids: Vec<i64> = results.iter().map(|r| r.id).collect();
    let states: Vec<i16> = results.iter().map(|r| r.state.code()).collect();
    let serials: Vec<Option<String>> = results.iter().map(|r| r.serial.clone()).collect();
    let codes: Vec<Option<String>> = results.iter().map(|r| r.code.clone()).collect();
    let ats: Vec<chrono::DateTime<chrono::Utc>> = results.iter().map(|r| r.at).collect();
    let carriers: Vec<Option<i64>> = results.iter().map(|r| r.carrier).collect();
    let changed: std::collections::HashSet<i64> = sqlx::query_scalar(
        "UPDATE messages m
            SET state = v.state, serial_no = v.serial, code = v.code,
                submitted_at = CASE WHEN v.state = $7 THEN v.at END,
                done_at = CASE WHEN v.state IN ($8, $9) THEN v.at END,
                carrier_id = CASE WHEN v.state = $7 THEN v.carrier END
           FROM unnest($1::bigint[], $2::smallint[], $3::text[], $4::text[], $5::timestamptz[],
                       $6::bigint[])
                AS v(id, state, serial, code, at, carrier)
          WHERE m.id = v.id AND m.state = $10
         RETURNING m.id",
    )
    .bind(&ids)
    .bind(&states)
    .bind(&serials)
    .bind(&codes)
    .bind(&ats)
    .bind(&carriers)
    .bind(MessageState::Submitted)
    .bind(MessageState::Failed)
    .bind(MessageState::Rejected)
    .bind(MessageState::Submitting)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();
    if !unsent.is_empty() {
        sqlx::query("UPDATE messages SET state = $2 WHERE id = ANY($1) AND state = $3")
            .bind(unsent)
            .bind(if task_cancelled {
                MessageState::Cancelled
            } else {
                MessageState::Queued
            })
            .bind(MessageState::Submitting)
            .execute(&mut *tx)
            .await?;
    }
    let accepted_ids: Vec<i64> = results
        .iter()
        .filter(|r| r.state == MessageState::Submitted)
        .map(|r| r.id)
        .collect();
    record_carrier_side(&mut tx, results).await?;
    crate::stats::counters::sends(&mut tx, chunk.task_id, results).await?;
    // Refusals this recording made (not ones an earlier, interrupted recording made already).
    let refused_now: Vec<i64> = results
        .iter()
        .filter(|r| matches!(r.state, MessageState::Failed | MessageState::Rejected))
        .map(|r| r.id)
        .filter(|id| changed.contains(id))
        .collect();
    queue_refusals_for_pull(&mut tx, chunk.task_id, &refused_now).await?;
    crate::alerts::repo::enqueue_outcomes(&mut tx, &refused_now).await?;
    let early: Vec<(i64, bool)> = sqlx::query_as(
        "WITH early AS (DELETE FROM pending_receipts WHERE message_id = ANY($1) RETURNING *)
         UPDATE messages m SET state = CASE WHEN early.delivered THEN $2 ELSE $3 END,
                               code = early.code,
                               done_at = greatest(early.received_at, m.submitted_at)
           FROM early
          WHERE m.id = early.message_id AND m.state = $4
            AND (early.carrier_id IS NULL OR early.carrier_id = m.carrier_id)
         RETURNING m.id, m.state = $2",
    )
    .bind(&accepted_ids)
    .bind(MessageState::Delivered)
    .bind(MessageState::Failed)
    .bind(MessageState::Submitted)
    .fetch_all(&mut *tx)
    .await?;
    let early_ids: Vec<i64> = early.iter().map(|(id, _)| *id).collect();
    settled(&mut tx, &early_ids).await?;
    let accepted = accepted_ids.len() as i64;
    let refused = results
        .iter()
        .filter(|r| matches!(r.state, MessageState::Failed | MessageState::Rejected))
        .count() as i64;
    let early_delivered = early.iter().filter(|(_, d)| *d).count() as i64;
    let early_failed = early.len() as i64 - early_delivered;
    let units: i64 = results.iter().map(|r| r.units).sum();
    // A stream's recipients first: its counts may not pass them.
    if chunk.stream && !changed.is_empty() {
        count_stream_recipients(&mut tx, chunk.task_id, &changed).await?;
    }
    sqlx::query(
        "UPDATE tasks SET sent = sent + $2, failed = failed + $3, delivered = delivered + $4,
                          refused = refused + $6, units_used = units_used + $5,
                          units_reserved = greatest(units_reserved - $5, 0), updated_at = now()
          WHERE id = $1",
    )
    .bind(chunk.task_id)
    .bind(accepted)
    .bind(refused + early_failed)
    .bind(early_delivered)
    .bind(units)
    .bind(refused)
    .execute(&mut *tx)
    .await?;
    crate::balance::ledger::consume(&mut tx, chunk.task_id, units).await?;
    if end == ChunkEnd::Finish {
        sqlx::query(
            "UPDATE dispatch_chunks SET done = $3, lease_owner = NULL, lease_until = NULL
              WHERE task_id = $1 AND first_id = ANY($2)",
        )
        .bind(chunk.task_id)
        .bind(chunk.firsts())
        .bind(unsent.is_empty() || task_cancelled)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    // Unsent messages went back to the queue (or were cancelled); only results are counted.
    crate::metrics::metrics().count_messages(results.iter().map(|r| (r.state.name(), r.carrier)));
    Ok(())
}

/// Messages that just became delivered or failed: counted, and reported to event webhooks.
async fn settled(conn: &mut PgConnection, message_ids: &[i64]) -> Result<(), AppError> {
    crate::stats::counters::outcomes(&mut *conn, message_ids).await?;
    crate::alerts::repo::enqueue_outcomes(conn, message_ids).await
}

/// A verification stream's messages become its recipients as they are recorded (its task
/// grows all day; its id range covers what was recorded so far).
pub(crate) async fn count_stream_recipients(
    conn: &mut PgConnection,
    task_id: i64,
    ids: &std::collections::HashSet<i64>,
) -> Result<(), AppError> {
    let set = MessageSet::Ids(ids.iter().copied().collect());
    crate::stats::counters::recipients(&mut *conn, task_id, &set).await?;
    let (first, last) = (ids.iter().min(), ids.iter().max());
    sqlx::query(
        "UPDATE tasks SET recipients = recipients + $2,
                          first_message_id = least(coalesce(first_message_id, $3), $3),
                          last_message_id = greatest(coalesce(last_message_id, $4), $4)
          WHERE id = $1",
    )
    .bind(task_id)
    .bind(ids.len() as i32)
    .bind(first)
    .bind(last)
    .execute(conn)
    .await?;
    Ok(())
}

/// An API-sent message the carrier refused (or the engine withheld) has no receipt to come: its
/// outcome waits for PullSmsSendStatus now — once, so only messages this recording refused.
/// (Refusals in the SendSms answer itself are not queued; the caller has them already.)
async fn queue_refusals_for_pull(
    conn: &mut PgConnection,
    task_id: i64,
    refused: &[i64],
) -> Result<(), AppError> {
    if refused.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO status_outbox (application_id, message_id)
         SELECT t.application_id, v.id FROM tasks t, unnest($2::bigint[]) AS v(id)
          WHERE t.id = $1 AND t.origin = 'api'",
    )
    .bind(task_id)
    .bind(refused)
    .execute(conn)
    .await?;
    Ok(())
}

/// For carriers that do not echo message keys: their serials, the receipts that came before them,
/// and the messages whose outcome they left unknown.
async fn record_carrier_side(
    conn: &mut PgConnection,
    results: &[SendResult],
) -> Result<(), AppError> {
    let (mut ids, mut carriers, mut serials) = (Vec::new(), Vec::new(), Vec::new());
    let (mut unconfirmed, mut unconfirmed_carriers) = (Vec::new(), Vec::new());
    for r in results
        .iter()
        .filter(|r| r.state == MessageState::Submitted)
    {
        match (&r.serial, r.carrier) {
            (Some(serial), Some(carrier)) if super::model::id_from_serial(serial) != Some(r.id) => {
                ids.push(r.id);
                carriers.push(carrier);
                serials.push(serial.clone());
            }
            (None, Some(carrier)) => {
                unconfirmed.push(r.id);
                unconfirmed_carriers.push(carrier);
            }
            _ => {}
        }
    }
    if !ids.is_empty() {
        sqlx::query(
            "INSERT INTO carrier_serials (carrier_id, serial_no, message_id)
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[])
             ON CONFLICT DO NOTHING",
        )
        .bind(&carriers)
        .bind(&serials)
        .bind(&ids)
        .execute(&mut *conn)
        .await?;
        // Receipts that came first wait in pending_receipts, which the caller applies next.
        sqlx::query(
            "WITH v AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[])
                          AS v(carrier_id, serial_no, message_id)),
                  early AS (DELETE FROM carrier_receipts_early e USING v
                             WHERE e.carrier_id = v.carrier_id AND e.serial_no = v.serial_no
                            RETURNING v.message_id, e.delivered, e.code, e.received_at)
             INSERT INTO pending_receipts (message_id, delivered, code, received_at)
             SELECT * FROM early ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(&carriers)
        .bind(&serials)
        .bind(&ids)
        .execute(&mut *conn)
        .await?;
    }
    if !unconfirmed.is_empty() {
        // A status that named the message may already have come (pulled before this was
        // recorded): then the message is confirmed at once and the status waits as its receipt.
        sqlx::query(
            "WITH m AS (SELECT m.id, v.carrier_id, m.phone
                          FROM unnest($1::bigint[], $2::bigint[]) AS v(id, carrier_id)
                          JOIN messages m ON m.id = v.id),
                  matched AS (DELETE FROM carrier_receipts_early e USING m
                               WHERE e.carrier_id = m.carrier_id AND e.phone = m.phone
                                 AND m.id BETWEEN e.first_id AND e.last_id
                              RETURNING m.id, e.carrier_id, e.serial_no, e.delivered, e.code,
                                        e.received_at),
                  serials AS (INSERT INTO carrier_serials (carrier_id, serial_no, message_id)
                              SELECT carrier_id, serial_no, id FROM matched
                              ON CONFLICT DO NOTHING),
                  named AS (UPDATE messages SET serial_no = matched.serial_no
                              FROM matched WHERE messages.id = matched.id),
                  waiting AS (INSERT INTO pending_receipts (message_id, delivered, code, received_at)
                              SELECT id, delivered, code, received_at FROM matched
                              ON CONFLICT (message_id) DO NOTHING)
             INSERT INTO unconfirmed_messages (message_id, carrier_id, phone)
             SELECT id, carrier_id, phone FROM m WHERE id NOT IN (SELECT id FROM matched)
             ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(&unconfirmed)
        .bind(&unconfirmed_carriers)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A verification stream takes codes all its China day; it can complete once the day is over
/// (with a few minutes' grace for a request recorded at midnight).
const STREAM_OVER: &str = "(stream_day IS NULL
     OR stream_day < ((now() - interval '10 minutes') AT TIME ZONE 'Asia/Shanghai')::date)";

/// Marks a task completed once every chunk is done, and gives back what it still holds
/// (units of messages the carrier refused).
pub async fn complete_if_done(pool: &PgPool, task_id: i64) -> Result<bool, AppError> {
    let mut tx = pool.begin().await?;
    let completed = sqlx::query(&format!(
        "UPDATE tasks SET status = 'completed', finished_at = now(), updated_at = now(),
                          status_reason = NULL
          WHERE id = $1 AND status = 'sending' AND {STREAM_OVER}
            AND NOT EXISTS (SELECT 1 FROM dispatch_chunks WHERE task_id = $1 AND NOT done)"
    ))
    .bind(task_id)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if completed {
        crate::balance::ledger::release(&mut tx, task_id).await?;
        sqlx::query("UPDATE tasks SET units_reserved = 0 WHERE id = $1")
            .bind(task_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(completed)
}

/// Sending tasks with no open chunk left.
pub async fn sending_without_work(pool: &PgPool) -> Result<Vec<i64>, AppError> {
    Ok(sqlx::query_scalar(&format!(
        "SELECT id FROM tasks t WHERE status = 'sending' AND {STREAM_OVER}
            AND NOT EXISTS (SELECT 1 FROM dispatch_chunks c WHERE c.task_id = t.id AND NOT c.done)"
    ))
    .fetch_all(pool)
    .await?)
}

/// Pauses a task whose carrier refuses too much, saying why; its name when this call paused it
/// (not when it had stopped already).
pub async fn pause_for_errors(
    pool: &PgPool,
    task_id: i64,
    reason: &str,
) -> Result<Option<String>, AppError> {
    Ok(sqlx::query_scalar(
        "UPDATE tasks SET status = 'paused', status_reason = $2, updated_at = now()
          WHERE id = $1 AND status = 'sending'
      RETURNING name",
    )
    .bind(task_id)
    .bind(reason)
    .fetch_optional(pool)
    .await?)
}

/// Starts scheduled tasks whose second has come; returns how many.
pub async fn start_due(pool: &PgPool) -> Result<u64, AppError> {
    Ok(sqlx::query(
        "UPDATE tasks SET status = 'sending', started_at = now(), updated_at = now()
          WHERE status = 'scheduled' AND send_at <= now()",
    )
    .execute(pool)
    .await?
    .rows_affected())
}

pub async fn next_due(pool: &PgPool) -> Result<Option<chrono::DateTime<chrono::Utc>>, AppError> {
    Ok(
        sqlx::query_scalar("SELECT min(send_at) FROM tasks WHERE status = 'scheduled'")
            .fetch_one(pool)
            .await?,
    )
}

/// Pauses marketing tasks outside the organisation's window and resumes those it paused once
/// the window opens again.
pub async fn apply_marketing_window(pool: &PgPool) -> Result<(), AppError> {
    sqlx::query(
        "WITH w AS (SELECT marketing_window_start AS s, marketing_window_end AS e,
                           (now() AT TIME ZONE 'Asia/Shanghai')::time AS t FROM organisation)
         UPDATE tasks SET status = 'paused', window_paused = true, updated_at = now(),
                status_reason = 'Outside marketing hours; resumes at ' || to_char(w.s, 'HH24:MI')
                                || ' China time.'
           FROM w
          WHERE tasks.status = 'sending' AND tasks.sms_type = 1 AND NOT (w.t >= w.s AND w.t < w.e)",
    )
    .execute(pool)
    .await?;
    sqlx::query(
        "WITH w AS (SELECT marketing_window_start AS s, marketing_window_end AS e,
                           (now() AT TIME ZONE 'Asia/Shanghai')::time AS t FROM organisation)
         UPDATE tasks SET status = 'sending', window_paused = false, status_reason = NULL,
                updated_at = now()
           FROM w
          WHERE tasks.status = 'paused' AND tasks.window_paused AND w.t >= w.s AND w.t < w.e",
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Refuses, on the form's `field`, a carrier id that names no carrier.
pub async fn require_carrier(
    conn: &mut PgConnection,
    id: i64,
    field: &str,
) -> Result<(), AppError> {
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM carriers WHERE id = $1)")
        .bind(id)
        .fetch_one(conn)
        .await?;
    if exists {
        Ok(())
    } else {
        Err(AppError::field(
            field,
            crate::tr!(carriers.err_choose_carrier),
        ))
    }
}

/// A carrier's row, to build it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CarrierRow {
    pub id: i64,
    pub kind: String,
    pub settings: serde_json::Value,
    pub rate_limit: i32,
    pub concurrency: i32,
    pub receipt_token: String,
    pub failover_carrier_id: Option<i64>,
    pub failover_after: i32,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

pub async fn carrier(pool: &PgPool, id: Option<i64>) -> Result<CarrierRow, AppError> {
    sqlx::query_as(
        "SELECT id, kind, settings, rate_limit, concurrency, receipt_token, failover_carrier_id,
                failover_after, updated_at
           FROM carriers WHERE id = coalesce($1, (SELECT id FROM carriers WHERE is_default))",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::NotFound(crate::tr!(carriers.what_carrier)))
}

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
    let states: Vec<(i64, MessageState)> = sqlx::query_as(
        "SELECT m.id, m.state FROM messages m JOIN tasks t ON t.id = m.task_id
          WHERE m.id = ANY($1)
            AND ($2::bigint IS NULL OR t.application_id = $2)
            AND ($3::bigint IS NULL OR m.state = $4
                 OR coalesce(m.carrier_id, t.carrier_id) = $3)
          ORDER BY m.id FOR UPDATE OF m",
    )
    .bind(&ids)
    .bind(application)
    .bind(carrier)
    .bind(MessageState::Submitting)
    .fetch_all(&mut *tx)
    .await?;
    let state_of: std::collections::HashMap<i64, MessageState> = states.into_iter().collect();
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
    let done: Vec<(i64, i64, bool)> = sqlx::query_as(
        "WITH v AS (SELECT * FROM unnest($1::bigint[], $2::bool[], $3::text[]) AS v(id, ok, code))
         UPDATE messages m SET state = CASE WHEN v.ok THEN $4 ELSE $5 END,
                               code = v.code, done_at = greatest(now(), m.submitted_at)
           FROM v WHERE m.id = v.id AND m.state = $6
         RETURNING m.id, m.task_id, m.state = $4",
    )
    .bind(&now_ids)
    .bind(&now_ok)
    .bind(&now_code)
    .bind(MessageState::Delivered)
    .bind(MessageState::Failed)
    .bind(MessageState::Submitted)
    .fetch_all(&mut *tx)
    .await?;
    let done_ids: Vec<i64> = done.iter().map(|(id, _, _)| *id).collect();
    settled(&mut tx, &done_ids).await?;
    let mut counts: std::collections::BTreeMap<i64, (i64, i64)> = Default::default();
    for (_, task_id, delivered) in &done {
        let count = counts.entry(*task_id).or_default();
        if *delivered {
            count.0 += 1;
        } else {
            count.1 += 1;
        }
    }
    for (task_id, (delivered, failed)) in &counts {
        sqlx::query(
            "UPDATE tasks SET delivered = delivered + $2, failed = failed + $3, updated_at = now()
              WHERE id = $1",
        )
        .bind(task_id)
        .bind(delivered)
        .bind(failed)
        .execute(&mut *tx)
        .await?;
    }
    let kept = sqlx::query(
        "INSERT INTO pending_receipts (message_id, delivered, code, carrier_id)
         SELECT *, $4 FROM unnest($1::bigint[], $2::bool[], $3::text[])
         ON CONFLICT (message_id) DO NOTHING",
    )
    .bind(&later_ids)
    .bind(&later_ok)
    .bind(&later_code)
    .bind(carrier)
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
    let known: std::collections::HashMap<String, i64> = sqlx::query_as::<_, (String, i64)>(
        "SELECT s.serial_no, s.message_id FROM carrier_serials s
          WHERE s.serial_no = ANY($2)
            AND CASE WHEN $3::bigint IS NULL THEN s.carrier_id = $1
                     ELSE EXISTS (SELECT 1 FROM messages m JOIN tasks t ON t.id = m.task_id
                                   WHERE m.id = s.message_id AND t.application_id = $3) END",
    )
    .bind(carrier_id)
    .bind(&serials)
    .bind(application)
    .fetch_all(pool)
    .await?
    .into_iter()
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
    let kept_early = sqlx::query(
        "INSERT INTO carrier_receipts_early
                (carrier_id, serial_no, delivered, code, phone, first_id, last_id)
         SELECT $1, v.serial, v.ok, v.code, v.phone, v.lo, v.hi
           FROM unnest($2::text[], $3::bool[], $4::text[], $5::text[], $6::bigint[], $7::bigint[])
                AS v(serial, ok, code, phone, lo, hi)
          WHERE NOT EXISTS (SELECT 1 FROM carrier_serials s
                             WHERE s.carrier_id = $1 AND s.serial_no = v.serial)
         ON CONFLICT DO NOTHING",
    )
    .bind(carrier_id)
    .bind(early.iter().map(|r| r.serial.clone()).collect::<Vec<_>>())
    .bind(early.iter().map(|r| r.delivered).collect::<Vec<_>>())
    .bind(early.iter().map(|r| r.code.clone()).collect::<Vec<_>>())
    .bind(early.iter().map(|r| r.phone.clone()).collect::<Vec<_>>())
    .bind(
        early
            .iter()
            .map(|r| r.batch.map(|b| b.0))
            .collect::<Vec<_>>(),
    )
    .bind(
        early
            .iter()
            .map(|r| r.batch.map(|b| b.1))
            .collect::<Vec<_>>(),
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
    statuses: &[super::carrier::PulledStatus],
) -> Result<u64, AppError> {
    let (mut lows, mut highs, mut phones, mut serials) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for status in statuses {
        if let Some((lo, hi)) = super::tencent::session_range(&status.session) {
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
    let confirmed = sqlx::query(
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
    )
    .bind(carrier_id)
    .bind(&lows)
    .bind(&highs)
    .bind(&phones)
    .bind(&serials)
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
    let failed_ids: Vec<i64> = sqlx::query_scalar(
        "WITH gone AS (DELETE FROM unconfirmed_messages
                        WHERE carrier_id = $1 AND since < now() - make_interval(mins => $2)
                       RETURNING message_id)
         UPDATE messages m SET state = $3, code = 'Herald.OutcomeUnknown',
                               done_at = greatest(now(), m.submitted_at)
           FROM gone WHERE m.id = gone.message_id AND m.state = $4
         RETURNING m.id",
    )
    .bind(carrier_id)
    .bind(minutes as i32)
    .bind(MessageState::Failed)
    .bind(MessageState::Submitted)
    .fetch_all(&mut *tx)
    .await?;
    settled(&mut tx, &failed_ids).await?;
    let failed: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT task_id, count(*) FROM messages WHERE id = ANY($1) GROUP BY task_id",
    )
    .bind(&failed_ids)
    .fetch_all(&mut *tx)
    .await?;
    for (task_id, count) in &failed {
        sqlx::query("UPDATE tasks SET failed = failed + $2, updated_at = now() WHERE id = $1")
            .bind(task_id)
            .bind(count)
            .execute(&mut *tx)
            .await?;
    }
    // Receipts for serials never recorded (sent by another system on the same account) would
    // otherwise wait forever.
    let stale = sqlx::query(
        "DELETE FROM carrier_receipts_early
          WHERE carrier_id = $1 AND received_at < now() - interval '3 days'",
    )
    .bind(carrier_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if stale > 0 {
        tracing::info!(carrier_id, stale, "receipts for unknown serials dropped");
    }
    tx.commit().await?;
    Ok(failed.iter().map(|(_, n)| *n as u64).sum())
}

/// Carriers that hand out delivery statuses when asked, with their reconciliation windows.
pub async fn pulling_carriers(pool: &PgPool) -> Result<Vec<(i64, i64)>, AppError> {
    Ok(sqlx::query_as(
        "SELECT id, coalesce((settings->>'reconcile_minutes')::bigint, 60) FROM carriers
          WHERE kind = 'tencent'",
    )
    .fetch_all(pool)
    .await?)
}

/// Settings fields that hold secrets; stored sealed (see `crate::secrets`).
const SECRET_FIELDS: [&str; 2] = ["secret", "secret_key"];

/// A carrier's settings with their secrets opened, to build the carrier.
pub fn open_settings(
    mut settings: serde_json::Value,
    secrets: &crate::secrets::SecretBox,
) -> Result<serde_json::Value, AppError> {
    for field in SECRET_FIELDS {
        if let Some(sealed) = settings.get(field).and_then(|v| v.as_str()) {
            let plain = secrets.open(sealed)?;
            settings[field] = serde_json::Value::String(plain);
        }
    }
    Ok(settings)
}

/// Seals carrier secrets stored in plain text (by a version before sealing existed). Run at
/// start-up; returns how many carriers it changed.
pub async fn seal_carrier_secrets(
    pool: &PgPool,
    secrets: &crate::secrets::SecretBox,
) -> Result<u64, AppError> {
    let rows: Vec<(i64, serde_json::Value)> =
        sqlx::query_as("SELECT id, settings FROM carriers ORDER BY id")
            .fetch_all(pool)
            .await?;
    let mut changed = 0;
    for (id, mut settings) in rows {
        let mut touched = false;
        for field in SECRET_FIELDS {
            if let Some(plain) = settings.get(field).and_then(|v| v.as_str()) {
                if !crate::secrets::SecretBox::is_sealed(plain) {
                    settings[field] = serde_json::Value::String(secrets.seal(plain));
                    touched = true;
                }
            }
        }
        if touched {
            sqlx::query("UPDATE carriers SET settings = $2, updated_at = now() WHERE id = $1")
                .bind(id)
                .bind(&settings)
                .execute(pool)
                .await?;
            changed += 1;
        }
    }
    Ok(changed)
}

#[derive(sqlx::FromRow)]
struct CarrierListRow {
    id: i64,
    name: String,
    kind: String,
    settings: serde_json::Value,
    rate_limit: i32,
    concurrency: i32,
    is_default: bool,
    receipt_token: String,
    failover: Option<String>,
    failover_after: i32,
}

pub async fn list_carriers(
    pool: &PgPool,
    with_receipt_paths: bool,
) -> Result<Vec<super::api::CarrierView>, AppError> {
    let rows: Vec<CarrierListRow> = sqlx::query_as(
        "SELECT c.id, c.name, c.kind, c.settings, c.rate_limit, c.concurrency, c.is_default,
                c.receipt_token, f.name AS failover, c.failover_after
           FROM carriers c LEFT JOIN carriers f ON f.id = c.failover_carrier_id ORDER BY c.id",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|c| {
            let simulator = (c.kind == "simulator")
                .then(|| {
                    serde_json::from_value::<super::simulator::SimulatorSettings>(
                        c.settings.clone(),
                    )
                    .ok()
                })
                .flatten()
                .map(|s| super::model::SimulatorForm {
                    latency_ms: s.latency_ms,
                    accept_rate: s.accept_rate,
                    delivery_rate: s.delivery_rate,
                    transient_rate: s.transient_rate,
                    receipt_delay_ms: s.receipt_delay_ms,
                    rate_limit: c.rate_limit,
                    concurrency: c.concurrency,
                });
            let summary = match &simulator {
                Some(s) => crate::tr!(
                    carriers.simulator_summary,
                    latency = s.latency_ms,
                    accepts = format!("{:.0}", s.accept_rate * 100.0),
                    delivers = format!("{:.0}", s.delivery_rate * 100.0),
                    transient = format!("{:.0}", s.transient_rate * 100.0)
                ),
                None if c.kind == "tencent" => format!(
                    "{} · {} · SmsSdkAppId {} · SecretId {}",
                    c.settings["endpoint"].as_str().unwrap_or(""),
                    c.settings["region"].as_str().unwrap_or(""),
                    c.settings["sdk_app_id"].as_str().unwrap_or(""),
                    c.settings["secret_id"].as_str().unwrap_or(""),
                ),
                None => c.settings["endpoint"].as_str().unwrap_or("").to_owned(),
            };
            super::api::CarrierView {
                receipt_path: if with_receipt_paths {
                    format!("/receipts/{}/{}", c.id, c.receipt_token)
                } else {
                    String::new()
                },
                id: c.id,
                name: c.name,
                kind: c.kind,
                rate_limit: c.rate_limit,
                concurrency: c.concurrency,
                is_default: c.is_default,
                summary,
                simulator,
                failover: c.failover,
                failover_after: c.failover_after,
            }
        })
        .collect())
}

fn random_token() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..32)
        .map(|_| format!("{:x}", rng.gen_range(0..16u8)))
        .collect()
}

/// Adds a carrier, its secrets sealed; the audit entry names everything but the secrets.
pub async fn add_carrier(
    pool: &PgPool,
    admin: &crate::accounts::model::CurrentUser,
    ip: &str,
    secrets: &crate::secrets::SecretBox,
    carrier: super::model::NewCarrier,
) -> Result<(), AppError> {
    let mut stored = carrier.settings.clone();
    let mut described = carrier.settings.clone();
    for field in SECRET_FIELDS {
        if let Some(plain) = carrier.settings.get(field).and_then(|v| v.as_str()) {
            stored[field] = serde_json::Value::String(secrets.seal(plain));
            if let Some(map) = described.as_object_mut() {
                map.remove(field);
            }
        }
    }
    let mut tx = pool.begin().await?;
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO carriers (name, kind, settings, rate_limit, concurrency, receipt_token)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING RETURNING id",
    )
    .bind(&carrier.name)
    .bind(carrier.kind)
    .bind(&stored)
    .bind(carrier.rate_limit)
    .bind(carrier.concurrency)
    .bind(random_token())
    .fetch_optional(&mut *tx)
    .await?;
    let id = id.ok_or_else(|| AppError::field("name", crate::tr!(carriers.err_name_taken)))?;
    crate::audit::repo::record(
        &mut *tx,
        crate::audit::repo::AuditEvent::by(
            admin,
            ip,
            "carrier.create",
            "carrier",
            id,
            serde_json::json!({ "name": carrier.name, "kind": carrier.kind, "settings": described }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn update_simulator(
    pool: &PgPool,
    admin: &crate::accounts::model::CurrentUser,
    ip: &str,
    id: i64,
    form: super::model::SimulatorForm,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let settings = serde_json::json!({
        "latency_ms": form.latency_ms,
        "accept_rate": form.accept_rate,
        "delivery_rate": form.delivery_rate,
        "transient_rate": form.transient_rate,
        "receipt_delay_ms": form.receipt_delay_ms,
    });
    let updated = sqlx::query(
        "UPDATE carriers SET settings = settings || $2, rate_limit = $3, concurrency = $4,
                updated_at = now()
          WHERE id = $1 AND kind = 'simulator'",
    )
    .bind(id)
    .bind(&settings)
    .bind(form.rate_limit)
    .bind(form.concurrency)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(AppError::NotFound(crate::tr!(carriers.what_simulator)));
    }
    crate::audit::repo::record(
        &mut *tx,
        crate::audit::repo::AuditEvent::by(admin, ip, "carrier.update", "carrier", id, settings),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_default_carrier(
    pool: &PgPool,
    admin: &crate::accounts::model::CurrentUser,
    ip: &str,
    id: i64,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM carriers WHERE id = $1)")
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    if !exists {
        return Err(AppError::NotFound(crate::tr!(carriers.what_carrier)));
    }
    sqlx::query("UPDATE carriers SET is_default = false WHERE is_default AND id <> $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE carriers SET is_default = true WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    crate::audit::repo::record(
        &mut *tx,
        crate::audit::repo::AuditEvent::by(
            admin,
            ip,
            "carrier.default",
            "carrier",
            id,
            serde_json::json!({}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_failover(
    pool: &PgPool,
    admin: &crate::accounts::model::CurrentUser,
    ip: &str,
    id: i64,
    failover: Option<i64>,
    after: i32,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    if let Some(failover) = failover {
        require_carrier(&mut tx, failover, "failover_id").await?;
    }
    let updated = sqlx::query(
        "UPDATE carriers SET failover_carrier_id = $2, failover_after = $3, updated_at = now()
          WHERE id = $1",
    )
    .bind(id)
    .bind(failover)
    .bind(after)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(AppError::NotFound(crate::tr!(carriers.what_carrier)));
    }
    crate::audit::repo::record(
        &mut *tx,
        crate::audit::repo::AuditEvent::by(
            admin,
            ip,
            "carrier.failover",
            "carrier",
            id,
            serde_json::json!({ "failover_carrier_id": failover, "after": after }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
