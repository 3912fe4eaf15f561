//! Delivers queued webhook events: signed POSTs, retried with backoff (see `alerts::repo`).

use std::time::Duration;

use app::alerts::repo::{claim_due, mark_delivered, mark_failed_attempt, DueDelivery};
use app::error::AppError;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::PgPool;

/// How long a claimed delivery stays with one worker before another may retry it.
const LEASE_SECONDS: i64 = 60;

/// `sha256=` + hex HMAC-SHA256 of `"{timestamp}.{body}"` under the contact's secret. Binding the
/// timestamp lets receivers refuse replays of old events.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    format!(
        "sha256={}",
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
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

/// One pass over the due deliveries; returns how many were attempted.
pub async fn deliver_due(pool: &PgPool, client: &reqwest::Client) -> Result<usize, AppError> {
    let due = claim_due(pool, 20, LEASE_SECONDS).await?;
    for delivery in &due {
        match attempt(client, delivery).await {
            Ok(()) => mark_delivered(pool, delivery.id).await?,
            Err(error) => {
                tracing::warn!(delivery = delivery.id, url = %delivery.url, "webhook delivery failed: {error}");
                mark_failed_attempt(pool, delivery, &error).await?;
            }
        }
    }
    Ok(due.len())
}

pub fn spawn_worker(pool: PgPool) {
    tokio::spawn(async move {
        let client = client();
        loop {
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

#[cfg(test)]
mod tests {
    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        // RFC 4231-style check computed independently: HMAC-SHA256("key", "1.{}").
        let expected = {
            use hmac::{Hmac, Mac};
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"key").unwrap();
            mac.update(b"1.{}");
            format!("sha256={:x}", mac.finalize().into_bytes())
        };
        assert_eq!(super::signature("key", 1, b"{}"), expected);
        assert_ne!(
            super::signature("key", 2, b"{}"),
            expected,
            "the timestamp is signed"
        );
    }
}
