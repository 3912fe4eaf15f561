use rand::Rng;
use sqlx::{PgConnection, PgPool};

use super::model::{Application, CallbackUrl};
use crate::accounts::model::Label;
use crate::error::AppError;

struct Row {
    id: i64,
    sdk_app_id: i64,
    name: String,
    enabled: bool,
    callback_url: Option<String>,
    description: String,
    carrier_id: Option<i64>,
    receipt_token: String,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl From<Row> for Application {
    fn from(r: Row) -> Self {
        Application {
            id: r.id,
            sdk_app_id: r.sdk_app_id,
            name: r.name,
            enabled: r.enabled,
            callback_url: r.callback_url,
            description: r.description,
            carrier_id: r.carrier_id,
            receipt_path: format!("/receipts/app/{}/{}", r.sdk_app_id, r.receipt_token),
            created_at: r.created_at,
        }
    }
}

pub async fn list(pool: &PgPool) -> Result<Vec<Application>, AppError> {
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT id, sdk_app_id, name, enabled, callback_url, description, carrier_id,
                  receipt_token, created_at AS "created_at: chrono::DateTime<chrono::Utc>"
             FROM applications ORDER BY id"#,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub async fn get(pool: &PgPool, id: i64) -> Result<Application, AppError> {
    let row = sqlx::query_as!(
        Row,
        r#"SELECT id, sdk_app_id, name, enabled, callback_url, description, carrier_id,
                  receipt_token, created_at AS "created_at: chrono::DateTime<chrono::Utc>"
             FROM applications WHERE id = $1"#,
        id,
    )
    .fetch_optional(pool)
    .await?;
    row.map(Into::into)
        .ok_or_else(|| AppError::NotFound(crate::tr!(apps.application)))
}

/// Inserts with a fresh random SmsSdkAppId, drawing again on the rare collision.
pub async fn insert(
    conn: &mut PgConnection,
    name: &Label,
    callback_url: &CallbackUrl,
    description: &str,
    created_by: Option<i64>,
) -> Result<Application, AppError> {
    for _ in 0..8 {
        let sdk_app_id: i64 = rand::rngs::OsRng.gen_range(1_400_000_000..=1_499_999_999);
        let row = sqlx::query_as!(
            Row,
            r#"INSERT INTO applications (sdk_app_id, name, callback_url, description, created_by)
               VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sdk_app_id) DO NOTHING
               RETURNING id, sdk_app_id, name, enabled, callback_url, description, carrier_id,
                         receipt_token, created_at AS "created_at: chrono::DateTime<chrono::Utc>""#,
            sdk_app_id,
            name.as_str(),
            callback_url.as_deref(),
            description,
            created_by,
        )
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(row) = row {
            return Ok(row.into());
        }
    }
    Err(AppError::internal("could not draw an unused SmsSdkAppId"))
}

pub async fn update(
    conn: &mut PgConnection,
    id: i64,
    name: &Label,
    callback_url: &CallbackUrl,
    description: &str,
    enabled: bool,
) -> Result<(), AppError> {
    let updated = sqlx::query!(
        "UPDATE applications SET name = $2, callback_url = $3, description = $4, enabled = $5,
                updated_at = now()
          WHERE id = $1",
        id,
        name.as_str(),
        callback_url.as_deref(),
        description,
        enabled,
    )
    .execute(conn)
    .await?
    .rows_affected();
    if updated == 1 {
        Ok(())
    } else {
        Err(AppError::NotFound(crate::tr!(apps.application)))
    }
}

/// Sends the application's messages through `carrier` (`None`: the default carrier).
pub async fn set_carrier(
    conn: &mut PgConnection,
    id: i64,
    carrier: Option<i64>,
) -> Result<(), AppError> {
    if let Some(carrier) = carrier {
        crate::carriers::repo::require_carrier(&mut *conn, carrier, "carrier_id").await?;
    }
    let updated = sqlx::query!(
        "UPDATE applications SET carrier_id = $2, updated_at = now() WHERE id = $1",
        id,
        carrier,
    )
    .execute(conn)
    .await?
    .rows_affected();
    if updated == 1 {
        Ok(())
    } else {
        Err(AppError::NotFound(crate::tr!(apps.application)))
    }
}
