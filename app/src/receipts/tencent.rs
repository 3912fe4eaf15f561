//! `PullSmsSendStatus` and `PullSmsSendStatusByPhoneNumber` of the Tencent-compatible API: the
//! outcomes of an application's API-sent messages, pulled instead of (or beside) the receipt
//! callback. Pulling hands each outcome out once; looking a number up can be repeated.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::dispatch::model::message_key;
use crate::dispatch::model::MessageState;
use crate::error::ApiError;
use crate::numbers::PhoneNumber;
use crate::tencent::api::{require_own_application, required_limit, text_field, ApiContext};

/// Tencent's most statuses per call.
const MAX_LIMIT: i64 = 100;
/// How far back a number's statuses can be looked up.
const LOOKUP_DAYS: i64 = 7;
/// Statuses nobody pulled are dropped after this many days.
pub const KEEP_DAYS: i32 = 7;

/// One outcome as the Pull actions report it.
struct StatusRow {
    id: i64,
    phone: String,
    delivered: bool,
    code: String,
    done_at: DateTime<Utc>,
    session_context: String,
}

impl StatusRow {
    fn to_json(&self) -> Value {
        let phone = PhoneNumber::parse(&self.phone).ok();
        let (description, _) = super::model::describe(&self.code);
        json!({
            "UserReceiveTime": self.done_at.timestamp(),
            "CountryCode": phone.as_ref().map(PhoneNumber::country_code).unwrap_or_default(),
            "SubscriberNumber": phone.as_ref().map(|p| p.subscriber_number().to_owned()).unwrap_or_default(),
            "PhoneNumber": self.phone,
            "SerialNo": message_key(self.id),
            "ReportStatus": if self.delivered { "SUCCESS" } else { "FAIL" },
            "Description": if self.code.is_empty() { description } else { format!("{}: {description}", self.code) },
            "SessionContext": self.session_context,
        })
    }
}

/// `PullSmsSendStatus`: the oldest outcomes not yet pulled, each handed out once.
pub async fn pull(context: &ApiContext<'_>, request: &Value) -> Result<Value, ApiError> {
    require_own_application(context, request)?;
    let limit = required_limit(request, MAX_LIMIT)?;
    // Two callers pulling at once each get their own outcomes (SKIP LOCKED), never the same.
    let rows = sqlx::query_as!(
        StatusRow,
        r#"WITH taken AS (
             DELETE FROM status_outbox WHERE id IN (
                 SELECT id FROM status_outbox WHERE application_id = $1
                  ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
             RETURNING id AS outbox_id, message_id)
         SELECT m.id, m.phone, m.state = $3 AS "delivered!", coalesce(m.code, '') AS "code!",
                coalesce(m.done_at, now()) AS "done_at!: chrono::DateTime<chrono::Utc>",
                t.session_context
           FROM taken JOIN messages m ON m.id = taken.message_id JOIN tasks t ON t.id = m.task_id
          ORDER BY taken.outbox_id"#,
        context.caller.application_id,
        limit,
        MessageState::Delivered as _,
    )
    .fetch_all(context.pool)
    .await?;
    let set: Vec<Value> = rows.iter().map(StatusRow::to_json).collect();
    Ok(json!({ "PullSmsSendStatusSet": set }))
}

/// `PullSmsSendStatusByPhoneNumber`: one number's outcomes in a time range of the last week.
pub async fn by_phone_number(context: &ApiContext<'_>, request: &Value) -> Result<Value, ApiError> {
    require_own_application(context, request)?;
    let raw = text_field(request, "PhoneNumber")?
        .ok_or_else(|| ApiError::new("MissingParameter", "PhoneNumber is required."))?;
    let phone = PhoneNumber::parse(raw).map_err(|_| {
        ApiError::new(
            "InvalidParameterValue.IncorrectPhoneNumber",
            format!("“{raw}” is not a mobile number."),
        )
    })?;
    let seconds = |field: &'static str| {
        request
            .get(field)
            .and_then(Value::as_i64)
            .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0))
            .ok_or_else(|| {
                ApiError::new(
                    "MissingParameter",
                    format!("{field} is required (Unix seconds)."),
                )
            })
    };
    let (begin, end) = (seconds("BeginTime")?, seconds("EndTime")?);
    if end < begin || begin < Utc::now() - chrono::Duration::days(LOOKUP_DAYS) {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!("BeginTime must be within the last {LOOKUP_DAYS} days and not after EndTime."),
        ));
    }
    let offset = request
        .get("Offset")
        .and_then(Value::as_i64)
        .unwrap_or(0)
        .max(0);
    let rows = number_statuses(
        context.pool,
        context.caller.application_id,
        phone.as_str(),
        begin,
        end,
        required_limit(request, MAX_LIMIT)?,
        offset,
    )
    .await?;
    let set: Vec<Value> = rows.iter().map(StatusRow::to_json).collect();
    Ok(json!({ "PullSmsSendStatusSet": set }))
}

async fn number_statuses(
    pool: &PgPool,
    application_id: i64,
    phone: &str,
    begin: DateTime<Utc>,
    end: DateTime<Utc>,
    limit: i64,
    offset: i64,
) -> Result<Vec<StatusRow>, ApiError> {
    // Messages are found through their tasks (each task's messages lie in one id range), so the
    // lookup reads the application's tasks of the period, not the whole message table. A
    // receipt can come a day after its task started. The range on `done_at` leaves only
    // messages that have one. `$3` is typed where it first appears: untyped, `$3 - interval`
    // would be read as an interval.
    Ok(sqlx::query_as!(
        StatusRow,
        r#"SELECT m.id, m.phone, m.state = $7 AS "delivered!", coalesce(m.code, '') AS "code!",
                m.done_at AS "done_at!: chrono::DateTime<chrono::Utc>", t.session_context
           FROM tasks t
           JOIN messages m ON m.id BETWEEN t.first_message_id AND t.last_message_id
                          AND m.task_id = t.id
          WHERE t.application_id = $1
            AND t.created_at BETWEEN $3::timestamptz - interval '1 day' AND $4
            AND m.phone = $2 AND m.state IN ($7, $8) AND m.done_at BETWEEN $3 AND $4
          ORDER BY m.done_at, m.id
          LIMIT $5 OFFSET $6"#,
        application_id,
        phone,
        begin as _,
        end as _,
        limit,
        offset,
        MessageState::Delivered as _,
        MessageState::Failed as _,
    )
    .fetch_all(pool)
    .await?)
}

/// Drops outcomes nobody pulled within `KEEP_DAYS`.
pub async fn drop_stale_statuses(pool: &PgPool) -> Result<u64, crate::error::AppError> {
    Ok(sqlx::query!(
        "DELETE FROM status_outbox WHERE created_at < now() - make_interval(days => $1)",
        KEEP_DAYS,
    )
    .execute(pool)
    .await?
    .rows_affected())
}
