//! The work queue: tasks' messages in chunks, claimed under a lease by one worker at a time,
//! renewed while it works, handed back when it stops or dies.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::model::{Chunk, MessageSet, MessageState, SendResult};
use crate::error::AppError;

/// Work recorded by this process outside a task start (a verification code): wakes this
/// process's workers at once. Not a NOTIFY per code: a NOTIFY serialises the commits that send
/// it, and other processes' idle workers look for work every half second anyway.
static LOCAL_WORK: tokio::sync::Notify = tokio::sync::Notify::const_new();

pub fn work_recorded() {
    LOCAL_WORK.notify_waiters();
}

/// Resolves at the next `work_recorded` in this process.
pub async fn local_work() {
    LOCAL_WORK.notified().await
}

/// Messages per claimed chunk.
pub const CHUNK_SIZE: i64 = 1000;

/// Creates a task's messages from its upload's accepted rows and splits them into chunks.
/// Runs in the transaction that starts the task.
pub async fn enqueue(
    conn: &mut PgConnection,
    task_id: i64,
    upload_id: i64,
) -> Result<(), AppError> {
    let created = sqlx::query!(
        r#"WITH created AS (
             INSERT INTO messages (task_id, phone, params, units)
             SELECT $1, phone, params, units FROM recipients
              WHERE upload_id = $2 AND reason IS NULL ORDER BY row_no
             RETURNING id)
         SELECT min(id) AS "first?", max(id) AS "last?" FROM created"#,
        task_id,
        upload_id,
    )
    .fetch_one(&mut *conn)
    .await?;
    let (Some(first), Some(last)) = (created.first, created.last) else {
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
    sqlx::query!(
        "UPDATE tasks SET first_message_id = $2, last_message_id = $3,
                carrier_id = coalesce(carrier_id,
                                      (SELECT carrier_id FROM applications WHERE id = tasks.application_id),
                                      (SELECT id FROM carriers WHERE is_default))
          WHERE id = $1",
        task_id,
        first,
        last,
    )
    .execute(&mut *conn)
    .await?;
    crate::stats::counters::recipients(&mut *conn, task_id, &MessageSet::Range(first, last))
        .await?;
    sqlx::query!(
        "INSERT INTO dispatch_chunks (task_id, first_id, last_id)
         SELECT $1, g, least(g + $4 - 1, $3) FROM generate_series($2::bigint, $3::bigint, $4::bigint) g",
        task_id,
        first,
        last,
        CHUNK_SIZE,
    )
    .execute(&mut *conn)
    .await?;
    notify(conn).await
}

/// Wakes every engine (in every process) at commit.
pub async fn notify(conn: &mut PgConnection) -> Result<(), AppError> {
    sqlx::query!("SELECT pg_notify('herald_dispatch', '')")
        .execute(conn)
        .await?;
    Ok(())
}

