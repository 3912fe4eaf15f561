//! Recording what the carriers answered: each message's outcome, its units consumed, the
//! counters, alerts and webhooks it feeds — one transaction per batch.

use sqlx::{PgConnection, PgPool};

use super::model::{Chunk, ChunkEnd, MessageSet, MessageState, SendResult};
use crate::error::AppError;

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
    let changed: std::collections::HashSet<i64> = sqlx::query_scalar!(
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
        &ids,
        &states,
        &serials as &[Option<String>],
        &codes as &[Option<String>],
        &ats as &[chrono::DateTime<chrono::Utc>],
        &carriers as &[Option<i64>],
        MessageState::Submitted as _,
        MessageState::Failed as _,
        MessageState::Rejected as _,
        MessageState::Submitting as _,
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();
    if !unsent.is_empty() {
        let back = if task_cancelled {
            MessageState::Cancelled
        } else {
            MessageState::Queued
        };
        sqlx::query!(
            "UPDATE messages SET state = $2 WHERE id = ANY($1) AND state = $3",
            unsent,
            back as _,
            MessageState::Submitting as _,
        )
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
    let early = sqlx::query!(
        r#"WITH early AS (DELETE FROM pending_receipts WHERE message_id = ANY($1) RETURNING *)
         UPDATE messages m SET state = CASE WHEN early.delivered THEN $2 ELSE $3 END,
                               code = early.code,
                               done_at = greatest(early.received_at, m.submitted_at)
           FROM early
          WHERE m.id = early.message_id AND m.state = $4
            AND (early.carrier_id IS NULL OR early.carrier_id = m.carrier_id)
         RETURNING m.id, m.state = $2 AS "delivered!""#,
        &accepted_ids,
        MessageState::Delivered as _,
        MessageState::Failed as _,
        MessageState::Submitted as _,
    )
    .fetch_all(&mut *tx)
    .await?;
    let early_ids: Vec<i64> = early.iter().map(|e| e.id).collect();
    settled(&mut tx, &early_ids).await?;
    let accepted = accepted_ids.len() as i64;
    let refused = results
        .iter()
        .filter(|r| matches!(r.state, MessageState::Failed | MessageState::Rejected))
        .count() as i64;
    let early_delivered = early.iter().filter(|e| e.delivered).count() as i64;
    let early_failed = early.len() as i64 - early_delivered;
    let units: i64 = results.iter().map(|r| r.units).sum();
    // A stream's recipients first: its counts may not pass them.
    if chunk.stream && !changed.is_empty() {
        count_stream_recipients(&mut tx, chunk.task_id, &changed).await?;
    }
    // Counts come as bigint; their sum is range-checked as the int4 counters store it.
    sqlx::query!(
        "UPDATE tasks SET sent = sent + $2::bigint, failed = failed + $3::bigint,
                          delivered = delivered + $4::bigint,
                          refused = refused + $6::bigint, units_used = units_used + $5,
                          units_reserved = greatest(units_reserved - $5, 0), updated_at = now()
          WHERE id = $1",
        chunk.task_id,
        accepted,
        refused + early_failed,
        early_delivered,
        units,
        refused,
    )
    .execute(&mut *tx)
    .await?;
    crate::balance::ledger::consume(&mut tx, chunk.task_id, units).await?;
    if end == ChunkEnd::Finish {
        sqlx::query!(
            "UPDATE dispatch_chunks SET done = $3, lease_owner = NULL, lease_until = NULL
              WHERE task_id = $1 AND first_id = ANY($2)",
            chunk.task_id,
            &chunk.firsts(),
            unsent.is_empty() || task_cancelled,
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    // Unsent messages went back to the queue (or were cancelled); only results are counted.
    crate::metrics::metrics().count_messages(results.iter().map(|r| (r.state.name(), r.carrier)));
    Ok(())
}

/// Messages that just became delivered or failed: counted, and reported to event webhooks.
pub(crate) async fn settled(conn: &mut PgConnection, message_ids: &[i64]) -> Result<(), AppError> {
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
    let (first, last) = (ids.iter().min().copied(), ids.iter().max().copied());
    sqlx::query!(
        "UPDATE tasks SET recipients = recipients + $2,
                          first_message_id = least(coalesce(first_message_id, $3), $3),
                          last_message_id = greatest(coalesce(last_message_id, $4), $4)
          WHERE id = $1",
        task_id,
        ids.len() as i32,
        first,
        last,
    )
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
    sqlx::query!(
        "INSERT INTO status_outbox (application_id, message_id)
         SELECT t.application_id, v.id FROM tasks t, unnest($2::bigint[]) AS v(id)
          WHERE t.id = $1 AND t.origin = 'api'",
        task_id,
        refused,
    )
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
        sqlx::query!(
            "INSERT INTO carrier_serials (carrier_id, serial_no, message_id)
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[])
             ON CONFLICT DO NOTHING",
            &carriers,
            &serials,
            &ids,
        )
        .execute(&mut *conn)
        .await?;
        // Receipts that came first wait in pending_receipts, which the caller applies next.
        sqlx::query!(
            "WITH v AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[])
                          AS v(carrier_id, serial_no, message_id)),
                  early AS (DELETE FROM carrier_receipts_early e USING v
                             WHERE e.carrier_id = v.carrier_id AND e.serial_no = v.serial_no
                            RETURNING v.message_id, e.delivered, e.code, e.received_at)
             INSERT INTO pending_receipts (message_id, delivered, code, received_at)
             SELECT * FROM early ON CONFLICT (message_id) DO NOTHING",
            &carriers,
            &serials,
            &ids,
        )
        .execute(&mut *conn)
        .await?;
    }
    if !unconfirmed.is_empty() {
        // A status that named the message may already have come (pulled before this was
        // recorded): then the message is confirmed at once and the status waits as its receipt.
        sqlx::query!(
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
            &unconfirmed,
            &unconfirmed_carriers,
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
