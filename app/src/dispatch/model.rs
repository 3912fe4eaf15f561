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
//!    `pending_receipts` and applied in the transaction that records the result.
//!
//! Units: the task reserved them when it started; each recorded result moves the units of
//! accepted messages from the reservation to `used`, in the same transaction.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MessageState {
    Queued,
    Submitting,
    Submitted,
    Delivered,
    Failed,
    Rejected,
    Cancelled,
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

/// What the live progress display shows for a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskProgress {
    pub id: i64,
    pub status: crate::campaigns::model::TaskStatus,
    pub status_reason: Option<String>,
    pub recipients: i64,
    pub sent: i64,
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
        .ok_or_else(|| {
            crate::error::AppError::field(field, format!("Enter a whole number from 0 to {max}."))
        })
}

fn share(field: &str, raw: &str) -> Result<f64, crate::error::AppError> {
    raw.trim()
        .parse::<f64>()
        .ok()
        .filter(|r| (0.0..=1.0).contains(r))
        .ok_or_else(|| {
            crate::error::AppError::field(field, "Enter a share from 0 to 1, such as 0.95.")
        })
}

/// Messages per second and calls in flight, as every carrier form takes them.
pub fn limits(rate: &str, concurrency: &str) -> Result<(i32, i32), crate::error::AppError> {
    let mut errors = crate::error::FieldErrors::default();
    let rate = errors.check(whole("rate_limit", rate, 1_000_000).and_then(|r| {
        if r == 0 {
            Err(crate::error::AppError::field(
                "rate_limit",
                "At least 1 message per second.",
            ))
        } else {
            Ok(r as i32)
        }
    }));
    let concurrency = errors.check(whole("concurrency", concurrency, 64).and_then(|c| {
        if c == 0 {
            Err(crate::error::AppError::field(
                "concurrency",
                "At least 1 call at a time.",
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

/// A new HTTP carrier as the settings form submits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCarrierForm {
    pub name: String,
    pub endpoint: String,
    pub secret: String,
    pub rate_limit: i32,
    pub concurrency: i32,
}

impl HttpCarrierForm {
    pub fn parse(
        name: &str,
        endpoint: &str,
        secret: &str,
        rate_limit: &str,
        concurrency: &str,
    ) -> Result<Self, crate::error::AppError> {
        use crate::error::AppError;
        let mut errors = crate::error::FieldErrors::default();
        let name = errors.check(crate::accounts::model::Label::parse("name", name, 60));
        let endpoint = endpoint.trim();
        let endpoint = errors.check(
            if (endpoint.starts_with("https://") || endpoint.starts_with("http://"))
                && endpoint.len() > 10
                && !endpoint.contains(char::is_whitespace)
            {
                Ok(endpoint.to_owned())
            } else {
                Err(AppError::field(
                    "endpoint",
                    "Enter the gateway's URL, such as https://sms.example.com/send.",
                ))
            },
        );
        let secret = errors.check(if secret.trim().chars().count() >= 16 {
            Ok(secret.trim().to_owned())
        } else {
            Err(AppError::field(
                "secret",
                "Use a shared secret of at least 16 characters.",
            ))
        });
        let limits = errors.check(limits(rate_limit, concurrency));
        let (((name, endpoint), secret), (rate_limit, concurrency)) =
            errors.finish(name.zip(endpoint).zip(secret).zip(limits))?;
        Ok(HttpCarrierForm {
            name: name.as_str().to_owned(),
            endpoint,
            secret,
            rate_limit,
            concurrency,
        })
    }
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
        assert!(HttpCarrierForm::parse(
            "Gateway",
            "https://sms.example.com/send",
            "0123456789abcdef",
            "100",
            "2"
        )
        .is_ok());
        let err = HttpCarrierForm::parse("", "ftp://x", "short", "100", "2").unwrap_err();
        for field in ["name", "endpoint", "secret"] {
            assert!(err.field_message(field).is_some(), "{field}");
        }
    }
}
