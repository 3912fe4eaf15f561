use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::model::{TaskDetail, TaskPage, UploadReport};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use {
    super::model::TaskStatus,
    super::repo::{self, TaskFilter},
    super::schedule::{parse_send_time, parse_zone},
    super::service::{self, NewTask, TaskAction},
    crate::accounts::model::{Label, Role},
    crate::error::FieldErrors,
    crate::review::model::ReviewStatus,
    crate::state::serve,
    crate::templates::model::{placeholder_count, SmsType},
    chrono::{NaiveDate, TimeZone, Utc},
};

/// What the bulk form offers: usable applications, approved signatures and templates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkOptions {
    pub applications: Vec<(i64, String)>,
    pub signatures: Vec<(i64, String)>,
    pub templates: Vec<TemplateOption>,
    /// The marketing window's start and end, `HH:MM` China time.
    pub marketing_window: (String, String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateOption {
    pub id: i64,
    pub name: String,
    pub content: String,
    pub params: usize,
    pub marketing: bool,
}

#[server(endpoint = "get_bulk_options")]
pub async fn get_bulk_options() -> Result<BulkOptions, AppError> {
    serve(|caller| async move {
        caller.require(Role::Marketer).await?;
        let pool = caller.pool();
        let applications = crate::apps::repo::list(pool)
            .await?
            .into_iter()
            .filter(|a| a.enabled)
            .map(|a| (a.id, format!("{} ({})", a.name, a.sdk_app_id)))
            .collect();
        let signatures = crate::signatures::repo::approved_choices(pool).await?;
        let templates = crate::templates::repo::list(pool)
            .await?
            .into_iter()
            .filter(|t| t.status == ReviewStatus::Approved)
            .map(|t| TemplateOption {
                id: t.id,
                params: placeholder_count(&t.content),
                name: t.name,
                content: t.content,
                marketing: t.sms_type == SmsType::Marketing,
            })
            .collect();
        let window = service::marketing_window(pool).await?;
        let marketing_window = (
            window.start.format("%H:%M").to_string(),
            window.end.format("%H:%M").to_string(),
        );
        Ok(BulkOptions {
            applications,
            signatures,
            templates,
            marketing_window,
        })
    })
    .await
}

#[server(endpoint = "get_upload_report")]
pub async fn get_upload_report(id: i64) -> Result<UploadReport, AppError> {
    serve(|caller| async move {
        let user = caller.require(Role::Marketer).await?;
        repo::report(caller.pool(), id, user.id).await
    })
    .await
}

/// When a scheduled task would go out, checked as `create_task` checks it, so the confirmation
/// step shows the moment in China time (or what is wrong with it) before anything is submitted.
#[server(endpoint = "check_send_time")]
pub async fn check_send_time(
    upload_id: i64,
    send_at: String,
    time_zone: String,
) -> Result<chrono::DateTime<chrono::Utc>, AppError> {
    serve(|caller| async move {
        let user = caller.require(Role::Marketer).await?;
        let report = repo::report(caller.pool(), upload_id, user.id).await?;
        let window = if report.marketing {
            Some(service::marketing_window(caller.pool()).await?)
        } else {
            None
        };
        parse_send_time("schedule", &send_at, &time_zone, Utc::now(), window).map(|t| t.at)
    })
    .await
}

/// The confirmation step: starts the task and reserves its fee.
#[server(endpoint = "create_task")]
pub async fn create_task(
    upload_id: i64,
    name: String,
    send_mode: String,
    #[server(default)] send_at: String,
    time_zone: String,
    #[server(default)] consent: Option<String>,
    #[server(default)] carrier_id: Option<i64>,
) -> Result<i64, AppError> {
    serve(|caller| async move {
        let user = caller.require(Role::Marketer).await?;
        let report = repo::report(caller.pool(), upload_id, user.id).await?;
        let window = if report.marketing {
            Some(service::marketing_window(caller.pool()).await?)
        } else {
            None
        };
        let mut errors = FieldErrors::default();
        let name = errors.check(Label::parse("name", &name, 60));
        let when = errors.check(parse_send_time(
            &send_mode,
            &send_at,
            &time_zone,
            Utc::now(),
            window,
        ));
        let consent = errors.check(if consent.is_some() {
            Ok(())
        } else {
            Err(AppError::field("consent", crate::tr!(bulk.errors.consent)))
        });
        let ((name, when), ()) = errors.finish(name.zip(when).zip(consent))?;
        let task = NewTask {
            upload_id,
            name: name.as_str().to_owned(),
            when,
            carrier_id,
        };
        let id = service::start_task(caller.pool(), &user, &caller.ip, task).await?;
        leptos_axum::redirect(&format!("/records/{id}"));
        Ok(id)
    })
    .await
}

#[server(endpoint = "list_tasks")]
pub async fn list_tasks(
    #[server(default)] status: Option<String>,
    #[server(default)] from: Option<String>,
    #[server(default)] until: Option<String>,
    #[server(default)] time_zone: Option<String>,
    #[server(default)] after: Option<String>,
) -> Result<TaskPage, AppError> {
    serve(|caller| async move {
        caller.require(Role::Marketer).await?;
        let zone = parse_zone(time_zone.as_deref().unwrap_or("Asia/Shanghai"))?;
        let day = |field: &str, raw: Option<String>| -> Result<_, AppError> {
            let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
                return Ok(None);
            };
            let date = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
                .map_err(|_| AppError::field(field, crate::tr!(records.errors.date_format)))?;
            Ok(zone
                .from_local_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default())
                .earliest()
                .map(|t| t.with_timezone(&Utc)))
        };
        let mut errors = FieldErrors::default();
        let from = errors.check(day("from", from));
        let until =
            errors.check(day("until", until).map(|d| d.map(|d| d + chrono::Duration::days(1))));
        let status = errors.check(match status.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(raw) => TaskStatus::parse(raw)
                .map(Some)
                .ok_or_else(|| AppError::field("status", crate::tr!(records.errors.choose_status))),
        });
        let after = errors.check(match after.as_deref() {
            None | Some("") => Ok(None),
            Some(raw) => parse_cursor(raw)
                .map(Some)
                .ok_or_else(|| AppError::field("after", crate::tr!(records.errors.broken_link))),
        });
        let (((from, until), status), after) =
            errors.finish(from.zip(until).zip(status).zip(after))?;
        let filter = TaskFilter {
            status,
            from,
            until,
            after,
        };
        let mut tasks = repo::list_tasks(caller.pool(), &filter, TASK_PAGE_SIZE + 1).await?;
        let next = (tasks.len() as i64 > TASK_PAGE_SIZE).then(|| {
            tasks.truncate(TASK_PAGE_SIZE as usize);
            tasks
                .last()
                .map(|t| format!("{}_{}", t.created_at.timestamp_micros(), t.id))
        });
        Ok(TaskPage {
            tasks,
            next: next.flatten(),
            available_units: crate::balance::ledger::available(
                &mut *caller.pool().acquire().await?,
            )
            .await?,
        })
    })
    .await
}

