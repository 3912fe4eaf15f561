//! The signature actions of the Tencent-compatible API: DescribeSmsSignList, and AddSmsSign /
//! ModifySmsSign / DeleteSmsSign, which enter the same review queue as the console's form. The
//! proof images come base64-encoded in the request and are checked like uploaded files.

use base64::Engine as _;
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};

use super::model::check_document;
use super::repo::{self, SignatureDraft};
use crate::audit::repo::record;
use crate::error::ApiError;
use crate::review::model::Subject;
use crate::review::service::lock_status;
use crate::tencent::api::{
    audit_event, choose, delete_reviewed, field_errors, international, made_by_caller, missing,
    required_id, submitter, text_field, ApiContext,
};

pub async fn describe(pool: &PgPool, request: &Value) -> Result<Value, ApiError> {
    let all = repo::list(pool).await?;
    let set: Vec<Value> = choose(&all, request, "SignIdSet", |s| s.id, |s| s.international)?
        .into_iter()
        .map(|s| {
            json!({
                "SignId": s.id,
                "International": i64::from(s.international),
                "StatusCode": s.status.status_code(),
                "ReviewReply": s.status.reason().unwrap_or_default(),
                "SignName": s.content,
                "CreateTime": s.created_at.timestamp(),
            })
        })
        .collect();
    Ok(json!({ "DescribeSignListStatusSet": set }))
}

/// The console's field names as Tencent's request names them.
const FIELDS: [(&str, &str); 7] = [
    ("content", "SignName"),
    ("purpose", "SignPurpose"),
    ("sign_type", "SignType"),
    ("document_type", "DocumentType"),
    ("remark", "Remark"),
    ("certificate", "ProofImage"),
    ("authorisation", "CommissionImage"),
];

/// Tencent's code for a Modify or Delete of a signature that is not there.
const MISSING: &str = "FailedOperation.MissingSignatureToModify";

/// A base64 image field (a `data:` URL prefix is tolerated), checked as an upload would be.
fn image(
    request: &Value,
    field: &'static str,
    our_field: &'static str,
) -> Result<Option<(super::model::DocumentFormat, Vec<u8>)>, ApiError> {
    let Some(encoded) = text_field(request, field)?.filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    let encoded = encoded.split_once(',').map_or(encoded, |(_, data)| data);
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| ApiError::new("InvalidParameterValue", format!("{field} is not base64.")))?;
    let format = check_document(our_field, &bytes).map_err(|err| field_errors(err, &FIELDS))?;
    Ok(Some((format, bytes)))
}

/// Reads AddSmsSign / ModifySmsSign fields, storing the images in `conn`'s transaction.
async fn draft(
    conn: &mut PgConnection,
    request: &Value,
    submitted_by: i64,
) -> Result<SignatureDraft, ApiError> {
    let number = |field: &'static str| {
        request
            .get(field)
            .and_then(Value::as_i64)
            .map(|n| n.to_string())
            .ok_or_else(|| ApiError::new("MissingParameter", format!("{field} is required.")))
    };
    let name = text_field(request, "SignName")?
        .ok_or_else(|| ApiError::new("MissingParameter", "SignName is required."))?;
    let (purpose, sign_type, document_type) = (
        number("SignPurpose")?,
        number("SignType")?,
        number("DocumentType")?,
    );
    let international = international(request)?;
    let remark = text_field(request, "Remark")?.unwrap_or_default();
    let proof = image(request, "ProofImage", "certificate")?;
    let commission = image(request, "CommissionImage", "authorisation")?;
    let mut stored = Vec::new();
    for (file, name) in [(proof, "ProofImage"), (commission, "CommissionImage")] {
        stored.push(match file {
            Some((format, bytes)) => {
                Some(repo::insert_document(&mut *conn, format, &bytes, name, submitted_by).await?)
            }
            None => None,
        });
    }
    super::api::draft_from(
        &purpose,
        &sign_type,
        &document_type,
        name,
        international,
        remark,
        stored[0],
        stored[1],
    )
    .map_err(|err| field_errors(err, &FIELDS))
}

/// `AddSmsSign`: submits a signature with its proof for review, like the console's form.
pub async fn add(context: &ApiContext<'_>, request: &Value) -> Result<Value, ApiError> {
    let submitted_by = submitter(context)?;
    let mut tx = context.pool.begin().await?;
    let draft = draft(&mut tx, request, submitted_by).await?;
    let id = repo::insert(
        &mut tx,
        &draft,
        submitted_by,
        Some(context.caller.application_id),
    )
    .await
    .map_err(|err| field_errors(err, &FIELDS))?;
    let details = super::api::audit_details(&draft);
    record(
        &mut *tx,
        audit_event(context, "signature.submit", "signature", id, details),
    )
    .await?;
    tx.commit().await?;
    Ok(json!({ "AddSignStatus": { "SignId": id, "SignApplyId": id } }))
}

/// `ModifySmsSign`: changes a signature under review or rejected and sends it back for
/// review; an approved one cannot change.
pub async fn modify(context: &ApiContext<'_>, request: &Value) -> Result<Value, ApiError> {
    let id = required_id(request, "SignId")?;
    let submitted_by = submitter(context)?;
    let mut tx = context.pool.begin().await?;
    // Only an approved signature refuses an edit.
    let status = lock_status(&mut tx, Subject::Signature, id)
        .await
        .map_err(|err| missing(err, MISSING, "Signature", id))?;
    made_by_caller(context, &mut tx, Subject::Signature, id, MISSING).await?;
    status.edit().map_err(|_| {
        ApiError::new(
            "FailedOperation.SignAlreadyPassedCheck",
            "An approved signature cannot be modified; add a new one.",
        )
    })?;
    let draft = draft(&mut tx, request, submitted_by).await?;
    repo::resubmit(&mut tx, id, &draft, submitted_by)
        .await
        .map_err(|err| field_errors(err, &FIELDS))?;
    let details = super::api::audit_details(&draft);
    record(
        &mut *tx,
        audit_event(context, "signature.resubmit", "signature", id, details),
    )
    .await?;
    tx.commit().await?;
    Ok(json!({ "ModifySignStatus": { "SignId": id, "SignApplyId": id } }))
}

/// `DeleteSmsSign`, refused while an unfinished task still sends with the signature.
pub async fn delete(context: &ApiContext<'_>, request: &Value) -> Result<Value, ApiError> {
    let id = required_id(request, "SignId")?;
    let status = delete_reviewed(context, Subject::Signature, id, MISSING).await?;
    Ok(json!({ "DeleteSignStatus": status }))
}
