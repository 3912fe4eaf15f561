//! Carriers as stored: each kind's settings, their secrets sealed, and the default and failover.

use sqlx::{PgConnection, PgPool};

use crate::error::AppError;

/// Refuses, on the form's `field`, a carrier id that names no carrier.
pub async fn require_carrier(
    conn: &mut PgConnection,
    id: i64,
    field: &str,
) -> Result<(), AppError> {
    let exists = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM carriers WHERE id = $1) AS "exists!""#,
        id,
    )
    .fetch_one(conn)
    .await?;
    if exists {
        Ok(())
    } else {
        Err(AppError::field(
            field,
            crate::tr!(carriers.err_choose_carrier),
        ))
    }
}

/// A carrier's row, to build it.
#[derive(Debug, Clone)]
pub struct CarrierRow {
    pub id: i64,
    pub kind: String,
    pub settings: serde_json::Value,
    pub rate_limit: i32,
    pub concurrency: i32,
    pub receipt_token: String,
    pub failover_carrier_id: Option<i64>,
    pub failover_after: i32,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

pub async fn carrier(pool: &PgPool, id: Option<i64>) -> Result<CarrierRow, AppError> {
    sqlx::query_as!(
        CarrierRow,
        r#"SELECT id, kind, settings, rate_limit, concurrency, receipt_token, failover_carrier_id,
                failover_after, updated_at AS "updated_at: chrono::DateTime<chrono::Utc>"
           FROM carriers WHERE id = coalesce($1, (SELECT id FROM carriers WHERE is_default))"#,
        id,
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::NotFound(crate::tr!(carriers.what_carrier)))
}

/// Settings fields that hold secrets; stored sealed (see `crate::secrets`).
const SECRET_FIELDS: [&str; 2] = ["secret", "secret_key"];

/// A carrier's settings with their secrets opened, to build the carrier.
pub fn open_settings(
    mut settings: serde_json::Value,
    secrets: &crate::secrets::SecretBox,
) -> Result<serde_json::Value, AppError> {
    for field in SECRET_FIELDS {
        if let Some(sealed) = settings.get(field).and_then(|v| v.as_str()) {
            let plain = secrets.open(sealed)?;
            settings[field] = serde_json::Value::String(plain);
        }
    }
    Ok(settings)
}

/// Seals carrier secrets stored in plain text (by a version before sealing existed). Run at
/// start-up; returns how many carriers it changed.
pub async fn seal_carrier_secrets(
    pool: &PgPool,
    secrets: &crate::secrets::SecretBox,
) -> Result<u64, AppError> {
    let rows = sqlx::query!("SELECT id, settings FROM carriers ORDER BY id")
        .fetch_all(pool)
        .await?;
    let mut changed = 0;
    for row in rows {
        let mut settings = row.settings;
        let mut touched = false;
        for field in SECRET_FIELDS {
            if let Some(plain) = settings.get(field).and_then(|v| v.as_str()) {
                if !crate::secrets::SecretBox::is_sealed(plain) {
                    settings[field] = serde_json::Value::String(secrets.seal(plain));
                    touched = true;
                }
            }
        }
        if touched {
            sqlx::query!(
                "UPDATE carriers SET settings = $2, updated_at = now() WHERE id = $1",
                row.id,
                &settings,
            )
            .execute(pool)
            .await?;
            changed += 1;
        }
    }
    Ok(changed)
}

struct CarrierListRow {
    id: i64,
    name: String,
    kind: String,
    settings: serde_json::Value,
    rate_limit: i32,
    concurrency: i32,
    is_default: bool,
    receipt_token: String,
    failover: Option<String>,
    failover_after: i32,
}

pub async fn list_carriers(
    pool: &PgPool,
    with_receipt_paths: bool,
) -> Result<Vec<super::model::CarrierView>, AppError> {
    let rows = sqlx::query_as!(
        CarrierListRow,
        r#"SELECT c.id, c.name, c.kind, c.settings, c.rate_limit, c.concurrency, c.is_default,
                c.receipt_token, f.name AS "failover?", c.failover_after
           FROM carriers c LEFT JOIN carriers f ON f.id = c.failover_carrier_id ORDER BY c.id"#,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|c| {
            let simulator = (c.kind == "simulator")
                .then(|| {
                    serde_json::from_value::<super::model::SimulatorSettings>(c.settings.clone())
                        .ok()
                })
                .flatten()
                .map(|s| super::model::SimulatorForm {
                    latency_ms: s.latency_ms,
                    accept_rate: s.accept_rate,
                    delivery_rate: s.delivery_rate,
                    transient_rate: s.transient_rate,
                    receipt_delay_ms: s.receipt_delay_ms,
                    rate_limit: c.rate_limit,
                    concurrency: c.concurrency,
                });
            let summary = match &simulator {
                Some(s) => crate::tr!(
                    carriers.simulator_summary,
                    latency = s.latency_ms,
                    accepts = format!("{:.0}", s.accept_rate * 100.0),
                    delivers = format!("{:.0}", s.delivery_rate * 100.0),
                    transient = format!("{:.0}", s.transient_rate * 100.0)
                ),
                None if c.kind == "tencent" => format!(
                    "{} · {} · SmsSdkAppId {} · SecretId {}",
                    c.settings["endpoint"].as_str().unwrap_or(""),
                    c.settings["region"].as_str().unwrap_or(""),
                    c.settings["sdk_app_id"].as_str().unwrap_or(""),
                    c.settings["secret_id"].as_str().unwrap_or(""),
                ),
                None => c.settings["endpoint"].as_str().unwrap_or("").to_owned(),
            };
            super::model::CarrierView {
                receipt_path: if with_receipt_paths {
                    format!("/receipts/{}/{}", c.id, c.receipt_token)
                } else {
                    String::new()
                },
                id: c.id,
                name: c.name,
                kind: c.kind,
                rate_limit: c.rate_limit,
                concurrency: c.concurrency,
                is_default: c.is_default,
                summary,
                simulator,
                failover: c.failover,
                failover_after: c.failover_after,
            }
        })
        .collect())
}

