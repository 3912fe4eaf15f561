// A server function takes one argument per form field; the signature form simply has many.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use super::model::Signature;
use crate::error::AppError;
#[cfg(feature = "ssr")]
use {
    super::model::{SignKind, SignPurpose, SignatureName},
    super::repo::{self, SignatureDraft},
    crate::accounts::model::Role,
    crate::apps::model::optional_text,
    crate::audit::repo::{record, AuditEvent},
    crate::error::FieldErrors,
    crate::review::model::Subject,
    crate::review::service::lock_status,
    crate::state::{serve, Caller},
    serde_json::json,
};

#[server(endpoint = "list_signatures")]
pub async fn list_signatures() -> Result<Vec<Signature>, AppError> {
    serve(|caller| async move {
        caller.require(Role::Operator).await?;
        repo::list(caller.pool()).await
    })
    .await
}

/// Operators manage signatures; admins read them to review.
#[server(endpoint = "get_signature")]
pub async fn get_signature(id: i64) -> Result<Signature, AppError> {
    serve(|caller| async move {
        caller.require_any(&[Role::Operator, Role::Admin]).await?;
        repo::get(caller.pool(), id).await
    })
    .await
}

#[cfg(feature = "ssr")]
async fn parse_draft(
    caller: &Caller,
    purpose: &str,
    sign_type: &str,
    document_type: &str,
    content: &str,
    international: &Option<String>,
    remark: &str,
    certificate_id: &str,
    authorisation_id: &str,
) -> Result<SignatureDraft, AppError> {
    let certificate_id = document_id(caller, certificate_id).await?;
    let authorisation_id = document_id(caller, authorisation_id).await?;
    draft_from(
        purpose,
        sign_type,
        document_type,
        content,
        international.is_some(),
        remark,
        certificate_id,
        authorisation_id,
    )
}

/// A signature as submitted, checked field by field, its documents already stored (the
/// console's form and the API's AddSmsSign / ModifySmsSign alike).
#[cfg(feature = "ssr")]
pub(crate) fn draft_from(
    purpose: &str,
    sign_type: &str,
    document_type: &str,
    content: &str,
    international: bool,
    remark: &str,
    certificate_id: Option<i64>,
    authorisation_id: Option<i64>,
) -> Result<SignatureDraft, AppError> {
    let mut errors = FieldErrors::default();
    let content = errors.check(SignatureName::parse(content));
    let purpose = errors.check(
        purpose
            .parse()
            .ok()
            .and_then(SignPurpose::from_code)
            .ok_or_else(|| AppError::field("purpose", crate::tr!(signature.errors.choose_purpose))),
    );
    let kind = errors.check(SignKind::parse(sign_type, document_type));
    let remark = errors.check(optional_text("remark", remark, 500));
    let certificate_id = errors.check(certificate_id.ok_or_else(|| {
        AppError::field(
            "certificate",
            crate::tr!(signature.errors.certificate_first),
        )
    }));
    if purpose == Some(SignPurpose::ThirdParty) && authorisation_id.is_none() {
        errors.check::<()>(Err(AppError::field(
            "authorisation",
            crate::tr!(signature.errors.authorisation_needed),
        )));
    }
    let draft = (|| {
        Some(SignatureDraft {
            content: content?,
            purpose: purpose?,
            kind: kind?,
            international,
            remark: remark?,
            certificate_id: certificate_id?,
            authorisation_id: authorisation_id.filter(|_| purpose == Some(SignPurpose::ThirdParty)),
        })
    })();
    errors.finish(draft)
}

/// An uploaded document's id from a hidden field; blank or unknown means none.
#[cfg(feature = "ssr")]
async fn document_id(caller: &Caller, raw: &str) -> Result<Option<i64>, AppError> {
    match raw.trim().parse::<i64>() {
        Ok(id) if repo::document_exists(caller.pool(), id).await? => Ok(Some(id)),
        _ => Ok(None),
    }
}

#[cfg(feature = "ssr")]
pub(crate) fn audit_details(draft: &SignatureDraft) -> serde_json::Value {
    json!({
        "content": draft.content.as_str(),
        "purpose": draft.purpose.code(),
        "sign_type": draft.kind.sign_type.code(),
        "document_type": draft.kind.document_type.code(),
        "certificate_id": draft.certificate_id,
        "authorisation_id": draft.authorisation_id,
    })
}

#[server(endpoint = "create_signature")]
pub async fn create_signature(
    purpose: String,
    sign_type: String,
    document_type: String,
    content: String,
    international: Option<String>,
    remark: String,
    certificate_id: String,
    authorisation_id: String,
) -> Result<(), AppError> {
    serve(|caller| async move {
        let user = caller.require(Role::Operator).await?;
        let draft = parse_draft(
            &caller,
            &purpose,
            &sign_type,
            &document_type,
            &content,
            &international,
            &remark,
            &certificate_id,
            &authorisation_id,
        )
        .await?;
        let mut tx = caller.pool().begin().await?;
        let id = repo::insert(&mut tx, &draft, user.id, None).await?;
        record(
            &mut *tx,
            AuditEvent::by(
                &user,
                &caller.ip,
                "signature.submit",
                "signature",
                id,
                audit_details(&draft),
            ),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect(&format!("/signatures/{id}"));
        Ok(())
    })
    .await
}

#[server(endpoint = "update_signature")]
pub async fn update_signature(
    id: i64,
    purpose: String,
    sign_type: String,
    document_type: String,
    content: String,
    international: Option<String>,
    remark: String,
    certificate_id: String,
    authorisation_id: String,
) -> Result<(), AppError> {
    serve(|caller| async move {
        let user = caller.require(Role::Operator).await?;
        let draft = parse_draft(
            &caller,
            &purpose,
            &sign_type,
            &document_type,
            &content,
            &international,
            &remark,
            &certificate_id,
            &authorisation_id,
        )
        .await?;
        let mut tx = caller.pool().begin().await?;
        lock_status(&mut tx, Subject::Signature, id).await?.edit()?;
        repo::resubmit(&mut tx, id, &draft, user.id).await?;
        record(
            &mut *tx,
            AuditEvent::by(
                &user,
                &caller.ip,
                "signature.resubmit",
                "signature",
                id,
                audit_details(&draft),
            ),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect(&format!("/signatures/{id}"));
        Ok(())
    })
    .await
}

#[server(endpoint = "delete_signature")]
pub async fn delete_signature(id: i64, confirm: Option<String>) -> Result<(), AppError> {
    serve(|caller| async move {
        let user = caller.require(Role::Operator).await?;
        crate::review::service::delete(
            caller.pool(),
            &caller.ip,
            &user,
            Subject::Signature,
            id,
            confirm.is_some(),
        )
        .await?;
        leptos_axum::redirect("/signatures");
        Ok(())
    })
    .await
}
