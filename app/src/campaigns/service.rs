//! Bulk task operations with their rules: what a file may be uploaded for, starting a task with
//! its fee reserved, and moving a task through its life.

use chrono::Utc;
use serde_json::json;
use sqlx::{PgConnection, PgPool};

use super::model::{MarketingWindow, TaskStatus};
use super::repo;
use super::rules::Source;
use super::schedule::SendTime;
use crate::accounts::model::{CurrentUser, Role};
use crate::audit::repo::{record, AuditEvent};
use crate::error::{AppError, FieldErrors};
use crate::review::model::ReviewStatus;
use crate::templates::model::{SmsType, TemplateContent};

fn id(field: &str, raw: &str, choose: fn() -> String) -> Result<i64, AppError> {
    raw.trim()
        .parse()
        .map_err(|_| AppError::field(field, choose()))
}

/// Checks the application, signature and template a file is for, each error on its field.
pub async fn source(
    pool: &PgPool,
    application: &str,
    signature: &str,
    template: &str,
) -> Result<Source, AppError> {
    let mut errors = FieldErrors::default();
    let app = errors.check(id("application_id", application, || {
        crate::tr!(bulk.errors.choose_application)
    }));
    let sig = errors.check(id("signature_id", signature, || {
        crate::tr!(bulk.errors.choose_signature)
    }));
    let tpl = errors.check(id("template_id", template, || {
        crate::tr!(bulk.errors.choose_template)
    }));
    let (app, (sig, tpl)) = errors.finish(app.zip(sig.zip(tpl)))?;

    let mut errors = FieldErrors::default();
    let app = crate::apps::repo::get(pool, app).await.and_then(|a| {
        if a.enabled {
            Ok(a)
        } else {
            Err(AppError::field(
                "application_id",
                crate::tr!(bulk.errors.application_disabled),
            ))
        }
    });
    let app = errors.check(app.map_err(|e| on_field(e, "application_id")));
    let sig = crate::signatures::repo::get(pool, sig).await.and_then(|s| {
        if s.status == ReviewStatus::Approved {
            Ok(s)
        } else {
            Err(AppError::field(
                "signature_id",
                crate::tr!(bulk.errors.signature_not_approved),
            ))
        }
    });
    let sig = errors.check(sig.map_err(|e| on_field(e, "signature_id")));
    let tpl = crate::templates::repo::get(pool, tpl).await.and_then(|t| {
        if t.status == ReviewStatus::Approved {
            Ok(t)
        } else {
            Err(AppError::field(
                "template_id",
                crate::tr!(bulk.errors.template_not_approved),
            ))
        }
    });
    let tpl = errors.check(tpl.map_err(|e| on_field(e, "template_id")));
    let (app, (sig, tpl)) = errors.finish(app.zip(sig.zip(tpl)))?;
    if sig.international != tpl.international {
        return Err(AppError::field(
            "template_id",
            crate::tr!(bulk.errors.region_mismatch),
        ));
    }
    if tpl.sms_type == SmsType::Marketing
        && !crate::templates::repo::policy(pool)
            .await?
            .organisation_verified
    {
        return Err(AppError::field(
            "template_id",
            crate::tr!(bulk.errors.marketing_unverified),
        ));
    }
    Ok(Source {
        application_id: app.id,
        signature_id: sig.id,
        signature: sig.content,
        template_id: tpl.id,
        template: TemplateContent::from_stored(tpl.content),
        sms_type: tpl.sms_type,
        international: tpl.international,
    })
}

/// A missing row reads as an error on the field that named it.
fn on_field(err: AppError, field: &str) -> AppError {
    match err {
        AppError::NotFound(what) => AppError::field(field, crate::tr!(bulk.errors.not_found, what)),
        other => other,
    }
}

pub async fn marketing_window(pool: &PgPool) -> Result<MarketingWindow, AppError> {
    sqlx::query_as!(
        MarketingWindow,
        r#"SELECT marketing_window_start AS "start: chrono::NaiveTime",
                  marketing_window_end AS "end: chrono::NaiveTime"
             FROM organisation"#,
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::NotFound("Organisation".into()))
}

