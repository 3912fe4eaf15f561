//! Reads the counters (never the message table) for analytics, statistics and the dashboard.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::model::*;
use crate::error::AppError;
use crate::numbers::MobileCarrier;
use crate::receipts::model::{describe, FailureGroup};

/// One second of a task's sending, as `task_seconds` counts it.
struct TaskSecond {
    second: DateTime<Utc>,
    submitted: i32,
    refused: i32,
    delivered: i32,
    failed: i32,
}

pub async fn task_analytics(pool: &PgPool, task_id: i64) -> Result<TaskAnalytics, AppError> {
    let task = sqlx::query!(
        "SELECT recipients, sent, delivered, failed, units_used FROM tasks WHERE id = $1",
        task_id,
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::NotFound(crate::tr!(stats.task)))?;
    let seconds = sqlx::query_as!(
        TaskSecond,
        r#"SELECT second AS "second: chrono::DateTime<chrono::Utc>", submitted, refused, delivered, failed
             FROM task_seconds WHERE task_id = $1 ORDER BY second"#,
        task_id,
    )
    .fetch_all(pool)
    .await?;
    let refused: i64 = seconds.iter().map(|m| i64::from(m.refused)).sum();
    let receipts_failed = i64::from(task.failed) - refused;
    let headline = Headline {
        recipients: task.recipients.into(),
        submitted: task.sent.into(),
        delivered: task.delivered.into(),
        failed: task.failed.into(),
        awaiting: (i64::from(task.sent) - i64::from(task.delivered) - receipts_failed).max(0),
        units_used: task.units_used,
    };
    let (step_seconds, timeline) = timeline(&seconds);

    let mut latency = vec![0i64; LATENCY_LABELS.len()];
    let buckets = sqlx::query!(
        "SELECT bucket, receipts FROM task_latency WHERE task_id = $1",
        task_id,
    )
    .fetch_all(pool)
    .await?;
    for b in buckets {
        if let Some(slot) = latency.get_mut(b.bucket as usize) {
            *slot += i64::from(b.receipts);
        }
    }

    let codes = sqlx::query!(
        "SELECT code, messages FROM task_failures WHERE task_id = $1 ORDER BY messages DESC, code",
        task_id,
    )
    .fetch_all(pool)
    .await?;
    let failures: Vec<FailureRow> = codes
        .into_iter()
        .map(|c| FailureRow {
            group: describe(&c.code).1,
            code: c.code,
            messages: c.messages.into(),
        })
        .collect();
    let groups = FailureGroup::ALL
        .iter()
        .map(|g| {
            let n = failures
                .iter()
                .filter(|f| f.group == *g)
                .map(|f| f.messages)
                .sum();
            (*g, n)
        })
        .collect();

    let operators = sqlx::query!(
        "SELECT operator, recipients, submitted, delivered, failed FROM task_operators
          WHERE task_id = $1 ORDER BY operator = 0, operator",
        task_id,
    )
    .fetch_all(pool)
    .await?;
    let operators = operators
        .into_iter()
        .map(|o| OperatorRow {
            operator: MobileCarrier::from_code(o.operator)
                .english_name()
                .to_string(),
            recipients: o.recipients.into(),
            submitted: o.submitted.into(),
            delivered: o.delivered.into(),
            failed: o.failed.into(),
        })
        .collect();
    Ok(TaskAnalytics {
        task_id,
        headline,
        step_seconds,
        timeline,
        latency,
        failures,
        groups,
        operators,
    })
}

/// Step widths a timeline may use (seconds): round to a reader, each dividing a day.
const TIMELINE_STEPS: [i64; 18] = [
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
];
const CHINA_OFFSET_SECONDS: i64 = 8 * 3600;

/// The seconds from the first to the last merged into the narrowest step that keeps a chart
/// within `MAX_TIMELINE_POINTS` points, steps starting on round China-time moments and gaps
/// filled with zeros: a task sent within a second is one point, a day-long one is minutes.
fn timeline(seconds: &[TaskSecond]) -> (i64, Vec<TimelinePoint>) {
    let (Some(first), Some(last)) = (seconds.first(), seconds.last()) else {
        return (1, Vec::new());
    };
    let (first, last) = (first.second.timestamp(), last.second.timestamp());
    let start_of = |at: i64, step: i64| {
        (at + CHINA_OFFSET_SECONDS).div_euclid(step) * step - CHINA_OFFSET_SECONDS
    };
    let points = |step: i64| (start_of(last, step) - start_of(first, step)) / step + 1;
    let step = TIMELINE_STEPS
        .into_iter()
        .find(|step| points(*step) <= MAX_TIMELINE_POINTS as i64)
        .unwrap_or(TIMELINE_STEPS[TIMELINE_STEPS.len() - 1]);
    let origin = start_of(first, step);
    let several_days = start_of(first, 86400) != start_of(last, 86400);
    let label_format = match step {
        86400 => "%Y-%m-%d",
        _ if several_days => "%m-%d %H:%M",
        s if s < 60 => "%H:%M:%S",
        _ => "%H:%M",
    };
    let mut timeline: Vec<TimelinePoint> = (0..points(step).min(MAX_TIMELINE_POINTS as i64))
        .map(|i| TimelinePoint {
            label: DateTime::from_timestamp(origin + i * step, 0)
                .unwrap_or_default()
                .with_timezone(&chrono_tz::Asia::Shanghai)
                .format(label_format)
                .to_string(),
            submitted: 0,
            refused: 0,
            delivered: 0,
            failed: 0,
        })
        .collect();
    for s in seconds {
        let i = ((s.second.timestamp() - origin) / step) as usize;
        if let Some(p) = timeline.get_mut(i) {
            p.submitted += i64::from(s.submitted);
            p.refused += i64::from(s.refused);
            p.delivered += i64::from(s.delivered);
            p.failed += i64::from(s.failed);
        }
    }
    (step, timeline)
}

