use sqlx::{PgConnection, PgPool};

use super::model::{PackageType, SmsPackage};
use crate::error::AppError;

struct Row {
    id: i64,
    package_type: i16,
    units: i64,
    used: i64,
    reserved: i64,
    created_at: chrono::DateTime<chrono::Utc>,
    effective_at: chrono::DateTime<chrono::Utc>,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
    note: String,
}

pub async fn list(pool: &PgPool) -> Result<Vec<SmsPackage>, AppError> {
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT id, package_type, units, used, reserved,
                  created_at AS "created_at: chrono::DateTime<chrono::Utc>",
                  effective_at AS "effective_at: chrono::DateTime<chrono::Utc>",
                  expires_at AS "expires_at: chrono::DateTime<chrono::Utc>", note
             FROM sms_packages ORDER BY id DESC"#,
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(SmsPackage {
                id: r.id,
                package_type: PackageType::from_code(r.package_type).ok_or_else(|| {
                    AppError::internal(format!("package {} has type {}", r.id, r.package_type))
                })?,
                amount: r.units,
                current_usage: r.used,
                reserved: r.reserved,
                created_at: r.created_at,
                effective_at: r.effective_at,
                expires_at: r.expires_at,
                note: r.note,
            })
        })
        .collect()
}

pub async fn add(
    conn: &mut PgConnection,
    units: i64,
    package_type: PackageType,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
    note: &str,
    created_by: i64,
) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar!(
        "INSERT INTO sms_packages (units, package_type, expires_at, note, created_by)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
        units,
        package_type.code(),
        expires_at as _,
        note,
        created_by,
    )
    .fetch_one(conn)
    .await?)
}