/// On cancel: queued messages are cancelled and chunks nobody holds are closed. A chunk a
/// live worker holds is finished by that worker (it stops before its next call); messages a
/// dead worker left `submitting` may or may not have reached the carrier, and say so.
pub async fn cancel_unsent(conn: &mut PgConnection, task_id: i64) -> Result<(), AppError> {
    let open = sqlx::query!(
        r#"UPDATE dispatch_chunks SET done = true
          WHERE task_id = $1 AND NOT done AND (lease_until IS NULL OR lease_until < now())
         RETURNING first_id, last_id, lease_until IS NOT NULL AS "abandoned!""#,
        task_id,
    )
    .fetch_all(&mut *conn)
    .await?;
    for chunk in open {
        let unknown: Vec<i64> = sqlx::query_scalar!(
            r#"UPDATE messages SET state = CASE WHEN state = $5 THEN $7 ELSE $8 END,
                                 code = CASE WHEN state = $5 THEN NULL ELSE 'Herald.OutcomeUnknown' END,
                                 done_at = now()
              WHERE task_id = $1 AND id BETWEEN $2 AND $3 AND (state = $5 OR (state = $6 AND $4))
             RETURNING CASE WHEN state = $8 THEN id END AS "id?""#,
            task_id,
            chunk.first_id,
            chunk.last_id,
            chunk.abandoned,
            MessageState::Queued as _,
            MessageState::Submitting as _,
            MessageState::Cancelled as _,
            MessageState::Failed as _,
        )
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
    let picked = sqlx::query!(
        r#"UPDATE dispatch_chunks c
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
         RETURNING c.task_id, c.first_id, c.last_id, pick.stream AS "stream!""#,
        owner,
        lease_seconds as f64,
        skip,
    )
    .fetch_optional(pool)
    .await?;
    let Some(picked) = picked else {
        return Ok(None);
    };
    let (task_id, stream) = (picked.task_id, picked.stream);
    let mut ranges = vec![(picked.first_id, picked.last_id)];
    if stream {
        let more = sqlx::query!(
            "UPDATE dispatch_chunks c
                SET lease_owner = $1, lease_until = now() + make_interval(secs => $2)
               FROM (SELECT first_id FROM dispatch_chunks
                      WHERE task_id = $3 AND NOT done AND first_id <> $4
                        AND (lease_until IS NULL OR lease_until < now())
                      ORDER BY first_id LIMIT $5
                      FOR UPDATE SKIP LOCKED) more
              WHERE c.task_id = $3 AND c.first_id = more.first_id
             RETURNING c.first_id, c.last_id",
            owner,
            lease_seconds as f64,
            task_id,
            picked.first_id,
            STREAM_CLAIM - 1,
        )
        .fetch_all(pool)
        .await?;
        ranges.extend(more.into_iter().map(|c| (c.first_id, c.last_id)));
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
    Ok(sqlx::query!(
        "UPDATE dispatch_chunks SET lease_until = now() + make_interval(secs => $4)
          WHERE task_id = $1 AND first_id = ANY($2) AND lease_owner = $3 AND NOT done",
        chunk.task_id,
        &chunk.firsts(),
        owner,
        lease_seconds as f64,
    )
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
    // Four statements, not one with an OR: a range scans its ids, a list probes them.
    let (submitting, queued) = (MessageState::Submitting, MessageState::Queued);
    let mut messages = match (chunk.messages(), mark_taken_over) {
        (MessageSet::Range(first, last), true) => {
            sqlx::query_as!(
                Pending,
                r#"UPDATE messages m SET state = $2, attempts = m.attempts + 1
                     FROM (SELECT id, state FROM messages m
                            WHERE m.id BETWEEN $4 AND $5 AND task_id = $1 AND state IN ($2, $3)
                            FOR UPDATE) before
                    WHERE m.id = before.id
                   RETURNING m.id, m.phone, m.params, m.units, before.state = $2 AS "taken_over!""#,
                chunk.task_id,
                submitting as _,
                queued as _,
                first,
                last,
            )
            .fetch_all(pool)
            .await?
        }
        (MessageSet::Ids(ids), true) => {
            sqlx::query_as!(
                Pending,
                r#"UPDATE messages m SET state = $2, attempts = m.attempts + 1
                     FROM (SELECT id, state FROM messages m
                            WHERE m.id = ANY($4) AND task_id = $1 AND state IN ($2, $3)
                            FOR UPDATE) before
                    WHERE m.id = before.id
                   RETURNING m.id, m.phone, m.params, m.units, before.state = $2 AS "taken_over!""#,
                chunk.task_id,
                submitting as _,
                queued as _,
                &ids,
            )
            .fetch_all(pool)
            .await?
        }
        (MessageSet::Range(first, last), false) => {
            sqlx::query_as!(
                Pending,
                r#"UPDATE messages m SET state = $2, attempts = attempts + 1
                    WHERE m.id BETWEEN $4 AND $5 AND task_id = $1 AND state IN ($2, $3)
                   RETURNING id, phone, params, units, false AS "taken_over!""#,
                chunk.task_id,
                submitting as _,
                queued as _,
                first,
                last,
            )
            .fetch_all(pool)
            .await?
        }
        (MessageSet::Ids(ids), false) => {
            sqlx::query_as!(
                Pending,
                r#"UPDATE messages m SET state = $2, attempts = attempts + 1
                    WHERE m.id = ANY($4) AND task_id = $1 AND state IN ($2, $3)
                   RETURNING id, phone, params, units, false AS "taken_over!""#,
                chunk.task_id,
                submitting as _,
                queued as _,
                &ids,
            )
            .fetch_all(pool)
            .await?
        }
    };
    messages.sort_by_key(|m| m.id);
    Ok(messages)
}

/// Numbers among `phones` that opted out after the upload was checked.
pub async fn opted_out(pool: &PgPool, phones: &[String]) -> Result<Vec<String>, AppError> {
    Ok(
        sqlx::query_scalar!("SELECT phone FROM opt_outs WHERE phone = ANY($1)", phones)
            .fetch_all(pool)
            .await?,
    )
}
