//! The life of one message, and what a crash at each point does to it.
//!
//! ```text
//!            claim chunk                carrier accepted          receipt
//!  queued ───────────────▶ submitting ───────────────▶ submitted ─────────▶ delivered
//!    │                       │  │                          │
//!    │ opt-out at send time  │  │ carrier refused          └──── receipt ───▶ failed
//!    ▼                       │  └──────────────────────────────────────────▶ failed
//!  rejected                  │ paused / window closed before its call
//!                            └──────────────▶ queued
//!  queued / (unclaimed) ── task cancelled ──▶ cancelled
//! ```
//!
//! Every message carries an idempotency key (`hm<id>`) that the carrier deduplicates on; a
//! message is only ever handed to a carrier again with the same key.
//!
//! Crash points (the process dies, its chunk lease expires (30 s by default,
//! `HERALD_DISPATCH_LEASE_SECONDS`), another worker in any process claims the chunk):
//! 1. After the claim, before the carrier call: the chunk's messages are `submitting`; the next
//!    worker sends them — for the first time.
//! 2. During or after the carrier call, before the results are recorded: still `submitting`; the
//!    next worker sends them again with the same keys and the carrier answers with the serial it
//!    already gave (no second SMS), which is then recorded.
//! 3. After the results are recorded: `submitted` / `failed` rows are never claimed again; a
//!    receipt may still arrive and is applied (or kept until its message is recorded).
//! 4. A receipt that arrives before its message's result was recorded (fast carriers) is kept in
//!    `pending_receipts` (or, for a carrier's own serials, `carrier_receipts_early`) and applied
//!    in the transaction that records the result.
//! 5. A worker that stalls past its lease (it could not renew) stops before its next call,
//!    records what it sent and leaves the rest to the worker that took the chunk over.
//!
//! Carriers that cannot deduplicate (Tencent) change points 2 and 4 of the above: a message a
//! dead worker left `submitting`, or whose call timed out, is never sent again. It is recorded
//! `submitted` without a serial and listed in `unconfirmed_messages`; a delivery status that
//! names it (pulled with PullSmsSendStatus, matched by the batch's SessionContext and the
//! number) settles it, and when none comes within the carrier's window it fails as
//! `Herald.OutcomeUnknown`. A message in crash point 1 can therefore fail unsent: the price of
//! never sending one twice through a carrier that would send it twice.
//!
//! Units: the task reserved them when it started; each recorded result moves the units of
//! accepted messages from the reservation to `used`, in the same transaction.

use serde::{Deserialize, Serialize};

/// Stored as its `code` (a smallint): statements bind states, they never spell the numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::Type))]
#[repr(i16)]
pub enum MessageState {
    Queued = 0,
    Submitting = 1,
    Submitted = 2,
    Delivered = 3,
    Failed = 4,
    Rejected = 5,
    Cancelled = 6,
}

impl MessageState {
    pub const ALL: [MessageState; 7] = [
        MessageState::Queued,
        MessageState::Submitting,
        MessageState::Submitted,
        MessageState::Delivered,
        MessageState::Failed,
        MessageState::Rejected,
        MessageState::Cancelled,
    ];

    pub fn code(self) -> i16 {
        self as i16
    }

    pub fn from_code(code: i16) -> Option<MessageState> {
        MessageState::ALL.get(usize::try_from(code).ok()?).copied()
    }

    /// Its name in metrics and logs.
    pub fn name(self) -> &'static str {
        match self {
            MessageState::Queued => "queued",
            MessageState::Submitting => "submitting",
            MessageState::Submitted => "submitted",
            MessageState::Delivered => "delivered",
            MessageState::Failed => "failed",
            MessageState::Rejected => "rejected",
            MessageState::Cancelled => "cancelled",
        }
    }

    /// As the per-recipient records show it.
    pub fn label(self) -> &'static str {
        match self {
            MessageState::Queued => "Queued",
            MessageState::Submitting => "Sending",
            MessageState::Submitted => "Awaiting receipt",
            MessageState::Delivered => "Delivered",
            MessageState::Failed => "Failed",
            MessageState::Rejected => "Not sent",
            MessageState::Cancelled => "Cancelled",
        }
    }

    /// Whether `self → next` is a move the engine may make.
    pub fn can_become(self, next: MessageState) -> bool {
        use MessageState::*;
        matches!(
            (self, next),
            (Queued, Submitting)
                | (Queued, Rejected)
                | (Queued, Cancelled)
                | (Submitting, Submitting)
                | (Submitting, Queued)
                | (Submitting, Submitted)
                | (Submitting, Failed)
                | (Submitted, Delivered)
                | (Submitted, Failed)
        )
    }
}

/// The idempotency key a carrier deduplicates a message on.
pub fn message_key(id: i64) -> String {
    format!("hm{id}")
}

pub fn id_from_key(key: &str) -> Option<i64> {
    key.strip_prefix("hm")?.parse().ok()
}

/// The message a carrier's serial names, when the carrier speaks Herald's protocols (its serials
/// end with `-<key>` or `:<key>`); other carriers' serials are looked up in `carrier_serials`.
pub fn id_from_serial(serial: &str) -> Option<i64> {
    serial.rsplit(['-', ':']).next().and_then(id_from_key)
}

/// What the live progress display shows for a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskProgress {
    pub id: i64,
    pub status: crate::campaigns::model::TaskStatus,
    pub status_reason: Option<String>,
    pub recipients: i64,
    pub sent: i64,
    /// Never sent: refused by the carrier, or withheld by Herald (opted out, over a limit).
    pub refused: i64,
    pub delivered: i64,
    pub failed: i64,
    pub units_used: i64,
    /// When these figures were read; the page derives the current rate from two readings.
    pub as_of: chrono::DateTime<chrono::Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_match_storage() {
        for s in MessageState::ALL {
            assert_eq!(MessageState::from_code(s.code()), Some(s));
        }
        assert_eq!(MessageState::Queued.code(), 0);
        assert_eq!(MessageState::Cancelled.code(), 6);
    }

    #[test]
    fn finished_messages_never_move_back() {
        use MessageState::*;
        for done in [Delivered, Failed, Rejected, Cancelled] {
            for next in MessageState::ALL {
                assert!(!done.can_become(next), "{done:?} → {next:?}");
            }
        }
        assert!(
            !Submitted.can_become(Submitting),
            "an accepted message is never sent again"
        );
        assert!(
            Submitting.can_become(Submitting),
            "a dead worker's claim is taken over"
        );
    }

    #[test]
    fn keys_carry_the_message_id() {
        assert_eq!(id_from_key(&message_key(42)), Some(42));
        assert_eq!(id_from_key("x42"), None);
    }
}

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