/// What the statistics are filtered by.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsFilter {
    pub application: Option<i64>,
    pub signature: Option<i64>,
    pub template: Option<i64>,
    pub sms_type: Option<i16>,
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub granularity: Granularity,
}

pub async fn statistics(pool: &PgPool, filter: &StatsFilter) -> Result<StatsReport, AppError> {
    let format = match filter.granularity {
        Granularity::Hour => "YYYY-MM-DD HH24:00",
        Granularity::Day => "YYYY-MM-DD",
    };
    // Periods are formatted after grouping: once per period, not once per counter row. A group
    // has at least one counter row, so its sums are never null.
    let rows = sqlx::query_as!(
        StatsRow,
        r#"SELECT to_char(period, $9) AS "period!", requests AS "requests!",
                submitted AS "submitted!", units AS "units!", receipts_ok AS "receipts_ok!",
                receipts_fail AS "receipts_fail!"
           FROM (SELECT date_trunc($8, hour AT TIME ZONE 'Asia/Shanghai') AS period,
                        sum(requests)::bigint AS requests, sum(submitted)::bigint AS submitted,
                        sum(units)::bigint AS units, sum(receipts_ok)::bigint AS receipts_ok,
                        sum(receipts_fail)::bigint AS receipts_fail
                   FROM stats_hourly
                  WHERE hour >= $1 AND hour < $2
                    AND ($3::bigint IS NULL OR application_id = $3)
                    AND ($4::bigint IS NULL OR signature_id = $4)
                    AND ($5::bigint IS NULL OR template_id = $5)
                    AND ($6::smallint IS NULL OR sms_type = $6)
                  GROUP BY 1) g
          ORDER BY period
          LIMIT $7"#,
        filter.from as _,
        filter.until as _,
        filter.application,
        filter.signature,
        filter.template,
        filter.sms_type,
        5000i64,
        filter.granularity.as_str(),
        format,
    )
    .fetch_all(pool)
    .await?;
    let totals = rows.iter().fold(
        StatsRow {
            period: "Total".into(),
            requests: 0,
            submitted: 0,
            units: 0,
            receipts_ok: 0,
            receipts_fail: 0,
        },
        |mut t, r| {
            t.requests += r.requests;
            t.submitted += r.submitted;
            t.units += r.units;
            t.receipts_ok += r.receipts_ok;
            t.receipts_fail += r.receipts_fail;
            t
        },
    );
    Ok(StatsReport {
        granularity: filter.granularity,
        rows,
        totals,
    })
}

pub async fn choices(pool: &PgPool) -> Result<StatsChoices, AppError> {
    Ok(StatsChoices {
        applications: sqlx::query_as!(
            Choice,
            "SELECT id, name AS label FROM applications ORDER BY name, id"
        )
        .fetch_all(pool)
        .await?,
        signatures: sqlx::query_as!(
            Choice,
            "SELECT id, content AS label FROM signatures ORDER BY content, id"
        )
        .fetch_all(pool)
        .await?,
        templates: sqlx::query_as!(
            Choice,
            "SELECT id, name AS label FROM templates ORDER BY name, id"
        )
        .fetch_all(pool)
        .await?,
    })
}

