//! Bulk SMS tasks: their life cycle, why an uploaded row is refused, and when a task may be sent.

use std::fmt;

use chrono::{DateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::i18n::{td_string, Locale};

/// Where a task is in its life. Only the transition methods move it, so an illegal move (resuming
/// a cancelled task, cancelling a finished one) is refused in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(type_name = "text", rename_all = "lowercase"))]
pub enum TaskStatus {
    Scheduled,
    Sending,
    Paused,
    Completed,
    Cancelled,
    Failed,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 6] = [
        TaskStatus::Scheduled,
        TaskStatus::Sending,
        TaskStatus::Paused,
        TaskStatus::Completed,
        TaskStatus::Cancelled,
        TaskStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Scheduled => "scheduled",
            TaskStatus::Sending => "sending",
            TaskStatus::Paused => "paused",
            TaskStatus::Completed => "completed",
            TaskStatus::Cancelled => "cancelled",
            TaskStatus::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<TaskStatus> {
        TaskStatus::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Its name in the console's language.
    pub fn name(self, locale: Locale) -> &'static str {
        match self {
            TaskStatus::Scheduled => td_string!(locale, task_status.scheduled),
            TaskStatus::Sending => td_string!(locale, task_status.sending),
            TaskStatus::Paused => td_string!(locale, task_status.paused),
            TaskStatus::Completed => td_string!(locale, task_status.completed),
            TaskStatus::Cancelled => td_string!(locale, task_status.cancelled),
            TaskStatus::Failed => td_string!(locale, task_status.failed),
        }
    }

    pub fn is_finished(self) -> bool {
        matches!(
            self,
            TaskStatus::Completed | TaskStatus::Cancelled | TaskStatus::Failed
        )
    }

    /// A task that has not finished can be cancelled; what it has not sent is given back.
    pub fn cancel(self) -> Result<TaskStatus, AppError> {
        self.move_to(TaskStatus::Cancelled, !self.is_finished())
    }

    pub fn pause(self) -> Result<TaskStatus, AppError> {
        self.move_to(TaskStatus::Paused, self == TaskStatus::Sending)
    }

    pub fn resume(self) -> Result<TaskStatus, AppError> {
        self.move_to(TaskStatus::Sending, self == TaskStatus::Paused)
    }

    /// The scheduler starts a task at its second.
    pub fn start(self) -> Result<TaskStatus, AppError> {
        self.move_to(TaskStatus::Sending, self == TaskStatus::Scheduled)
    }

    fn move_to(self, next: TaskStatus, allowed: bool) -> Result<TaskStatus, AppError> {
        if allowed {
            Ok(next)
        } else {
            let status = self.name(crate::locale::current()).to_lowercase();
            Err(AppError::Conflict(match next {
                TaskStatus::Cancelled => crate::tr!(records.errors.cannot_cancel, status),
                TaskStatus::Paused => crate::tr!(records.errors.cannot_pause, status),
                _ => crate::tr!(records.errors.cannot_start, status),
            }))
        }
    }
}

/// Why a row of an uploaded recipient file is not sent to. Codes are stored with the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum RejectReason {
    InvalidNumber,
    LostDigits,
    WrongRegion,
    MissingVariable,
    ExtraColumns,
    VariableFormat,
    UrlInVariable,
    TooLong,
    Duplicate,
    OptedOut,
}

impl RejectReason {
    pub const ALL: [RejectReason; 10] = [
        RejectReason::InvalidNumber,
        RejectReason::LostDigits,
        RejectReason::WrongRegion,
        RejectReason::MissingVariable,
        RejectReason::ExtraColumns,
        RejectReason::VariableFormat,
        RejectReason::UrlInVariable,
        RejectReason::TooLong,
        RejectReason::Duplicate,
        RejectReason::OptedOut,
    ];

    pub fn code(self) -> i16 {
        RejectReason::ALL
            .iter()
            .position(|r| *r == self)
            .map_or(0, |i| i as i16 + 1)
    }

