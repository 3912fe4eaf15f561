//! `DescribeSmsSignList` of the Tencent-compatible API.

use serde_json::{json, Value};
use sqlx::PgPool;

use crate::tencent::api::{choose, ApiError};

pub async fn describe(pool: &PgPool, request: &Value) -> Result<Value, ApiError> {
    let all = super::repo::list(pool).await?;
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
