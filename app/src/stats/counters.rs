//! Keeps the analytics and statistics counters, in the transaction that changes the messages
//! they count: what the carrier took or refused (`sends`) and what receipts said (`outcomes`).

use sqlx::PgConnection;

use crate::dispatch::model::MessageSet;
use crate::dispatch::model::MessageState;
use crate::dispatch::model::SendResult;
use crate::error::AppError;

/// Counts a recording's results for `task_id`: per second, failures by code, submissions per
/// operator, and the hour's business statistics.
pub async fn sends(
    conn: &mut PgConnection,
    task_id: i64,
    results: &[SendResult],
) -> Result<(), AppError> {
    if results.is_empty() {
        return Ok(());
    }
    let submitted: Vec<i64> = results
        .iter()
        .filter(|r| r.state == MessageState::Submitted)
        .map(|r| r.id)
        .collect();
    let mut codes: std::collections::BTreeMap<&str, i32> = std::collections::BTreeMap::new();
    for r in results
        .iter()
        .filter(|r| matches!(r.state, MessageState::Failed | MessageState::Rejected))
    {
        *codes
            .entry(r.code.as_deref().unwrap_or("Herald.Unknown"))
            .or_default() += 1;
    }
    let refused: i32 = codes.values().sum();
    let units: i64 = results.iter().map(|r| r.units).sum();
    let submitted_count = submitted.len() as i32;
    let requests = results.len() as i64;
    let code_names: Vec<String> = codes.keys().map(|c| c.to_string()).collect();
    let code_counts: Vec<i32> = codes.values().copied().collect();
    // One statement: recording runs for every chunk, so round trips count.
    sqlx::query!(
        "WITH seconds AS (
             INSERT INTO task_seconds (task_id, second, submitted, refused)
             VALUES ($1, date_trunc('second', now()), $2, $3)
             ON CONFLICT (task_id, second) DO UPDATE
                SET submitted = task_seconds.submitted + EXCLUDED.submitted,
                    refused = task_seconds.refused + EXCLUDED.refused),
              failures AS (
             INSERT INTO task_failures (task_id, code, messages)
             SELECT $1, code, n FROM unnest($4::text[], $5::int[]) AS v(code, n)
             ON CONFLICT (task_id, code) DO UPDATE
                SET messages = task_failures.messages + EXCLUDED.messages),
              operators AS (
             INSERT INTO task_operators (task_id, operator, submitted)
             SELECT $1, mobile_operator(phone), count(*) FROM messages WHERE id = ANY($6)
              GROUP BY 2
             ON CONFLICT (task_id, operator) DO UPDATE
                SET submitted = task_operators.submitted + EXCLUDED.submitted)
         INSERT INTO stats_hourly (hour, application_id, signature_id, template_id, sms_type,
                                   requests, submitted, units)
         SELECT date_trunc('hour', now()), application_id, coalesce(signature_id, 0),
                coalesce(template_id, 0), sms_type, $7, $2, $8
           FROM tasks WHERE id = $1
         ON CONFLICT (hour, application_id, signature_id, template_id, sms_type) DO UPDATE
            SET requests = stats_hourly.requests + EXCLUDED.requests,
                submitted = stats_hourly.submitted + EXCLUDED.submitted,
                units = stats_hourly.units + EXCLUDED.units",
        task_id,
        submitted_count,
        refused,
        &code_names,
        &code_counts,
        &submitted,
        requests,
        units,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Counts the outcomes of messages that just became delivered or failed after the carrier took
/// them (receipts, statuses, unconfirmed messages given up on): per second, delivery latency,
/// failures by code, per operator, and in the business statistics of the hour they were sent.
/// The outcomes of API-sent messages also wait in `status_outbox` for PullSmsSendStatus.
pub async fn outcomes(conn: &mut PgConnection, message_ids: &[i64]) -> Result<(), AppError> {
    if message_ids.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        "WITH r AS (SELECT m.id, m.task_id, t.origin = 'api' AS by_api, m.state = $3 AS ok, coalesce(m.code, '') AS code,
                           mobile_operator(m.phone) AS operator,
                           extract(epoch FROM coalesce(m.done_at, now())
                                              - coalesce(m.submitted_at, now())) AS seconds,
                           date_trunc('hour', coalesce(m.submitted_at, now())) AS hour,
                           t.application_id, coalesce(t.signature_id, 0) AS signature_id,
                           coalesce(t.template_id, 0) AS template_id, t.sms_type
                      FROM messages m JOIN tasks t ON t.id = m.task_id
                     WHERE m.id = ANY($1) AND m.state IN ($3, $4)),
              pulls AS (
                INSERT INTO status_outbox (application_id, message_id)
                SELECT application_id, id FROM r WHERE by_api ORDER BY id),
              seconds AS (
                INSERT INTO task_seconds (task_id, second, delivered, failed)
                SELECT task_id, date_trunc('second', now()), count(*) FILTER (WHERE ok),
                       count(*) FILTER (WHERE NOT ok)
                  FROM r GROUP BY task_id
                ON CONFLICT (task_id, second) DO UPDATE
                   SET delivered = task_seconds.delivered + EXCLUDED.delivered,
                       failed = task_seconds.failed + EXCLUDED.failed),
              latency AS (
                INSERT INTO task_latency (task_id, bucket, receipts)
                SELECT task_id, greatest(width_bucket(seconds, $2::float8[]) - 1, 0), count(*)
                  FROM r GROUP BY 1, 2
                ON CONFLICT (task_id, bucket) DO UPDATE
                   SET receipts = task_latency.receipts + EXCLUDED.receipts),
              failures AS (
                INSERT INTO task_failures (task_id, code, messages)
                SELECT task_id, code, count(*) FROM r WHERE NOT ok GROUP BY 1, 2
                ON CONFLICT (task_id, code) DO UPDATE
                   SET messages = task_failures.messages + EXCLUDED.messages),
              operators AS (
                INSERT INTO task_operators (task_id, operator, delivered, failed)
                SELECT task_id, operator, count(*) FILTER (WHERE ok), count(*) FILTER (WHERE NOT ok)
                  FROM r GROUP BY 1, 2
                ON CONFLICT (task_id, operator) DO UPDATE
                   SET delivered = task_operators.delivered + EXCLUDED.delivered,
                       failed = task_operators.failed + EXCLUDED.failed)
         INSERT INTO stats_hourly (hour, application_id, signature_id, template_id, sms_type,
                                   receipts_ok, receipts_fail)
         SELECT hour, application_id, signature_id, template_id, sms_type,
                count(*) FILTER (WHERE ok), count(*) FILTER (WHERE NOT ok)
           FROM r GROUP BY 1, 2, 3, 4, 5
         ON CONFLICT (hour, application_id, signature_id, template_id, sms_type) DO UPDATE
            SET receipts_ok = stats_hourly.receipts_ok + EXCLUDED.receipts_ok,
                receipts_fail = stats_hourly.receipts_fail + EXCLUDED.receipts_fail",
        message_ids,
        &super::model::LATENCY_BOUNDS_SECONDS[..],
        MessageState::Delivered as _,
        MessageState::Failed as _,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Recipients per operator, when a task's messages are created (or, in a verification stream,
/// recorded).
pub async fn recipients(
    conn: &mut PgConnection,
    task_id: i64,
    messages: &MessageSet,
) -> Result<(), AppError> {
    // Two statements, not one with an OR: a range scans the primary key, a list probes it.
    match messages {
        MessageSet::Range(first, last) => {
            sqlx::query!(
                "INSERT INTO task_operators (task_id, operator, recipients)
                 SELECT $1, mobile_operator(phone), count(*) FROM messages m
                  WHERE m.id BETWEEN $2 AND $3 AND task_id = $1 GROUP BY 2
                 ON CONFLICT (task_id, operator) DO UPDATE
                    SET recipients = task_operators.recipients + EXCLUDED.recipients",
                task_id,
                first,
                last
            )
            .execute(&mut *conn)
            .await?;
        }
        MessageSet::Ids(ids) => {
            sqlx::query!(
                "INSERT INTO task_operators (task_id, operator, recipients)
                 SELECT $1, mobile_operator(phone), count(*) FROM messages m
                  WHERE m.id = ANY($2) AND task_id = $1 GROUP BY 2
                 ON CONFLICT (task_id, operator) DO UPDATE
                    SET recipients = task_operators.recipients + EXCLUDED.recipients",
                task_id,
                ids
            )
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

/// Receipts nothing matched, per source (`carrier:<id>`, `application:<id>`).
pub async fn unmatched(
    conn: &mut PgConnection,
    source: &str,
    receipts: u64,
) -> Result<(), AppError> {
    if receipts == 0 {
        return Ok(());
    }
    let receipts = receipts as i64;
    sqlx::query!(
        "INSERT INTO unmatched_receipts (source, receipts) VALUES ($1, $2)
         ON CONFLICT (source) DO UPDATE
            SET receipts = unmatched_receipts.receipts + EXCLUDED.receipts, last_at = now()",
        source,
        receipts,
    )
    .execute(conn)
    .await?;
    Ok(())
}
