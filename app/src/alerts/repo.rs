use rand::RngCore;
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};

use super::model::{
    backoff_seconds, AlarmContact, AlertSms, AlertSmsChoices, Delivery, DeliveryState, MAX_ATTEMPTS,
};
use crate::dispatch::model::MessageState;
use crate::error::AppError;

pub async fn contacts(pool: &PgPool) -> Result<Vec<AlarmContact>, AppError> {
    Ok(sqlx::query_as!(
        AlarmContact,
        "SELECT id, name, email, phone, webhook_url, webhook_secret FROM alarm_contacts ORDER BY id"
    )
    .fetch_all(pool)
    .await?)
}

pub struct NewContact<'a> {
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub webhook_url: Option<&'a str>,
}

/// Adds a contact; one with a webhook gets a fresh random signing secret.
pub async fn add_contact(
    conn: &mut PgConnection,
    contact: NewContact<'_>,
) -> Result<i64, AppError> {
    let secret = contact.webhook_url.map(|_| {
        let mut bytes = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        crate::signing::hex(&bytes)
    });
    Ok(sqlx::query_scalar!(
        "INSERT INTO alarm_contacts (name, email, phone, webhook_url, webhook_secret)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
        contact.name,
        contact.email,
        contact.phone,
        contact.webhook_url,
        secret,
    )
    .fetch_one(conn)
    .await?)
}

pub async fn delete_contact(conn: &mut PgConnection, id: i64) -> Result<String, AppError> {
    sqlx::query_scalar!(
        "DELETE FROM alarm_contacts WHERE id = $1 RETURNING name",
        id
    )
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| AppError::NotFound(crate::tr!(alerts.what_contact)))
}

/// Queues one event for every contact with a webhook, inside the caller's transaction, so the
/// event exists exactly when the change it reports does (the SQL function triggers use too).
pub async fn enqueue_event(
    conn: &mut PgConnection,
    event_type: &str,
    data: Value,
) -> Result<(), AppError> {
    sqlx::query!("SELECT enqueue_webhook_event($1, $2)", event_type, data)
        .execute(conn)
        .await?;
    Ok(())
}

/// Reports messages that just became delivered, failed or were refused before sending: one
/// `message.delivered` and one `message.failed` event per batch, listing the messages. Nothing
/// is built when no contact has a webhook (the receipt path runs this for every batch).
pub async fn enqueue_outcomes(
    conn: &mut PgConnection,
    message_ids: &[i64],
) -> Result<(), AppError> {
    if message_ids.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        "SELECT enqueue_webhook_event(
                    CASE WHEN m.state = $2 THEN 'message.delivered' ELSE 'message.failed' END,
                    jsonb_build_object('messages', jsonb_agg(jsonb_build_object(
                        'message_id', m.id, 'task_id', m.task_id, 'sdk_app_id', a.sdk_app_id,
                        'phone', m.phone, 'serial_no', m.serial_no, 'code', m.code,
                        'submitted_at', m.submitted_at, 'done_at', m.done_at) ORDER BY m.id)))
           FROM messages m JOIN tasks t ON t.id = m.task_id
           JOIN applications a ON a.id = t.application_id
          WHERE m.id = ANY($1) AND m.state IN ($2, $3, $4)
            AND EXISTS (SELECT 1 FROM alarm_contacts WHERE webhook_url IS NOT NULL)
          GROUP BY m.state",
        message_ids,
        MessageState::Delivered as _,
        MessageState::Failed as _,
        MessageState::Rejected as _,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Queues a delivery again from its first attempt (an admin's redelivery).
pub async fn redeliver(conn: &mut PgConnection, id: i64) -> Result<String, AppError> {
    sqlx::query_scalar!(
        "UPDATE webhook_deliveries
            SET attempts = 0, next_attempt_at = now(), delivered_at = NULL, failed_at = NULL,
                last_error = NULL
          WHERE id = $1
      RETURNING event_type",
        id,
    )
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| AppError::NotFound(crate::tr!(alerts.what_delivery)))
}

