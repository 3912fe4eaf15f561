use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use sqlx::postgres::PgPoolCopyExt;
use sqlx::{PgConnection, PgPool};

use super::model::{RejectReason, TaskDetail, TaskStatus, TaskSummary, UploadReport, UploadState};
use super::rules::Source;
use crate::error::AppError;
use crate::templates::model::SmsType;

pub async fn create_upload(
    pool: &PgPool,
    source: &Source,
    file_name: &str,
    file_bytes: i64,
    uploaded_by: i64,
) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar!(
        "INSERT INTO recipient_uploads
             (application_id, signature_id, template_id, file_name, file_bytes, uploaded_by)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        source.application_id,
        source.signature_id,
        source.template_id,
        file_name,
        file_bytes,
        uploaded_by,
    )
    .fetch_one(pool)
    .await?)
}

struct UploadRow {
    id: i64,
    file_name: String,
    file_bytes: i64,
    processed_bytes: i64,
    state: String,
    error: Option<String>,
    application: String,
    signature: Option<String>,
    template: Option<String>,
    template_id: Option<i64>,
    sms_type: Option<i16>,
    total_rows: Option<i32>,
    accepted: Option<i32>,
    duplicates: Option<i32>,
    opted_out: Option<i32>,
    rejected: Option<serde_json::Value>,
    units: Option<i64>,
    task_id: Option<i64>,
}

/// The report of an upload its uploader may see.
pub async fn report(pool: &PgPool, upload_id: i64, user_id: i64) -> Result<UploadReport, AppError> {
    // An import that has not reported progress for ten minutes died with its process.
    sqlx::query!(
        "UPDATE recipient_uploads
            SET state = 'failed', finished_at = now(),
                error = 'Processing stopped when the server restarted. Upload the file again.'
          WHERE id = $1 AND state = 'processing' AND created_at < now() - interval '10 minutes'",
        upload_id,
    )
    .execute(pool)
    .await?;
    let row = sqlx::query_as!(
        UploadRow,
        r#"SELECT u.id, u.file_name, u.file_bytes, u.processed_bytes, u.state, u.error,
                a.name AS application, s.content AS "signature?", t.name AS "template?",
                u.template_id, t.sms_type AS "sms_type?", u.total_rows, u.accepted, u.duplicates,
                u.opted_out, u.rejected, u.units,
                (SELECT id FROM tasks WHERE upload_id = u.id) AS task_id
           FROM recipient_uploads u
           JOIN applications a ON a.id = u.application_id
           LEFT JOIN signatures s ON s.id = u.signature_id
           LEFT JOIN templates t ON t.id = u.template_id
          WHERE u.id = $1 AND u.uploaded_by = $2"#,
        upload_id,
        user_id,
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::NotFound(crate::tr!(bulk.errors.upload)))?;
    let mut rejected: Vec<(RejectReason, i64)> = row
        .rejected
        .as_ref()
        .and_then(|v| v.as_object())
        .map(|counts| {
            counts
                .iter()
                .filter_map(|(code, n)| {
                    let reason = RejectReason::from_code(code.parse().ok()?)?;
                    (!reason.is_removal()).then_some((reason, n.as_i64()?))
                })
                .collect()
        })
        .unwrap_or_default();
    rejected.sort_by_key(|(reason, n)| (-n, *reason));
    let available_units = crate::balance::ledger::available(&mut *pool.acquire().await?).await?;
    Ok(UploadReport {
        id: row.id,
        file_name: row.file_name,
        file_bytes: row.file_bytes,
        processed_bytes: row.processed_bytes,
        state: match (row.state.as_str(), row.error) {
            ("ready", _) => UploadState::Ready,
            ("failed", error) => UploadState::Failed(error.unwrap_or_default()),
            _ => UploadState::Processing,
        },
        application: row.application,
        signature: row.signature.unwrap_or_else(|| "(deleted)".into()),
        template: row.template.unwrap_or_else(|| "(deleted)".into()),
        template_id: row.template_id,
        total_rows: row.total_rows.unwrap_or(0).into(),
        accepted: row.accepted.unwrap_or(0).into(),
        duplicates: row.duplicates.unwrap_or(0).into(),
        opted_out: row.opted_out.unwrap_or(0).into(),
        rejected,
        units: row.units.unwrap_or(0),
        available_units,
        marketing: row.sms_type == Some(SmsType::Marketing.code()),
        task_id: row.task_id,
    })
}

