//! What the analytics and statistics pages show.

use serde::{Deserialize, Serialize};

use crate::receipts::model::FailureGroup;

/// Lower bounds (seconds) of the delivery-latency buckets; the last is open-ended.
pub const LATENCY_BOUNDS_SECONDS: [f64; 9] =
    [0.0, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0, 7200.0];
pub const LATENCY_LABELS: [&str; 9] = [
    "< 1 s",
    "1–5 s",
    "5–10 s",
    "10–30 s",
    "30–60 s",
    "1–5 min",
    "5–30 min",
    "30 min–2 h",
    "≥ 2 h",
];

/// The figures at the top of a task's analytics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Headline {
    pub recipients: i64,
    /// Taken by the carrier.
    pub submitted: i64,
    pub delivered: i64,
    /// Everything that will not arrive: refused by the carrier, rejected before sending, or a
    /// failed receipt.
    pub failed: i64,
    /// Taken by the carrier, no receipt yet.
    pub awaiting: i64,
    pub units_used: i64,
}

/// Delivered share of what has an outcome, in percent; `None` before any outcome.
pub fn success_rate(delivered: i64, failed: i64) -> Option<f64> {
    let decided = delivered + failed;
    (decided > 0).then(|| delivered as f64 * 100.0 / decided as f64)
}

impl Headline {
    pub fn success_rate(&self) -> Option<f64> {
        success_rate(self.delivered, self.failed)
    }
}

/// One step (a second for a short task, wider for longer ones) of a task's sending.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelinePoint {
    /// When the step starts, China time, as the chart labels it.
    pub label: String,
    pub submitted: i64,
    pub refused: i64,
    pub delivered: i64,
    pub failed: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureRow {
    pub code: String,
    pub group: FailureGroup,
    pub messages: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperatorRow {
    pub operator: String,
    pub recipients: i64,
    pub submitted: i64,
    pub delivered: i64,
    pub failed: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskAnalytics {
    pub task_id: i64,
    pub headline: Headline,
    /// Seconds in the timeline's steps.
    pub step_seconds: i64,
    pub timeline: Vec<TimelinePoint>,
    /// Receipts per latency bucket (`LATENCY_LABELS`).
    pub latency: Vec<i64>,
    pub failures: Vec<FailureRow>,
    /// Failures per group, in `FailureGroup::ALL` order (CallbackStatusStatistics' schema).
    pub groups: Vec<(FailureGroup, i64)>,
    pub operators: Vec<OperatorRow>,
}

/// Charts stay readable: a long task's seconds are merged into at most this many points.
pub const MAX_TIMELINE_POINTS: usize = 120;

/// Business statistics' granularity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Granularity {
    Hour,
    Day,
}

impl Granularity {
    pub fn parse(raw: &str) -> Granularity {
        if raw == "hour" {
            Granularity::Hour
        } else {
            Granularity::Day
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Hour => "hour",
            Granularity::Day => "day",
        }
    }
}

/// One row of business statistics: Tencent's SendStatusStatistics and receipts by outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsRow {
    /// The hour or day, in China time, as the table shows it.
    pub period: String,
    pub requests: i64,
    pub submitted: i64,
    pub units: i64,
    pub receipts_ok: i64,
    pub receipts_fail: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsReport {
    pub granularity: Granularity,
    pub rows: Vec<StatsRow>,
    pub totals: StatsRow,
}

/// A choice in a statistics filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub id: i64,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsChoices {
    pub applications: Vec<Choice>,
    pub signatures: Vec<Choice>,
    pub templates: Vec<Choice>,
}

/// The dashboard's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardFigures {
    pub sent_today: i64,
    pub delivered_today: i64,
    pub failed_today: i64,
    pub balance: i64,
    pub pending_reviews: Option<i64>,
    pub unmatched_receipts: i64,
    /// getSms requests the anti-pumping limits refused today.
    pub verify_abuse: crate::verify::model::AbuseToday,
    pub recent_tasks: Vec<crate::campaigns::model::TaskSummary>,
    /// For admins: what the installation still lacks before its first message.
    pub getting_started: Option<GettingStarted>,
}

impl DashboardFigures {
    pub fn success_rate(&self) -> Option<f64> {
        success_rate(self.delivered_today, self.failed_today)
    }
}

/// What a new installation has of what its first message needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GettingStarted {
    /// Active users holding the role (the admin may hold it too).
    pub operators: i64,
    pub marketers: i64,
    pub applications: i64,
    pub approved_signatures: i64,
    pub pending_signatures: i64,
    pub approved_templates: i64,
    pub pending_templates: i64,
    pub sms_packages: i64,
}

/// A step of the getting-started checklist, in the order they are taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstStep {
    Roles,
    Application,
    Signature,
    Template,
    SmsPackage,
}

impl FirstStep {
    pub const ALL: [FirstStep; 5] = [
        FirstStep::Roles,
        FirstStep::Application,
        FirstStep::Signature,
        FirstStep::Template,
        FirstStep::SmsPackage,
    ];
}

impl GettingStarted {
    pub fn done(&self, step: FirstStep) -> bool {
        match step {
            FirstStep::Roles => self.operators > 0 && self.marketers > 0,
            FirstStep::Application => self.applications > 0,
            FirstStep::Signature => self.approved_signatures > 0,
            FirstStep::Template => self.approved_templates > 0,
            FirstStep::SmsPackage => self.sms_packages > 0,
        }
    }

    pub fn finished(&self) -> bool {
        FirstStep::ALL.into_iter().all(|step| self.done(step))
    }

    /// Where the step is taken next: a submitted signature or template waits in review.
    pub fn href(&self, step: FirstStep) -> &'static str {
        match step {
            FirstStep::Roles => "/users",
            FirstStep::Application => "/applications",
            FirstStep::Signature if self.pending_signatures > 0 => "/review",
            FirstStep::Signature => "/signatures/new",
            FirstStep::Template if self.pending_templates > 0 => "/review",
            FirstStep::Template => "/templates/new",
            FirstStep::SmsPackage => "/settings/packages",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_rate_counts_only_decided_messages() {
        let mut h = Headline {
            recipients: 10,
            submitted: 8,
            delivered: 0,
            failed: 0,
            awaiting: 8,
            units_used: 8,
        };
        assert_eq!(h.success_rate(), None);
        h.delivered = 6;
        h.failed = 2;
        assert_eq!(h.success_rate(), Some(75.0));
        assert_eq!(LATENCY_BOUNDS_SECONDS.len(), LATENCY_LABELS.len());
    }

    #[test]
    fn a_submitted_signature_or_template_is_taken_on_in_review() {
        let mut start = GettingStarted {
            operators: 1,
            marketers: 0,
            applications: 1,
            approved_signatures: 0,
            pending_signatures: 0,
            approved_templates: 0,
            pending_templates: 0,
            sms_packages: 1,
        };
        assert!(!start.done(FirstStep::Roles), "nobody can send yet");
        assert_eq!(start.href(FirstStep::Signature), "/signatures/new");
        start.pending_signatures = 1;
        start.pending_templates = 1;
        assert_eq!(start.href(FirstStep::Signature), "/review");
        assert_eq!(start.href(FirstStep::Template), "/review");
        assert!(!start.finished());
        start.marketers = 1;
        start.approved_signatures = 1;
        start.approved_templates = 1;
        assert!(start.finished());
    }
}
