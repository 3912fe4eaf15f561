use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    pub id: i64,
    /// Tencent's `SmsSdkAppId`: 10 digits, 1400xxxxxx.
    pub sdk_app_id: i64,
    pub name: String,
    pub enabled: bool,
    pub callback_url: Option<String>,
    pub description: String,
    /// The carrier its messages go through; `None`: the default carrier.
    pub carrier_id: Option<i64>,
    /// Where receipts for its messages may be posted (path; the host is this server's).
    pub receipt_path: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// An http(s) address Herald will POST receipts to; blank means none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackUrl(Option<String>);

impl CallbackUrl {
    pub fn parse(field: &str, raw: &str) -> Result<Self, AppError> {
        let url = raw.trim();
        if url.is_empty() {
            return Ok(CallbackUrl(None));
        }
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        let host_ok = rest.is_some_and(|r| {
            let host = r.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty() && !host.contains(char::is_whitespace)
        });
        if !host_ok || url.len() > 500 || url.contains(char::is_whitespace) {
            return Err(AppError::field(field, crate::tr!(apps.errors.http_address)));
        }
        Ok(CallbackUrl(Some(url.to_owned())))
    }

    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

/// Free text that may be empty, bounded in length.
pub fn optional_text(field: &str, raw: &str, max_chars: usize) -> Result<String, AppError> {
    let text = raw.trim();
    if text.chars().count() > max_chars {
        Err(AppError::field(
            field,
            crate::tr!(apps.errors.too_long, max = max_chars),
        ))
    } else {
        Ok(text.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_urls_must_be_http_addresses() {
        assert_eq!(CallbackUrl::parse("u", "  ").unwrap().as_deref(), None);
        assert_eq!(
            CallbackUrl::parse("u", "https://example.com/sms/receipts")
                .unwrap()
                .as_deref(),
            Some("https://example.com/sms/receipts")
        );
        for bad in [
            "ftp://example.com",
            "example.com",
            "https://",
            "https://exa mple.com",
            "javascript:alert(1)",
        ] {
            assert!(CallbackUrl::parse("u", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn optional_text_is_bounded() {
        assert_eq!(optional_text("d", "  hi ", 5).unwrap(), "hi");
        assert!(optional_text("d", "toolong", 5).is_err());
    }
}

/// An API key as the application page lists it (never its SecretKey).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyView {
    pub id: i64,
    pub secret_id: String,
    pub created_by: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A key pair just made: the only time its SecretKey is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewKeyPair {
    pub application_id: i64,
    pub secret_id: String,
    pub secret_key: String,
}
