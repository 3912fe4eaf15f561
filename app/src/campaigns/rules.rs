//! What one recipient row must satisfy to be sent with a given signature and template.

use super::model::RejectReason;
use crate::numbers::{NumberProblem, PhoneNumber};
use crate::templates::model::{CompiledContent, SmsType, TemplateContent, MAX_CONTENT_CHARS};
use crate::templates::segments::{segments, with_signature};

/// The template's rules, prepared once per upload.
pub struct RowRules {
    signature_prefix: String,
    body: CompiledContent,
    params: usize,
    sms_type: SmsType,
    international: bool,
}

/// A row that can be sent: its number and what its rendered message costs.
#[derive(Debug, PartialEq, Eq)]
pub struct Recipient {
    pub phone: PhoneNumber,
    pub units: i16,
}

impl RowRules {
    pub fn new(
        signature: &str,
        template: &TemplateContent,
        sms_type: SmsType,
        international: bool,
    ) -> Self {
        RowRules {
            signature_prefix: with_signature(signature, ""),
            body: template.compile(),
            params: template.param_count(),
            sms_type,
            international,
        }
    }

    pub fn param_count(&self) -> usize {
        self.params
    }

    /// Checks one row: the number in the first cell, then one value per placeholder. `message`
    /// is scratch space reused across rows.
    pub fn check(&self, cells: &[&str], message: &mut String) -> Result<Recipient, RejectReason> {
        let phone =
            PhoneNumber::parse(cells.first().copied().unwrap_or("")).map_err(|p| match p {
                NumberProblem::LostDigits => RejectReason::LostDigits,
                _ => RejectReason::InvalidNumber,
            })?;
        if phone.is_mainland() == self.international {
            return Err(RejectReason::WrongRegion);
        }
        let supplied = cells.len().saturating_sub(1);
        let values = cells.get(1..).unwrap_or(&[]);
        if supplied > self.params && values[self.params..].iter().any(|v| !v.trim().is_empty()) {
            return Err(RejectReason::ExtraColumns);
        }
        let mut trimmed: [&str; 16] = [""; 16];
        let mut owned: Vec<&str> = Vec::new();
        let values: &mut [&str] = if self.params <= trimmed.len() {
            &mut trimmed[..self.params]
        } else {
            owned.resize(self.params, "");
            &mut owned
        };
        for (i, slot) in values.iter_mut().enumerate() {
            let value = cells.get(i + 1).map_or("", |v| v.trim());
            self.check_value(value)?;
            *slot = value;
        }
        message.clear();
        message.push_str(&self.signature_prefix);
        self.body.render_into(values, message);
        let length = message.chars().count();
        if length > MAX_CONTENT_CHARS {
            return Err(RejectReason::TooLong);
        }
        let units = segments(message).parts as i16;
        Ok(Recipient { phone, units })
    }

    fn check_value(&self, value: &str) -> Result<(), RejectReason> {
        if self.sms_type == SmsType::Verification {
            // Tencent: a verification-code variable is 0–6 digits.
            return if value.len() <= 6 && value.bytes().all(|b| b.is_ascii_digit()) {
                Ok(())
            } else {
                Err(RejectReason::VariableFormat)
            };
        }
        if value.is_empty() {
            return Err(RejectReason::MissingVariable);
        }
        if looks_like_url(value) {
            return Err(RejectReason::UrlInVariable);
        }
        Ok(())
    }
}

/// Links may only sit in the reviewed template text, never in a variable (carrier rule).
fn looks_like_url(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    if lower.contains("://") || lower.contains("www.") {
        return true;
    }
    const TOP_LEVEL: [&str; 12] = [
        "com", "cn", "net", "org", "top", "xyz", "cc", "io", "me", "info", "vip", "ly",
    ];
    lower
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
        .any(|token| {
            let mut labels = token.rsplit('.');
            let last = labels.next().unwrap_or("");
            let before = labels.next();
            before.is_some_and(|b| !b.is_empty() && b.chars().any(|c| c.is_ascii_alphabetic()))
                && TOP_LEVEL.contains(&last)
        })
}

