use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct AlarmContact {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub webhook_url: Option<String>,
    /// Shown to admins so the receiving end can verify signatures.
    pub webhook_secret: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeliveryState {
    Delivered,
    Retrying {
        attempts: i32,
        next_attempt_at: chrono::DateTime<chrono::Utc>,
    },
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: i64,
    pub contact: String,
    pub event_type: String,
    pub state: DeliveryState,
    pub last_error: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The settings page's view of alerting: who is alerted, how recent deliveries went, and the
/// balance threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertsOverview {
    pub contacts: Vec<AlarmContact>,
    pub deliveries: Vec<Delivery>,
    pub balance_low_units: Option<i64>,
}

/// Attempts before a delivery is given up (about three hours of backoff in all).
pub const MAX_ATTEMPTS: i32 = 10;

/// Seconds to wait after the given number of failed attempts: 10 s doubling, at most an hour.
pub fn backoff_seconds(failed_attempts: i32) -> i64 {
    let exponent = failed_attempts.clamp(1, 20) - 1;
    (10i64 << exponent).min(3600)
}

/// A mainland mobile or an E.164 number, digits only after an optional +.
pub fn parse_phone(field: &str, raw: &str) -> Result<Option<String>, AppError> {
    let phone: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if phone.is_empty() {
        return Ok(None);
    }
    let digits = phone.strip_prefix('+').unwrap_or(&phone);
    if (6..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(Some(phone))
    } else {
        Err(AppError::field(
            field,
            "Enter a phone number such as +8613800000000.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_ten_seconds_up_to_an_hour() {
        let waits: Vec<i64> = (1..=MAX_ATTEMPTS).map(backoff_seconds).collect();
        assert_eq!(waits, vec![10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600]);
    }

    #[test]
    fn phones_are_digits_with_an_optional_plus() {
        assert_eq!(parse_phone("p", " ").unwrap(), None);
        assert_eq!(
            parse_phone("p", "+86 138-0000-0000").unwrap().as_deref(),
            Some("+8613800000000")
        );
        assert!(parse_phone("p", "call me").is_err());
        assert!(parse_phone("p", "123").is_err());
    }
}
