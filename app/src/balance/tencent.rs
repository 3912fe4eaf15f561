//! `SmsPackagesStatistics` of the Tencent-compatible API: the organisation's packages and how
//! much of each is used. Packages belong to the organisation, so every application sees them.

use serde_json::{json, Value};

use super::model::SmsPackage;
use crate::error::ApiError;
use crate::tencent::api::{require_own_application, required_limit, ApiContext};

const MAX_LIMIT: i64 = 500;

/// Tencent writes these times as China-time text beside their Unix seconds.
fn china_text(at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

fn package_json(p: &SmsPackage) -> Value {
    let expires = p.expires_at.map(china_text).unwrap_or_default();
    let expires_unix = p.expires_at.map_or(0, |e| e.timestamp());
    json!({
        "PackageId": p.id,
        "PackageCreateTime": china_text(p.created_at),
        "PackageCreateUnixTime": p.created_at.timestamp(),
        "PackageEffectiveTime": china_text(p.effective_at),
        "PackageEffectiveUnixTime": p.effective_at.timestamp(),
        "PackageExpiredTime": expires,
        "PackageExpiredUnixTime": expires_unix,
        // The reference's names and the SDK models' names for the same two figures.
        "PackageAmount": p.amount,
        "AmountOfPackage": p.amount,
        "PackageType": p.package_type.code(),
        "TypeOfPackage": p.package_type.code(),
        "CurrentUsage": p.current_usage,
    })
}

/// `SmsPackagesStatistics`: packages newest first, paged by `Limit` / `Offset`.
pub async fn packages(context: &ApiContext<'_>, request: &Value) -> Result<Value, ApiError> {
    require_own_application(context, request)?;
    let limit = required_limit(request, MAX_LIMIT)?;
    let offset = request
        .get("Offset")
        .and_then(Value::as_i64)
        .unwrap_or(0)
        .max(0);
    let all = super::repo::list(context.pool).await?;
    let set: Vec<Value> = all
        .iter()
        .skip(offset as usize)
        .take(limit as usize)
        .map(package_json)
        .collect();
    Ok(json!({ "SmsPackagesStatisticsSet": set }))
}
