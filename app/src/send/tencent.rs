//! `SendSms` of the Tencent-compatible API: reads the request, answers each number's status, and
//! leaves checking, recording and billing to the send service.
//!
//! Refused per number (inside a successful response): an unreadable number, an opted-out
//! number, a frequency limit. Refused as a whole: anything about the request itself (its
//! application, signature, template, variables, size, region, balance, marketing hours).

use serde_json::{json, Value};

use super::service::{record, units_per_message, Request};
use crate::dispatch::model::message_key;
use crate::error::ApiError;
use crate::numbers::PhoneNumber;
use crate::review::model::ReviewStatus;
use crate::templates::model::{SmsType, Template, TemplateContent};
use crate::tencent::api::{
    phone_number_set, require_own_application, required_id, text_field, text_list, ApiContext,
};

/// `SessionContext` must be shorter than this, in bytes.
const SESSION_CONTEXT_BYTES: usize = 512;

/// One number of the request and what became of it.
enum Outcome {
    /// Recorded; `Ok` once the engine may send it, else refused with a code.
    Recorded {
        phone: PhoneNumber,
        message_id: i64,
        refused: Option<&'static str>,
    },
    /// Not a number Herald can send to: never recorded.
    Unreadable { raw: String },
}

pub async fn send(context: &ApiContext<'_>, request: &Value) -> Result<Value, ApiError> {
    require_own_application(context, request)?;
    let pool = context.pool;
    let numbers = phone_number_set(request)?;
    let session_context = text_field(request, "SessionContext")?.unwrap_or_default();
    if session_context.len() >= SESSION_CONTEXT_BYTES {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!("SessionContext must be shorter than {SESSION_CONTEXT_BYTES} bytes."),
        ));
    }
    let template = approved_template(context, request).await?;
    let signature = signature_for(context, request, &template).await?;
    let params = text_list(request, "TemplateParamSet")?;
    let content = TemplateContent::from_stored(template.content.clone());
    if params.len() != content.param_count() {
        return Err(ApiError::new(
            "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
            format!(
                "TemplateParamSet holds {} values; template {} has {} placeholders.",
                params.len(),
                template.id,
                content.param_count()
            ),
        ));
    }
    let parsed: Vec<Result<PhoneNumber, String>> = numbers
        .iter()
        .map(|raw| PhoneNumber::parse(raw).map_err(|_| raw.clone()))
        .collect();
    let valid = || parsed.iter().filter_map(|p| p.as_ref().ok());
    if valid().any(PhoneNumber::is_mainland) && valid().any(|p| !p.is_mainland()) {
        return Err(ApiError::new(
            "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber",
            "Send mainland and international numbers in separate requests.",
        ));
    }
    let units = match valid().next() {
        Some(first) => units_per_message(&template, &signature.1, first, &params)?,
        None => 0,
    };
    if template.sms_type == SmsType::Marketing {
        if !crate::templates::repo::policy(pool)
            .await?
            .organisation_verified
        {
            return Err(ApiError::new(
                "UnauthorizedOperation.IndividualUserMarketingSmsPermissionDeny",
                "Only verified organisation accounts may send marketing SMS.",
            ));
        }
        let window = crate::campaigns::service::marketing_window(pool).await?;
        if !window.contains_now() {
            return Err(ApiError::new(
                "FailedOperation.MarketingSendTimeConstraint",
                format!(
                    "Marketing SMS go out between {} and {} China time.",
                    window.start.format("%H:%M"),
                    window.end.format("%H:%M")
                ),
            ));
        }
    }

    let phones: Vec<String> = valid().map(|p| p.as_str().to_owned()).collect();
    if phones.is_empty() {
        let set: Vec<Value> = parsed
            .iter()
            .filter_map(|p| p.as_ref().err())
            .map(|raw| {
                status_json(
                    &Outcome::Unreadable { raw: raw.clone() },
                    0,
                    session_context,
                )
            })
            .collect();
        return Ok(json!({ "SendStatusSet": set }));
    }
    let recorded = record(
        pool,
        context.limiter,
        &Request {
            application_id: context.caller.application_id,
            api_key_id: Some(context.caller.key_id),
            acting_user: context.caller.acting_user,
            template: &template,
            signature: &signature,
            params: &params,
            units,
            session_context,
            content_key: crate::limits::content_key(&signature.1, &template.content, &params),
        },
        &phones,
    )
    .await?;
    let (ids, refused) = (recorded.ids, recorded.refused);
    let mut recorded = ids.iter().zip(valid());
    let outcomes: Vec<Outcome> = parsed
        .iter()
        .map(|p| match p {
            Ok(_) => {
                let (id, phone) = recorded.next().expect("one id per valid number");
                Outcome::Recorded {
                    phone: phone.clone(),
                    message_id: *id,
                    refused: refused.get(id).copied(),
                }
            }
            Err(raw) => Outcome::Unreadable { raw: raw.clone() },
        })
        .collect();
    let set: Vec<Value> = outcomes
        .iter()
        .map(|o| status_json(o, units, session_context))
        .collect();
    Ok(json!({ "SendStatusSet": set }))
}

