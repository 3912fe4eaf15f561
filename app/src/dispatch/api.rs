// Server functions take each form field as an argument.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use super::model::TaskProgress;
use crate::error::AppError;
#[cfg(feature = "ssr")]
use {crate::accounts::model::Role, crate::campaigns::model::TaskStatus, crate::state::serve};

/// A task's counters as they are now, for the live progress display.
#[server(endpoint = "get_task_progress")]
pub async fn get_task_progress(id: i64) -> Result<TaskProgress, AppError> {
    serve(|caller| async move {
        let user = caller.require(Role::Marketer).await?;
        crate::campaigns::service::readable_task(caller.pool(), &user, id).await?;
        let task = sqlx::query!(
            "SELECT status, status_reason, recipients, sent, refused, delivered, failed, units_used
               FROM tasks WHERE id = $1",
            id,
        )
        .fetch_optional(caller.pool())
        .await?
        .ok_or_else(|| AppError::NotFound("Task".into()))?;
        let status = task.status;
        Ok(TaskProgress {
            id,
            status: TaskStatus::parse(&status)
                .ok_or_else(|| AppError::internal(format!("task status {status}")))?,
            status_reason: task.status_reason,
            recipients: task.recipients.into(),
            sent: task.sent.into(),
            refused: task.refused.into(),
            delivered: task.delivered.into(),
            failed: task.failed.into(),
            units_used: task.units_used,
            as_of: chrono::Utc::now(),
        })
    })
    .await
}
