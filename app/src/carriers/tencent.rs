//! The `tencent` carrier: Tencent Cloud SMS API 2021-01-11 (`SendSms`, `PullSmsSendStatus`)
//! over HTTPS, signed with TC3-HMAC-SHA256.
//!
//! Tencent does not deduplicate, so a call whose outcome is unknown (a timeout, an internal
//! error) is never made again: its messages wait as unconfirmed until a delivery status names
//! them — matched by the `SessionContext` (the batch's message id range) and the number — or
//! until the carrier's reconciliation window ends and they fail as `Herald.OutcomeUnknown`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::carrier::{Batch, Carrier, CarrierError, Outcome};
use super::model::PulledStatus;
use crate::tencent::tc3;

const VERSION: &str = "2021-01-11";
const PULL_LIMIT: usize = 100;

/// Settings of a `tencent` carrier, as stored (with `secret_key` sealed) and as used (opened).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TencentSettings {
    pub endpoint: String,
    pub region: String,
    pub secret_id: String,
    pub secret_key: String,
    pub sdk_app_id: String,
    /// Herald template id → the id of the same template approved at Tencent. A template not
    /// listed is sent under its Herald id.
    #[serde(default)]
    pub templates: BTreeMap<i64, String>,
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// How long an unconfirmed message waits for a delivery status before it fails.
    #[serde(default = "default_reconcile_minutes")]
    pub reconcile_minutes: i64,
}

fn default_timeout_ms() -> u64 {
    10_000
}

fn default_reconcile_minutes() -> i64 {
    60
}

pub struct TencentCarrier {
    settings: TencentSettings,
    host: String,
    client: reqwest::Client,
}

/// The session context a batch is sent with: the range of its message ids.
pub fn session_of(batch: &Batch) -> String {
    let ids = batch
        .messages
        .iter()
        .filter_map(|m| crate::dispatch::model::id_from_key(&m.key));
    let (lo, hi) = ids.fold((i64::MAX, i64::MIN), |(lo, hi), id| {
        (lo.min(id), hi.max(id))
    });
    format!("hm{lo}-hm{hi}")
}

impl TencentCarrier {
    pub fn new(settings: TencentSettings) -> Result<Self, String> {
        let url = reqwest::Url::parse(&settings.endpoint)
            .map_err(|e| format!("endpoint {}: {e}", settings.endpoint))?;
        let host = match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => return Err(format!("endpoint {} has no host", settings.endpoint)),
        };
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(TencentCarrier {
            settings,
            host,
            client,
        })
    }

    /// Calls one action; the `Response` object, or why not.
    async fn call(&self, action: &str, payload: &Value) -> Result<Value, CarrierError> {
        let body = serde_json::to_vec(payload)
            .map_err(|e| CarrierError::Busy(format!("encoding {action}: {e}")))?;
        let timestamp = chrono::Utc::now().timestamp();
        let content_type = "application/json; charset=utf-8";
        let authorization = tc3::authorization(
            &self.settings.secret_id,
            &self.settings.secret_key,
            timestamp,
            "sms",
            &[("content-type", content_type), ("host", &self.host)],
            &body,
        );
        let response = self
            .client
            .post(&self.settings.endpoint)
            .header("Content-Type", content_type)
            .header("Host", &self.host)
            .header("X-TC-Action", action)
            .header("X-TC-Version", VERSION)
            .header("X-TC-Timestamp", timestamp.to_string())
            .header("X-TC-Region", &self.settings.region)
            .header("Authorization", authorization)
            .body(body)
            .send()
            .await
            .map_err(CarrierError::from_transport)?;
        CarrierError::from_refusal(response.status())?;
        let mut answer: Value = response
            .json()
            .await
            .map_err(|e| CarrierError::Transient(format!("unreadable answer: {e}")))?;
        let response = answer
            .get_mut("Response")
            .map(Value::take)
            .ok_or_else(|| CarrierError::Transient("answer without Response".into()))?;
        if let Some(error) = response.get("Error") {
            let code = error["Code"].as_str().unwrap_or("InternalError").to_owned();
            let message = error["Message"].as_str().unwrap_or("").to_owned();
            return Err(classify(code, message));
        }
        Ok(response)
    }

    async fn send_sms(&self, batch: &Batch) -> Result<Vec<Outcome>, CarrierError> {
        let template = self
            .settings
            .templates
            .get(&batch.template_id)
            .cloned()
            .unwrap_or_else(|| batch.template_id.to_string());
        let phones: Vec<&str> = batch.messages.iter().map(|m| m.phone.as_str()).collect();
        let response = self
            .call(
                "SendSms",
                &json!({
                    "PhoneNumberSet": phones,
                    "SmsSdkAppId": self.settings.sdk_app_id,
                    "TemplateId": template,
                    "SignName": batch.sign,
                    "TemplateParamSet": batch.params,
                    "SessionContext": session_of(batch),
                }),
            )
            .await?;
        let statuses = response["SendStatusSet"].as_array().ok_or_else(|| {
            CarrierError::Transient("SendSms answer without SendStatusSet".into())
        })?;
        // Statuses name numbers, not keys; a number twice in one batch takes its keys in order.
        let mut keys: HashMap<&str, VecDeque<&str>> = HashMap::new();
        for m in &batch.messages {
            keys.entry(m.phone.as_str())
                .or_default()
                .push_back(m.key.as_str());
        }
        Ok(statuses
            .iter()
            .filter_map(|status| {
                let phone = status["PhoneNumber"].as_str()?;
                let key = keys.get_mut(phone)?.pop_front()?;
                let code = status["Code"].as_str().unwrap_or("");
                Some(if code.eq_ignore_ascii_case("Ok") {
                    Outcome::accepted(
                        key,
                        status["SerialNo"].as_str().unwrap_or("").to_owned(),
                        status["Fee"].as_i64().unwrap_or(1),
                    )
                } else {
                    Outcome::refused(key, code, status["Message"].as_str().unwrap_or(""))
                })
            })
            .collect())
    }

    async fn pull(&self) -> Result<Vec<PulledStatus>, CarrierError> {
        let mut pulled = Vec::new();
        // Each status is handed out once; keep asking while full pages come back.
        loop {
            let response = self
                .call(
                    "PullSmsSendStatus",
                    &json!({ "SmsSdkAppId": self.settings.sdk_app_id, "Limit": PULL_LIMIT }),
                )
                .await?;
            let page = response["PullSmsSendStatusSet"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let full = page.len() >= PULL_LIMIT;
            pulled.extend(page.iter().filter_map(|s| {
                let delivered = s["ReportStatus"].as_str()? == "SUCCESS";
                let description = s["Description"].as_str().unwrap_or("");
                Some(PulledStatus {
                    serial: s["SerialNo"].as_str()?.to_owned(),
                    phone: s["PhoneNumber"].as_str()?.to_owned(),
                    delivered,
                    code: if delivered || description.is_empty() {
                        if delivered { "DELIVRD" } else { "FAIL" }.to_owned()
                    } else {
                        description.to_owned()
                    },
                    session: s["SessionContext"].as_str().unwrap_or("").to_owned(),
                })
            }));
            if !full || pulled.len() >= 10 * PULL_LIMIT {
                return Ok(pulled);
            }
        }
    }
}

