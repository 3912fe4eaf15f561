//! The Tencent-compatible API's actions, each routed to its domain's handler.

use serde_json::Value;

use crate::error::ApiError;
use crate::tencent::api::ApiContext;

/// Runs one action (the caller is authenticated).
pub async fn call(
    context: &ApiContext<'_>,
    action: &str,
    request: &Value,
) -> Result<Value, ApiError> {
    let pool = context.pool;
    match action {
        "SendSms" => crate::send::tencent::send(context, request).await,
        "PullSmsSendStatus" => crate::receipts::tencent::pull(context, request).await,
        "PullSmsSendStatusByPhoneNumber" => {
            crate::receipts::tencent::by_phone_number(context, request).await
        }
        "DescribeSmsTemplateList" => crate::templates::tencent::describe(pool, request).await,
        "AddSmsTemplate" => crate::templates::tencent::add(context, request).await,
        "ModifySmsTemplate" => crate::templates::tencent::modify(context, request).await,
        "DeleteSmsTemplate" => crate::templates::tencent::delete(context, request).await,
        "SendStatusStatistics" => crate::stats::tencent::send_status(context, request).await,
        "CallbackStatusStatistics" => {
            crate::stats::tencent::callback_status(context, request).await
        }
        "SmsPackagesStatistics" => crate::balance::tencent::packages(context, request).await,
        "DescribePhoneNumberInfo" => crate::numbers::tencent::describe(request),
        "DescribeSmsSignList" => crate::signatures::tencent::describe(pool, request).await,
        "AddSmsSign" => crate::signatures::tencent::add(context, request).await,
        "ModifySmsSign" => crate::signatures::tencent::modify(context, request).await,
        "DeleteSmsSign" => crate::signatures::tencent::delete(context, request).await,
        _ => Err(ApiError::new(
            "InvalidAction",
            format!("The action `{action}` does not exist or is not available yet."),
        )),
    }
}
