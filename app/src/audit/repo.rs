//! Writing and reading the audit log.

use serde_json::Value;
use sqlx::{PgExecutor, PgPool};

use super::model::{AuditEntry, AuditFilter, AUDIT_PAGE_SIZE};
use crate::accounts::model::CurrentUser;
use crate::error::AppError;

/// One audited event. Written in the same transaction as the change it describes.
pub struct AuditEvent<'a> {
    pub actor: Option<&'a CurrentUser>,
    pub ip: &'a str,
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: Option<String>,
    pub details: Value,
}

impl<'a> AuditEvent<'a> {
    /// An event caused by a signed-in user.
    pub fn by(
        actor: &'a CurrentUser,
        ip: &'a str,
        action: &'a str,
        object_type: &'a str,
        object_id: impl ToString,
        details: Value,
    ) -> Self {
        AuditEvent {
            actor: Some(actor),
            ip,
            action,
            object_type,
            object_id: Some(object_id.to_string()),
            details,
        }
    }
}

pub async fn record(db: impl PgExecutor<'_>, event: AuditEvent<'_>) -> Result<(), AppError> {
    sqlx::query!(
        "INSERT INTO audit_log (actor_id, actor_email, action, object_type, object_id, ip, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        event.actor.map(|u| u.id),
        event.actor.map(|u| u.email.as_str()),
        event.action,
        event.object_type,
        event.object_id,
        event.ip,
        event.details,
    )
    .execute(db)
    .await?;
    Ok(())
}

struct AuditRow {
    id: i64,
    at: chrono::DateTime<chrono::Utc>,
    actor_email: Option<String>,
    action: String,
    object_type: String,
    object_id: Option<String>,
    ip: Option<String>,
    details: Value,
}

/// Newest first, one page at a time (keyset on id, so pages stay stable while rows arrive).
/// `from` and `to` are days in China time, the time the page shows.
pub async fn list(pool: &PgPool, filter: &AuditFilter) -> Result<Vec<AuditEntry>, AppError> {
    let rows = sqlx::query_as!(
        AuditRow,
        r#"SELECT id, at AS "at: chrono::DateTime<chrono::Utc>", actor_email, action, object_type,
                  object_id, ip, details
             FROM audit_log
            WHERE ($1::text IS NULL OR actor_email ILIKE '%' || $1 || '%')
              AND ($2::text IS NULL OR action = $2)
              AND ($3::text IS NULL OR object_type = $3)
              AND ($4::date IS NULL OR at >= $4::date::timestamp AT TIME ZONE 'Asia/Shanghai')
              AND ($5::date IS NULL OR at < ($5::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai')
              AND ($6::bigint IS NULL OR id < $6)
            ORDER BY id DESC
            LIMIT $7"#,
        filter.actor.as_deref(),
        filter.action.as_deref(),
        filter.object_type.as_deref(),
        filter.from as _,
        filter.to as _,
        filter.before,
        AUDIT_PAGE_SIZE + 1,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.id,
            at: r.at,
            actor_email: r.actor_email,
            action: r.action,
            object_type: r.object_type,
            object_id: r.object_id,
            ip: r.ip,
            details: r.details.to_string(),
        })
        .collect())
}

/// The distinct actions and object types recorded so far, for the filter menus. A loose index
/// scan: one index probe per distinct value, so the cost does not grow with the log.
pub async fn vocabulary(pool: &PgPool) -> Result<(Vec<String>, Vec<String>), AppError> {
    let actions = sqlx::query_scalar!(
        r#"WITH RECURSIVE v AS (
            (SELECT action AS value FROM audit_log ORDER BY action LIMIT 1)
            UNION ALL
            SELECT (SELECT action FROM audit_log WHERE action > v.value ORDER BY action LIMIT 1)
              FROM v WHERE v.value IS NOT NULL
         ) SELECT value AS "value!" FROM v WHERE value IS NOT NULL"#,
    )
    .fetch_all(pool)
    .await?;
    let object_types = sqlx::query_scalar!(
        r#"WITH RECURSIVE v AS (
            (SELECT object_type AS value FROM audit_log ORDER BY object_type LIMIT 1)
            UNION ALL
            SELECT (SELECT object_type FROM audit_log WHERE object_type > v.value
                     ORDER BY object_type LIMIT 1)
              FROM v WHERE v.value IS NOT NULL
         ) SELECT value AS "value!" FROM v WHERE value IS NOT NULL"#,
    )
    .fetch_all(pool)
    .await?;
    Ok((actions, object_types))
}
