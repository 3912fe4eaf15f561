//! The review life cycle shared by signatures and templates.

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::i18n::{td_string, Locale};

/// Where a submission stands. Only `Approved` items can ever be used to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReviewStatus {
    Pending,
    Approved,
    Rejected { reason: String },
}

/// What can be submitted for review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Subject {
    Signature,
    Template,
}

impl Subject {
    /// As it appears in URLs, audit records and events.
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Signature => "signature",
            Subject::Template => "template",
        }
    }

    /// The word for it in `locale`.
    pub fn name(self, locale: Locale) -> &'static str {
        match self {
            Subject::Signature => td_string!(locale, review.signature),
            Subject::Template => td_string!(locale, review.template),
        }
    }

    pub fn parse(raw: &str) -> Option<Subject> {
        match raw {
            "signature" => Some(Subject::Signature),
            "template" => Some(Subject::Template),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Subject::Signature => "Signature",
            Subject::Template => "Template",
        }
    }

    /// Where the submitter manages the item.
    pub fn owner_path(self, id: i64) -> String {
        format!("/{}s/{id}", self.as_str())
    }
}

/// One item waiting in the review queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueItem {
    pub subject: Subject,
    pub id: i64,
    pub title: String,
    pub submitted_by: String,
    pub submitted_at: chrono::DateTime<chrono::Utc>,
    /// How long it has waited, worked out on the server so the page reads the same before and
    /// after hydration.
    pub waiting_minutes: i64,
}

/// "3 h 5 min" style age of a submission.
pub fn describe_age(locale: Locale, minutes: i64) -> String {
    match minutes {
        m if m < 1 => td_string!(locale, review.age_just_now).to_string(),
        m if m < 60 => td_string!(locale, review.age_minutes, m).to_string(),
        m if m < 24 * 60 => {
            td_string!(locale, review.age_hours, h = m / 60, m = m % 60).to_string()
        }
        m => td_string!(
            locale,
            review.age_days,
            d = m / (24 * 60),
            h = (m / 60) % 24
        )
        .to_string(),
    }
}

/// A rejection reason: required, and short enough to read in a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectionReason(String);

