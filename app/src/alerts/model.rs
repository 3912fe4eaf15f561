use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// The settings page's view of alerting: who is alerted, how recent deliveries went, the
/// balance threshold, and how SMS alerts are sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertsOverview {
    pub contacts: Vec<AlarmContact>,
    pub deliveries: Vec<Delivery>,
    pub balance_low_units: Option<i64>,
    pub sms: Option<AlertSms>,
    pub sms_choices: AlertSmsChoices,
}

/// What SMS alerts go out through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertSms {
    pub application_id: i64,
    pub template_id: i64,
    pub signature_id: i64,
}

/// What SMS alerts can go out through: applications, approved templates with one placeholder
/// (the alert's text), approved signatures; each as (id, name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertSmsChoices {
    pub applications: Vec<(i64, String)>,
    pub templates: Vec<(i64, String)>,
    pub signatures: Vec<(i64, String)>,
}

impl AlertSmsChoices {
    /// Reads the settings form: all three blank turns SMS alerts off; otherwise each must be
    /// one of the choices.
    pub fn parse(
        &self,
        application_id: &str,
        template_id: &str,
        signature_id: &str,
    ) -> Result<Option<AlertSms>, AppError> {
        let fields = [
            (
                "sms_application_id",
                application_id,
                &self.applications,
                crate::tr!(alerts.err_choose_application),
            ),
            (
                "sms_template_id",
                template_id,
                &self.templates,
                crate::tr!(alerts.err_choose_template),
            ),
            (
                "sms_signature_id",
                signature_id,
                &self.signatures,
                crate::tr!(alerts.err_choose_signature),
            ),
        ];
        if fields.iter().all(|(_, raw, _, _)| raw.trim().is_empty()) {
            return Ok(None);
        }
        let mut ids = [0i64; 3];
        for (i, (field, raw, choices, message)) in fields.iter().enumerate() {
            ids[i] = raw
                .trim()
                .parse()
                .ok()
                .filter(|id| choices.iter().any(|(c, _)| c == id))
                .ok_or_else(|| AppError::field(field, message.clone()))?;
        }
        Ok(Some(AlertSms {
            application_id: ids[0],
            template_id: ids[1],
            signature_id: ids[2],
        }))
    }
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
        Err(AppError::field(field, crate::tr!(alerts.err_phone)))
    }
}

#[cfg(feature = "ssr")]
/// Whether an approved template can carry alerts: exactly one placeholder, for the text.
pub fn fits_alerts(content: &str) -> bool {
    crate::templates::model::TemplateContent::from_stored(content.to_owned()).param_count() == 1
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
    fn sms_alerts_take_three_choices_or_none() {
        let choices = AlertSmsChoices {
            applications: vec![(1, "Shop".into())],
            templates: vec![(7, "Alert".into())],
            signatures: vec![(3, "Acme".into())],
        };
        assert_eq!(choices.parse(" ", "", "").unwrap(), None);
        assert_eq!(
            choices.parse("1", "7", "3").unwrap(),
            Some(AlertSms {
                application_id: 1,
                template_id: 7,
                signature_id: 3
            })
        );
        let refused = choices.parse("1", "8", "3").unwrap_err();
        assert_eq!(
            refused.field_message("sms_template_id").as_deref(),
            Some("Choose an approved template with one placeholder ({1}) for the alert's text.")
        );
        assert!(choices.parse("1", "", "3").is_err());
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
