use serde::{Deserialize, Serialize};

use crate::forms::encode_query_value;

pub const AUDIT_PAGE_SIZE: i64 = 50;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor_email: Option<String>,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<String>,
    pub ip: Option<String>,
    pub details: String,
}

/// The audit page's filters, as they appear in its URL.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
    /// Show entries older than this id (the next page).
    pub before: Option<i64>,
}

impl AuditFilter {
    /// Reads the query string; blank or malformed values mean "no filter" rather than an error page.
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> Self {
        let text = |key: &str| {
            get(key)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        AuditFilter {
            actor: text("actor"),
            action: text("action"),
            object_type: text("object_type"),
            from: text("from").and_then(|v| v.parse().ok()),
            to: text("to").and_then(|v| v.parse().ok()),
            before: text("before").and_then(|v| v.parse().ok()),
        }
    }

    /// The query string for the page after `last_id`, keeping the other filters.
    pub fn next_page_query(&self, last_id: i64) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        let mut push = |key, value: Option<String>| {
            if let Some(v) = value {
                pairs.push((key, v));
            }
        };
        push("actor", self.actor.clone());
        push("action", self.action.clone());
        push("object_type", self.object_type.clone());
        push("from", self.from.map(|d| d.to_string()));
        push("to", self.to.map(|d| d.to_string()));
        push("before", Some(last_id.to_string()));
        pairs
            .into_iter()
            .map(|(k, v)| format!("{k}={}", encode_query_value(&v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub has_more: bool,
    pub actions: Vec<String>,
    pub object_types: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parsing_ignores_blank_and_malformed_values() {
        let filter = AuditFilter::from_query(|key| match key {
            "actor" => Some("  ops@example.com ".into()),
            "action" => Some("".into()),
            "from" => Some("2026-11-01".into()),
            "to" => Some("yesterday".into()),
            "before" => Some("42".into()),
            _ => None,
        });
        assert_eq!(filter.actor.as_deref(), Some("ops@example.com"));
        assert_eq!(filter.action, None);
        assert_eq!(filter.from, chrono::NaiveDate::from_ymd_opt(2026, 11, 1));
        assert_eq!(filter.to, None);
        assert_eq!(filter.before, Some(42));
    }

    #[test]
    fn next_page_keeps_filters_and_escapes_them() {
        let filter = AuditFilter {
            actor: Some("a+b@example.com".into()),
            action: Some("user.create".into()),
            ..Default::default()
        };
        assert_eq!(
            filter.next_page_query(17),
            "actor=a%2Bb%40example.com&action=user.create&before=17"
        );
    }
}
