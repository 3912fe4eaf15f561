//! The template actions of the Tencent-compatible API: DescribeSmsTemplateList, and
//! AddSmsTemplate / ModifySmsTemplate / DeleteSmsTemplate, which enter the same review queue as
//! the console's form.

use serde_json::{json, Value};
use sqlx::PgPool;

use super::model::SmsType;
use super::repo::{self, TemplateDraft};
use crate::audit::repo::{record, AuditEvent};
use crate::error::AppError;
use crate::review::model::Subject;
use crate::review::service::lock_status;
use crate::tencent::api::{choose, required_id, text_field, ApiContext, ApiError};

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
fn tencent_field(field: &str) -> &str {
    match field {
        "name" => "TemplateName",
        "content" => "TemplateContent",
        "sms_type" => "SmsType",
        "remark" => "Remark",
        other => other,
    }
}

/// A draft's field errors in one message, named as the request names them.
fn draft_error(err: AppError) -> ApiError {
    match err {
        AppError::Invalid(fields) => ApiError::new(
            "InvalidParameterValue",
            fields
                .iter()
                .map(|f| format!("{}: {}", tencent_field(&f.field), f.message))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        other => other.into(),
    }
}

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
    let international = match request.get("International").and_then(Value::as_i64) {
        Some(0) => None,
        Some(1) => Some("on".to_owned()),
        _ => {
            return Err(ApiError::new(
                "InvalidParameterValue",
                "International is 0 or 1.",
            ))
        }
    };
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
    .map_err(draft_error)
}

/// Whom an API change is recorded against: the key's user (templates need a submitter).
fn submitter(context: &ApiContext<'_>) -> Result<i64, ApiError> {
    context.caller.acting_user.ok_or_else(|| {
        ApiError::new(
            "UnauthorizedOperation.RequestPermissionDeny",
            "This key belongs to an application nobody created in the console; create a key there to submit templates.",
        )
    })
}

fn audit<'a>(
    context: &'a ApiContext<'_>,
    action: &'a str,
    id: i64,
    draft: &TemplateDraft,
) -> AuditEvent<'a> {
    let mut details = super::api::audit_details(draft);
    details["api_key_id"] = json!(context.caller.key_id);
    AuditEvent {
        actor: None,
        ip: context.ip,
        action,
        object_type: "template",
        object_id: Some(id.to_string()),
        details,
    }
}

/// `AddSmsTemplate`: submits a template for review, like the console's form.
pub async fn add(context: &ApiContext<'_>, request: &Value) -> Result<Value, ApiError> {
    let draft = draft(context, request).await?;
    let submitted_by = submitter(context)?;
    let mut tx = context.pool.begin().await?;
    let id = repo::insert(&mut tx, &draft, submitted_by).await?;
    record(&mut *tx, audit(context, "template.submit", id, &draft)).await?;
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
    lock_status(&mut tx, Subject::Template, id)
        .await
        .map_err(|err| not_found(err, id))?
        .edit()
        .map_err(|_| {
            ApiError::new(
                "FailedOperation.TemplateAlreadyPassedCheck",
                "An approved template cannot be modified; add a new one.",
            )
        })?;
    repo::resubmit(&mut tx, id, &draft, submitted_by).await?;
    record(&mut *tx, audit(context, "template.resubmit", id, &draft)).await?;
    tx.commit().await?;
    Ok(json!({ "ModifyTemplateStatus": { "TemplateId": id } }))
}

/// `DeleteSmsTemplate`, refused while an unfinished task still sends with the template.
pub async fn delete(context: &ApiContext<'_>, request: &Value) -> Result<Value, ApiError> {
    let id = required_id(request, "TemplateId")?;
    crate::review::service::delete_as(
        context.pool,
        None,
        context.ip,
        Subject::Template,
        id,
        Some(context.caller.key_id),
    )
    .await
    .map_err(|err| not_found(err, id))?;
    Ok(json!({ "DeleteTemplateStatus": {
        "DeleteStatus": "return successfully",
        "DeleteTime": chrono::Utc::now().timestamp(),
    } }))
}

fn not_found(err: AppError, id: i64) -> ApiError {
    match err {
        AppError::NotFound(_) => ApiError::new(
            "InvalidParameterValue.TemplateIdNotExist",
            format!("Template {id} does not exist."),
        ),
        other => other.into(),
    }
}
