//! The verification-code endpoint (`POST /verify` unless HERALD_VERIFY_PATH says otherwise),
//! called by login pages in browsers: the application's public key comes in the
//! `X-Herald-Key` header or as the last path segment; any origin may call it (the key can only
//! ask for a code to a number and check it).

use app::state::{AppState, ClientIp};
use app::verify::model::VerifyReply;
use app::verify::service::{handle as serve_request, Verifier};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

/// The seed's requests are a few dozen bytes.
pub const BODY_LIMIT: usize = 4 * 1024;

pub async fn handle(
    State(state): State<AppState>,
    axum::Extension(ClientIp(ip)): axum::Extension<ClientIp>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let key = headers
        .get("x-herald-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    answer(&state, &ip, &key, &body).await
}

pub async fn handle_with_path_key(
    State(state): State<AppState>,
    axum::Extension(ClientIp(ip)): axum::Extension<ClientIp>,
    Path(key): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    answer(&state, &ip, &key, &body).await
}

async fn answer(state: &AppState, ip: &str, key: &str, body: &[u8]) -> Response {
    let verifier = Verifier {
        pool: &state.pool,
        codes: &state.codes,
        keys: &state.verify_keys,
        writer: &state.code_writer,
        secrets: &state.secrets,
        ip,
        now: chrono::Utc::now().timestamp(),
    };
    let (status, reply) = match serve_request(&verifier, key, body).await {
        Ok(reply) => (StatusCode::OK, reply),
        Err(_) => (
            StatusCode::UNAUTHORIZED,
            VerifyReply::new(
                "AuthFailure.InvalidPublicKey",
                "Unknown public key: copy it from the application's page in the console.",
            ),
        ),
    };
    with_cors((status, Json(reply)).into_response())
}

/// Browsers ask before posting JSON from another origin.
pub async fn preflight() -> Response {
    let mut response = with_cors(StatusCode::NO_CONTENT.into_response());
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type, x-herald-key"),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("3600"),
    );
    response
}

fn with_cors(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}
