//! `DescribeSmsTemplateList` of the Tencent-compatible API.

use serde_json::{json, Value};
use sqlx::PgPool;

use crate::tencent::api::{choose, ApiError};

pub async fn describe(pool: &PgPool, request: &Value) -> Result<Value, ApiError> {
    let all = super::repo::list(pool).await?;
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
