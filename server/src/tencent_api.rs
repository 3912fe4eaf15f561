//! The Tencent Cloud SMS API endpoint (`POST /` unless HERALD_TENCENT_API_PATH says otherwise):
//! every answer is HTTP 200 with Tencent's envelope, success or error.

use app::error::ApiError;
use app::routes::tencent::call;
use app::state::{AppState, ClientIp};
use app::tencent::api::{authenticate, failure, success, ApiContext};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde_json::Value;

/// Tencent's own limit on a request body.
pub const BODY_LIMIT: usize = 1024 * 1024;

pub async fn handle(
    State(state): State<AppState>,
    axum::Extension(ClientIp(ip)): axum::Extension<ClientIp>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Json<Value> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let outcome = async {
        let now = chrono::Utc::now().timestamp();
        let (caller, action) =
            authenticate(&state.pool, &state.secrets, header, &body, now).await?;
        tracing::debug!(sdk_app_id = caller.sdk_app_id, action, "Tencent API call");
        let request: Value = serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                "InvalidParameter",
                format!("The body is not valid JSON: {e}"),
            )
        })?;
        if !request.is_object() {
            return Err(ApiError::new(
                "InvalidParameter",
                "The body must be a JSON object.",
            ));
        }
        let context = ApiContext {
            pool: &state.pool,
            limiter: &state.limiter,
            caller,
            ip: &ip,
        };
        call(&context, &action, &request).await
    };
    Json(match outcome.await {
        Ok(fields) => success(&request_id, fields),
        Err(err) => failure(&request_id, &err),
    })
}
