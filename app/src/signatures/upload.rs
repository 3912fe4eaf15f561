//! Storing uploaded certificates and authorisation letters. The HTTP side (multipart, limits)
//! is in the server; this decides what is acceptable and stores all or nothing.

use serde_json::json;
use sqlx::PgPool;

use super::model::check_document;
use super::repo;
use crate::accounts::model::CurrentUser;
use crate::audit::repo::{record, AuditEvent};
use crate::error::{AppError, FieldErrors};

pub struct UploadedFile {
    /// `certificate` or `authorisation`.
    pub field: &'static str,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct StoredDocuments {
    pub certificate: Option<i64>,
    pub authorisation: Option<i64>,
}

/// Checks every file first (size, then real type), so a bad one stores nothing at all.
pub async fn store(
    pool: &PgPool,
    user: &CurrentUser,
    ip: &str,
    files: Vec<UploadedFile>,
) -> Result<StoredDocuments, AppError> {
    let mut errors = FieldErrors::default();
    let checked: Vec<_> = files
        .into_iter()
        .filter(|f| !(f.field == "authorisation" && f.bytes.is_empty()))
        .filter_map(|f| {
            errors
                .check(check_document(f.field, &f.bytes))
                .map(|format| (f, format))
        })
        .collect();
    errors.into_result()?;
    if !checked.iter().any(|(f, _)| f.field == "certificate") {
        return Err(AppError::field(
            "certificate",
            crate::tr!(signature.errors.choose_certificate),
        ));
    }
    let mut stored = StoredDocuments::default();
    let mut tx = pool.begin().await?;
    for (file, format) in &checked {
        let id =
            repo::insert_document(&mut tx, *format, &file.bytes, &file.file_name, user.id).await?;
        let details = json!({ "field": file.field, "media_type": format.media_type(), "bytes": file.bytes.len() });
        record(
            &mut *tx,
            AuditEvent::by(user, ip, "document.upload", "document", id, details),
        )
        .await?;
        match file.field {
            "certificate" => stored.certificate = Some(id),
            _ => stored.authorisation = Some(id),
        }
    }
    tx.commit().await?;
    Ok(stored)
}
