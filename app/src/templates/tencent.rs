//! The template actions of the Tencent-compatible API: DescribeSmsTemplateList, and
//! AddSmsTemplate / ModifySmsTemplate / DeleteSmsTemplate, which enter the same review queue as
//! the console's form.

use serde_json::{json, Value};
use sqlx::PgPool;

use super::model::SmsType;
use super::repo::{self, TemplateDraft};
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
    let set: Vec<Value> = choose(
        &all,
        request,
        "TemplateIdSet",
        |t| t.id,
        |t| t.international,
    )?
    .into_iter()
    .map(|t| {
        json!({
            "TemplateId": t.id,
            "International": i64::from(t.international),
            "StatusCode": t.status.status_code(),
            "ReviewReply": t.status.reason().unwrap_or_default(),
            "TemplateName": t.name,
            "CreateTime": t.created_at.timestamp(),
            "TemplateContent": t.content,
        })
    })
    .collect();
    Ok(json!({ "DescribeTemplateStatusSet": set }))
}

/// The console's field names as Tencent's request names them.
const FIELDS: [(&str, &str); 4] = [
    ("name", "TemplateName"),
    ("content", "TemplateContent"),
    ("sms_type", "SmsType"),
    ("remark", "Remark"),
];

/// Reads a template from AddSmsTemplate / ModifySmsTemplate fields. `SmsType` 0 (Tencent's
/// "regular SMS" before types were split) is taken as a notification.
async fn draft(context: &ApiContext<'_>, request: &Value) -> Result<TemplateDraft, ApiError> {
    let required = |field: &'static str| {
        text_field(request, field)?
            .ok_or_else(|| ApiError::new("MissingParameter", format!("{field} is required.")))
    };
    let name = required("TemplateName")?;
    let content = required("TemplateContent")?;
    let sms_type = match request.get("SmsType").and_then(Value::as_i64) {
        Some(0) => SmsType::Notification.code().to_string(),
        Some(code) => code.to_string(),
        None => return Err(ApiError::new("MissingParameter", "SmsType is required.")),
    };
    if sms_type == SmsType::Marketing.code().to_string()
        && !repo::policy(context.pool).await?.organisation_verified
    {
        return Err(ApiError::new(
            "UnauthorizedOperation.IndividualUserMarketingSmsPermissionDeny",
            "Only verified organisation accounts may submit marketing templates.",
        ));
    }
    let international = international(request)?.then(|| "on".to_owned());
    let remark = text_field(request, "Remark")?.unwrap_or_default();
    super::api::parse_draft(
        context.pool,
        name,
        &sms_type,
        content,
        &international,
        remark,
    )
    .await
    .map_err(|err| field_errors(err, &FIELDS))
}

/// `AddSmsTemplate`: submits a template for review, like the console's form.
pub async fn add(context: &ApiContext<'_>, request: &Value) -> Result<Value, ApiError> {
    let draft = draft(context, request).await?;
    let submitted_by = submitter(context)?;
    let mut tx = context.pool.begin().await?;
    let id = repo::insert(
        &mut tx,
        &draft,
        submitted_by,
        Some(context.caller.application_id),
    )
    .await?;
    let details = super::api::audit_details(&draft);
    record(
        &mut *tx,
        audit_event(context, "template.submit", "template", id, details),
    )
    .await?;
    tx.commit().await?;
    Ok(json!({ "AddTemplateStatus": { "TemplateId": id.to_string() } }))
}

/// `ModifySmsTemplate`: changes a template under review or rejected and sends it back for
/// review; an approved one cannot change.
pub async fn modify(context: &ApiContext<'_>, request: &Value) -> Result<Value, ApiError> {
    let id = required_id(request, "TemplateId")?;
    let draft = draft(context, request).await?;
    let submitted_by = submitter(context)?;
    let mut tx = context.pool.begin().await?;
    // Only an approved template refuses an edit.
    let status = lock_status(&mut tx, Subject::Template, id)
        .await
        .map_err(|err| missing(err, MISSING, "Template", id))?;
    made_by_caller(context, &mut tx, Subject::Template, id, MISSING).await?;
    status.edit().map_err(|_| {
        ApiError::new(
            "FailedOperation.TemplateAlreadyPassedCheck",
            "An approved template cannot be modified; add a new one.",
        )
    })?;
    repo::resubmit(&mut tx, id, &draft, submitted_by).await?;
    let details = super::api::audit_details(&draft);
    record(
        &mut *tx,
        audit_event(context, "template.resubmit", "template", id, details),
    )
    .await?;
    tx.commit().await?;
    Ok(json!({ "ModifyTemplateStatus": { "TemplateId": id } }))
}

/// `DeleteSmsTemplate`, refused while an unfinished task still sends with the template.
pub async fn delete(context: &ApiContext<'_>, request: &Value) -> Result<Value, ApiError> {
    let id = required_id(request, "TemplateId")?;
    let status = delete_reviewed(context, Subject::Template, id, MISSING).await?;
    Ok(json!({ "DeleteTemplateStatus": status }))
}

/// Tencent's code for a Modify or Delete of a template that is not there.
const MISSING: &str = "FailedOperation.MissingTemplateToModify";