/// The balance alert's threshold in units, if one is set.
pub async fn balance_alert(pool: &PgPool) -> Result<Option<i64>, AppError> {
    Ok(
        sqlx::query_scalar!("SELECT balance_low_units FROM alert_settings")
            .fetch_one(pool)
            .await?,
    )
}

pub async fn set_balance_alert(
    conn: &mut PgConnection,
    units: Option<i64>,
) -> Result<(), AppError> {
    // A new threshold is judged afresh: a balance already below it is reported.
    sqlx::query!(
        "UPDATE alert_settings SET balance_low_units = $1, balance_low_since = NULL",
        units,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// What SMS alerts go out through, if they are set up.
pub async fn alert_sms(pool: &PgPool) -> Result<Option<AlertSms>, AppError> {
    Ok(sqlx::query_as!(
        AlertSms,
        r#"SELECT sms_application_id AS "application_id!", sms_template_id AS "template_id!",
                  sms_signature_id AS "signature_id!"
             FROM alert_settings
            WHERE sms_application_id IS NOT NULL AND sms_template_id IS NOT NULL
              AND sms_signature_id IS NOT NULL"#
    )
    .fetch_optional(pool)
    .await?)
}

pub async fn alert_sms_choices(pool: &PgPool) -> Result<AlertSmsChoices, AppError> {
    let applications = sqlx::query!("SELECT id, name FROM applications ORDER BY name, id")
        .fetch_all(pool)
        .await?;
    let templates = sqlx::query!(
        "SELECT id, name, content FROM templates WHERE status = 'approved' ORDER BY name, id"
    )
    .fetch_all(pool)
    .await?;
    let signatures = sqlx::query!(
        "SELECT id, content FROM signatures WHERE status = 'approved' ORDER BY content, id"
    )
    .fetch_all(pool)
    .await?;
    Ok(AlertSmsChoices {
        applications: applications.into_iter().map(|a| (a.id, a.name)).collect(),
        templates: templates
            .into_iter()
            .filter(|t| super::model::fits_alerts(&t.content))
            .map(|t| (t.id, t.name))
            .collect(),
        signatures: signatures.into_iter().map(|s| (s.id, s.content)).collect(),
    })
}

pub async fn set_alert_sms(conn: &mut PgConnection, sms: Option<AlertSms>) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE alert_settings
            SET sms_application_id = $1, sms_template_id = $2, sms_signature_id = $3",
        sms.map(|s| s.application_id),
        sms.map(|s| s.template_id),
        sms.map(|s| s.signature_id),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A fall of the balance below the alert threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LowBalance {
    pub available: i64,
    pub threshold: i64,
}

/// Reports `balance.low` once each time the available units fall below the threshold (checked
/// by the webhook worker; sends charge units in batches, so the check stays off their path).
/// Returns the fall when this check reported it.
pub async fn check_balance(pool: &PgPool) -> Result<Option<LowBalance>, AppError> {
    let mut tx = pool.begin().await?;
    let settings = sqlx::query!(
        r#"SELECT balance_low_units, balance_low_since IS NOT NULL AS "reported_low!"
             FROM alert_settings FOR UPDATE"#
    )
    .fetch_one(&mut *tx)
    .await?;
    let Some(threshold) = settings.balance_low_units else {
        return Ok(None);
    };
    let available = crate::balance::ledger::available(&mut tx).await?;
    let reported = match (available < threshold, settings.reported_low) {
        (true, false) => {
            enqueue_event(
                &mut tx,
                "balance.low",
                json!({ "available_units": available, "threshold_units": threshold }),
            )
            .await?;
            sqlx::query!("UPDATE alert_settings SET balance_low_since = now()")
                .execute(&mut *tx)
                .await?;
            Some(LowBalance {
                available,
                threshold,
            })
        }
        (false, true) => {
            sqlx::query!("UPDATE alert_settings SET balance_low_since = NULL")
                .execute(&mut *tx)
                .await?;
            None
        }
        _ => None,
    };
    tx.commit().await?;
    Ok(reported)
}

pub async fn recent_deliveries(pool: &PgPool) -> Result<Vec<Delivery>, AppError> {
    struct Row {
        id: i64,
        contact: String,
        event_type: String,
        attempts: i32,
        next_attempt_at: chrono::DateTime<chrono::Utc>,
        delivered: bool,
        failed: bool,
        last_error: Option<String>,
        created_at: chrono::DateTime<chrono::Utc>,
    }
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT d.id, c.name AS contact, d.event_type, d.attempts,
                  d.next_attempt_at AS "next_attempt_at: chrono::DateTime<chrono::Utc>",
                  d.delivered_at IS NOT NULL AS "delivered!", d.failed_at IS NOT NULL AS "failed!",
                  d.last_error, d.created_at AS "created_at: chrono::DateTime<chrono::Utc>"
             FROM webhook_deliveries d JOIN alarm_contacts c ON c.id = d.contact_id
            ORDER BY d.id DESC LIMIT 50"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Delivery {
            id: r.id,
            contact: r.contact,
            event_type: r.event_type,
            state: if r.delivered {
                DeliveryState::Delivered
            } else if r.failed {
                DeliveryState::Failed
            } else {
                DeliveryState::Retrying {
                    attempts: r.attempts,
                    next_attempt_at: r.next_attempt_at,
                }
            },
            last_error: r.last_error,
            created_at: r.created_at,
        })
        .collect())
}

