//! What a message's code means, and the per-recipient records of a task.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::i18n::{td_string, Locale};

/// The failure groups of Tencent's CallbackStatusStatistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FailureGroup {
    InvalidNumber,
    Shutdown,
    Blacklist,
    FrequencyLimit,
    InternalError,
    Other,
}

impl FailureGroup {
    pub const ALL: [FailureGroup; 6] = [
        FailureGroup::InvalidNumber,
        FailureGroup::Shutdown,
        FailureGroup::Blacklist,
        FailureGroup::FrequencyLimit,
        FailureGroup::InternalError,
        FailureGroup::Other,
    ];

    /// The group in the console's language.
    pub fn name(self, locale: Locale) -> &'static str {
        match self {
            FailureGroup::InvalidNumber => td_string!(locale, receipts.groups.invalid_number),
            FailureGroup::Shutdown => td_string!(locale, receipts.groups.shutdown),
            FailureGroup::Blacklist => td_string!(locale, receipts.groups.blacklist),
            FailureGroup::FrequencyLimit => td_string!(locale, receipts.groups.frequency_limit),
            FailureGroup::InternalError => td_string!(locale, receipts.groups.internal_error),
            FailureGroup::Other => td_string!(locale, receipts.groups.other),
        }
    }
}

/// What a code means, in words any language has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Meaning {
    Delivered,
    Undelivered,
    Expired,
    Rejected,
    Deleted,
    Unknown,
    OptedOut,
    OutcomeUnknown,
    Blacklisted,
    IncorrectNumber,
    DailyLimit,
    ThirtySecondLimit,
    HourlyLimit,
    SameContentDailyLimit,
    AppDailyLimit,
    InsufficientUnits,
    MarketingHours,
    NetworkStatus,
    OperatorDatabase,
    FrequencyLimit,
    CarrierInternal,
    CarrierAuth,
    GatewayRefused,
    SeeDocumentation,
}

impl Meaning {
    fn text(self, locale: Locale) -> &'static str {
        use Meaning::*;
        match self {
            Delivered => td_string!(locale, receipts.meanings.delivrd),
            Undelivered => td_string!(locale, receipts.meanings.undeliv),
            Expired => td_string!(locale, receipts.meanings.expired),
            Rejected => td_string!(locale, receipts.meanings.rejectd),
            Deleted => td_string!(locale, receipts.meanings.deleted),
            Unknown => td_string!(locale, receipts.meanings.unknown),
            OptedOut => td_string!(locale, receipts.meanings.opted_out),
            OutcomeUnknown => td_string!(locale, receipts.meanings.outcome_unknown),
            Blacklisted => td_string!(locale, receipts.meanings.blacklisted),
            IncorrectNumber => td_string!(locale, receipts.meanings.incorrect_number),
            DailyLimit => td_string!(locale, receipts.meanings.daily_limit),
            ThirtySecondLimit => td_string!(locale, receipts.meanings.thirty_second_limit),
            HourlyLimit => td_string!(locale, receipts.meanings.hourly_limit),
            SameContentDailyLimit => td_string!(locale, receipts.meanings.same_content_daily_limit),
            AppDailyLimit => td_string!(locale, receipts.meanings.app_daily_limit),
            InsufficientUnits => td_string!(locale, receipts.meanings.insufficient_units),
            MarketingHours => td_string!(locale, receipts.meanings.marketing_hours),
            NetworkStatus => td_string!(locale, receipts.meanings.network_status),
            OperatorDatabase => td_string!(locale, receipts.meanings.operator_database),
            FrequencyLimit => td_string!(locale, receipts.meanings.frequency_limit),
            CarrierInternal => td_string!(locale, receipts.meanings.carrier_internal),
            CarrierAuth => td_string!(locale, receipts.meanings.carrier_auth),
            GatewayRefused => td_string!(locale, receipts.meanings.gateway_refused),
            SeeDocumentation => td_string!(locale, receipts.meanings.see_documentation),
        }
    }
}

