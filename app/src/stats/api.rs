use leptos::prelude::*;

use super::model::{DashboardFigures, StatsChoices, StatsReport, TaskAnalytics};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use {crate::accounts::model::Role, crate::state::serve};

#[server(endpoint = "get_task_analytics")]
pub async fn get_task_analytics(id: i64) -> Result<TaskAnalytics, AppError> {
    serve(|caller| async move {
        let user = caller.require(Role::Marketer).await?;
        crate::campaigns::service::readable_task(caller.pool(), &user, id).await?;
        super::repo::task_analytics(caller.pool(), id).await
    })
    .await
}

/// Parses the statistics filter as the page's query string carries it.
#[cfg(feature = "ssr")]
pub fn parse_filter(
    application: &str,
    signature: &str,
    template: &str,
    sms_type: &str,
    from: &str,
    until: &str,
    granularity: &str,
) -> Result<super::repo::StatsFilter, AppError> {
    use chrono::{NaiveDate, TimeZone};
    let id = |raw: &str| raw.trim().parse::<i64>().ok();
    let day = |field: &str, raw: &str| {
        NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
            .map_err(|_| AppError::field(field, crate::tr!(stats.errors.date_format)))
    };
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let from_day = if from.trim().is_empty() {
        today - chrono::Duration::days(6)
    } else {
        day("from", from)?
    };
    let until_day = if until.trim().is_empty() {
        today
    } else {
        day("until", until)?
    };
    if until_day < from_day {
        return Err(AppError::field(
            "until",
            crate::tr!(stats.errors.end_before_start),
        ));
    }
    if (until_day - from_day).num_days() > 366 {
        return Err(AppError::field(
            "until",
            crate::tr!(stats.errors.at_most_a_year),
        ));
    }
    let granularity = super::model::Granularity::parse(granularity);
    if granularity == super::model::Granularity::Hour && (until_day - from_day).num_days() > 31 {
        return Err(AppError::field(
            "granularity",
            crate::tr!(stats.errors.hourly_range),
        ));
    }
    let start = |d: NaiveDate| {
        chrono_tz::Asia::Shanghai
            .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
            .single()
            .map(|t| t.to_utc())
            .unwrap_or_default()
    };
    Ok(super::repo::StatsFilter {
        application: id(application),
        signature: id(signature),
        template: id(template),
        sms_type: sms_type
            .trim()
            .parse::<i16>()
            .ok()
            .filter(|t| (1..=3).contains(t)),
        from: start(from_day),
        until: start(until_day + chrono::Duration::days(1)),
        granularity,
    })
}

#[server(endpoint = "get_statistics")]
pub async fn get_statistics(
    #[server(default)] application: String,
    #[server(default)] signature: String,
    #[server(default)] template: String,
    #[server(default)] sms_type: String,
    #[server(default)] from: String,
    #[server(default)] until: String,
    #[server(default)] granularity: String,
) -> Result<StatsReport, AppError> {
    serve(|caller| async move {
        caller
            .require_any(&[Role::Operator, Role::Marketer])
            .await?;
        let filter = parse_filter(
            &application,
            &signature,
            &template,
            &sms_type,
            &from,
            &until,
            &granularity,
        )?;
        super::repo::statistics(caller.pool(), &filter).await
    })
    .await
}

#[server(endpoint = "get_statistics_choices")]
pub async fn get_statistics_choices() -> Result<StatsChoices, AppError> {
    serve(|caller| async move {
        caller
            .require_any(&[Role::Operator, Role::Marketer])
            .await?;
        super::repo::choices(caller.pool()).await
    })
    .await
}

#[server(endpoint = "get_dashboard")]
pub async fn get_dashboard() -> Result<DashboardFigures, AppError> {
    serve(|caller| async move {
        let user = caller.user().await?;
        super::repo::dashboard(
            caller.pool(),
            user.has(Role::Admin),
            user.has(Role::Marketer),
        )
        .await
    })
    .await
}