/// An upload ready to become a task, locked so two confirmations cannot both use it.
pub struct UploadForTask {
    pub id: i64,
    pub application_id: i64,
    pub signature_id: i64,
    pub template_id: i64,
    pub signature_text: String,
    pub template_name: String,
    pub template_text: String,
    pub sms_type: i16,
    pub accepted: i64,
    pub units: i64,
}

pub async fn lock_upload_for_task(
    conn: &mut PgConnection,
    upload_id: i64,
    user_id: i64,
) -> Result<UploadForTask, AppError> {
    let row = sqlx::query!(
        r#"SELECT u.state, u.accepted, u.units,
                EXISTS (SELECT 1 FROM tasks WHERE upload_id = u.id) AS "used!",
                u.application_id, u.signature_id, u.template_id,
                s.content AS "signature_text?", t.name AS "template_name?",
                t.content AS "template_text?", t.sms_type AS "sms_type?",
                s.status AS "signature_status?", t.status AS "template_status?"
           FROM recipient_uploads u
           LEFT JOIN signatures s ON s.id = u.signature_id
           LEFT JOIN templates t ON t.id = u.template_id
          WHERE u.id = $1 AND u.uploaded_by = $2
          FOR UPDATE OF u"#,
        upload_id,
        user_id,
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| AppError::NotFound(crate::tr!(bulk.errors.upload)))?;
    if row.used {
        return Err(AppError::Conflict(crate::tr!(bulk.errors.already_used)));
    }
    if row.state != "ready" {
        return Err(AppError::Conflict(crate::tr!(bulk.errors.not_checked)));
    }
    let accepted = i64::from(row.accepted.unwrap_or(0));
    if accepted == 0 {
        return Err(AppError::Conflict(crate::tr!(bulk.errors.no_rows)));
    }
    let approved = |status: &Option<String>| status.as_deref() == Some("approved");
    let (
        Some(signature_id),
        Some(template_id),
        Some(signature_text),
        Some(template_name),
        Some(template_text),
        Some(sms_type),
    ) = (
        row.signature_id,
        row.template_id,
        row.signature_text,
        row.template_name,
        row.template_text,
        row.sms_type,
    )
    else {
        return Err(AppError::Conflict(crate::tr!(bulk.errors.source_deleted)));
    };
    if !approved(&row.signature_status) || !approved(&row.template_status) {
        return Err(AppError::Conflict(crate::tr!(
            bulk.errors.source_unapproved
        )));
    }
    Ok(UploadForTask {
        id: upload_id,
        application_id: row.application_id,
        signature_id,
        template_id,
        signature_text,
        template_name,
        template_text,
        sms_type,
        accepted,
        units: row.units.unwrap_or(0),
    })
}

/// What a new task row holds besides its upload.
pub struct NewTaskRow<'a> {
    pub name: &'a str,
    pub status: TaskStatus,
    pub send_at: DateTime<Utc>,
    pub time_zone: &'a str,
    pub carrier_id: Option<i64>,
    pub created_by: i64,
}

pub async fn insert_task(
    conn: &mut PgConnection,
    upload: &UploadForTask,
    task: NewTaskRow<'_>,
) -> Result<i64, AppError> {
    let recipients = upload.accepted as i32;
    Ok(sqlx::query_scalar!(
        "INSERT INTO tasks (name, upload_id, application_id, signature_id, template_id,
                            signature_text, template_name, template_text, sms_type, status,
                            send_at, time_zone, recipients, units_reserved, created_by, carrier_id,
                            started_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                 CASE WHEN $10 = 'sending' THEN now() END)
         RETURNING id",
        task.name,
        upload.id,
        upload.application_id,
        upload.signature_id,
        upload.template_id,
        upload.signature_text,
        upload.template_name,
        upload.template_text,
        upload.sms_type,
        task.status.as_str(),
        task.send_at as _,
        task.time_zone,
        recipients,
        upload.units,
        task.created_by,
        task.carrier_id,
    )
    .fetch_one(conn)
    .await?)
}

/// Who made a console task; `None` when no console task has that id (API sends, verification
/// streams and alerts are not the console's).
pub async fn console_task_creator(
    conn: &mut PgConnection,
    task_id: i64,
) -> Result<Option<i64>, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT created_by AS "created_by!" FROM tasks
            WHERE id = $1 AND origin = 'console' AND created_by IS NOT NULL"#,
        task_id,
    )
    .fetch_optional(conn)
    .await?)
}