/// Throttling means the call was refused (try again, or elsewhere); an internal error may have
/// sent it (unknown); anything else refuses the whole batch with Tencent's code.
fn classify(code: String, message: String) -> CarrierError {
    if code.starts_with("RequestLimitExceeded") {
        CarrierError::Busy(format!("{code}: {message}"))
    } else if code.starts_with("InternalError") {
        CarrierError::Transient(format!("{code}: {message}"))
    } else {
        CarrierError::Permanent { code, message }
    }
}

impl Carrier for TencentCarrier {
    fn send<'a>(&'a self, batch: &'a Batch) -> BoxFuture<'a, Result<Vec<Outcome>, CarrierError>> {
        Box::pin(self.send_sms(batch))
    }

    fn deduplicates(&self) -> bool {
        false
    }

    fn pull_statuses(&self) -> Option<BoxFuture<'_, Result<Vec<PulledStatus>, CarrierError>>> {
        Some(Box::pin(self.pull()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carriers::carrier::Outgoing;
    use crate::carriers::model::session_range;

    #[test]
    fn the_session_context_names_the_batch_and_reads_back() {
        let batch = Batch {
            sign: "Acme".into(),
            content: "【Acme】hi".into(),
            template_id: 3,
            params: vec![],
            messages: [42, 7, 19]
                .iter()
                .map(|id| Outgoing {
                    key: crate::dispatch::model::message_key(*id),
                    phone: format!("+86138000000{id:02}"),
                })
                .collect(),
        };
        assert_eq!(session_of(&batch), "hm7-hm42");
        assert_eq!(session_range("hm7-hm42"), Some((7, 42)));
        assert_eq!(session_range("whatever"), None);
    }

    #[test]
    fn throttling_is_a_refusal_and_internal_errors_are_unknown() {
        assert!(matches!(
            classify("RequestLimitExceeded".into(), String::new()),
            CarrierError::Busy(_)
        ));
        assert!(matches!(
            classify("InternalError.Timeout".into(), String::new()),
            CarrierError::Transient(_)
        ));
        assert_eq!(
            classify("AuthFailure.SignatureFailure".into(), "bad".into()),
            CarrierError::Permanent {
                code: "AuthFailure.SignatureFailure".into(),
                message: "bad".into()
            }
        );
    }

    #[test]
    fn endpoints_need_a_host() {
        let settings = |endpoint: &str| TencentSettings {
            endpoint: endpoint.into(),
            region: crate::carriers::model::TENCENT_REGION.into(),
            secret_id: "AKID".into(),
            secret_key: "k".into(),
            sdk_app_id: "1400000000".into(),
            templates: BTreeMap::new(),
            timeout_ms: 1000,
            reconcile_minutes: 60,
        };
        assert_eq!(
            TencentCarrier::new(settings("http://127.0.0.1:9/"))
                .unwrap()
                .host,
            "127.0.0.1:9"
        );
        assert_eq!(
            TencentCarrier::new(settings(crate::carriers::model::TENCENT_ENDPOINT))
                .unwrap()
                .host,
            "sms.tencentcloudapi.com"
        );
        assert!(TencentCarrier::new(settings("not a url")).is_err());
    }
}
