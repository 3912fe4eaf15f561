//! Herald's Tencent Cloud SMS API (version 2021-01-11): the request checks every action shares
//! (headers, version, TC3 signature, timestamp window, the key and its application) and the
//! response envelope. Actions live with their domains and are routed in `call`.

use serde_json::{json, Value};
use sqlx::PgPool;

use super::tc3::Credential;
use crate::apps::keys;
use crate::error::ApiError;
use crate::limits::store::Limiter;
use crate::secrets::SecretBox;

pub const VERSION: &str = "2021-01-11";
/// Requests signed further than this from the server's clock are refused (replays).
pub const TIMESTAMP_WINDOW_SECONDS: i64 = 300;

pub fn success(request_id: &str, mut fields: Value) -> Value {
    if let Some(map) = fields.as_object_mut() {
        map.insert("RequestId".into(), Value::String(request_id.to_owned()));
    }
    json!({ "Response": fields })
}

pub fn failure(request_id: &str, error: &ApiError) -> Value {
    json!({ "Response": {
        "Error": { "Code": error.code, "Message": error.message },
        "RequestId": request_id,
    } })
}

/// Who is calling: the key that signed the request and its application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiCaller {
    pub key_id: i64,
    pub application_id: i64,
    pub sdk_app_id: i64,
    /// The user the key acts for (see `keys::Credential::acting_user`).
    pub acting_user: Option<i64>,
}

/// What an action runs with: the database, the frequency limits and who is calling.
pub struct ApiContext<'a> {
    pub pool: &'a PgPool,
    pub limiter: &'a Limiter,
    pub caller: ApiCaller,
    /// The client's address, for the audit log.
    pub ip: &'a str,
}

/// Checks a request's headers and signature. `header` looks a header up by lower-case name.
pub async fn authenticate(
    pool: &PgPool,
    secrets: &SecretBox,
    header: impl Fn(&str) -> Option<String>,
    body: &[u8],
    now: i64,
) -> Result<(ApiCaller, String), ApiError> {
    let required = |name: &'static str| {
        header(name)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| {
                ApiError::new("MissingParameter", format!("The {name} header is missing."))
            })
    };
    let action = required("x-tc-action")?;
    let version = required("x-tc-version")?;
    let timestamp = required("x-tc-timestamp")?;
    let authorization = required("authorization")?;
    if version != VERSION {
        return Err(ApiError::new(
            "NoSuchVersion",
            format!("The API version `{version}` does not exist; use {VERSION}."),
        ));
    }
    let timestamp: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| ApiError::new("InvalidParameter", "X-TC-Timestamp must be Unix seconds."))?;
    let credential = Credential::parse(&authorization).ok_or_else(|| {
        ApiError::new(
            "AuthFailure.InvalidAuthorization",
            "The Authorization header is not a TC3-HMAC-SHA256 authorization.",
        )
    })?;
    if (now - timestamp).abs() > TIMESTAMP_WINDOW_SECONDS {
        return Err(ApiError::new(
            "AuthFailure.SignatureExpire",
            format!("The request was signed at {timestamp}, more than 5 minutes from the server time {now}."),
        ));
    }
    let key = keys::credential(pool, secrets, &credential.secret_id)
        .await?
        .filter(|k| !k.revoked)
        .ok_or_else(|| {
            ApiError::new(
                "AuthFailure.SecretIdNotFound",
                "The SecretId does not exist or was revoked.",
            )
        })?;
    if !credential.verifies(&key.secret_key, timestamp, &header, body) {
        return Err(ApiError::new(
            "AuthFailure.SignatureFailure",
            "The request signature does not match. Check the SecretKey and how the request is signed.",
        ));
    }
    if !key.application_enabled {
        return Err(ApiError::new(
            "UnauthorizedOperation.SdkAppIdIsDisabled",
            "This application is disabled.",
        ));
    }
    keys::touch(pool, key.key_id).await?;
    Ok((
        ApiCaller {
            key_id: key.key_id,
            application_id: key.application_id,
            sdk_app_id: key.sdk_app_id,
            acting_user: key.acting_user,
        },
        action,
    ))
}

