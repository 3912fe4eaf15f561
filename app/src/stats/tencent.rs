//! `SendStatusStatistics` and `CallbackStatusStatistics` of the Tencent-compatible API, read
//! from the same counters as the console's statistics.

use serde_json::{json, Value};

use crate::error::ApiError;
use crate::receipts::model::{describe, FailureGroup};
use crate::tencent::api::{hour_range, require_own_application, ApiContext};

/// The longest period one call may cover (Tencent's limit).
const MAX_DAYS: i64 = 32;

/// The statistics counters of the caller's application over the request's hours.
struct Sums {
    units: i64,
    requests: i64,
    submitted: i64,
    receipts_ok: i64,
    receipts_fail: i64,
}

async fn sums(
    context: &ApiContext<'_>,
    request: &Value,
) -> Result<
    (
        Sums,
        chrono::DateTime<chrono::Utc>,
        chrono::DateTime<chrono::Utc>,
    ),
    ApiError,
> {
    require_own_application(context, request)?;
    let (begin, end) = hour_range(request, MAX_DAYS)?;
    let sums = sqlx::query_as!(
        Sums,
        r#"SELECT coalesce(sum(units), 0)::bigint AS "units!",
                coalesce(sum(requests), 0)::bigint AS "requests!",
                coalesce(sum(submitted), 0)::bigint AS "submitted!",
                coalesce(sum(receipts_ok), 0)::bigint AS "receipts_ok!",
                coalesce(sum(receipts_fail), 0)::bigint AS "receipts_fail!"
           FROM stats_hourly WHERE application_id = $1 AND hour BETWEEN $2 AND $3"#,
        context.caller.application_id,
        begin as _,
        end as _,
    )
    .fetch_one(context.pool)
    .await?;
    Ok((sums, begin, end))
}

/// `SendStatusStatistics`: requests, successful submissions and billed units in the hours.
pub async fn send_status(context: &ApiContext<'_>, request: &Value) -> Result<Value, ApiError> {
    let (sums, _, _) = sums(context, request).await?;
    Ok(json!({ "SendStatusStatistics": {
        "FeeCount": sums.units,
        "RequestCount": sums.requests,
        "RequestSuccessCount": sums.submitted,
    } }))
}

/// `CallbackStatusStatistics`: receipts in the hours, and failures by Tencent's groups (for
/// the tasks started in the period: failures are counted per task).
pub async fn callback_status(context: &ApiContext<'_>, request: &Value) -> Result<Value, ApiError> {
    let (sums, begin, end) = sums(context, request).await?;
    // A group has at least one row, so its sum is never null. `$3` is typed: untyped,
    // `$3 + interval` would be read as an interval.
    let failures = sqlx::query!(
        r#"SELECT f.code, sum(f.messages)::bigint AS "messages!"
           FROM tasks t JOIN task_failures f ON f.task_id = t.id
          WHERE t.application_id = $1 AND t.created_at >= $2
            AND t.created_at < $3::timestamptz + interval '1 hour'
          GROUP BY f.code"#,
        context.caller.application_id,
        begin as _,
        end as _,
    )
    .fetch_all(context.pool)
    .await?;
    let in_group = |group: FailureGroup| -> i64 {
        failures
            .iter()
            .filter(|f| describe(&f.code).1 == group)
            .map(|f| f.messages)
            .sum()
    };
    Ok(json!({ "CallbackStatusStatistics": {
        "CallbackCount": sums.receipts_ok + sums.receipts_fail,
        "RequestSuccessCount": sums.submitted,
        "CallbackFailCount": sums.receipts_fail,
        "CallbackSuccessCount": sums.receipts_ok,
        "InternalErrorCount": in_group(FailureGroup::InternalError),
        "InvalidNumberCount": in_group(FailureGroup::InvalidNumber),
        "ShutdownErrorCount": in_group(FailureGroup::Shutdown),
        "BlackListCount": in_group(FailureGroup::Blacklist),
        "FrequencyLimitCount": in_group(FailureGroup::FrequencyLimit),
    } }))
}
