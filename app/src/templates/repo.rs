use sqlx::{PgConnection, PgPool};

use super::model::{ContentPolicy, SmsType, Template, TemplateContent};
use crate::accounts::model::Label;
use crate::error::AppError;
use crate::review::model::ReviewStatus;

struct Row {
    id: i64,
    name: String,
    sms_type: i16,
    content: String,
    international: bool,
    remark: String,
    status: String,
    review_reply: Option<String>,
    submitted_by: String,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
}

impl TryFrom<Row> for Template {
    type Error = AppError;

    fn try_from(r: Row) -> Result<Self, AppError> {
        Ok(Template {
            id: r.id,
            name: r.name,
            sms_type: SmsType::from_code(r.sms_type)
                .ok_or_else(|| AppError::internal(format!("stored sms_type {}", r.sms_type)))?,
            content: r.content,
            international: r.international,
            remark: r.remark,
            status: ReviewStatus::from_stored(&r.status, r.review_reply)?,
            submitted_by: r.submitted_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

// `list` and `get` read the same columns; a change to one belongs in both.
pub async fn list(pool: &PgPool) -> Result<Vec<Template>, AppError> {
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT t.id, t.name, t.sms_type, t.content, t.international, t.remark, t.status,
                t.review_reply, u.email AS submitted_by,
                t.created_at AS "created_at: chrono::DateTime<chrono::Utc>",
                t.updated_at AS "updated_at: chrono::DateTime<chrono::Utc>"
           FROM templates t JOIN users u ON u.id = t.submitted_by
          ORDER BY t.id DESC"#
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(Template::try_from).collect()
}

pub async fn get(pool: &PgPool, id: i64) -> Result<Template, AppError> {
    let row = sqlx::query_as!(
        Row,
        r#"SELECT t.id, t.name, t.sms_type, t.content, t.international, t.remark, t.status,
                t.review_reply, u.email AS submitted_by,
                t.created_at AS "created_at: chrono::DateTime<chrono::Utc>",
                t.updated_at AS "updated_at: chrono::DateTime<chrono::Utc>"
           FROM templates t JOIN users u ON u.id = t.submitted_by
          WHERE t.id = $1"#,
        id
    )
    .fetch_optional(pool)
    .await?;
    row.ok_or_else(|| AppError::NotFound(crate::tr!(review.template)))?
        .try_into()
}

pub async fn policy(pool: &PgPool) -> Result<ContentPolicy, AppError> {
    let organisation = sqlx::query!("SELECT unsubscribe_phrases, verified FROM organisation")
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| AppError::NotFound(crate::tr!(template.organisation)))?;
    Ok(ContentPolicy {
        unsubscribe_phrases: organisation.unsubscribe_phrases,
        organisation_verified: organisation.verified,
    })
}

/// A template's fields as submitted for review.
pub struct TemplateDraft {
    pub name: Label,
    pub sms_type: SmsType,
    pub content: TemplateContent,
    pub international: bool,
    pub remark: String,
}

/// Submits a new item for review; `application` is the application whose API key submitted it
/// (`None` in the console).
pub async fn insert(
    conn: &mut PgConnection,
    draft: &TemplateDraft,
    submitted_by: i64,
    application: Option<i64>,
) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar!(
        "INSERT INTO templates (name, sms_type, content, international, remark, submitted_by,
                                application_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        draft.name.as_str(),
        draft.sms_type.code(),
        draft.content.as_str(),
        draft.international,
        &draft.remark,
        submitted_by,
        application,
    )
    .fetch_one(conn)
    .await?)
}

/// Replaces the fields and sends the template back for review.
pub async fn resubmit(
    conn: &mut PgConnection,
    id: i64,
    draft: &TemplateDraft,
    submitted_by: i64,
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE templates
            SET name = $2, sms_type = $3, content = $4, international = $5, remark = $6,
                submitted_by = $7, status = 'pending', review_reply = NULL,
                reviewed_by = NULL, reviewed_at = NULL, updated_at = now()
          WHERE id = $1",
        id,
        draft.name.as_str(),
        draft.sms_type.code(),
        draft.content.as_str(),
        draft.international,
        &draft.remark,
        submitted_by,
    )
    .execute(conn)
    .await?;
    Ok(())
}