/// What a Describe action lists: the items named by `id_field` (at most 100), or a page by
/// `Limit` / `Offset`; either way only mainland or only international ones (`International`).
pub fn choose<'a, T>(
    all: &'a [T],
    request: &Value,
    id_field: &'static str,
    id: fn(&T) -> i64,
    is_international: fn(&T) -> bool,
) -> Result<Vec<&'a T>, ApiError> {
    let wanted = international(request)?;
    let in_region = |item: &&T| is_international(item) == wanted;
    Ok(match id_set(request, id_field)? {
        Some(ids) => ids
            .iter()
            .filter_map(|i| all.iter().find(|item| id(item) == *i))
            .filter(in_region)
            .collect(),
        None => {
            let (limit, offset) = page(request)?;
            let mut matching: Vec<&T> = all.iter().filter(in_region).collect();
            matching.sort_by_key(|item| id(item));
            matching
                .into_iter()
                .skip(offset as usize)
                .take(limit as usize)
                .collect()
        }
    })
}

/// `Limit` / `Offset` or an id set of at most 100, as the Describe actions take them.
fn id_set(request: &Value, field: &'static str) -> Result<Option<Vec<i64>>, ApiError> {
    let Some(set) = request.get(field) else {
        return Ok(None);
    };
    let ids: Option<Vec<i64>> = set
        .as_array()
        .map(|a| a.iter().map(Value::as_i64).collect())
        .unwrap_or(None);
    let ids = ids.ok_or_else(|| {
        ApiError::new(
            "InvalidParameter",
            format!("{field} must be a list of integers."),
        )
    })?;
    if ids.len() > 100 {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!("{field} holds at most 100 ids."),
        ));
    }
    Ok(Some(ids))
}

/// `Limit` (1–100) and `Offset`, required together when no id set is given.
fn page(request: &Value) -> Result<(i64, i64), ApiError> {
    let limit = request.get("Limit").and_then(Value::as_i64);
    let offset = request.get("Offset").and_then(Value::as_i64);
    match (limit, offset) {
        (Some(limit), Some(offset)) if (1..=100).contains(&limit) && offset >= 0 => {
            Ok((limit, offset))
        }
        (Some(_), Some(_)) => Err(ApiError::new(
            "InvalidParameterValue",
            "Limit is 1 to 100 and Offset at least 0.",
        )),
        _ => Err(ApiError::new(
            "MissingParameter",
            "Give an id set, or Limit and Offset.",
        )),
    }
}

/// `International`: 0 mainland, 1 international (required by the Describe and Add actions).
pub fn international(request: &Value) -> Result<bool, ApiError> {
    match request.get("International").and_then(Value::as_i64) {
        Some(0) => Ok(false),
        Some(1) => Ok(true),
        Some(_) => Err(ApiError::new(
            "InvalidParameterValue",
            "International is 0 or 1.",
        )),
        None => Err(ApiError::new(
            "MissingParameter",
            "International is required (0 or 1).",
        )),
    }
}

/// A request field Tencent defines as a string of digits (`SmsSdkAppId`, `TemplateId`); SDKs
/// send a string, hand-written callers often a number. `None` when absent.
pub fn id_field(request: &Value, field: &'static str) -> Result<Option<i64>, ApiError> {
    let invalid = || {
        ApiError::new(
            "InvalidParameterValue",
            format!("{field} must be a number written in digits."),
        )
    };
    match request.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(invalid),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| invalid()),
        Some(_) => Err(invalid()),
    }
}

/// A required id field (see `id_field`).
pub fn required_id(request: &Value, field: &'static str) -> Result<i64, ApiError> {
    id_field(request, field)?
        .ok_or_else(|| ApiError::new("MissingParameter", format!("{field} is required.")))
}