    pub fn from_code(code: i16) -> Option<RejectReason> {
        usize::try_from(code - 1)
            .ok()
            .and_then(|i| RejectReason::ALL.get(i).copied())
    }

    /// Duplicates and opted-out numbers are removed, not errors in the file.
    pub fn is_removal(self) -> bool {
        matches!(self, RejectReason::Duplicate | RejectReason::OptedOut)
    }
}

impl RejectReason {
    /// The reason in words, in the console's language.
    pub fn text(self, locale: Locale) -> &'static str {
        match self {
            RejectReason::InvalidNumber => td_string!(locale, bulk.reasons.invalid_number),
            RejectReason::LostDigits => td_string!(locale, bulk.reasons.lost_digits),
            RejectReason::WrongRegion => td_string!(locale, bulk.reasons.wrong_region),
            RejectReason::MissingVariable => td_string!(locale, bulk.reasons.missing_variable),
            RejectReason::ExtraColumns => td_string!(locale, bulk.reasons.extra_columns),
            RejectReason::VariableFormat => td_string!(locale, bulk.reasons.variable_format),
            RejectReason::UrlInVariable => td_string!(locale, bulk.reasons.url_in_variable),
            RejectReason::TooLong => td_string!(locale, bulk.reasons.too_long),
            RejectReason::Duplicate => td_string!(locale, bulk.reasons.duplicate),
            RejectReason::OptedOut => td_string!(locale, bulk.reasons.opted_out),
        }
    }
}

/// In English: the rows-not-sent CSV is a file format, the same in every language.
impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text(Locale::en))
    }
}

/// The report of one uploaded file, shown before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadReport {
    pub id: i64,
    pub file_name: String,
    pub file_bytes: i64,
    pub processed_bytes: i64,
    pub state: UploadState,
    pub application: String,
    pub signature: String,
    pub template: String,
    pub template_id: Option<i64>,
    pub total_rows: i64,
    pub accepted: i64,
    pub duplicates: i64,
    pub opted_out: i64,
    /// Refused rows by reason, most frequent first (duplicates and opt-outs are counted above).
    pub rejected: Vec<(RejectReason, i64)>,
    pub units: i64,
    /// Units free in the organisation's packages now.
    pub available_units: i64,
    pub marketing: bool,
    /// Set once a task has been created from this upload.
    pub task_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UploadState {
    Processing,
    Ready,
    Failed(String),
}

impl UploadReport {
    pub fn rejected_total(&self) -> i64 {
        self.rejected.iter().map(|(_, n)| n).sum()
    }

    pub fn percent_processed(&self) -> i64 {
        if self.file_bytes == 0 {
            return 100;
        }
        (self.processed_bytes * 100 / self.file_bytes).clamp(0, 100)
    }
}

/// The daily hours marketing SMS may be sent in, Asia/Shanghai.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketingWindow {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl MarketingWindow {
    /// Whether marketing SMS may go out now (China time; the end is exclusive).
    #[cfg(feature = "ssr")]
    pub fn contains_now(&self) -> bool {
        let now = chrono::Utc::now()
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .time();
        self.start <= now && now < self.end
    }

    /// Two `HH:MM` times, the start before the end (the window cannot span midnight).
    pub fn parse(start: &str, end: &str) -> Result<Self, AppError> {
        let time = |field: &str, raw: &str| {
            NaiveTime::parse_from_str(raw.trim(), "%H:%M")
                .map_err(|_| AppError::field(field, crate::tr!(bulk.errors.time_format)))
        };
        let mut errors = crate::error::FieldErrors::default();
        let start = errors.check(time("start", start));
        let end = errors.check(time("end", end));
        let (start, end) = errors.finish(start.zip(end))?;
        if start >= end {
            return Err(AppError::field("end", crate::tr!(bulk.errors.window_order)));
        }
        Ok(MarketingWindow { start, end })
    }
}

impl MarketingWindow {
    /// "08:00–22:00 China time" in the console's language.
    pub fn text(&self, locale: Locale) -> String {
        window_text(
            locale,
            &self.start.format("%H:%M").to_string(),
            &self.end.format("%H:%M").to_string(),
        )
    }
}