fn random_token() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..32)
        .map(|_| format!("{:x}", rng.gen_range(0..16u8)))
        .collect()
}

/// Adds a carrier, its secrets sealed; the audit entry names everything but the secrets.
pub async fn add_carrier(
    pool: &PgPool,
    admin: &crate::accounts::model::CurrentUser,
    ip: &str,
    secrets: &crate::secrets::SecretBox,
    carrier: super::model::NewCarrier,
) -> Result<(), AppError> {
    let mut stored = carrier.settings.clone();
    let mut described = carrier.settings.clone();
    for field in SECRET_FIELDS {
        if let Some(plain) = carrier.settings.get(field).and_then(|v| v.as_str()) {
            stored[field] = serde_json::Value::String(secrets.seal(plain));
            if let Some(map) = described.as_object_mut() {
                map.remove(field);
            }
        }
    }
    let mut tx = pool.begin().await?;
    let id = sqlx::query_scalar!(
        "INSERT INTO carriers (name, kind, settings, rate_limit, concurrency, receipt_token)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING RETURNING id",
        &carrier.name,
        carrier.kind,
        &stored,
        carrier.rate_limit,
        carrier.concurrency,
        random_token(),
    )
    .fetch_optional(&mut *tx)
    .await?;
    let id = id.ok_or_else(|| AppError::field("name", crate::tr!(carriers.err_name_taken)))?;
    crate::audit::repo::record(
        &mut *tx,
        crate::audit::repo::AuditEvent::by(
            admin,
            ip,
            "carrier.create",
            "carrier",
            id,
            serde_json::json!({ "name": carrier.name, "kind": carrier.kind, "settings": described }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn update_simulator(
    pool: &PgPool,
    admin: &crate::accounts::model::CurrentUser,
    ip: &str,
    id: i64,
    form: super::model::SimulatorForm,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let settings = serde_json::json!({
        "latency_ms": form.latency_ms,
        "accept_rate": form.accept_rate,
        "delivery_rate": form.delivery_rate,
        "transient_rate": form.transient_rate,
        "receipt_delay_ms": form.receipt_delay_ms,
    });
    let updated = sqlx::query!(
        "UPDATE carriers SET settings = settings || $2, rate_limit = $3, concurrency = $4,
                updated_at = now()
          WHERE id = $1 AND kind = 'simulator'",
        id,
        &settings,
        form.rate_limit,
        form.concurrency,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(AppError::NotFound(crate::tr!(carriers.what_simulator)));
    }
    crate::audit::repo::record(
        &mut *tx,
        crate::audit::repo::AuditEvent::by(admin, ip, "carrier.update", "carrier", id, settings),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_default_carrier(
    pool: &PgPool,
    admin: &crate::accounts::model::CurrentUser,
    ip: &str,
    id: i64,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let exists = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM carriers WHERE id = $1) AS "exists!""#,
        id,
    )
    .fetch_one(&mut *tx)
    .await?;
    if !exists {
        return Err(AppError::NotFound(crate::tr!(carriers.what_carrier)));
    }
    sqlx::query!(
        "UPDATE carriers SET is_default = false WHERE is_default AND id <> $1",
        id,
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!("UPDATE carriers SET is_default = true WHERE id = $1", id)
        .execute(&mut *tx)
        .await?;
    crate::audit::repo::record(
        &mut *tx,
        crate::audit::repo::AuditEvent::by(
            admin,
            ip,
            "carrier.default",
            "carrier",
            id,
            serde_json::json!({}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_failover(
    pool: &PgPool,
    admin: &crate::accounts::model::CurrentUser,
    ip: &str,
    id: i64,
    failover: Option<i64>,
    after: i32,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    if let Some(failover) = failover {
        require_carrier(&mut tx, failover, "failover_id").await?;
    }
    let updated = sqlx::query!(
        "UPDATE carriers SET failover_carrier_id = $2, failover_after = $3, updated_at = now()
          WHERE id = $1",
        id,
        failover,
        after,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(AppError::NotFound(crate::tr!(carriers.what_carrier)));
    }
    crate::audit::repo::record(
        &mut *tx,
        crate::audit::repo::AuditEvent::by(
            admin,
            ip,
            "carrier.failover",
            "carrier",
            id,
            serde_json::json!({ "failover_carrier_id": failover, "after": after }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
