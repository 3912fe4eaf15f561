//! Carriers: where a batch of messages with one content goes, and what came back.
//!
//! The HTTP carrier protocol (also what the standalone simulator serves):
//! `POST <endpoint>` with `{"sign": "Acme", "content": "【Acme】…", "template_id": 7,
//! "params": ["1234"], "messages": [{"key": "hm1", "phone": "+8613800000000"}]}`, headers `X-Herald-Timestamp` and `X-Herald-Signature`
//! (`sha256=` HMAC of `"<timestamp>.<body>"` under the carrier's secret). The answer:
//! `{"results": [{"key": "hm1", "accepted": true, "serial": "…", "fee": 1}` or
//! `{"key": …, "accepted": false, "code": "…", "message": "…"}]}`. 429, 5xx and connection
//! failures mean the batch was not taken (retried, and counted towards failover); a timeout
//! leaves it unknown (retried at the same carrier only); other 4xx fail the batch with
//! `HttpCarrier.<status>`. The gateway must deduplicate on `key` (a batch can be posted again
//! after a timeout) and should end its serials with `-<key>` so receipts find their message.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use super::model::PulledStatus;

/// One message of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outgoing {
    pub key: String,
    pub phone: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    pub sign: String,
    /// The rendered text, signature included.
    pub content: String,
    /// Herald's template and the variables that render `content`, for carriers that send by
    /// template (Tencent).
    #[serde(default)]
    pub template_id: i64,
    #[serde(default)]
    pub params: Vec<String>,
    pub messages: Vec<Outgoing>,
}

/// The carrier's answer for one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub key: String,
    pub accepted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    #[serde(default)]
    pub fee: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Outcome {
    pub fn accepted(key: &str, serial: String, fee: i64) -> Self {
        Outcome {
            key: key.to_owned(),
            accepted: true,
            serial: Some(serial),
            fee,
            code: None,
            message: None,
        }
    }

    pub fn refused(key: &str, code: &str, message: &str) -> Self {
        Outcome {
            key: key.to_owned(),
            accepted: false,
            serial: None,
            fee: 0,
            code: Some(code.to_owned()),
            message: Some(message.to_owned()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchAnswer {
    pub results: Vec<Outcome>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CarrierError {
    /// The carrier did not take the batch (throttled, 5xx, unreachable): retry here or, after
    /// repeated refusals, at the failover carrier.
    Busy(String),
    /// The outcome is unknown (a timeout, an unreadable answer): the batch may have been taken,
    /// so it is retried only at the same carrier, under the same keys.
    Transient(String),
    /// The whole batch was refused; every message fails with this code.
    Permanent { code: String, message: String },
}

impl CarrierError {
    /// A call that failed on the way: unreachable means the carrier never had it; anything later
    /// (a timeout, a dropped connection) leaves the outcome unknown.
    pub fn from_transport(err: reqwest::Error) -> CarrierError {
        if err.is_connect() {
            CarrierError::Busy(err.to_string())
        } else {
            CarrierError::Transient(err.to_string())
        }
    }

    /// Throttling (429) and server errors mean the carrier did not take the call.
    pub fn from_refusal(status: reqwest::StatusCode) -> Result<(), CarrierError> {
        if status.as_u16() == 429 || status.is_server_error() {
            Err(CarrierError::Busy(format!("carrier answered {status}")))
        } else {
            Ok(())
        }
    }
}

impl std::fmt::Display for CarrierError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CarrierError::Busy(m) => write!(f, "busy: {m}"),
            CarrierError::Transient(m) => write!(f, "transient: {m}"),
            CarrierError::Permanent { code, message } => write!(f, "{code}: {message}"),
        }
    }
}

pub trait Carrier: Send + Sync {
    fn send<'a>(&'a self, batch: &'a Batch) -> BoxFuture<'a, Result<Vec<Outcome>, CarrierError>>;

    /// Whether the carrier deduplicates on Herald's message keys, so a batch whose outcome is
    /// unknown may be posted again. Tencent does not: its unknown outcomes are reconciled from
    /// delivery statuses instead (see `model`).
    fn deduplicates(&self) -> bool {
        true
    }

    /// Delivery statuses not handed out before, for carriers that are asked for them.
    fn pull_statuses(&self) -> Option<BoxFuture<'_, Result<Vec<PulledStatus>, CarrierError>>> {
        None
    }
}

/// Settings of an `http` carrier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpSettings {
    pub endpoint: String,
    pub secret: String,
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_timeout_ms() -> u64 {
    10_000
}

pub struct HttpCarrier {
    settings: HttpSettings,
    client: reqwest::Client,
}

impl HttpCarrier {
    pub fn new(settings: HttpSettings) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms))
            .build()
            .unwrap_or_default();
        HttpCarrier { settings, client }
    }

    async fn post(&self, batch: &Batch) -> Result<Vec<Outcome>, CarrierError> {
        let body = serde_json::to_vec(batch)
            .map_err(|e| CarrierError::Busy(format!("encoding the batch: {e}")))?;
        let timestamp = chrono::Utc::now().timestamp();
        let response = self
            .client
            .post(&self.settings.endpoint)
            .header("Content-Type", "application/json")
            .header("X-Herald-Timestamp", timestamp.to_string())
            .header(
                "X-Herald-Signature",
                crate::signing::signature(&self.settings.secret, timestamp, &body),
            )
            .body(body)
            .send()
            .await
            .map_err(CarrierError::from_transport)?;
        CarrierError::from_refusal(response.status())?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            return Err(CarrierError::Permanent {
                code: format!("HttpCarrier.{}", status.as_u16()),
                message: text.chars().take(200).collect(),
            });
        }
        let answer: BatchAnswer = response
            .json()
            .await
            .map_err(|e| CarrierError::Transient(format!("unreadable answer: {e}")))?;
        Ok(answer.results)
    }
}

impl Carrier for HttpCarrier {
    fn send<'a>(&'a self, batch: &'a Batch) -> BoxFuture<'a, Result<Vec<Outcome>, CarrierError>> {
        Box::pin(self.post(batch))
    }
}

pub type SharedCarrier = Arc<dyn Carrier>;
