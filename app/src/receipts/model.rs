//! What a message's code means, and the per-recipient records of a task.

use serde::{Deserialize, Serialize};

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

    pub fn label(self) -> &'static str {
        match self {
            FailureGroup::InvalidNumber => "Invalid number",
            FailureGroup::Shutdown => "Switched off / out of service",
            FailureGroup::Blacklist => "Blacklist / opted out",
            FailureGroup::FrequencyLimit => "Frequency limit",
            FailureGroup::InternalError => "Internal error",
            FailureGroup::Other => "Other",
        }
    }
}

/// A code in plain language, and its group. Codes are the carriers' receipt statuses (DELIVRD,
/// UNDELIV, …, `MK:`/`MI:`/`DB:` network codes), Tencent's error codes, and Herald's own.
pub fn describe(code: &str) -> (String, FailureGroup) {
    use FailureGroup::*;
    let (meaning, group): (&str, FailureGroup) = match code {
        "DELIVRD" => ("Delivered to the handset", Other),
        "UNDELIV" => (
            "The handset could not be reached (switched off or out of service)",
            Shutdown,
        ),
        "EXPIRED" => (
            "Expired before the handset could take it (off or out of coverage)",
            Shutdown,
        ),
        "REJECTD" => ("The network rejected the message", Other),
        "DELETED" => ("Deleted by the network before delivery", Other),
        "UNKNOWN" => ("The network reported no outcome", InternalError),
        "Herald.OptedOut" => ("The number opted out after the file was checked", Blacklist),
        "Herald.OutcomeUnknown" => (
            "The carrier may have taken it but never confirmed it; not sent again",
            InternalError,
        ),
        "FailedOperation.PhoneNumberInBlacklist" => {
            ("The number is on the carrier's blacklist", Blacklist)
        }
        "InvalidParameterValue.IncorrectPhoneNumber" => {
            ("Not a valid mobile number", InvalidNumber)
        }
        "LimitExceeded.PhoneNumberDailyLimit" => {
            ("The number reached its daily limit", FrequencyLimit)
        }
        "LimitExceeded.PhoneNumberThirtySecondLimit" => (
            "The same content went to this number less than 30 seconds before",
            FrequencyLimit,
        ),
        "LimitExceeded.PhoneNumberOneHourLimit" => {
            ("The number reached its hourly limit", FrequencyLimit)
        }
        "LimitExceeded.PhoneNumberSameContentDailyLimit" => (
            "The number had this content too often today",
            FrequencyLimit,
        ),
        "LimitExceeded.AppDailyLimit" => {
            ("The application reached its daily limit", FrequencyLimit)
        }
        "FailedOperation.InsufficientBalanceInSmsPackage" => ("Not enough units", Other),
        "FailedOperation.MarketingSendTimeConstraint" => ("Outside marketing hours", Other),
        _ if code.starts_with("MK:") || code.starts_with("MI:") => {
            ("Network status code from the handset's operator", Shutdown)
        }
        _ if code.starts_with("DB:") => {
            ("Operator database refusal (often a blacklist)", Blacklist)
        }
        _ if code.starts_with("LimitExceeded.") => ("A frequency limit", FrequencyLimit),
        _ if code.starts_with("InternalError") || code.starts_with("HttpCarrier.5") => {
            ("The carrier failed internally", InternalError)
        }
        _ if code.starts_with("AuthFailure.") => {
            ("The carrier refused Herald's credentials", InternalError)
        }
        _ if code.starts_with("HttpCarrier.") => ("The gateway refused the request", Other),
        _ => ("See the carrier's documentation for this code", Other),
    };
    (meaning.to_owned(), group)
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
    /// China time, to the second.
    pub submitted_at: Option<String>,
    pub done_at: Option<String>,
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