pub async fn set_marketing_window(
    pool: &PgPool,
    admin: &CurrentUser,
    ip: &str,
    window: MarketingWindow,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "UPDATE organisation SET marketing_window_start = $1, marketing_window_end = $2, updated_at = now()",
        window.start as _,
        window.end as _,
    )
    .execute(&mut *tx)
    .await?;
    record(
        &mut *tx,
        AuditEvent::by(
            admin,
            ip,
            "organisation.marketing_window",
            "organisation",
            1,
            json!({ "start": window.start, "end": window.end }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A task as the confirmation form submits it.
pub struct NewTask {
    pub upload_id: i64,
    pub name: String,
    pub when: SendTime,
    /// The carrier to send through; the default carrier when `None`.
    pub carrier_id: Option<i64>,
}

/// Starts a task from a checked upload: reserves its units from the packages that expire first,
/// all in one transaction with the task and its audit entry.
pub async fn start_task(
    pool: &PgPool,
    user: &CurrentUser,
    ip: &str,
    task: NewTask,
) -> Result<i64, AppError> {
    let mut tx = pool.begin().await?;
    let upload = repo::lock_upload_for_task(&mut tx, task.upload_id, user.id).await?;
    if let Some(carrier) = task.carrier_id {
        let known = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM carriers WHERE id = $1) AS "known!""#,
            carrier,
        )
        .fetch_one(&mut *tx)
        .await?;
        if !known {
            return Err(AppError::field(
                "carrier_id",
                crate::tr!(bulk.errors.choose_carrier),
            ));
        }
    }
    let (status, send_at) = if task.when.now {
        (TaskStatus::Sending, Utc::now())
    } else {
        (TaskStatus::Scheduled, task.when.at)
    };
    let task_id = repo::insert_task(
        &mut tx,
        &upload,
        repo::NewTaskRow {
            name: &task.name,
            status,
            send_at,
            time_zone: task.when.zone.name(),
            carrier_id: task.carrier_id,
            created_by: user.id,
        },
    )
    .await?;
    crate::balance::ledger::reserve(&mut tx, task_id, upload.units).await?;
    crate::dispatch::queue::enqueue(&mut tx, task_id, upload.id).await?;
    record(
        &mut *tx,
        AuditEvent::by(
            user,
            ip,
            "task.create",
            "task",
            task_id,
            json!({
                "name": task.name,
                "recipients": upload.accepted,
                "units": upload.units,
                "send_at": send_at,
                "status": status.as_str(),
            }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(task_id)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskAction {
    Cancel,
    Pause,
    Resume,
}

/// What a console user means to do with a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskUse {
    /// Its records, progress, analytics and exports: Delivery Records is shared by marketers.
    Read,
    /// Pause, resume or cancel it: its creator's or an admin's decision.
    Change,
}

/// Lets `user` read or change a console task. Tasks of other origins (an application's API
/// sends, verification codes, alerts) answer as absent, so their ids and numbers do not leak
/// and their sending is not stopped from the console.
pub async fn console_task(
    conn: &mut PgConnection,
    user: &CurrentUser,
    task_id: i64,
    task_use: TaskUse,
) -> Result<(), AppError> {
    let creator = repo::console_task_creator(conn, task_id)
        .await?
        .ok_or_else(|| AppError::NotFound(crate::tr!(records.errors.task)))?;
    let may = match task_use {
        TaskUse::Read => user.has(Role::Marketer),
        TaskUse::Change => {
            user.has(Role::Admin) || (creator == user.id && user.has(Role::Marketer))
        }
    };
    if may {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Lets `user` read a console task (see `console_task`).
pub async fn readable_task(
    pool: &PgPool,
    user: &CurrentUser,
    task_id: i64,
) -> Result<(), AppError> {
    console_task(&mut *pool.acquire().await?, user, task_id, TaskUse::Read).await
}

/// Moves a task as its creator or an admin asks, refusing moves its state does not allow.
pub async fn change_task(
    pool: &PgPool,
    user: &CurrentUser,
    ip: &str,
    task_id: i64,
    action: TaskAction,
) -> Result<TaskStatus, AppError> {
    let mut tx = pool.begin().await?;
    console_task(&mut tx, user, task_id, TaskUse::Change).await?;
    let current = repo::lock_task_status(&mut tx, task_id).await?;
    let (next, name) = match action {
        TaskAction::Cancel => (current.cancel()?, "task.cancel"),
        TaskAction::Pause => (current.pause()?, "task.pause"),
        TaskAction::Resume => (current.resume()?, "task.resume"),
    };
    let released = if next == TaskStatus::Cancelled {
        crate::dispatch::queue::cancel_unsent(&mut tx, task_id).await?;
        crate::balance::ledger::release(&mut tx, task_id).await?
    } else {
        0
    };
    repo::set_task_status(&mut tx, task_id, next, released).await?;
    crate::dispatch::queue::notify(&mut tx).await?;
    record(
        &mut *tx,
        AuditEvent::by(
            user,
            ip,
            name,
            "task",
            task_id,
            json!({ "from": current.as_str(), "to": next.as_str(), "released_units": released }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(next)
}
