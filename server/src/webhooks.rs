//! Delivers queued webhook events: signed POSTs, retried with backoff (see `alerts::repo`).

use std::sync::Arc;
use std::time::Duration;

use app::alerts::repo::{claim_due, mark_delivered, mark_failed_attempt, DueDelivery};
use app::error::AppError;
use app::limits::store::Limiter;
use sqlx::PgPool;

/// How long a claimed delivery stays with one worker before another may retry it: well beyond
/// one attempt's timeout, and a batch's attempts run together, so a batch never outlives it.
const LEASE_SECONDS: i64 = 60;
/// Deliveries claimed (and attempted together) at a time.
const BATCH: i64 = 20;
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

pub use app::signing::signature;

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(ATTEMPT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client")
}

async fn attempt(client: &reqwest::Client, delivery: &DueDelivery) -> Result<(), String> {
    let body = serde_json::to_vec(&delivery.payload).map_err(|e| e.to_string())?;
    let timestamp = chrono::Utc::now().timestamp();
    let response = client
        .post(&delivery.url)
        .header("content-type", "application/json")
        .header("x-herald-event", &delivery.event_type)
        .header("x-herald-delivery", delivery.id.to_string())
        .header("x-herald-timestamp", timestamp.to_string())
        .header(
            "x-herald-signature",
            signature(&delivery.secret, timestamp, &body),
        )
        .body(body)
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!(
            "receiver answered HTTP {}",
            response.status().as_u16()
        ))
    }
}

/// One pass over the due deliveries, attempted together (a slow receiver delays nobody else);
/// returns how many were attempted.
pub async fn deliver_due(pool: &PgPool, client: &reqwest::Client) -> Result<usize, AppError> {
    let due = claim_due(pool, BATCH, LEASE_SECONDS).await?;
    let outcomes = futures_util::future::join_all(due.iter().map(|delivery| async move {
        match attempt(client, delivery).await {
            Ok(()) => mark_delivered(pool, delivery.id).await,
            Err(error) => {
                tracing::warn!(delivery = delivery.id, url = %delivery.url, "webhook delivery failed: {error}");
                mark_failed_attempt(pool, delivery, &error).await
            }
        }
    }))
    .await;
    outcomes
        .into_iter()
        .collect::<Result<Vec<()>, AppError>>()?;
    Ok(due.len())
}

/// How often the balance is compared with the alert threshold.
const BALANCE_CHECK_EVERY: Duration = Duration::from_secs(10);

pub fn spawn_worker(pool: PgPool, limiter: Arc<Limiter>) {
    tokio::spawn(async move {
        let client = client();
        let mut balance_checked: Option<std::time::Instant> = None;
        loop {
            if balance_checked.is_none_or(|at| at.elapsed() >= BALANCE_CHECK_EVERY) {
                balance_checked = Some(std::time::Instant::now());
                if let Err(err) = app::alerts::sms::report_low_balance(&pool, &limiter).await {
                    tracing::error!("balance alert: {err}");
                }
            }
            match deliver_due(&pool, &client).await {
                Ok(0) => tokio::time::sleep(Duration::from_secs(1)).await,
                Ok(_) => {}
                Err(err) => {
                    tracing::error!("webhook worker: {err}");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
            }
        }
    });
}