fn status_json(outcome: &Outcome, units: i64, session_context: &str) -> Value {
    match outcome {
        Outcome::Recorded {
            phone,
            message_id,
            refused: None,
        } => json!({
            "SerialNo": message_key(*message_id),
            "PhoneNumber": phone.as_str(),
            "Fee": units,
            "SessionContext": session_context,
            "Code": "Ok",
            "Message": "send success",
            "IsoCode": phone.iso_code(),
        }),
        Outcome::Recorded {
            phone,
            refused: Some(code),
            ..
        } => json!({
            "SerialNo": "",
            "PhoneNumber": phone.as_str(),
            "Fee": 0,
            "SessionContext": session_context,
            "Code": code,
            "Message": crate::receipts::model::describe(code).0,
            "IsoCode": phone.iso_code(),
        }),
        Outcome::Unreadable { raw } => json!({
            "SerialNo": "",
            "PhoneNumber": raw,
            "Fee": 0,
            "SessionContext": session_context,
            "Code": "InvalidParameterValue.IncorrectPhoneNumber",
            "Message": "This is not a mobile number Herald can send to.",
            "IsoCode": "DEF",
        }),
    }
}

async fn approved_template(
    context: &ApiContext<'_>,
    request: &Value,
) -> Result<Template, ApiError> {
    let id = required_id(request, "TemplateId")?;
    match crate::templates::repo::get(context.pool, id).await {
        Ok(t) if t.status == ReviewStatus::Approved => Ok(t),
        Ok(_) | Err(crate::error::AppError::NotFound(_)) => Err(ApiError::new(
            "FailedOperation.TemplateIncorrectOrUnapproved",
            format!("Template {id} does not exist or is not approved."),
        )),
        Err(err) => Err(err.into()),
    }
}

/// The approved signature `SignName` names, as (id, content). Mainland templates need one;
/// international messages go out without.
async fn signature_for(
    context: &ApiContext<'_>,
    request: &Value,
    template: &Template,
) -> Result<(Option<i64>, String), ApiError> {
    let name = text_field(request, "SignName")?
        .map(str::trim)
        .unwrap_or_default();
    if name.is_empty() {
        return if template.international {
            Ok((None, String::new()))
        } else {
            Err(ApiError::new(
                "FailedOperation.SignatureIncorrectOrUnapproved",
                "SignName is required for mainland numbers.",
            ))
        };
    }
    let id = crate::signatures::repo::approved_id(context.pool, name)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                "FailedOperation.SignatureIncorrectOrUnapproved",
                format!("No approved signature is called “{name}”."),
            )
        })?;
    Ok((Some(id), name.to_owned()))
}
