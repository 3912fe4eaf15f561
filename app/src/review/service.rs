//! Deciding a submission: one transaction changes its status, writes the audit record, tells the
//! submitter and queues the webhook event.

use serde_json::json;
use sqlx::PgConnection;

use super::model::{RejectionReason, ReviewStatus, Subject};
use super::repo::{self, Submission};
use crate::accounts::model::CurrentUser;
use crate::alerts::repo as alerts;
use crate::audit::repo::{record, AuditEvent};
use crate::error::AppError;
use crate::notifications::repo as notifications;

pub enum Decision {
    Approve,
    Reject(RejectionReason),
}

/// What a subject is called in a "not found" message, in the reader's language.
fn noun(subject: Subject) -> String {
    match subject {
        Subject::Signature => crate::tr!(review.signature),
        Subject::Template => crate::tr!(review.template),
    }
}

/// The application whose API key made the item (`None`: made in the console).
pub async fn owning_application(
    conn: &mut PgConnection,
    subject: Subject,
    id: i64,
) -> Result<Option<i64>, AppError> {
    repo::owning_application(conn, subject, id)
        .await?
        .ok_or_else(|| AppError::NotFound(noun(subject)))
}

/// Locks the item for a change and returns its review status, for the caller's transition.
pub async fn lock_status(
    conn: &mut PgConnection,
    subject: Subject,
    id: i64,
) -> Result<ReviewStatus, AppError> {
    let row = repo::lock_status(conn, subject, id)
        .await?
        .ok_or_else(|| AppError::NotFound(noun(subject)))?;
    ReviewStatus::from_stored(&row.status, row.review_reply)
}

/// Deletes a signature or template once the user has ticked the confirmation box.
pub async fn delete(
    pool: &sqlx::PgPool,
    ip: &str,
    user: &CurrentUser,
    subject: Subject,
    id: i64,
    confirmed: bool,
) -> Result<(), AppError> {
    if !confirmed {
        return Err(AppError::field(
            "confirm",
            crate::tr!(review.errors.confirm_delete),
        ));
    }
    delete_as(pool, Some(user), ip, subject, id, None).await
}

/// Deletes a signature or template no unfinished task uses, audited as `actor` (`None` with
/// the API key that asked, for the Tencent-compatible API).
pub async fn delete_as(
    pool: &sqlx::PgPool,
    actor: Option<&CurrentUser>,
    ip: &str,
    subject: Subject,
    id: i64,
    api_key: Option<i64>,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    // A task that has not finished still sends with it; its history keeps the text either way.
    if let Some(task) = repo::unfinished_task(&mut tx, subject, id).await? {
        return Err(AppError::Conflict(match subject {
            Subject::Signature => crate::tr!(review.errors.in_use_signature, task),
            Subject::Template => crate::tr!(review.errors.in_use_template, task),
        }));
    }
    let title = repo::delete(&mut tx, subject, id)
        .await?
        .ok_or_else(|| AppError::NotFound(noun(subject)))?;
    let action = format!("{}.delete", subject.as_str());
    let mut details = json!({ "title": title });
    if let Some(key) = api_key {
        details["api_key_id"] = json!(key);
    }
    record(
        &mut *tx,
        AuditEvent {
            actor,
            ip,
            action: &action,
            object_type: subject.as_str(),
            object_id: Some(id.to_string()),
            details,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn decide(
    pool: &sqlx::PgPool,
    ip: &str,
    reviewer: &CurrentUser,
    subject: Subject,
    id: i64,
    decision: Decision,
) -> Result<ReviewStatus, AppError> {
    let mut tx = pool.begin().await?;
    let row = repo::lock_submission(&mut tx, subject, id).await?;
    let Submission {
        status,
        review_reply: reply,
        submitted_by,
        title,
    } = row.ok_or_else(|| AppError::NotFound(noun(subject)))?;
    if submitted_by == reviewer.id {
        return Err(AppError::Conflict(crate::tr!(review.errors.own_submission)));
    }
    let current = ReviewStatus::from_stored(&status, reply)?;
    let next = match decision {
        Decision::Approve => current.approve()?,
        Decision::Reject(reason) => current.reject(reason)?,
    };
    let (stored, reply) = next.to_stored();
    repo::set_review(&mut tx, subject, id, stored, reply, reviewer.id).await?;

    let verb = if reply.is_some() { "reject" } else { "approve" };
    let action = format!("{}.{verb}", subject.as_str());
    let details = json!({ "title": title, "reason": reply });
    record(
        &mut *tx,
        AuditEvent::by(reviewer, ip, &action, subject.as_str(), id, details),
    )
    .await?;

    // In the submitter's language, who reads it, not the reviewer's.
    let locale = crate::accounts::repo::locale_of(&mut *tx, submitted_by)
        .await?
        .unwrap_or_default();
    let subject_name = subject.name(locale);
    let headline = match &next {
        ReviewStatus::Rejected { .. } => crate::i18n::td_string!(
            locale,
            notice.rejected,
            subject = subject_name,
            title = &title
        )
        .to_string(),
        _ => crate::i18n::td_string!(
            locale,
            notice.approved,
            subject = subject_name,
            title = &title
        )
        .to_string(),
    };
    notifications::notify(
        &mut tx,
        submitted_by,
        &headline,
        reply.unwrap_or(""),
        Some(&subject.owner_path(id)),
    )
    .await?;
    alerts::enqueue_event(
        &mut tx,
        "review.decided",
        json!({
            "subject": subject.as_str(),
            "id": id.to_string(),
            "title": title,
            "status_code": next.status_code(),
            "status": next.label(),
            "review_reply": reply,
            "reviewer": reviewer.email,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(next)
}