/// A code's meaning and group. Codes are the carriers' receipt statuses (DELIVRD, UNDELIV, …,
/// `MK:`/`MI:`/`DB:` network codes), Tencent's error codes, and Herald's own.
fn classify(code: &str) -> (Meaning, FailureGroup) {
    use FailureGroup::*;
    match code {
        "DELIVRD" => (Meaning::Delivered, Other),
        "UNDELIV" => (Meaning::Undelivered, Shutdown),
        "EXPIRED" => (Meaning::Expired, Shutdown),
        "REJECTD" => (Meaning::Rejected, Other),
        "DELETED" => (Meaning::Deleted, Other),
        "UNKNOWN" => (Meaning::Unknown, InternalError),
        "Herald.OptedOut" => (Meaning::OptedOut, Blacklist),
        "Herald.OutcomeUnknown" => (Meaning::OutcomeUnknown, InternalError),
        "FailedOperation.PhoneNumberInBlacklist" => (Meaning::Blacklisted, Blacklist),
        "InvalidParameterValue.IncorrectPhoneNumber" => (Meaning::IncorrectNumber, InvalidNumber),
        "LimitExceeded.PhoneNumberDailyLimit" => (Meaning::DailyLimit, FrequencyLimit),
        "LimitExceeded.PhoneNumberThirtySecondLimit" => {
            (Meaning::ThirtySecondLimit, FrequencyLimit)
        }
        "LimitExceeded.PhoneNumberOneHourLimit" => (Meaning::HourlyLimit, FrequencyLimit),
        "LimitExceeded.PhoneNumberSameContentDailyLimit" => {
            (Meaning::SameContentDailyLimit, FrequencyLimit)
        }
        "LimitExceeded.AppDailyLimit" => (Meaning::AppDailyLimit, FrequencyLimit),
        "FailedOperation.InsufficientBalanceInSmsPackage" => (Meaning::InsufficientUnits, Other),
        "FailedOperation.MarketingSendTimeConstraint" => (Meaning::MarketingHours, Other),
        _ if code.starts_with("MK:") || code.starts_with("MI:") => {
            (Meaning::NetworkStatus, Shutdown)
        }
        _ if code.starts_with("DB:") => (Meaning::OperatorDatabase, Blacklist),
        _ if code.starts_with("LimitExceeded.") => (Meaning::FrequencyLimit, FrequencyLimit),
        _ if code.starts_with("InternalError") || code.starts_with("HttpCarrier.5") => {
            (Meaning::CarrierInternal, InternalError)
        }
        _ if code.starts_with("AuthFailure.") => (Meaning::CarrierAuth, InternalError),
        _ if code.starts_with("HttpCarrier.") => (Meaning::GatewayRefused, Other),
        _ => (Meaning::SeeDocumentation, Other),
    }
}

/// A code in plain English (the API's texts), and its group. Pages use `meaning`.
pub fn describe(code: &str) -> (String, FailureGroup) {
    let (meaning, group) = classify(code);
    (meaning.text(Locale::en).to_owned(), group)
}

/// A code in plain words in the console's language.
pub fn meaning(locale: Locale, code: &str) -> &'static str {
    classify(code).0.text(locale)
}

/// A mobile operator's name in the console's language, from the English name the statistics
/// store ("China Mobile", …; anything else is "Other / international").
pub fn operator_name(locale: Locale, english: &str) -> &'static str {
    match english {
        "China Mobile" => td_string!(locale, receipts.operators.china_mobile),
        "China Unicom" => td_string!(locale, receipts.operators.china_unicom),
        "China Telecom" => td_string!(locale, receipts.operators.china_telecom),
        "China Broadnet" => td_string!(locale, receipts.operators.china_broadnet),
        _ => td_string!(locale, receipts.operators.other),
    }
}

