//! Reads the counters (never the message table) for analytics, statistics and the dashboard.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::model::*;
use crate::error::AppError;
use crate::receipts::model::{describe, FailureGroup};

const OPERATORS: [&str; 4] = [
    "Other / international",
    "China Mobile",
    "China Unicom",
    "China Telecom",
];

pub async fn task_analytics(pool: &PgPool, task_id: i64) -> Result<TaskAnalytics, AppError> {
    let (recipients, sent, delivered, failed, units_used): (i32, i32, i32, i32, i64) =
        sqlx::query_as(
            "SELECT recipients, sent, delivered, failed, units_used FROM tasks WHERE id = $1",
        )
        .bind(task_id)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| AppError::NotFound(crate::tr!(stats.task)))?;
    let minutes: Vec<(DateTime<Utc>, i32, i32, i32, i32)> = sqlx::query_as(
        "SELECT minute, submitted, refused, delivered, failed FROM task_minutes
          WHERE task_id = $1 ORDER BY minute",
    )
    .bind(task_id)
    .fetch_all(pool)
    .await?;
    let refused: i64 = minutes.iter().map(|m| i64::from(m.2)).sum();
    let receipts_failed = i64::from(failed) - refused;
    let headline = Headline {
        recipients: recipients.into(),
        submitted: sent.into(),
        delivered: delivered.into(),
        failed: failed.into(),
        awaiting: (i64::from(sent) - i64::from(delivered) - receipts_failed).max(0),
        units_used,
    };
    let (step_minutes, timeline) = timeline(&minutes);

    let mut latency = vec![0i64; LATENCY_LABELS.len()];
    let buckets: Vec<(i16, i32)> =
        sqlx::query_as("SELECT bucket, receipts FROM task_latency WHERE task_id = $1")
            .bind(task_id)
            .fetch_all(pool)
            .await?;
    for (bucket, receipts) in buckets {
        if let Some(slot) = latency.get_mut(bucket as usize) {
            *slot += i64::from(receipts);
        }
    }

    let codes: Vec<(String, i32)> = sqlx::query_as(
        "SELECT code, messages FROM task_failures WHERE task_id = $1 ORDER BY messages DESC, code",
    )
    .bind(task_id)
    .fetch_all(pool)
    .await?;
    let failures: Vec<FailureRow> = codes
        .into_iter()
        .map(|(code, messages)| FailureRow {
            group: describe(&code).1,
            code,
            messages: messages.into(),
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

    let operators: Vec<(i16, i32, i32, i32, i32)> = sqlx::query_as(
        "SELECT operator, recipients, submitted, delivered, failed FROM task_operators
          WHERE task_id = $1 ORDER BY operator = 0, operator",
    )
    .bind(task_id)
    .fetch_all(pool)
    .await?;
    let operators = operators
        .into_iter()
        .map(
            |(op, recipients, submitted, delivered, failed)| OperatorRow {
                operator: OPERATORS
                    .get(op as usize)
                    .unwrap_or(&OPERATORS[0])
                    .to_string(),
                recipients: recipients.into(),
                submitted: submitted.into(),
                delivered: delivered.into(),
                failed: failed.into(),
            },
        )
        .collect();
    Ok(TaskAnalytics {
        task_id,
        headline,
        step_minutes,
        timeline,
        latency,
        failures,
        groups,
        operators,
    })
}

/// The minutes from the first to the last, gaps filled with zeros, merged into steps so a chart
/// has at most `MAX_TIMELINE_POINTS` points.
fn timeline(minutes: &[(DateTime<Utc>, i32, i32, i32, i32)]) -> (i64, Vec<TimelinePoint>) {
    let (Some(first), Some(last)) = (minutes.first(), minutes.last()) else {
        return (1, Vec::new());
    };
    let span = (last.0 - first.0).num_minutes() + 1;
    let step = ((span as usize).div_ceil(MAX_TIMELINE_POINTS)).max(1) as i64;
    let points = (span + step - 1) / step;
    let mut timeline: Vec<TimelinePoint> = (0..points)
        .map(|i| TimelinePoint {
            label: (first.0 + chrono::Duration::minutes(i * step))
                .with_timezone(&chrono_tz::Asia::Shanghai)
                .format("%H:%M")
                .to_string(),
            submitted: 0,
            refused: 0,
            delivered: 0,
            failed: 0,
        })
        .collect();
    for (at, submitted, refused, delivered, failed) in minutes {
        let i = ((*at - first.0).num_minutes() / step) as usize;
        if let Some(p) = timeline.get_mut(i) {
            p.submitted += i64::from(*submitted);
            p.refused += i64::from(*refused);
            p.delivered += i64::from(*delivered);
            p.failed += i64::from(*failed);
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
    let rows: Vec<(String, i64, i64, i64, i64, i64)> = sqlx::query_as(
        // Periods are formatted after grouping: once per period, not once per counter row.
        "SELECT to_char(period, $9), requests, submitted, units, receipts_ok, receipts_fail
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
          LIMIT $7",
    )
    .bind(filter.from)
    .bind(filter.until)
    .bind(filter.application)
    .bind(filter.signature)
    .bind(filter.template)
    .bind(filter.sms_type)
    .bind(5000i64)
    .bind(filter.granularity.as_str())
    .bind(format)
    .fetch_all(pool)
    .await?;
    let rows: Vec<StatsRow> = rows
        .into_iter()
        .map(
            |(period, requests, submitted, units, receipts_ok, receipts_fail)| StatsRow {
                period,
                requests,
                submitted,
                units,
                receipts_ok,
                receipts_fail,
            },
        )
        .collect();
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
    let list = |sql: &'static str| async move {
        let rows: Vec<(i64, String)> = sqlx::query_as(sql).fetch_all(pool).await?;
        Ok::<_, AppError>(
            rows.into_iter()
                .map(|(id, label)| Choice { id, label })
                .collect(),
        )
    };
    Ok(StatsChoices {
        applications: list("SELECT id, name FROM applications ORDER BY name, id").await?,
        signatures: list("SELECT id, name FROM signatures ORDER BY name, id").await?,
        templates: list("SELECT id, name FROM templates ORDER BY name, id").await?,
    })
}

/// Today (China time) from the hourly counters, the balance, the review queue (for reviewers)
/// and the latest tasks (for marketers).
pub async fn dashboard(
    pool: &PgPool,
    reviewer: bool,
    marketer: bool,
) -> Result<DashboardFigures, AppError> {
    let (sent, delivered, failed): (i64, i64, i64) = sqlx::query_as(
        "SELECT coalesce(sum(submitted), 0)::bigint, coalesce(sum(receipts_ok), 0)::bigint,
                coalesce(sum(receipts_fail), 0)::bigint
           FROM stats_hourly
          WHERE hour >= date_trunc('day', now() AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai'",
    )
    .fetch_one(pool)
    .await?;
    let pending_reviews = if reviewer {
        Some(
            sqlx::query_scalar(
                "SELECT (SELECT count(*) FROM signatures WHERE status = 'pending')
                      + (SELECT count(*) FROM templates WHERE status = 'pending')",
            )
            .fetch_one(pool)
            .await?,
        )
    } else {
        None
    };
    let unmatched: i64 =
        sqlx::query_scalar("SELECT coalesce(sum(receipts), 0)::bigint FROM unmatched_receipts")
            .fetch_one(pool)
            .await?;
    let recent = if marketer {
        crate::campaigns::repo::list_tasks(pool, &crate::campaigns::repo::TaskFilter::default(), 5)
            .await?
    } else {
        Vec::new()
    };
    Ok(DashboardFigures {
        sent_today: sent,
        delivered_today: delivered,
        failed_today: failed,
        balance: crate::campaigns::repo::available_units(pool).await?,
        pending_reviews,
        unmatched_receipts: unmatched,
        verify_abuse: crate::verify::repo::abuse_today(pool).await?,
        recent_tasks: recent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_timelines_are_merged_into_readable_steps() {
        let t0 = DateTime::parse_from_rfc3339("2026-11-25T08:00:00Z")
            .unwrap()
            .to_utc();
        let at = |m: i64| t0 + chrono::Duration::minutes(m);
        let (step, points) = timeline(&[(at(0), 5, 1, 0, 0), (at(2), 3, 0, 4, 1)]);
        assert_eq!((step, points.len()), (1, 3), "gaps are filled");
        assert_eq!(points[1].submitted, 0);
        let (step, points) = timeline(&[(at(0), 1, 0, 0, 0), (at(599), 1, 0, 1, 0)]);
        assert_eq!(step, 5);
        assert!(points.len() <= MAX_TIMELINE_POINTS);
        assert_eq!(
            points.iter().map(|p| p.submitted).sum::<i64>(),
            2,
            "nothing is lost"
        );
    }
}
