//! SMS alerts to the alarm contacts' phones (a low balance, a task that paused itself on
//! errors). They go out like an API request: a task of origin `alert` through the engine, with
//! the frequency limits, opt-outs and balance applied, through the application, approved
//! template (one placeholder: the alert's text) and signature chosen in Settings.

use sqlx::PgPool;

use super::model::AlertSms;
use crate::error::AppError;
use crate::limits::store::Limiter;
use crate::numbers::PhoneNumber;
use crate::review::model::ReviewStatus;
use crate::send::service::{self as send, Request};

/// Reports a fall of the balance below the alert threshold, when this check finds one: the
/// `balance.low` event (see `repo::check_balance`) and an SMS to the contacts' phones.
pub async fn report_low_balance(pool: &PgPool, limiter: &Limiter) -> Result<(), AppError> {
    if let Some(low) = super::repo::check_balance(pool).await? {
        let text = format!(
            "短信余额剩余{}条，低于告警阈值{}条",
            low.available, low.threshold
        );
        send_alert(pool, limiter, &text).await?;
    }
    Ok(())
}

/// Tells the contacts' phones that a bulk task paused itself because too many messages failed.
pub async fn report_task_paused(
    pool: &PgPool,
    limiter: &Limiter,
    task_name: &str,
) -> Result<(), AppError> {
    let text = format!("群发任务“{task_name}”失败过多，已自动暂停");
    send_alert(pool, limiter, &text).await
}

/// Sends `text` to every alarm contact with a phone (nothing when SMS alerts are not set up).
/// Failures are the caller's to log: an alert never stops what raised it.
async fn send_alert(pool: &PgPool, limiter: &Limiter, text: &str) -> Result<(), AppError> {
    let Some(AlertSms {
        application_id,
        template_id,
        signature_id,
    }) = super::repo::alert_sms(pool).await?
    else {
        return Ok(());
    };
    let phones: Vec<PhoneNumber> = sqlx::query_scalar!(
        r#"SELECT DISTINCT phone AS "phone!" FROM alarm_contacts WHERE phone IS NOT NULL ORDER BY phone"#
    )
    .fetch_all(pool)
    .await?
    .iter()
    .filter_map(|raw| PhoneNumber::parse(raw).ok())
    .collect();
    let Some(first) = phones.first() else {
        return Ok(());
    };
    let template = crate::templates::repo::get(pool, template_id).await?;
    let signature = sqlx::query_scalar!(
        "SELECT content FROM signatures WHERE id = $1 AND status = 'approved'",
        signature_id
    )
    .fetch_optional(pool)
    .await?;
    let (Some(signature), ReviewStatus::Approved) = (signature, &template.status) else {
        return Err(AppError::internal(
            "the SMS alert's template or signature is no longer approved",
        ));
    };
    let params = vec![text.to_owned()];
    let refused = |e: crate::error::ApiError| {
        AppError::internal(format!("SMS alert refused: {} {}", e.code, e.message))
    };
    let units = send::units_per_message(&template, &signature, first, &params).map_err(refused)?;
    let numbers: Vec<String> = phones.iter().map(|p| p.as_str().to_owned()).collect();
    let content_key = crate::limits::content_key(&signature, &template.content, &params);
    send::record(
        pool,
        limiter,
        &Request {
            application_id,
            api_key_id: None,
            acting_user: None,
            template: &template,
            signature: &(Some(signature_id), signature),
            params: &params,
            units,
            session_context: "",
            content_key,
        },
        &numbers,
    )
    .await
    .map_err(refused)?;
    crate::dispatch::queue::work_recorded();
    Ok(())
}
