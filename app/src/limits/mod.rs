//! Frequency limits: the caps Tencent applies to every send (same content to a number, a
//! number's messages per hour and per day, an application's messages per day), enforced for
//! bulk tasks, API sends and verification codes alike.

pub mod api;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod store;

use serde::{Deserialize, Serialize};

/// An application's limits; stored per application (`applications.frequency_rules`), each field
/// defaulting to Tencent's default. Zero switches a limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FrequencyRules {
    /// The same content to the same number at most once per this many seconds.
    pub same_content_seconds: u32,
    /// Messages to one number per hour.
    pub per_hour: u32,
    /// Messages to one number per calendar day (China time).
    pub per_day: u32,
    /// Messages the application sends per calendar day (China time).
    pub app_per_day: u64,
}

impl Default for FrequencyRules {
    fn default() -> Self {
        FrequencyRules {
            same_content_seconds: 30,
            per_hour: 0,
            per_day: 10,
            app_per_day: 0,
        }
    }
}

/// Identifies a message's content as the carrier sees it (signature, template and variables),
/// for the same-content limit: the engine and the API must name one content alike.
#[cfg(feature = "ssr")]
pub fn content_key(signature: &str, template: &str, params: &[String]) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(signature.as_bytes());
    hash.update([0x1f]);
    hash.update(template.as_bytes());
    for p in params {
        hash.update([0x1f]);
        hash.update(p.as_bytes());
    }
    crate::signing::hex(&hash.finalize()[..12])
}

impl FrequencyRules {
    /// Reads the console's form: whole numbers, 0 switching a limit off, an hourly cap no
    /// higher than the daily one.
    pub fn parse(
        same_content_seconds: &str,
        per_hour: &str,
        per_day: &str,
        app_per_day: &str,
    ) -> Result<FrequencyRules, crate::error::AppError> {
        use crate::error::{AppError, FieldErrors};
        fn number(field: &str, raw: &str, max: u64) -> Result<u64, AppError> {
            raw.trim()
                .parse::<u64>()
                .ok()
                .filter(|n| *n <= max)
                .ok_or_else(|| AppError::field(field, crate::tr!(limits.err_whole, max)))
        }
        let mut errors = FieldErrors::default();
        let same = errors.check(number("same_content_seconds", same_content_seconds, 86_400));
        let hour = errors.check(number("per_hour", per_hour, 1_000));
        let day = errors.check(number("per_day", per_day, 1_000));
        let app_day = errors.check(number("app_per_day", app_per_day, 1_000_000_000));
        if let (Some(hour), Some(day)) = (hour, day) {
            if hour > 0 && day > 0 && hour > day {
                errors.check::<()>(Err(AppError::field(
                    "per_hour",
                    crate::tr!(limits.err_hour_over_day),
                )));
            }
        }
        let (same, hour, day, app_day) =
            errors.finish((|| Some((same?, hour?, day?, app_day?)))())?;
        Ok(FrequencyRules {
            same_content_seconds: same as u32,
            per_hour: hour as u32,
            per_day: day as u32,
            app_per_day: app_day,
        })
    }
}

/// Which limit refused a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LimitHit {
    SameContent,
    Hour,
    Day,
    AppDay,
}

impl LimitHit {
    /// Tencent's code for the refusal.
    pub fn code(self) -> &'static str {
        match self {
            LimitHit::SameContent => "LimitExceeded.PhoneNumberThirtySecondLimit",
            LimitHit::Hour => "LimitExceeded.PhoneNumberOneHourLimit",
            LimitHit::Day => "LimitExceeded.PhoneNumberDailyLimit",
            LimitHit::AppDay => "LimitExceeded.AppDailyLimit",
        }
    }

    /// The number the Redis script answers with (0: admitted).
    #[cfg(any(feature = "ssr", test))]
    fn from_wire(n: i64) -> Option<LimitHit> {
        match n {
            1 => Some(LimitHit::SameContent),
            2 => Some(LimitHit::Hour),
            3 => Some(LimitHit::Day),
            4 => Some(LimitHit::AppDay),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_rules_fill_in_tencents_defaults() {
        let rules: FrequencyRules = serde_json::from_str(r#"{"per_hour": 5}"#).unwrap();
        assert_eq!(
            rules,
            FrequencyRules {
                per_hour: 5,
                ..FrequencyRules::default()
            }
        );
        assert_eq!(FrequencyRules::default().per_day, 10);
        assert_eq!(LimitHit::Day.code(), "LimitExceeded.PhoneNumberDailyLimit");
        for n in 1..=4 {
            assert!(LimitHit::from_wire(n).is_some());
        }
        assert_eq!(LimitHit::from_wire(0), None);
    }

    #[test]
    fn the_form_is_read_with_field_errors() {
        assert_eq!(
            FrequencyRules::parse("60", "3", "8", "0").unwrap(),
            FrequencyRules {
                same_content_seconds: 60,
                per_hour: 3,
                per_day: 8,
                app_per_day: 0,
            }
        );
        let err = FrequencyRules::parse("-1", "20", "10", "x").unwrap_err();
        assert!(err.field_message("same_content_seconds").is_some());
        assert!(err.field_message("app_per_day").is_some());
        let err = FrequencyRules::parse("30", "20", "10", "0").unwrap_err();
        assert!(
            err.field_message("per_hour").is_some(),
            "hourly above daily"
        );
        assert!(
            FrequencyRules::parse("30", "20", "0", "0").is_ok(),
            "no daily cap"
        );
    }
}
