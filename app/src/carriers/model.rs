//! Carriers as the console configures them: their forms, parsed once, and how they are listed.

use serde::{Deserialize, Serialize};

/// The simulator's settings as the settings form edits them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulatorForm {
    pub latency_ms: u64,
    pub accept_rate: f64,
    pub delivery_rate: f64,
    pub transient_rate: f64,
    pub receipt_delay_ms: u64,
    pub rate_limit: i32,
    pub concurrency: i32,
}

fn whole(field: &str, raw: &str, max: u64) -> Result<u64, crate::error::AppError> {
    raw.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| *n <= max)
        .ok_or_else(|| crate::error::AppError::field(field, crate::tr!(carriers.err_whole, max)))
}

fn share(field: &str, raw: &str) -> Result<f64, crate::error::AppError> {
    raw.trim()
        .parse::<f64>()
        .ok()
        .filter(|r| (0.0..=1.0).contains(r))
        .ok_or_else(|| crate::error::AppError::field(field, crate::tr!(carriers.err_share)))
}

/// Messages per second and calls in flight, as every carrier form takes them.
pub fn limits(rate: &str, concurrency: &str) -> Result<(i32, i32), crate::error::AppError> {
    let mut errors = crate::error::FieldErrors::default();
    let rate = errors.check(whole("rate_limit", rate, 1_000_000).and_then(|r| {
        if r == 0 {
            Err(crate::error::AppError::field(
                "rate_limit",
                crate::tr!(carriers.err_rate_min),
            ))
        } else {
            Ok(r as i32)
        }
    }));
    let concurrency = errors.check(whole("concurrency", concurrency, 64).and_then(|c| {
        if c == 0 {
            Err(crate::error::AppError::field(
                "concurrency",
                crate::tr!(carriers.err_concurrency_min),
            ))
        } else {
            Ok(c as i32)
        }
    }));
    errors.finish(rate.zip(concurrency))
}

impl SimulatorForm {
    pub fn parse(
        latency_ms: &str,
        accept_rate: &str,
        delivery_rate: &str,
        transient_rate: &str,
        receipt_delay_ms: &str,
        rate_limit: &str,
        concurrency: &str,
    ) -> Result<Self, crate::error::AppError> {
        let mut errors = crate::error::FieldErrors::default();
        let latency = errors.check(whole("latency_ms", latency_ms, 60_000));
        let accept = errors.check(share("accept_rate", accept_rate));
        let delivery = errors.check(share("delivery_rate", delivery_rate));
        let transient = errors.check(share("transient_rate", transient_rate));
        let delay = errors.check(whole("receipt_delay_ms", receipt_delay_ms, 3_600_000));
        let limits = errors.check(limits(rate_limit, concurrency));
        let (
            ((((latency_ms, accept_rate), delivery_rate), transient_rate), receipt_delay_ms),
            (rate_limit, concurrency),
        ) = errors.finish(
            latency
                .zip(accept)
                .zip(delivery)
                .zip(transient)
                .zip(delay)
                .zip(limits),
        )?;
        Ok(SimulatorForm {
            latency_ms,
            accept_rate,
            delivery_rate,
            transient_rate,
            receipt_delay_ms,
            rate_limit,
            concurrency,
        })
    }
}

/// Tencent Cloud SMS's public endpoint and the region its SMS service is reached in.
pub const TENCENT_ENDPOINT: &str = "https://sms.tencentcloudapi.com";
pub const TENCENT_REGION: &str = "ap-guangzhou";

/// A carrier to add: its kind and its settings (secrets still plain; the repository seals them).
#[derive(Debug, Clone, PartialEq)]
pub struct NewCarrier {
    pub name: String,
    pub kind: &'static str,
    pub settings: serde_json::Value,
    pub rate_limit: i32,
    pub concurrency: i32,
}

fn endpoint_url(raw: &str) -> Result<String, crate::error::AppError> {
    let endpoint = raw.trim();
    if (endpoint.starts_with("https://") || endpoint.starts_with("http://"))
        && endpoint.len() > 10
        && !endpoint.contains(char::is_whitespace)
    {
        Ok(endpoint.to_owned())
    } else {
        Err(crate::error::AppError::field(
            "endpoint",
            crate::tr!(carriers.err_endpoint),
        ))
    }
}

fn carrier_name(raw: &str) -> Result<String, crate::error::AppError> {
    crate::accounts::model::Label::parse("name", raw, 60).map(|n| n.as_str().to_owned())
}