/// A delivery a worker has claimed.
pub struct DueDelivery {
    pub id: i64,
    pub url: String,
    pub secret: String,
    pub payload: Value,
    pub event_type: String,
    pub attempts: i32,
}

/// Claims due deliveries for one worker. The claim pushes `next_attempt_at` a lease ahead, so a
/// worker that dies mid-delivery leaves them to be retried, and other workers skip them meanwhile.
pub async fn claim_due(
    pool: &PgPool,
    limit: i64,
    lease_seconds: i64,
) -> Result<Vec<DueDelivery>, AppError> {
    // The webhook_url filter (and the check tying the secret to it) makes both present.
    Ok(sqlx::query_as!(
        DueDelivery,
        r#"UPDATE webhook_deliveries d
              SET next_attempt_at = now() + make_interval(secs => $2::double precision)
             FROM alarm_contacts c
            WHERE c.id = d.contact_id
              AND d.id IN (SELECT id FROM webhook_deliveries
                            WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now()
                            ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
              AND c.webhook_url IS NOT NULL
          RETURNING d.id, c.webhook_url AS "url!", c.webhook_secret AS "secret!", d.payload,
                    d.event_type, d.attempts"#,
        limit,
        lease_seconds as f64,
    )
    .fetch_all(pool)
    .await?)
}

pub async fn mark_delivered(pool: &PgPool, id: i64) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE webhook_deliveries
            SET delivered_at = now(), attempts = attempts + 1, last_error = NULL
          WHERE id = $1",
        id,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Records a failed attempt: retried after a growing wait, given up after `MAX_ATTEMPTS`.
pub async fn mark_failed_attempt(
    pool: &PgPool,
    delivery: &DueDelivery,
    error: &str,
) -> Result<(), AppError> {
    let attempts = delivery.attempts + 1;
    let give_up = attempts >= MAX_ATTEMPTS;
    sqlx::query!(
        "UPDATE webhook_deliveries
            SET attempts = $2, last_error = $3,
                next_attempt_at = now() + make_interval(secs => $4::double precision),
                failed_at = CASE WHEN $5 THEN now() END
          WHERE id = $1",
        delivery.id,
        attempts,
        error.chars().take(500).collect::<String>(),
        backoff_seconds(attempts) as f64,
        give_up,
    )
    .execute(pool)
    .await?;
    Ok(())
}