/// `Limit`, required, 1 to `max`.
pub fn required_limit(request: &Value, max: i64) -> Result<i64, ApiError> {
    match request.get("Limit").and_then(Value::as_i64) {
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::new(
            "InvalidParameterValue",
            format!("Limit is 1 to {max}."),
        )),
        None => Err(ApiError::new("MissingParameter", "Limit is required.")),
    }
}

/// A string field; `None` when absent or null.
pub fn text_field<'a>(
    request: &'a Value,
    field: &'static str,
) -> Result<Option<&'a str>, ApiError> {
    match request.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::new(
            "InvalidParameter",
            format!("{field} must be a string."),
        )),
    }
}

/// A list of strings; empty when absent.
pub fn text_list(request: &Value, field: &'static str) -> Result<Vec<String>, ApiError> {
    match request.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                ApiError::new(
                    "InvalidParameter",
                    format!("{field} must be a list of strings."),
                )
            }),
        Some(_) => Err(ApiError::new(
            "InvalidParameter",
            format!("{field} must be a list of strings."),
        )),
    }
}

/// Checks that `SmsSdkAppId` names the calling key's application: a key acts for its own
/// application only.
pub fn require_own_application(context: &ApiContext<'_>, request: &Value) -> Result<(), ApiError> {
    if required_id(request, "SmsSdkAppId")? != context.caller.sdk_app_id {
        return Err(ApiError::new(
            "InvalidParameterValue.SdkAppIdNotExist",
            "SmsSdkAppId does not name the application this SecretId belongs to.",
        ));
    }
    Ok(())
}

/// An hour written `yyyymmddhh` in China time (the statistics actions' `BeginTime` /
/// `EndTime`), as the instant it starts.
pub fn china_hour(
    request: &Value,
    field: &'static str,
) -> Result<chrono::DateTime<chrono::Utc>, ApiError> {
    use chrono::TimeZone;
    let invalid = || {
        ApiError::new(
            "InvalidParameterValue",
            format!("{field} is an hour written yyyymmddhh (China time)."),
        )
    };
    let raw = text_field(request, field)?
        .ok_or_else(|| ApiError::new("MissingParameter", format!("{field} is required.")))?;
    let hour = chrono::NaiveDateTime::parse_from_str(&format!("{raw}0000"), "%Y%m%d%H%M%S")
        .map_err(|_| invalid())?;
    chrono_tz::Asia::Shanghai
        .from_local_datetime(&hour)
        .single()
        .map(|at| at.with_timezone(&chrono::Utc))
        .ok_or_else(invalid)
}

/// `BeginTime` and `EndTime` (both hours included), at most `max_days` apart.
pub fn hour_range(
    request: &Value,
    max_days: i64,
) -> Result<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>), ApiError> {
    let (begin, end) = (
        china_hour(request, "BeginTime")?,
        china_hour(request, "EndTime")?,
    );
    if end < begin || end - begin > chrono::Duration::days(max_days) {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!("EndTime must not be before BeginTime, and at most {max_days} days after it."),
        ));
    }
    Ok((begin, end))
}

/// Tencent's most numbers per request.
pub const MAX_NUMBERS: usize = 200;

/// `PhoneNumberSet` as written: 1 to `MAX_NUMBERS` strings.
pub fn phone_number_set(request: &Value) -> Result<Vec<String>, ApiError> {
    let numbers = text_list(request, "PhoneNumberSet")?;
    if numbers.is_empty() {
        return Err(ApiError::new(
            "MissingParameter.EmptyPhoneNumberSet",
            "PhoneNumberSet holds no number.",
        ));
    }
    if numbers.len() > MAX_NUMBERS {
        return Err(ApiError::new(
            "LimitExceeded.PhoneNumberCountLimit",
            format!(
                "PhoneNumberSet holds {} numbers; at most {MAX_NUMBERS}.",
                numbers.len()
            ),
        ));
    }
    Ok(numbers)
}