/// A new HTTP carrier as the settings form submits it.
pub fn http_carrier(
    name: &str,
    endpoint: &str,
    secret: &str,
    rate_limit: &str,
    concurrency: &str,
) -> Result<NewCarrier, crate::error::AppError> {
    use crate::error::AppError;
    let mut errors = crate::error::FieldErrors::default();
    let name = errors.check(carrier_name(name));
    let endpoint = errors.check(endpoint_url(endpoint));
    let secret = errors.check(if secret.trim().chars().count() >= 16 {
        Ok(secret.trim().to_owned())
    } else {
        Err(AppError::field("secret", crate::tr!(carriers.err_secret)))
    });
    let limits = errors.check(limits(rate_limit, concurrency));
    let (((name, endpoint), secret), (rate_limit, concurrency)) =
        errors.finish(name.zip(endpoint).zip(secret).zip(limits))?;
    Ok(NewCarrier {
        name,
        kind: "http",
        settings: serde_json::json!({ "endpoint": endpoint, "secret": secret }),
        rate_limit,
        concurrency,
    })
}

/// What the Tencent Cloud SMS form submits, before parsing.
#[derive(Debug, Clone, Default)]
pub struct TencentCarrierInput<'a> {
    pub name: &'a str,
    pub endpoint: &'a str,
    pub region: &'a str,
    pub secret_id: &'a str,
    pub secret_key: &'a str,
    pub sdk_app_id: &'a str,
    /// One `Herald template id = Tencent template id` per line.
    pub templates: &'a str,
    pub reconcile_minutes: &'a str,
    pub rate_limit: &'a str,
    pub concurrency: &'a str,
}

/// A Tencent Cloud SMS account as a carrier.
pub fn tencent_carrier(
    input: TencentCarrierInput<'_>,
) -> Result<NewCarrier, crate::error::AppError> {
    use crate::error::AppError;
    let mut errors = crate::error::FieldErrors::default();
    let name = errors.check(carrier_name(input.name));
    let endpoint = errors.check(endpoint_url(input.endpoint));
    let region = input.region.trim();
    let region = errors.check(
        if !region.is_empty()
            && region.len() <= 40
            && region
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            Ok(region.to_owned())
        } else {
            Err(AppError::field("region", crate::tr!(carriers.err_region)))
        },
    );
    let secret_id = input.secret_id.trim();
    let secret_id = errors.check(
        if secret_id.len() >= 8 && secret_id.chars().all(|c| c.is_ascii_alphanumeric()) {
            Ok(secret_id.to_owned())
        } else {
            Err(AppError::field(
                "secret_id",
                crate::tr!(carriers.err_secret_id),
            ))
        },
    );
    let secret_key = input.secret_key.trim();
    let secret_key = errors.check(if secret_key.len() >= 16 && !secret_key.contains(' ') {
        Ok(secret_key.to_owned())
    } else {
        Err(AppError::field(
            "secret_key",
            crate::tr!(carriers.err_secret_key),
        ))
    });
    let app = input.sdk_app_id.trim();
    let app = errors.check(
        if (4..=20).contains(&app.len()) && app.bytes().all(|b| b.is_ascii_digit()) {
            Ok(app.to_owned())
        } else {
            Err(AppError::field(
                "sdk_app_id",
                crate::tr!(carriers.err_sdk_app_id),
            ))
        },
    );
    let templates = errors.check(template_map(input.templates));
    let reconcile = errors.check(whole("reconcile_minutes", input.reconcile_minutes, 4320));
    let limits = errors.check(limits(input.rate_limit, input.concurrency));
    let (
        (((((((name, endpoint), region), secret_id), secret_key), app), templates), reconcile),
        (rate_limit, concurrency),
    ) = errors.finish(
        name.zip(endpoint)
            .zip(region)
            .zip(secret_id)
            .zip(secret_key)
            .zip(app)
            .zip(templates)
            .zip(reconcile)
            .zip(limits),
    )?;
    Ok(NewCarrier {
        name,
        kind: "tencent",
        settings: serde_json::json!({
            "endpoint": endpoint,
            "region": region,
            "secret_id": secret_id,
            "secret_key": secret_key,
            "sdk_app_id": app,
            "templates": templates,
            "reconcile_minutes": reconcile,
        }),
        rate_limit,
        concurrency,
    })
}

/// `12 = 1234567` per line: Herald's template 12 is approved at Tencent as 1234567.
fn template_map(
    raw: &str,
) -> Result<std::collections::BTreeMap<i64, String>, crate::error::AppError> {
    let mut map = std::collections::BTreeMap::new();
    for (n, line) in raw.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let parsed = line.split_once('=').and_then(|(ours, theirs)| {
            let ours = ours.trim().parse::<i64>().ok()?;
            let theirs = theirs.trim();
            (!theirs.is_empty() && theirs.bytes().all(|b| b.is_ascii_digit()))
                .then(|| (ours, theirs.to_owned()))
        });
        let Some((ours, theirs)) = parsed else {
            return Err(crate::error::AppError::field(
                "templates",
                crate::tr!(carriers.err_template_line, n = n + 1),
            ));
        };
        map.insert(ours, theirs);
    }
    Ok(map)
}