impl RejectionReason {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let reason = raw.trim();
        if reason.is_empty() {
            Err(AppError::field(
                "reason",
                crate::tr!(review.errors.reason_required),
            ))
        } else if reason.chars().count() > 500 {
            Err(AppError::field(
                "reason",
                crate::tr!(review.errors.reason_too_long),
            ))
        } else {
            Ok(RejectionReason(reason.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl ReviewStatus {
    /// Why it was rejected (Tencent's ReviewReply).
    pub fn reason(&self) -> Option<&str> {
        match self {
            ReviewStatus::Rejected { reason } => Some(reason),
            _ => None,
        }
    }

    /// Tencent's StatusCode: 0 approved, 1 under review, −1 rejected. (2, "approved but not yet
    /// effective", never arises here: an approval takes effect at once.)
    pub fn status_code(&self) -> i64 {
        match self {
            ReviewStatus::Approved => 0,
            ReviewStatus::Pending => 1,
            ReviewStatus::Rejected { .. } => -1,
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            ReviewStatus::Pending => "Under review",
            ReviewStatus::Approved => "Approved",
            ReviewStatus::Rejected { .. } => "Rejected",
        }
    }

    /// The stored form: (status, review reply).
    pub fn to_stored(&self) -> (&'static str, Option<&str>) {
        match self {
            ReviewStatus::Pending => ("pending", None),
            ReviewStatus::Approved => ("approved", None),
            ReviewStatus::Rejected { reason } => ("rejected", Some(reason)),
        }
    }

    pub fn from_stored(status: &str, reply: Option<String>) -> Result<Self, AppError> {
        match status {
            "pending" => Ok(ReviewStatus::Pending),
            "approved" => Ok(ReviewStatus::Approved),
            "rejected" => Ok(ReviewStatus::Rejected {
                reason: reply.unwrap_or_default(),
            }),
            other => Err(AppError::Internal(format!("unknown review status {other}"))),
        }
    }

    pub fn approve(&self) -> Result<ReviewStatus, AppError> {
        match self {
            ReviewStatus::Pending => Ok(ReviewStatus::Approved),
            _ => Err(self.not_pending()),
        }
    }

    pub fn reject(&self, reason: RejectionReason) -> Result<ReviewStatus, AppError> {
        match self {
            ReviewStatus::Pending => Ok(ReviewStatus::Rejected { reason: reason.0 }),
            _ => Err(self.not_pending()),
        }
    }

    /// Editing sends the item back for review. An approved item is frozen: what was approved is
    /// what gets sent.
    pub fn edit(&self) -> Result<ReviewStatus, AppError> {
        match self {
            ReviewStatus::Pending | ReviewStatus::Rejected { .. } => Ok(ReviewStatus::Pending),
            ReviewStatus::Approved => Err(AppError::Conflict(crate::tr!(
                review.errors.approved_frozen
            ))),
        }
    }

    fn not_pending(&self) -> AppError {
        AppError::Conflict(match self {
            ReviewStatus::Pending => crate::tr!(review.errors.not_pending_pending),
            ReviewStatus::Approved => crate::tr!(review.errors.not_pending_approved),
            ReviewStatus::Rejected { .. } => crate::tr!(review.errors.not_pending_rejected),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason() -> RejectionReason {
        RejectionReason::parse("Certificate is unreadable").unwrap()
    }

    #[test]
    fn only_pending_items_are_decided() {
        assert_eq!(
            ReviewStatus::Pending.approve().unwrap(),
            ReviewStatus::Approved
        );
        assert!(matches!(
            ReviewStatus::Pending.reject(reason()).unwrap(),
            ReviewStatus::Rejected { reason } if reason == "Certificate is unreadable"
        ));
        assert!(ReviewStatus::Approved.approve().is_err());
        assert!(ReviewStatus::Approved.reject(reason()).is_err());
        let rejected = ReviewStatus::Pending.reject(reason()).unwrap();
        assert!(rejected.approve().is_err());
        assert!(rejected.reject(reason()).is_err());
    }

    #[test]
    fn rejected_items_go_back_to_review_when_edited_and_approved_ones_are_frozen() {
        let rejected = ReviewStatus::Pending.reject(reason()).unwrap();
        assert_eq!(rejected.edit().unwrap(), ReviewStatus::Pending);
        assert_eq!(ReviewStatus::Pending.edit().unwrap(), ReviewStatus::Pending);
        assert!(ReviewStatus::Approved.edit().is_err());
    }

    #[test]
    fn ages_read_naturally() {
        assert_eq!(describe_age(Locale::en, 0), "just now");
        assert_eq!(describe_age(Locale::en, 59), "59 min");
        assert_eq!(describe_age(Locale::en, 125), "2 h 5 min");
        assert_eq!(describe_age(Locale::en, 3 * 24 * 60 + 90), "3 d 1 h");
        assert_eq!(describe_age(Locale::zh_CN, 125), "2 小时 5 分钟");
    }

    #[test]
    fn a_rejection_needs_a_reason() {
        assert!(RejectionReason::parse("   ").is_err());
        assert!(RejectionReason::parse(&"x".repeat(501)).is_err());
    }

    #[test]
    fn status_codes_and_storage_follow_tencent() {
        let rejected = ReviewStatus::Rejected {
            reason: "no".into(),
        };
        assert_eq!(
            [
                ReviewStatus::Approved.status_code(),
                ReviewStatus::Pending.status_code(),
                rejected.status_code()
            ],
            [0, 1, -1]
        );
        for status in [ReviewStatus::Pending, ReviewStatus::Approved, rejected] {
            let (stored, reply) = status.to_stored();
            assert_eq!(
                ReviewStatus::from_stored(stored, reply.map(str::to_owned)).unwrap(),
                status
            );
        }
    }
}