#[cfg(feature = "ssr")]
const TASK_PAGE_SIZE: i64 = 50;

#[cfg(feature = "ssr")]
fn parse_cursor(raw: &str) -> Option<(chrono::DateTime<Utc>, i64)> {
    let (micros, id) = raw.split_once('_')?;
    let at = chrono::DateTime::from_timestamp_micros(micros.parse().ok()?)?;
    Some((at, id.parse().ok()?))
}

#[server(endpoint = "get_task_detail")]
pub async fn get_task_detail(id: i64) -> Result<TaskDetail, AppError> {
    serve(|caller| async move {
        let user = caller.require(Role::Marketer).await?;
        service::readable_task(caller.pool(), &user, id).await?;
        repo::task(caller.pool(), id).await
    })
    .await
}

/// Cancel, pause or resume a task (`action` is `cancel`, `pause` or `resume`).
#[server(endpoint = "change_task")]
pub async fn change_task(id: i64, action: String) -> Result<(), AppError> {
    serve(|caller| async move {
        let user = caller.require(Role::Marketer).await?;
        let action = match action.as_str() {
            "cancel" => TaskAction::Cancel,
            "pause" => TaskAction::Pause,
            "resume" => TaskAction::Resume,
            _ => {
                return Err(AppError::field(
                    "action",
                    crate::tr!(records.errors.unknown_action),
                ))
            }
        };
        service::change_task(caller.pool(), &user, &caller.ip, id, action).await?;
        Ok(())
    })
    .await
}

/// The marketing window as the settings form shows it: `HH:MM` start and end, China time.
#[server(endpoint = "get_marketing_window")]
pub async fn get_marketing_window() -> Result<(String, String), AppError> {
    serve(|caller| async move {
        caller.require(Role::Admin).await?;
        let window = service::marketing_window(caller.pool()).await?;
        Ok((
            window.start.format("%H:%M").to_string(),
            window.end.format("%H:%M").to_string(),
        ))
    })
    .await
}

#[server(endpoint = "update_marketing_window")]
pub async fn update_marketing_window(start: String, end: String) -> Result<(), AppError> {
    serve(|caller| async move {
        let admin = caller.require(Role::Admin).await?;
        let window = super::model::MarketingWindow::parse(&start, &end)?;
        service::set_marketing_window(caller.pool(), &admin, &caller.ip, window).await
    })
    .await
}