/// A carrier as the settings page lists it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CarrierView {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub rate_limit: i32,
    pub concurrency: i32,
    pub is_default: bool,
    /// Simulator rates, or the HTTP endpoint (never the secret).
    pub summary: String,
    /// Where this carrier posts receipts (path; the host is this server's public address).
    pub receipt_path: String,
    pub simulator: Option<SimulatorForm>,
    /// The carrier batches go to after `failover_after` consecutive refusals.
    pub failover: Option<String>,
    pub failover_after: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulatorSettings {
    #[serde(default)]
    pub latency_ms: u64,
    /// Share of messages the carrier accepts; the rest are refused (blacklist, invalid number).
    #[serde(default = "one")]
    pub accept_rate: f64,
    /// Share of accepted messages whose receipt says delivered; the rest UNDELIV / EXPIRED / REJECTD.
    #[serde(default = "one")]
    pub delivery_rate: f64,
    /// Share of calls that fail as a whole with a retryable error.
    #[serde(default)]
    pub transient_rate: f64,
    #[serde(default)]
    pub receipt_delay_ms: u64,
    /// Post delivery receipts (off for throughput benches that measure sending alone).
    #[serde(default = "yes")]
    pub send_receipts: bool,
    /// Same seed, same decisions for the same keys.
    #[serde(default)]
    pub seed: Option<u64>,
}

fn one() -> f64 {
    1.0
}

fn yes() -> bool {
    true
}

impl Default for SimulatorSettings {
    fn default() -> Self {
        SimulatorSettings {
            latency_ms: 0,
            accept_rate: 1.0,
            delivery_rate: 1.0,
            transient_rate: 0.0,
            receipt_delay_ms: 0,
            send_receipts: true,
            seed: None,
        }
    }
}

/// A delivery status a carrier hands out when asked (rather than pushing it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PulledStatus {
    pub serial: String,
    pub phone: String,
    pub delivered: bool,
    pub code: String,
    /// What the send call passed as its session context (Herald: the batch's id range).
    pub session: String,
}

/// The message id range a session context names.
pub fn session_range(session: &str) -> Option<(i64, i64)> {
    let (lo, hi) = session.split_once('-')?;
    Some((
        crate::dispatch::model::id_from_key(lo)?,
        crate::dispatch::model::id_from_key(hi)?,
    ))
}

#[cfg(test)]
mod form_tests {
    use super::*;

    #[test]
    fn simulator_settings_are_bounded() {
        let ok = SimulatorForm::parse("20", "0.98", "0.95", "0", "500", "5000", "4").unwrap();
        assert_eq!((ok.latency_ms, ok.rate_limit), (20, 5000));
        let err = SimulatorForm::parse("x", "1.5", "0.9", "0", "0", "0", "99").unwrap_err();
        for field in ["latency_ms", "accept_rate", "rate_limit", "concurrency"] {
            assert!(err.field_message(field).is_some(), "{field}");
        }
    }

    #[test]
    fn http_carriers_need_a_url_and_a_real_secret() {
        let ok = http_carrier(
            "Gateway",
            "https://sms.example.com/send",
            "0123456789abcdef",
            "100",
            "2",
        )
        .unwrap();
        assert_eq!((ok.kind, ok.rate_limit), ("http", 100));
        let err = http_carrier("", "ftp://x", "short", "100", "2").unwrap_err();
        for field in ["name", "endpoint", "secret"] {
            assert!(err.field_message(field).is_some(), "{field}");
        }
    }

    #[test]
    fn tencent_accounts_need_their_credentials_and_a_readable_template_map() {
        let input = TencentCarrierInput {
            name: "Tencent",
            endpoint: "https://sms.tencentcloudapi.com",
            region: "ap-guangzhou",
            secret_id: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            secret_key: "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            sdk_app_id: "1400006666",
            templates: "12 = 1234567\n\n 13=7654321 ",
            reconcile_minutes: "60",
            rate_limit: "500",
            concurrency: "4",
        };
        let ok = tencent_carrier(input.clone()).unwrap();
        assert_eq!(ok.kind, "tencent");
        assert_eq!(ok.settings["templates"]["12"], "1234567");
        assert_eq!(ok.settings["templates"]["13"], "7654321");
        let err = tencent_carrier(TencentCarrierInput {
            region: "ap guangzhou",
            secret_id: "AK",
            secret_key: "short",
            sdk_app_id: "14OO",
            templates: "twelve = 1",
            ..input
        })
        .unwrap_err();
        for field in [
            "region",
            "secret_id",
            "secret_key",
            "sdk_app_id",
            "templates",
        ] {
            assert!(err.field_message(field).is_some(), "{field}");
        }
    }
}
