//! A task's per-recipient records: read by id range (a task's messages are contiguous; only a
//! day's verification stream shares its range with others), so a page costs an index range
//! scan however large the task.

use bytes::Bytes;
use futures_util::stream::BoxStream;
use sqlx::postgres::PgPoolCopyExt;
use sqlx::PgPool;

use super::model::{MessageFilter, MessagePage, MessageRow};
use crate::dispatch::model::MessageState;
use crate::error::AppError;

pub const PAGE_SIZE: i64 = 50;

async fn range(pool: &PgPool, task_id: i64) -> Result<(i64, i64), AppError> {
    let range = sqlx::query!(
        "SELECT first_message_id, last_message_id FROM tasks WHERE id = $1",
        task_id,
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::NotFound(crate::tr!(records.errors.task)))?;
    Ok((
        range.first_message_id.unwrap_or(1),
        range.last_message_id.unwrap_or(0),
    ))
}

pub async fn messages(
    pool: &PgPool,
    task_id: i64,
    filter: &MessageFilter,
    after: Option<i64>,
) -> Result<MessagePage, AppError> {
    let (first, last) = range(pool, task_id).await?;
    // The bounds are typed: untyped, `$3 + 1` would make them int4.
    let rows = sqlx::query!(
        r#"SELECT id, phone, state, code, serial_no, units,
                submitted_at AS "submitted_at: chrono::DateTime<chrono::Utc>", done_at AS "done_at: chrono::DateTime<chrono::Utc>"
           FROM messages
          WHERE id BETWEEN greatest($2::bigint, $3::bigint + 1) AND $4 AND task_id = $1
            AND ($5 = '' OR strpos(phone, $5) > 0)
            AND ($6::smallint IS NULL OR state = $6)
            AND ($7 = '' OR code = $7)
          ORDER BY id LIMIT $8"#,
        task_id,
        first,
        after.unwrap_or(0),
        last,
        filter.phone,
        filter.state.map(MessageState::code),
        filter.code,
        PAGE_SIZE + 1,
    )
    .fetch_all(pool)
    .await?;
    let more = rows.len() as i64 > PAGE_SIZE;
    let rows: Vec<MessageRow> = rows
        .into_iter()
        .take(PAGE_SIZE as usize)
        .map(|r| MessageRow {
            id: r.id,
            phone: r.phone,
            state: MessageState::from_code(r.state).unwrap_or(MessageState::Queued),
            code: r.code,
            serial: r.serial_no,
            units: r.units.into(),
            submitted_at: r.submitted_at,
            done_at: r.done_at,
        })
        .collect();
    Ok(MessagePage {
        next_after: more.then(|| rows.last().map(|r| r.id)).flatten(),
        rows,
    })
}

/// The task's records (all, or the filtered ones) as CSV rows, streamed from Postgres.
pub async fn messages_csv(
    pool: &PgPool,
    task_id: i64,
    filter: &MessageFilter,
) -> Result<BoxStream<'static, Result<Bytes, sqlx::Error>>, AppError> {
    let (first, last) = range(pool, task_id).await?;
    let states = MessageState::ALL
        .iter()
        .map(|s| format!("WHEN {} THEN '{}'", s.code(), s.label()))
        .collect::<Vec<_>>()
        .join(" ");
    // COPY takes no bind parameters: only integers and the filter's digits and code characters
    // (letters, digits, `.:_-`, checked by `MessageFilter::parse`) are spliced in.
    let mut conditions = vec![format!(
        "id BETWEEN {first} AND {last} AND task_id = {task_id}"
    )];
    if !filter.phone.is_empty() {
        conditions.push(format!("strpos(phone, '{}') > 0", filter.phone));
    }
    if let Some(state) = filter.state {
        conditions.push(format!("state = {}", state.code()));
    }
    if !filter.code.is_empty() {
        conditions.push(format!("code = '{}'", filter.code));
    }
    let statement = format!(
        "COPY (SELECT phone, CASE state {states} END, csv_text(code), csv_text(serial_no), units,
                      to_char(submitted_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS'),
                      to_char(done_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS')
                 FROM messages WHERE {} ORDER BY id)
           TO STDOUT WITH (FORMAT csv)",
        conditions.join(" AND ")
    );
    Ok(pool.copy_out_raw(&statement).await?)
}
