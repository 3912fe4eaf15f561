use leptos::prelude::*;

use super::model::QueueItem;
use crate::error::AppError;
#[cfg(feature = "ssr")]
use {
    super::model::{RejectionReason, Subject},
    super::service::{decide, Decision},
    crate::accounts::model::Role,
    crate::state::serve,
};

/// Pending signatures and templates, oldest first.
#[server(endpoint = "review_queue")]
pub async fn review_queue() -> Result<Vec<QueueItem>, AppError> {
    serve(|caller| async move {
        caller.require(Role::Admin).await?;
        // Postgres cannot see through the UNION that every column is present: each branch
        // selects NOT NULL columns over inner joins.
        let rows = sqlx::query!(
            r#"SELECT kind AS "kind!", id AS "id!", title AS "title!", email AS "email!",
                      submitted_at AS "submitted_at!: chrono::DateTime<chrono::Utc>",
                      floor(extract(epoch FROM now() - submitted_at) / 60)::bigint AS "minutes!"
                 FROM (SELECT 'signature' AS kind, s.id, s.content AS title, u.email, s.updated_at AS submitted_at
                         FROM signatures s JOIN users u ON u.id = s.submitted_by WHERE s.status = 'pending'
                       UNION ALL
                       SELECT 'template', t.id, t.name, u.email, t.updated_at
                         FROM templates t JOIN users u ON u.id = t.submitted_by WHERE t.status = 'pending') q
                ORDER BY submitted_at, kind, id"#
        )
        .fetch_all(caller.pool())
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(QueueItem {
                    subject: Subject::parse(&r.kind)
                        .ok_or_else(|| AppError::internal(format!("queue kind {}", r.kind)))?,
                    id: r.id,
                    title: r.title,
                    submitted_by: r.email,
                    submitted_at: r.submitted_at,
                    waiting_minutes: r.minutes,
                })
            })
            .collect()
    })
    .await
}

#[server(endpoint = "approve_submission")]
pub async fn approve_submission(subject: String, id: i64) -> Result<(), AppError> {
    serve(|caller| async move {
        let admin = caller.require(Role::Admin).await?;
        let subject = Subject::parse(&subject)
            .ok_or_else(|| AppError::NotFound(crate::tr!(review.submission_noun)))?;
        decide(
            caller.pool(),
            &caller.ip,
            &admin,
            subject,
            id,
            Decision::Approve,
        )
        .await?;
        leptos_axum::redirect("/review");
        Ok(())
    })
    .await
}

#[server(endpoint = "reject_submission")]
pub async fn reject_submission(subject: String, id: i64, reason: String) -> Result<(), AppError> {
    serve(|caller| async move {
        let admin = caller.require(Role::Admin).await?;
        let subject = Subject::parse(&subject)
            .ok_or_else(|| AppError::NotFound(crate::tr!(review.submission_noun)))?;
        let reason = RejectionReason::parse(&reason)?;
        decide(
            caller.pool(),
            &caller.ip,
            &admin,
            subject,
            id,
            Decision::Reject(reason),
        )
        .await?;
        leptos_axum::redirect("/review");
        Ok(())
    })
    .await
}
