//! A task's life around its sending: started when due, paused on errors or outside the
//! marketing window, completed once every chunk is done.

use sqlx::PgPool;

use crate::error::AppError;

/// What a task needs to be sent, read once per chunk.
#[derive(Debug, Clone)]
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
    Ok(sqlx::query_as!(
        TaskContext,
        r#"SELECT t.status, t.application_id, t.signature_text AS signature,
                coalesce(t.template_id, 0) AS "template_id!", t.template_text AS template,
                t.carrier_id, t.origin,
                a.frequency_rules AS "rules: sqlx::types::Json<crate::limits::FrequencyRules>"
           FROM tasks t JOIN applications a ON a.id = t.application_id WHERE t.id = $1"#,
        task_id,
    )
    .fetch_one(pool)
    .await?)
}

pub async fn task_status(pool: &PgPool, task_id: i64) -> Result<String, AppError> {
    Ok(
        sqlx::query_scalar!("SELECT status FROM tasks WHERE id = $1", task_id)
            .fetch_one(pool)
            .await?,
    )
}

/// Marks a task completed once every chunk is done, and gives back what it still holds
/// (units of messages the carrier refused).
pub async fn complete_if_done(pool: &PgPool, task_id: i64) -> Result<bool, AppError> {
    let mut tx = pool.begin().await?;
    // A verification stream takes codes all its China day; it can complete once the day is
    // over (with a few minutes' grace for a request recorded at midnight). The same condition
    // stands in `sending_without_work`.
    let completed = sqlx::query!(
        "UPDATE tasks SET status = 'completed', finished_at = now(), updated_at = now(),
                          status_reason = NULL
          WHERE id = $1 AND status = 'sending'
            AND (stream_day IS NULL
                 OR stream_day
                    < ((now() - interval '10 minutes') AT TIME ZONE 'Asia/Shanghai')::date)
            AND NOT EXISTS (SELECT 1 FROM dispatch_chunks WHERE task_id = $1 AND NOT done)",
        task_id,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if completed {
        crate::balance::ledger::release(&mut tx, task_id).await?;
        sqlx::query!("UPDATE tasks SET units_reserved = 0 WHERE id = $1", task_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(completed)
}

/// Sending tasks with no open chunk left (a verification stream only once its day is over, as
/// in `complete_if_done`).
pub async fn sending_without_work(pool: &PgPool) -> Result<Vec<i64>, AppError> {
    Ok(sqlx::query_scalar!(
        "SELECT id FROM tasks t WHERE status = 'sending'
            AND (stream_day IS NULL
                 OR stream_day
                    < ((now() - interval '10 minutes') AT TIME ZONE 'Asia/Shanghai')::date)
            AND NOT EXISTS (SELECT 1 FROM dispatch_chunks c WHERE c.task_id = t.id AND NOT c.done)"
    )
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
    Ok(sqlx::query_scalar!(
        "UPDATE tasks SET status = 'paused', status_reason = $2, updated_at = now()
          WHERE id = $1 AND status = 'sending'
      RETURNING name",
        task_id,
        reason,
    )
    .fetch_optional(pool)
    .await?)
}

/// Starts scheduled tasks whose second has come; returns how many.
pub async fn start_due(pool: &PgPool) -> Result<u64, AppError> {
    Ok(sqlx::query!(
        "UPDATE tasks SET status = 'sending', started_at = now(), updated_at = now()
          WHERE status = 'scheduled' AND send_at <= now()",
    )
    .execute(pool)
    .await?
    .rows_affected())
}

pub async fn next_due(pool: &PgPool) -> Result<Option<chrono::DateTime<chrono::Utc>>, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT min(send_at) AS "next?: chrono::DateTime<chrono::Utc>"
             FROM tasks WHERE status = 'scheduled'"#
    )
    .fetch_one(pool)
    .await?)
}

/// Pauses marketing tasks outside the organisation's window and resumes those it paused once
/// the window opens again.
pub async fn apply_marketing_window(pool: &PgPool) -> Result<(), AppError> {
    sqlx::query!(
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
    sqlx::query!(
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