/// What a recipient file is uploaded for: all three checked usable.
pub struct Source {
    pub application_id: i64,
    pub signature_id: i64,
    pub signature: String,
    pub template_id: i64,
    pub template: TemplateContent,
    pub sms_type: SmsType,
    pub international: bool,
}

impl Source {
    pub fn rules(&self) -> RowRules {
        RowRules::new(
            &self.signature,
            &self.template,
            self.sms_type,
            self.international,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(content: &str, sms_type: SmsType) -> RowRules {
        RowRules::new(
            "Herald",
            &TemplateContent::from_stored(content.into()),
            sms_type,
            false,
        )
    }

    fn check(rules: &RowRules, cells: &[&str]) -> Result<Recipient, RejectReason> {
        rules.check(cells, &mut String::new())
    }

    #[test]
    fn accepts_a_row_and_bills_its_rendered_length() {
        let r = rules(
            "Dear {1}, happy new year! Your gift: {2}.",
            SmsType::Notification,
        );
        let ok = check(&r, &["13800000000", "Li", "a red envelope"]).unwrap();
        assert_eq!(ok.phone.as_str(), "+8613800000000");
        assert_eq!(ok.units, 1);
        let long_name = "李".repeat(60);
        let ok = check(&r, &["13800000000", &long_name, "x"]).unwrap();
        assert_eq!(ok.units, 2, "a longer rendered message costs more");
    }

    #[test]
    fn refuses_each_broken_rule_with_its_reason() {
        let r = rules("Dear {1}, your code: {2}.", SmsType::Notification);
        assert_eq!(
            check(&r, &["12345", "a", "b"]),
            Err(RejectReason::InvalidNumber)
        );
        assert_eq!(
            check(&r, &["1.38E+10", "a", "b"]),
            Err(RejectReason::LostDigits)
        );
        assert_eq!(
            check(&r, &["+447911123456", "a", "b"]),
            Err(RejectReason::WrongRegion)
        );
        assert_eq!(
            check(&r, &["13800000000", "a"]),
            Err(RejectReason::MissingVariable)
        );
        assert_eq!(
            check(&r, &["13800000000", "a", " "]),
            Err(RejectReason::MissingVariable)
        );
        assert_eq!(
            check(&r, &["13800000000", "a", "b", "c"]),
            Err(RejectReason::ExtraColumns)
        );
        assert!(
            check(&r, &["13800000000", "a", "b", ""]).is_ok(),
            "empty trailing cells are fine"
        );
        for url in [
            "http://x.y",
            "see www.example",
            "evil.com",
            "shop.example.cn/path",
        ] {
            assert_eq!(
                check(&r, &["13800000000", url, "b"]),
                Err(RejectReason::UrlInVariable),
                "{url}"
            );
        }
        assert!(check(&r, &["13800000000", "Mr. Li", "3.5"]).is_ok());
        let huge = "x".repeat(490);
        assert_eq!(
            check(&r, &["13800000000", &huge, "b"]),
            Err(RejectReason::TooLong)
        );
    }

    #[test]
    fn verification_values_are_up_to_six_digits() {
        let r = rules(
            "Your code is {1}, valid {2} minutes.",
            SmsType::Verification,
        );
        assert!(check(&r, &["13800000000", "123456", "5"]).is_ok());
        assert_eq!(
            check(&r, &["13800000000", "1234567", "5"]),
            Err(RejectReason::VariableFormat)
        );
        assert_eq!(
            check(&r, &["13800000000", "12a4", "5"]),
            Err(RejectReason::VariableFormat)
        );
    }

    #[test]
    fn international_templates_take_only_international_numbers() {
        let r = RowRules::new(
            "Herald",
            &TemplateContent::from_stored("Hello {1}".into()),
            SmsType::Notification,
            true,
        );
        assert_eq!(
            check(&r, &["13800000000", "a"]),
            Err(RejectReason::WrongRegion)
        );
        assert!(check(&r, &["+447911123456", "a"]).is_ok());
    }
}
