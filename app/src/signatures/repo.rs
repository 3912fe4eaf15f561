use sqlx::{PgConnection, PgPool};

use super::model::{
    DocumentFormat, DocumentType, SignKind, SignPurpose, SignType, Signature, SignatureName,
};
use crate::error::AppError;
use crate::review::model::ReviewStatus;

struct Row {
    id: i64,
    content: String,
    purpose: i16,
    sign_type: i16,
    document_type: i16,
    international: bool,
    remark: String,
    certificate_id: i64,
    certificate_type: String,
    authorisation_id: Option<i64>,
    status: String,
    review_reply: Option<String>,
    submitted_by: String,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
}

impl TryFrom<Row> for Signature {
    type Error = AppError;

    fn try_from(r: Row) -> Result<Self, AppError> {
        let corrupt = |what: &str| {
            AppError::internal(format!("signature {}: stored {what} is unknown", r.id))
        };
        Ok(Signature {
            id: r.id,
            content: r.content.clone(),
            purpose: SignPurpose::from_code(r.purpose).ok_or_else(|| corrupt("purpose"))?,
            sign_type: SignType::from_code(r.sign_type).ok_or_else(|| corrupt("sign_type"))?,
            document_type: DocumentType::from_code(r.document_type)
                .ok_or_else(|| corrupt("document_type"))?,
            international: r.international,
            remark: r.remark,
            certificate_id: r.certificate_id,
            certificate_format: DocumentFormat::from_media_type(&r.certificate_type)
                .ok_or_else(|| corrupt("certificate media type"))?,
            authorisation_id: r.authorisation_id,
            status: ReviewStatus::from_stored(&r.status, r.review_reply)?,
            submitted_by: r.submitted_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

// `list` and `get` read the same columns; a change to one belongs in both.
pub async fn list(pool: &PgPool) -> Result<Vec<Signature>, AppError> {
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT s.id, s.content, s.purpose, s.sign_type, s.document_type, s.international,
                s.remark, s.certificate_id, d.media_type AS certificate_type, s.authorisation_id,
                s.status, s.review_reply, u.email AS submitted_by,
                s.created_at AS "created_at: chrono::DateTime<chrono::Utc>",
                s.updated_at AS "updated_at: chrono::DateTime<chrono::Utc>"
           FROM signatures s JOIN users u ON u.id = s.submitted_by
           JOIN documents d ON d.id = s.certificate_id
          ORDER BY s.id DESC"#
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(Signature::try_from).collect()
}

pub async fn get(pool: &PgPool, id: i64) -> Result<Signature, AppError> {
    let row = sqlx::query_as!(
        Row,
        r#"SELECT s.id, s.content, s.purpose, s.sign_type, s.document_type, s.international,
                s.remark, s.certificate_id, d.media_type AS certificate_type, s.authorisation_id,
                s.status, s.review_reply, u.email AS submitted_by,
                s.created_at AS "created_at: chrono::DateTime<chrono::Utc>",
                s.updated_at AS "updated_at: chrono::DateTime<chrono::Utc>"
           FROM signatures s JOIN users u ON u.id = s.submitted_by
           JOIN documents d ON d.id = s.certificate_id
          WHERE s.id = $1"#,
        id
    )
    .fetch_optional(pool)
    .await?;
    row.ok_or_else(|| AppError::NotFound(crate::tr!(review.signature)))?
        .try_into()
}

/// Contents of approved signatures: the only ones that may appear on a message.
pub async fn approved_names(pool: &PgPool) -> Result<Vec<String>, AppError> {
    Ok(sqlx::query_scalar!(
        "SELECT content FROM signatures WHERE status = 'approved' ORDER BY content"
    )
    .fetch_all(pool)
    .await?)
}

/// Approved signatures as (id, content), for a form's choice.
pub async fn approved_choices(pool: &PgPool) -> Result<Vec<(i64, String)>, AppError> {
    Ok(sqlx::query!(
        "SELECT id, content FROM signatures WHERE status = 'approved' ORDER BY id DESC"
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|s| (s.id, s.content))
    .collect())
}

/// The approved signature with this content, if there is one.
pub async fn approved_id(pool: &PgPool, content: &str) -> Result<Option<i64>, AppError> {
    Ok(sqlx::query_scalar!(
        "SELECT id FROM signatures WHERE status = 'approved' AND content = $1",
        content
    )
    .fetch_optional(pool)
    .await?)
}

/// A signature's fields as submitted for review.
pub struct SignatureDraft {
    pub content: SignatureName,
    pub purpose: SignPurpose,
    pub kind: SignKind,
    pub international: bool,
    pub remark: String,
    pub certificate_id: i64,
    pub authorisation_id: Option<i64>,
}

fn duplicate_content(err: sqlx::Error) -> AppError {
    match &err {
        sqlx::Error::Database(db) if db.constraint() == Some("signatures_live_content_key") => {
            AppError::field("content", crate::tr!(signature.errors.content_taken))
        }
        _ => err.into(),
    }
}

/// Submits a new item for review; `application` is the application whose API key submitted it
/// (`None` in the console).
pub async fn insert(
    conn: &mut PgConnection,
    draft: &SignatureDraft,
    submitted_by: i64,
    application: Option<i64>,
) -> Result<i64, AppError> {
    sqlx::query_scalar!(
        "INSERT INTO signatures (content, purpose, sign_type, document_type, international, remark,
                                 certificate_id, authorisation_id, submitted_by, application_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        draft.content.as_str(),
        draft.purpose.code(),
        draft.kind.sign_type.code(),
        draft.kind.document_type.code(),
        draft.international,
        &draft.remark,
        draft.certificate_id,
        draft.authorisation_id,
        submitted_by,
        application,
    )
    .fetch_one(conn)
    .await
    .map_err(duplicate_content)
}

pub async fn resubmit(
    conn: &mut PgConnection,
    id: i64,
    draft: &SignatureDraft,
    submitted_by: i64,
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE signatures
            SET content = $2, purpose = $3, sign_type = $4, document_type = $5, international = $6,
                remark = $7, certificate_id = $8, authorisation_id = $9, submitted_by = $10,
                status = 'pending', review_reply = NULL, reviewed_by = NULL, reviewed_at = NULL,
                updated_at = now()
          WHERE id = $1",
        id,
        draft.content.as_str(),
        draft.purpose.code(),
        draft.kind.sign_type.code(),
        draft.kind.document_type.code(),
        draft.international,
        &draft.remark,
        draft.certificate_id,
        draft.authorisation_id,
        submitted_by,
    )
    .execute(conn)
    .await
    .map_err(duplicate_content)?;
    Ok(())
}

pub async fn insert_document(
    conn: &mut PgConnection,
    format: DocumentFormat,
    bytes: &[u8],
    file_name: &str,
    uploaded_by: i64,
) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar!(
        "INSERT INTO documents (media_type, bytes, file_name, uploaded_by) VALUES ($1, $2, $3, $4) RETURNING id",
        format.media_type(),
        bytes,
        file_name.chars().take(200).collect::<String>(),
        uploaded_by,
    )
    .fetch_one(conn)
    .await?)
}

pub async fn document_exists(pool: &PgPool, id: i64) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM documents WHERE id = $1) AS "exists!""#,
        id
    )
    .fetch_one(pool)
    .await?)
}

pub async fn document(pool: &PgPool, id: i64) -> Result<(DocumentFormat, Vec<u8>), AppError> {
    let row = sqlx::query!("SELECT media_type, bytes FROM documents WHERE id = $1", id)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| AppError::NotFound(crate::tr!(signature.errors.document)))?;
    let media_type = row.media_type;
    let format = DocumentFormat::from_media_type(&media_type)
        .ok_or_else(|| AppError::internal(format!("document {id} has media type {media_type}")))?;
    Ok((format, row.bytes))
}