/// A daily window given as two `HH:MM` times, in words.
pub fn window_text(locale: Locale, start: &str, end: &str) -> String {
    td_string!(locale, bulk.window_hours, start, end).to_string()
}

/// In the language of whoever the text is for (`crate::locale::current`).
impl fmt::Display for MarketingWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text(crate::locale::current()))
    }
}

/// One row of Delivery Records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSummary {
    pub id: i64,
    pub name: String,
    pub application: String,
    pub signature: String,
    pub template: String,
    pub sms_type: crate::templates::model::SmsType,
    pub status: TaskStatus,
    pub status_reason: Option<String>,
    pub send_at: DateTime<Utc>,
    /// The zone the creator scheduled in (times are shown in China time).
    pub time_zone: String,
    pub recipients: i64,
    /// Taken by the carrier.
    pub sent: i64,
    /// Never sent: refused by the carrier, or withheld by Herald (opted out, over a limit).
    pub refused: i64,
    pub delivered: i64,
    /// Everything that will not arrive: refused, or a failed receipt.
    pub failed: i64,
    pub units_reserved: i64,
    pub units_used: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// How far a task has got, in percent: the recipients dealt with (sent or refused); a task that
/// ended is done whatever it reached.
pub fn percent_done(status: TaskStatus, recipients: i64, sent: i64, refused: i64) -> i64 {
    match status {
        TaskStatus::Completed | TaskStatus::Cancelled | TaskStatus::Failed => 100,
        _ if recipients == 0 => 0,
        _ => ((sent + refused) * 100 / recipients).min(100),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskPage {
    pub tasks: Vec<TaskSummary>,
    /// Keyset cursor for the next page.
    pub next: Option<String>,
    /// Units free in the organisation's packages, so marketers see what tasks hold.
    pub available_units: i64,
}

/// A task with what its detail page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskDetail {
    pub summary: TaskSummary,
    pub upload_id: i64,
    pub template_text: String,
    pub file_name: String,
    pub total_rows: i64,
    pub removed: i64,
    pub rejected: i64,
}

/// Time zones offered when scheduling; the browser's own zone is added when it is another.
pub const COMMON_TIME_ZONES: [&str; 12] = [
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Asia/Dubai",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "UTC",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_legal_moves_are_allowed() {
        use TaskStatus::*;
        assert_eq!(Scheduled.cancel().unwrap(), Cancelled);
        assert_eq!(Sending.pause().unwrap(), Paused);
        assert_eq!(Paused.resume().unwrap(), Sending);
        assert_eq!(Paused.cancel().unwrap(), Cancelled);
        assert_eq!(Scheduled.start().unwrap(), Sending);
        for finished in [Completed, Cancelled, Failed] {
            assert!(finished.cancel().is_err());
            assert!(finished.pause().is_err());
            assert!(finished.resume().is_err());
            assert!(finished.start().is_err());
        }
        assert!(Scheduled.pause().is_err());
        assert!(Sending.resume().is_err());
        assert!(Paused.start().is_err());
    }

    #[test]
    fn a_marketing_window_is_two_ordered_times() {
        let w = MarketingWindow::parse("08:00", "21:30").unwrap();
        assert_eq!(w.to_string(), "08:00–21:30 China time");
        assert!(MarketingWindow::parse("22:00", "08:00")
            .unwrap_err()
            .field_message("end")
            .is_some());
        assert!(MarketingWindow::parse("8am", "22:00")
            .unwrap_err()
            .field_message("start")
            .is_some());
    }

    #[test]
    fn statuses_and_reasons_round_trip_through_storage() {
        for s in TaskStatus::ALL {
            assert_eq!(TaskStatus::parse(s.as_str()), Some(s));
        }
        for r in RejectReason::ALL {
            assert_eq!(RejectReason::from_code(r.code()), Some(r));
        }
        assert_eq!(RejectReason::from_code(0), None);
        assert_eq!(RejectReason::from_code(11), None);
    }
}
