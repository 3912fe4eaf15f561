//! API key pairs: made, listed, revoked, and looked up by the Tencent-compatible API.

use rand::Rng;
use sqlx::{PgConnection, PgPool};

use super::model::{ApiKeyView, NewKeyPair};
use crate::error::AppError;
use crate::secrets::SecretBox;

fn random_alphanumeric(len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rngs::OsRng;
    (0..len)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}

/// Makes a key pair for the application: `AKID` + 32 characters, and a 32-character secret.
pub async fn create(
    conn: &mut PgConnection,
    secrets: &SecretBox,
    application_id: i64,
    created_by: Option<i64>,
) -> Result<NewKeyPair, AppError> {
    let secret_id = format!("AKID{}", random_alphanumeric(32));
    let secret_key = random_alphanumeric(32);
    let created = sqlx::query!(
        "INSERT INTO api_keys (application_id, secret_id, secret_key_sealed, created_by)
         SELECT id, $2, $3, $4 FROM applications WHERE id = $1",
        application_id,
        secret_id,
        secrets.seal(&secret_key),
        created_by,
    )
    .execute(conn)
    .await?
    .rows_affected();
    if created == 0 {
        return Err(AppError::NotFound(crate::tr!(apps.application)));
    }
    Ok(NewKeyPair {
        application_id,
        secret_id,
        secret_key,
    })
}

pub async fn list(pool: &PgPool, application_id: i64) -> Result<Vec<ApiKeyView>, AppError> {
    Ok(sqlx::query_as!(
        ApiKeyView,
        r#"SELECT k.id, k.secret_id, u.email AS "created_by?",
                  k.created_at AS "created_at: chrono::DateTime<chrono::Utc>",
                  k.revoked_at AS "revoked_at: chrono::DateTime<chrono::Utc>",
                  k.last_used_at AS "last_used_at: chrono::DateTime<chrono::Utc>"
             FROM api_keys k LEFT JOIN users u ON u.id = k.created_by
            WHERE k.application_id = $1 ORDER BY k.id DESC"#,
        application_id,
    )
    .fetch_all(pool)
    .await?)
}

/// Revokes a key; returns its SecretId (for the audit log).
/// Revokes the key of `application` (a key of another application is not found there).
pub async fn revoke(
    conn: &mut PgConnection,
    application: i64,
    key_id: i64,
) -> Result<String, AppError> {
    sqlx::query_scalar!(
        "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
          WHERE id = $1 AND application_id = $2
         RETURNING secret_id",
        key_id,
        application,
    )
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| AppError::NotFound(crate::tr!(apps.api_key)))
}

/// What the API needs to check a request signed with a SecretId.
#[derive(Debug, Clone)]
pub struct Credential {
    pub key_id: i64,
    pub application_id: i64,
    pub sdk_app_id: i64,
    pub secret_key: String,
    pub revoked: bool,
    pub application_enabled: bool,
    /// Whom the key's actions are attributed to: its creator, else the application's.
    pub acting_user: Option<i64>,
}

pub async fn credential(
    pool: &PgPool,
    secrets: &SecretBox,
    secret_id: &str,
) -> Result<Option<Credential>, AppError> {
    let row = sqlx::query_as!(
        CredentialRow,
        r#"SELECT k.id AS key_id, a.id AS application_id, a.sdk_app_id,
                  k.secret_key_sealed AS sealed, k.revoked_at IS NOT NULL AS "revoked!",
                  a.enabled AS application_enabled,
                  coalesce(k.created_by, a.created_by) AS acting_user
             FROM api_keys k JOIN applications a ON a.id = k.application_id
            WHERE k.secret_id = $1"#,
        secret_id,
    )
    .fetch_optional(pool)
    .await?;
    row.map(|r| {
        Ok(Credential {
            key_id: r.key_id,
            application_id: r.application_id,
            sdk_app_id: r.sdk_app_id,
            secret_key: secrets.open(&r.sealed)?,
            revoked: r.revoked,
            application_enabled: r.application_enabled,
            acting_user: r.acting_user,
        })
    })
    .transpose()
}

struct CredentialRow {
    key_id: i64,
    application_id: i64,
    sdk_app_id: i64,
    sealed: String,
    revoked: bool,
    application_enabled: bool,
    acting_user: Option<i64>,
}

/// Marks a key used (at most once a minute per key, so busy keys do not write on every call).
pub async fn touch(pool: &PgPool, key_id: i64) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE api_keys SET last_used_at = now()
          WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
        key_id,
    )
    .execute(pool)
    .await?;
    Ok(())
}