/// A form's field errors as one API error, each field named as the request names it
/// (`names` maps the console's field names to Tencent's).
pub fn field_errors(err: crate::error::AppError, names: &[(&str, &'static str)]) -> ApiError {
    match err {
        crate::error::AppError::Invalid(fields) => ApiError::new(
            "InvalidParameterValue",
            fields
                .iter()
                .map(|f| {
                    let name = names
                        .iter()
                        .find(|(ours, _)| *ours == f.field)
                        .map_or(f.field.as_str(), |(_, theirs)| theirs);
                    format!("{name}: {}", f.message)
                })
                .collect::<Vec<_>>()
                .join(" "),
        ),
        other => other.into(),
    }
}

/// Refuses a change to a signature or template that this key's application did not make:
/// another application's, or one made in the console. An application's keys change only what
/// they submitted, so one application cannot delete what another sends with. An item that is
/// not there answers `missing_code`.
pub async fn made_by_caller(
    context: &ApiContext<'_>,
    conn: &mut sqlx::PgConnection,
    subject: crate::review::model::Subject,
    id: i64,
    missing_code: &'static str,
) -> Result<(), ApiError> {
    let owner = crate::review::service::owning_application(conn, subject, id)
        .await
        .map_err(|err| missing(err, missing_code, subject.label(), id))?;
    if owner == Some(context.caller.application_id) {
        return Ok(());
    }
    Err(ApiError::new(
        "UnauthorizedOperation.RequestPermissionDeny",
        format!(
            "{} {id} was not submitted with this application's keys; change it in the console or with the keys that submitted it.",
            subject.label()
        ),
    ))
}

/// The user an API change to a signature or template is submitted as (see
/// `ApiCaller::acting_user`); review needs a submitter.
pub fn submitter(context: &ApiContext<'_>) -> Result<i64, ApiError> {
    context.caller.acting_user.ok_or_else(|| {
        ApiError::new(
            "UnauthorizedOperation.RequestPermissionDeny",
            "This key's application was not created by a console user; create the key in the console to submit for review.",
        )
    })
}

/// An audit entry for a change made through the API: no signed-in actor, the key named.
pub fn audit_event<'a>(
    context: &'a ApiContext<'_>,
    action: &'a str,
    object_type: &'a str,
    id: i64,
    mut details: Value,
) -> crate::audit::repo::AuditEvent<'a> {
    details["api_key_id"] = json!(context.caller.key_id);
    crate::audit::repo::AuditEvent {
        actor: None,
        ip: context.ip,
        action,
        object_type,
        object_id: Some(id.to_string()),
        details,
    }
}

/// Tencent's answer when a Modify or Delete names nothing there is.
pub fn missing(err: crate::error::AppError, code: &'static str, what: &str, id: i64) -> ApiError {
    match err {
        crate::error::AppError::NotFound(_) => {
            ApiError::new(code, format!("{what} {id} does not exist."))
        }
        other => other.into(),
    }
}

/// `DeleteSmsTemplate` / `DeleteSmsSign`: deletes what nothing unfinished still sends with.
pub async fn delete_reviewed(
    context: &ApiContext<'_>,
    subject: crate::review::model::Subject,
    id: i64,
    missing_code: &'static str,
) -> Result<Value, ApiError> {
    made_by_caller(
        context,
        &mut *context.pool.acquire().await?,
        subject,
        id,
        missing_code,
    )
    .await?;
    crate::review::service::delete_as(
        context.pool,
        None,
        context.ip,
        subject,
        id,
        Some(context.caller.key_id),
    )
    .await
    .map_err(|err| missing(err, missing_code, subject.label(), id))?;
    Ok(json!({
        "DeleteStatus": "return successfully",
        "DeleteTime": chrono::Utc::now().timestamp(),
    }))
}