/// A message state as the per-recipient records show it, in the console's language.
pub fn state_name(locale: Locale, state: crate::dispatch::model::MessageState) -> &'static str {
    use crate::dispatch::model::MessageState::*;
    match state {
        Queued => td_string!(locale, receipts.states.queued),
        Submitting => td_string!(locale, receipts.states.submitting),
        Submitted => td_string!(locale, receipts.states.submitted),
        Delivered => td_string!(locale, receipts.states.delivered),
        Failed => td_string!(locale, receipts.states.failed),
        Rejected => td_string!(locale, receipts.states.rejected),
        Cancelled => td_string!(locale, receipts.states.cancelled),
    }
}

/// What a message's row shows in the per-recipient records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRow {
    pub id: i64,
    pub phone: String,
    pub state: crate::dispatch::model::MessageState,
    pub code: Option<String>,
    pub serial: Option<String>,
    pub units: i64,
    pub submitted_at: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePage {
    pub rows: Vec<MessageRow>,
    /// Where the next page starts (the last id shown), if there is one.
    pub next_after: Option<i64>,
}

/// The records' filter as the page's query string carries it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageFilter {
    /// Digits of the number to look for (anywhere in it).
    pub phone: String,
    pub state: Option<crate::dispatch::model::MessageState>,
    pub code: String,
}

impl MessageFilter {
    pub fn parse(phone: &str, state: &str, code: &str) -> MessageFilter {
        use crate::dispatch::model::MessageState;
        MessageFilter {
            phone: phone
                .chars()
                .filter(char::is_ascii_digit)
                .take(15)
                .collect(),
            state: state.parse::<i16>().ok().and_then(MessageState::from_code),
            // Codes are letters, digits and `.:_-`; anything else cannot match one.
            code: code
                .trim()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || ".:_-".contains(*c))
                .take(80)
                .collect(),
        }
    }

    /// The query string that reproduces this filter (for links and the CSV export).
    pub fn query(&self) -> String {
        let mut parts = Vec::new();
        if !self.phone.is_empty() {
            parts.push(format!("phone={}", self.phone));
        }
        if let Some(state) = self.state {
            parts.push(format!("state={}", state.code()));
        }
        if !self.code.is_empty() {
            parts.push(format!(
                "code={}",
                crate::forms::encode_query_value(&self.code)
            ));
        }
        parts.join("&")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_fall_into_tencents_groups() {
        assert_eq!(describe("UNDELIV").1, FailureGroup::Shutdown);
        assert_eq!(
            describe("LimitExceeded.PhoneNumberDailyLimit").1,
            FailureGroup::FrequencyLimit
        );
        assert_eq!(
            describe("InvalidParameterValue.IncorrectPhoneNumber").1,
            FailureGroup::InvalidNumber
        );
        assert_eq!(
            describe("FailedOperation.PhoneNumberInBlacklist").1,
            FailureGroup::Blacklist
        );
        assert_eq!(describe("MK:0001").1, FailureGroup::Shutdown);
        assert_eq!(
            describe("Herald.OutcomeUnknown").1,
            FailureGroup::InternalError
        );
        assert_eq!(describe("something new").1, FailureGroup::Other);
        assert_eq!(describe("UNDELIV").0, meaning(Locale::en, "UNDELIV"));
        assert_eq!(meaning(Locale::zh_CN, "DELIVRD"), "已送达手机");
    }

    #[test]
    fn filters_keep_only_what_they_mean() {
        let f = MessageFilter::parse("138-0000 ' OR 1=1", "4", " UNDELIV' ");
        assert_eq!(f.phone, "138000011");
        assert_eq!(f.state, Some(crate::dispatch::model::MessageState::Failed));
        assert_eq!(f.code, "UNDELIV");
        assert_eq!(f.query(), "phone=138000011&state=4&code=UNDELIV");
        assert_eq!(MessageFilter::parse("", "x", "").state, None);
        assert_eq!(
            MessageFilter {
                code: "MK:0001".into(),
                ..Default::default()
            }
            .query(),
            "code=MK%3A0001"
        );
    }
}
