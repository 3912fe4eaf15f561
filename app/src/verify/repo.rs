use sqlx::PgPool;

use super::model::{AbuseToday, VerifySettings, DEFAULT_VALIDITY_MINUTES};
use crate::error::AppError;

/// The settings a public key opens, if any (of an enabled application).
pub async fn by_public_key(pool: &PgPool, key: &str) -> Result<Option<VerifySettings>, AppError> {
    Ok(sqlx::query_as!(
        VerifySettings,
        "SELECT application_id, public_key, template_id, signature_id,
                validity_minutes, per_ip_hourly, per_prefix_hourly
           FROM verify_settings
          WHERE public_key = $1
            AND EXISTS (SELECT 1 FROM applications a WHERE a.id = application_id AND a.enabled)",
        key
    )
    .fetch_optional(pool)
    .await?)
}

/// A key as `new_public_key` makes them.
pub fn is_public_key(key: &str) -> bool {
    key.strip_prefix("pk_").is_some_and(|hex| {
        hex.len() == 32
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

fn new_public_key() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("pk_{}", crate::signing::hex(&bytes))
}

/// An application's settings, created with defaults (and a public key) on first use.
pub async fn for_application(
    pool: &PgPool,
    application_id: i64,
) -> Result<VerifySettings, AppError> {
    sqlx::query!(
        "INSERT INTO verify_settings (application_id, public_key, validity_minutes)
         SELECT id, $2, $3 FROM applications WHERE id = $1
         ON CONFLICT (application_id) DO NOTHING",
        application_id,
        new_public_key(),
        DEFAULT_VALIDITY_MINUTES
    )
    .execute(pool)
    .await?;
    sqlx::query_as!(
        VerifySettings,
        "SELECT application_id, public_key, template_id, signature_id,
                validity_minutes, per_ip_hourly, per_prefix_hourly
           FROM verify_settings
          WHERE application_id = $1",
        application_id
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::NotFound(crate::tr!(apps.application)))
}

pub async fn save(pool: &PgPool, settings: &VerifySettings) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE verify_settings
            SET template_id = $2, signature_id = $3, validity_minutes = $4, per_ip_hourly = $5,
                per_prefix_hourly = $6, updated_at = now()
          WHERE application_id = $1",
        settings.application_id,
        settings.template_id,
        settings.signature_id,
        settings.validity_minutes,
        settings.per_ip_hourly,
        settings.per_prefix_hourly
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Replaces the public key (the old one stops working at once).
pub async fn new_key(pool: &PgPool, application_id: i64) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE verify_settings SET public_key = $2, updated_at = now() WHERE application_id = $1",
        application_id,
        new_public_key()
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Counts a getSms the anti-pumping limits refused (`kind`: `ip` or `prefix`).
pub async fn count_abuse(pool: &PgPool, application_id: i64, kind: &str) -> Result<(), AppError> {
    sqlx::query!(
        "INSERT INTO verify_abuse (application_id, day, limit_kind, hits)
         VALUES ($1, (now() AT TIME ZONE 'Asia/Shanghai')::date, $2, 1)
         ON CONFLICT (application_id, day, limit_kind) DO UPDATE
            SET hits = verify_abuse.hits + 1, last_at = now()",
        application_id,
        kind
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Refusals today (China time), over every application.
pub async fn abuse_today(pool: &PgPool) -> Result<AbuseToday, AppError> {
    Ok(sqlx::query_as!(
        AbuseToday,
        r#"SELECT coalesce(sum(hits) FILTER (WHERE limit_kind = 'ip'), 0)::bigint AS "by_ip!",
                coalesce(sum(hits) FILTER (WHERE limit_kind = 'prefix'), 0)::bigint AS "by_prefix!"
           FROM verify_abuse WHERE day = (now() AT TIME ZONE 'Asia/Shanghai')::date"#
    )
    .fetch_one(pool)
    .await?)
}

/// A verification message as recorded: what the demo's log shows. `params[0]` is the sealed
/// code.
pub struct CodeRow {
    pub phone: String,
    pub signature: String,
    pub template: String,
    pub params: Vec<String>,
    pub state: i16,
    pub at: chrono::DateTime<chrono::Utc>,
    /// Sent to the built-in simulator (no handset receives it), so the demo may show the code.
    pub simulated: bool,
}

/// The application's last ten verification messages that went (or are going) to a carrier,
/// newest first.
pub async fn recent_codes(pool: &PgPool, application_id: i64) -> Result<Vec<CodeRow>, AppError> {
    // Found through their chunks (one per code, keyed by the message's id): a stream's messages
    // share their id range with other tasks', and its range grows only as the engine records
    // them. A stream keeps one carrier (a change of carrier opens another), so its carrier says
    // where each of its codes went.
    Ok(sqlx::query_as!(
        CodeRow,
        r#"SELECT m.phone, t.signature_text AS signature, t.template_text AS template, m.params,
                m.state,
                coalesce(m.submitted_at, m.done_at, t.created_at)
                    AS "at!: chrono::DateTime<chrono::Utc>",
                coalesce(c.kind = 'simulator', false) AS "simulated!"
           FROM (SELECT * FROM tasks
                  WHERE application_id = $1 AND origin = 'verify'
                  ORDER BY created_at DESC LIMIT 10) t
          CROSS JOIN LATERAL (
                SELECT first_id FROM dispatch_chunks d
                 WHERE d.task_id = t.id ORDER BY first_id DESC LIMIT 10) d
           JOIN messages m ON m.id = d.first_id
           LEFT JOIN carriers c ON c.id = t.carrier_id
          ORDER BY m.id DESC LIMIT 10"#,
        application_id
    )
    .fetch_all(pool)
    .await?)
}
