//! The review columns signatures and templates share. Each statement is written once per table,
//! so that both are checked against the schema when they compile.

use sqlx::PgConnection;

use super::model::Subject;
use crate::error::AppError;

/// A subject's stored review status.
pub struct StoredStatus {
    pub status: String,
    pub review_reply: Option<String>,
}

/// What deciding a subject reads of it: its status, who submitted it and what it is called.
pub struct Submission {
    pub status: String,
    pub review_reply: Option<String>,
    pub submitted_by: i64,
    pub title: String,
}

/// The application whose API key made the item: `None` when it does not exist, `Some(None)`
/// when it was made in the console.
pub async fn owning_application(
    conn: &mut PgConnection,
    subject: Subject,
    id: i64,
) -> Result<Option<Option<i64>>, AppError> {
    Ok(match subject {
        Subject::Signature => {
            sqlx::query_scalar!("SELECT application_id FROM signatures WHERE id = $1", id)
                .fetch_optional(conn)
                .await?
        }
        Subject::Template => {
            sqlx::query_scalar!("SELECT application_id FROM templates WHERE id = $1", id)
                .fetch_optional(conn)
                .await?
        }
    })
}

/// Locks the item for a change.
pub async fn lock_status(
    conn: &mut PgConnection,
    subject: Subject,
    id: i64,
) -> Result<Option<StoredStatus>, AppError> {
    Ok(match subject {
        Subject::Signature => {
            sqlx::query_as!(
                StoredStatus,
                "SELECT status, review_reply FROM signatures WHERE id = $1 FOR UPDATE",
                id
            )
            .fetch_optional(conn)
            .await?
        }
        Subject::Template => {
            sqlx::query_as!(
                StoredStatus,
                "SELECT status, review_reply FROM templates WHERE id = $1 FOR UPDATE",
                id
            )
            .fetch_optional(conn)
            .await?
        }
    })
}

/// A task that has not finished and still sends with the item, if any.
pub async fn unfinished_task(
    conn: &mut PgConnection,
    subject: Subject,
    id: i64,
) -> Result<Option<String>, AppError> {
    Ok(match subject {
        Subject::Signature => {
            sqlx::query_scalar!(
                "SELECT name FROM tasks WHERE signature_id = $1
                    AND status IN ('scheduled', 'sending', 'paused') LIMIT 1",
                id
            )
            .fetch_optional(conn)
            .await?
        }
        Subject::Template => {
            sqlx::query_scalar!(
                "SELECT name FROM tasks WHERE template_id = $1
                    AND status IN ('scheduled', 'sending', 'paused') LIMIT 1",
                id
            )
            .fetch_optional(conn)
            .await?
        }
    })
}

/// Deletes the item; answers what it was called, or `None` if there was none.
pub async fn delete(
    conn: &mut PgConnection,
    subject: Subject,
    id: i64,
) -> Result<Option<String>, AppError> {
    Ok(match subject {
        Subject::Signature => {
            sqlx::query_scalar!("DELETE FROM signatures WHERE id = $1 RETURNING content", id)
                .fetch_optional(conn)
                .await?
        }
        Subject::Template => {
            sqlx::query_scalar!("DELETE FROM templates WHERE id = $1 RETURNING name", id)
                .fetch_optional(conn)
                .await?
        }
    })
}

/// Locks the item for a decision.
pub async fn lock_submission(
    conn: &mut PgConnection,
    subject: Subject,
    id: i64,
) -> Result<Option<Submission>, AppError> {
    Ok(match subject {
        Subject::Signature => {
            sqlx::query_as!(
                Submission,
                "SELECT status, review_reply, submitted_by, content AS title
                   FROM signatures WHERE id = $1 FOR UPDATE",
                id
            )
            .fetch_optional(conn)
            .await?
        }
        Subject::Template => {
            sqlx::query_as!(
                Submission,
                "SELECT status, review_reply, submitted_by, name AS title
                   FROM templates WHERE id = $1 FOR UPDATE",
                id
            )
            .fetch_optional(conn)
            .await?
        }
    })
}

/// Stores a decision and who made it.
pub async fn set_review(
    conn: &mut PgConnection,
    subject: Subject,
    id: i64,
    status: &str,
    reply: Option<&str>,
    reviewer: i64,
) -> Result<(), AppError> {
    match subject {
        Subject::Signature => {
            sqlx::query!(
                "UPDATE signatures SET status = $2, review_reply = $3, reviewed_by = $4,
                        reviewed_at = now(), updated_at = now()
                  WHERE id = $1",
                id,
                status,
                reply,
                reviewer
            )
            .execute(conn)
            .await?;
        }
        Subject::Template => {
            sqlx::query!(
                "UPDATE templates SET status = $2, review_reply = $3, reviewed_by = $4,
                        reviewed_at = now(), updated_at = now()
                  WHERE id = $1",
                id,
                status,
                reply,
                reviewer
            )
            .execute(conn)
            .await?;
        }
    }
    Ok(())
}
