use serde::{Deserialize, Serialize};

/// How long a code lives by default, and the most an application may set.
pub const DEFAULT_VALIDITY_MINUTES: i32 = 5;
pub const MAX_VALIDITY_MINUTES: i32 = 60;

/// An application's verification-code settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifySettings {
    pub application_id: i64,
    /// What browsers send (header `X-Herald-Key` or the path `/verify/<key>`); it can only ask
    /// for a code to a number and check one.
    pub public_key: String,
    /// An approved verification template: `{1}` is the code, `{2}` (if any) the validity.
    pub template_id: Option<i64>,
    pub signature_id: Option<i64>,
    pub validity_minutes: i32,
    /// getSms requests per hour from one client address (0: no limit).
    pub per_ip_hourly: i32,
    /// getSms requests per hour to one number prefix, the first 7 digits (0: no limit).
    pub per_prefix_hourly: i32,
}

/// What the verification endpoint answers: the seed's codes, and the limits' codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReply {
    pub code: String,
    pub message: String,
}

impl VerifyReply {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        VerifyReply {
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn is_ok(&self) -> bool {
        self.code == "Ok"
    }
}

/// getSms refusals of the anti-pumping limits today, for the dashboard.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbuseToday {
    pub by_ip: i64,
    pub by_prefix: i64,
}