pub async fn lock_task_status(
    conn: &mut PgConnection,
    task_id: i64,
) -> Result<TaskStatus, AppError> {
    let status = sqlx::query_scalar!("SELECT status FROM tasks WHERE id = $1 FOR UPDATE", task_id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| AppError::NotFound(crate::tr!(records.errors.task)))?;
    TaskStatus::parse(&status).ok_or_else(|| AppError::internal(format!("task status {status}")))
}

pub async fn set_task_status(
    conn: &mut PgConnection,
    task_id: i64,
    status: TaskStatus,
    released_units: i64,
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE tasks SET status = $2, units_reserved = greatest(units_reserved - $3, 0),
                          status_reason = NULL, window_paused = false, updated_at = now(),
                          finished_at = CASE WHEN $4 THEN now() ELSE finished_at END
          WHERE id = $1",
        task_id,
        status.as_str(),
        released_units,
        status.is_finished(),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Delivery Records filters.
#[derive(Debug, Default)]
pub struct TaskFilter {
    pub status: Option<TaskStatus>,
    /// Created on or after / before these instants.
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Keyset cursor: the (created_at, id) of the last row shown.
    pub after: Option<(DateTime<Utc>, i64)>,
}

struct TaskRow {
    id: i64,
    name: String,
    application: String,
    signature_text: String,
    template_name: String,
    template_id: Option<i64>,
    sms_type: i16,
    status: String,
    status_reason: Option<String>,
    send_at: DateTime<Utc>,
    time_zone: String,
    recipients: i32,
    sent: i32,
    refused: i32,
    delivered: i32,
    failed: i32,
    units_reserved: i64,
    units_used: i64,
    created_by: String,
    created_at: DateTime<Utc>,
}

impl TryFrom<TaskRow> for TaskSummary {
    type Error = AppError;

    fn try_from(r: TaskRow) -> Result<Self, AppError> {
        Ok(TaskSummary {
            id: r.id,
            name: r.name,
            application: r.application,
            signature: r.signature_text,
            template: match r.template_id {
                Some(id) => format!("{} ({id})", r.template_name),
                None => r.template_name,
            },
            sms_type: SmsType::from_code(r.sms_type)
                .ok_or_else(|| AppError::internal(format!("task sms_type {}", r.sms_type)))?,
            status: TaskStatus::parse(&r.status)
                .ok_or_else(|| AppError::internal(format!("task status {}", r.status)))?,
            status_reason: r.status_reason,
            send_at: r.send_at,
            time_zone: r.time_zone,
            recipients: r.recipients.into(),
            sent: r.sent.into(),
            refused: r.refused.into(),
            delivered: r.delivered.into(),
            failed: r.failed.into(),
            units_reserved: r.units_reserved,
            units_used: r.units_used,
            created_by: r.created_by,
            created_at: r.created_at,
        })
    }
}

pub async fn list_tasks(
    pool: &PgPool,
    filter: &TaskFilter,
    limit: i64,
) -> Result<Vec<TaskSummary>, AppError> {
    let rows = sqlx::query_as!(
        TaskRow,
        r#"SELECT t.id, t.name, a.name AS application, t.signature_text, t.template_name,
                t.template_id, t.sms_type, t.status, t.status_reason,
                t.send_at AS "send_at: chrono::DateTime<chrono::Utc>",
                t.time_zone, t.recipients, t.sent, t.refused, t.delivered, t.failed,
                t.units_reserved, t.units_used, u.display_name AS created_by,
                t.created_at AS "created_at: chrono::DateTime<chrono::Utc>"
           FROM tasks t
           JOIN applications a ON a.id = t.application_id
           JOIN users u ON u.id = t.created_by
          WHERE t.upload_id IS NOT NULL
            AND ($1::text IS NULL OR t.status = $1)
            AND ($2::timestamptz IS NULL OR t.created_at >= $2)
            AND ($3::timestamptz IS NULL OR t.created_at < $3)
            AND ($4::timestamptz IS NULL OR (t.created_at, t.id) < ($4, $5))
          ORDER BY t.created_at DESC, t.id DESC
          LIMIT $6"#,
        filter.status.map(TaskStatus::as_str),
        filter.from as _,
        filter.until as _,
        filter.after.map(|(at, _)| at) as _,
        filter.after.map_or(0, |(_, id)| id),
        limit,
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(TaskSummary::try_from).collect()
}

pub async fn task(pool: &PgPool, task_id: i64) -> Result<TaskDetail, AppError> {
    let row = sqlx::query_as!(
        TaskRow,
        r#"SELECT t.id, t.name, a.name AS application, t.signature_text, t.template_name,
                t.template_id, t.sms_type, t.status, t.status_reason,
                t.send_at AS "send_at: chrono::DateTime<chrono::Utc>",
                t.time_zone, t.recipients, t.sent, t.refused, t.delivered, t.failed,
                t.units_reserved, t.units_used, u.display_name AS created_by,
                t.created_at AS "created_at: chrono::DateTime<chrono::Utc>"
           FROM tasks t
           JOIN applications a ON a.id = t.application_id
           JOIN users u ON u.id = t.created_by
          WHERE t.id = $1 AND t.upload_id IS NOT NULL"#,
        task_id,
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::NotFound(crate::tr!(records.errors.task)))?;
    let upload = sqlx::query!(
        "SELECT u.id, t.template_text, u.file_name, u.total_rows, u.duplicates, u.opted_out
           FROM tasks t JOIN recipient_uploads u ON u.id = t.upload_id WHERE t.id = $1",
        task_id,
    )
    .fetch_one(pool)
    .await?;
    let summary = TaskSummary::try_from(row)?;
    let total_rows = i64::from(upload.total_rows.unwrap_or(0));
    let removed =
        i64::from(upload.duplicates.unwrap_or(0)) + i64::from(upload.opted_out.unwrap_or(0));
    Ok(TaskDetail {
        rejected: total_rows - summary.recipients - removed,
        summary,
        upload_id: upload.id,
        template_text: upload.template_text,
        file_name: upload.file_name,
        total_rows,
        removed,
    })
}

/// The rows of an upload that will not be sent, as CSV in file order: row number, the number
/// cell, the reason, then the other cells. Streamed by COPY, so a million rows cost no memory.
pub async fn rejected_rows_csv(
    pool: &PgPool,
    upload_id: i64,
) -> Result<BoxStream<'static, Result<Bytes, sqlx::Error>>, AppError> {
    let widest = sqlx::query_scalar!(
        "SELECT max(cardinality(params)) FROM recipients WHERE upload_id = $1 AND reason IS NOT NULL",
        upload_id,
    )
    .fetch_one(pool)
    .await?;
    let reason = RejectReason::ALL
        .iter()
        .map(|r| {
            format!(
                "WHEN {} THEN '{}'",
                r.code(),
                r.to_string().replace('\'', "''")
            )
        })
        .collect::<Vec<_>>()
        .join(" ");
    let cells: String = (1..=widest.unwrap_or(0))
        .map(|i| format!(", csv_text(params[{i}])"))
        .collect();
    // Only integers and our own labels are spliced in: COPY takes no bind parameters.
    let statement = format!(
        "COPY (SELECT row_no, csv_text(phone), CASE reason {reason} END{cells} FROM recipients
                WHERE upload_id = {upload_id} AND reason IS NOT NULL ORDER BY row_no)
           TO STDOUT WITH (FORMAT csv)"
    );
    Ok(pool.copy_out_raw(&statement).await?)
}

/// Whether `user_id` uploaded `upload_id`.
pub async fn upload_owned_by(
    pool: &PgPool,
    upload_id: i64,
    user_id: i64,
) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM recipient_uploads WHERE id = $1 AND uploaded_by = $2)
                  AS "owned!""#,
        upload_id,
        user_id,
    )
    .fetch_one(pool)
    .await?)
}

/// Deletes uploads older than `days` that no task was created from, with their rows.
pub async fn delete_abandoned_uploads(pool: &PgPool, days: i32) -> Result<u64, AppError> {
    let mut tx = pool.begin().await?;
    let ids = sqlx::query_scalar!(
        "DELETE FROM recipient_uploads u
          WHERE u.created_at < now() - make_interval(days => $1)
            AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.upload_id = u.id)
         RETURNING u.id",
        days,
    )
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query!("DELETE FROM recipients WHERE upload_id = ANY($1)", &ids)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(ids.len() as u64)
}
