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
        #[allow(clippy::type_complexity)]
        let row: Option<(String, Option<String>, i32, i32, i32, i32, i32, i64)> = sqlx::query_as(
            "SELECT status, status_reason, recipients, sent, refused, delivered, failed, units_used
               FROM tasks WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(caller.pool())
        .await?;
        let (status, status_reason, recipients, sent, refused, delivered, failed, units_used) =
            row.ok_or_else(|| AppError::NotFound("Task".into()))?;
        Ok(TaskProgress {
            id,
            status: TaskStatus::parse(&status)
                .ok_or_else(|| AppError::internal(format!("task status {status}")))?,
            status_reason,
            recipients: recipients.into(),
            sent: sent.into(),
            refused: refused.into(),
            delivered: delivered.into(),
            failed: failed.into(),
            units_used,
            as_of: chrono::Utc::now(),
        })
    })
    .await
}