/// Today (China time) from the hourly counters, the balance, the review queue (for reviewers)
/// and the latest tasks (for marketers).
pub async fn dashboard(
    pool: &PgPool,
    admin: bool,
    marketer: bool,
) -> Result<DashboardFigures, AppError> {
    let today = sqlx::query!(
        r#"SELECT coalesce(sum(submitted), 0)::bigint AS "sent!",
                coalesce(sum(receipts_ok), 0)::bigint AS "delivered!",
                coalesce(sum(receipts_fail), 0)::bigint AS "failed!"
           FROM stats_hourly
          WHERE hour >= date_trunc('day', now() AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai'"#,
    )
    .fetch_one(pool)
    .await?;
    let pending_reviews = if admin {
        Some(
            sqlx::query_scalar!(
                r#"SELECT (SELECT count(*) FROM signatures WHERE status = 'pending')
                        + (SELECT count(*) FROM templates WHERE status = 'pending') AS "pending!""#,
            )
            .fetch_one(pool)
            .await?,
        )
    } else {
        None
    };
    let unmatched = sqlx::query_scalar!(
        r#"SELECT coalesce(sum(receipts), 0)::bigint AS "receipts!" FROM unmatched_receipts"#,
    )
    .fetch_one(pool)
    .await?;
    let getting_started = if admin {
        Some(
            sqlx::query_as!(
                GettingStarted,
                r#"SELECT (SELECT count(*) FROM users
                          WHERE disabled_at IS NULL AND 'operator' = ANY (roles)) AS "operators!",
                        (SELECT count(*) FROM users
                          WHERE disabled_at IS NULL AND 'marketer' = ANY (roles)) AS "marketers!",
                        (SELECT count(*) FROM applications) AS "applications!",
                        (SELECT count(*) FROM signatures WHERE status = 'approved') AS "approved_signatures!",
                        (SELECT count(*) FROM signatures WHERE status = 'pending') AS "pending_signatures!",
                        (SELECT count(*) FROM templates WHERE status = 'approved') AS "approved_templates!",
                        (SELECT count(*) FROM templates WHERE status = 'pending') AS "pending_templates!",
                        (SELECT count(*) FROM sms_packages) AS "sms_packages!""#,
            )
            .fetch_one(pool)
            .await?,
        )
    } else {
        None
    };
    let recent = if marketer {
        crate::campaigns::repo::list_tasks(pool, &crate::campaigns::repo::TaskFilter::default(), 5)
            .await?
    } else {
        Vec::new()
    };
    Ok(DashboardFigures {
        sent_today: today.sent,
        delivered_today: today.delivered,
        failed_today: today.failed,
        balance: crate::balance::ledger::available(&mut *pool.acquire().await?).await?,
        pending_reviews,
        unmatched_receipts: unmatched,
        verify_abuse: crate::verify::repo::abuse_today(pool).await?,
        recent_tasks: recent,
        getting_started,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
    }

    fn second(
        second: DateTime<Utc>,
        submitted: i32,
        refused: i32,
        delivered: i32,
        failed: i32,
    ) -> TaskSecond {
        TaskSecond {
            second,
            submitted,
            refused,
            delivered,
            failed,
        }
    }

    #[test]
    fn a_task_sent_within_a_second_is_one_point() {
        let (step, points) = timeline(&[second(at("2026-11-25T08:00:07Z"), 1980, 38, 1900, 4)]);
        assert_eq!((step, points.len()), (1, 1));
        assert_eq!(points[0].label, "16:00:07", "China time, to the second");
        assert_eq!((points[0].submitted, points[0].delivered), (1980, 1900));
    }

    #[test]
    fn a_task_within_one_minute_gets_second_steps() {
        let (step, points) = timeline(&[
            second(at("2026-11-25T08:00:03Z"), 500, 0, 0, 0),
            second(at("2026-11-25T08:00:41Z"), 500, 0, 0, 0),
            second(at("2026-11-25T08:00:58Z"), 0, 0, 990, 10),
        ]);
        assert_eq!(step, 1);
        assert_eq!(points.len(), 56, "every second from the first to the last");
        assert_eq!(points[38].submitted, 500);
        assert_eq!(points[0].label, "16:00:03");
    }

    #[test]
    fn long_timelines_are_merged_into_round_steps() {
        let t0 = at("2026-11-25T00:00:00Z");
        let minutes = |m: i64| t0 + chrono::Duration::minutes(m);
        let (step, points) = timeline(&[
            second(minutes(0), 1, 0, 0, 0),
            second(minutes(599), 1, 0, 1, 0),
        ]);
        assert_eq!(step, 300, "ten hours in five-minute steps");
        assert!(points.len() <= MAX_TIMELINE_POINTS);
        assert_eq!(points[0].label, "08:00");
        assert_eq!(
            points.iter().map(|p| p.submitted).sum::<i64>(),
            2,
            "nothing is lost"
        );
        let (step, points) = timeline(&[
            second(minutes(0), 1, 0, 0, 0),
            second(minutes(2), 3, 0, 4, 1),
        ]);
        assert_eq!(
            (step, points.len()),
            (2, 61),
            "two-second steps over two minutes"
        );
        assert_eq!(points[60].submitted, 3);
    }

    #[test]
    fn tasks_across_midnight_say_which_day() {
        let (step, points) = timeline(&[
            second(at("2026-11-25T15:30:00Z"), 1, 0, 0, 0),
            second(at("2026-11-25T16:30:00Z"), 1, 0, 0, 0),
        ]);
        assert_eq!(step, 60);
        assert_eq!(points[0].label, "11-25 23:30");
        assert_eq!(points.last().unwrap().label, "11-26 00:30");
    }
}
