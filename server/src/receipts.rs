//! Delivery receipts from carriers, in Tencent's callback format: a JSON array posted to
//! `/receipts/{carrier id}/{carrier's receipt token}`, answered `{"result":0,"errmsg":"OK"}`.

use app::dispatch::model::id_from_key;
use app::dispatch::simulator::Receipt;
use app::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

pub const BODY_LIMIT: usize = 4 * 1024 * 1024;

fn answer(status: StatusCode, result: i64, errmsg: &str) -> Response {
    (status, Json(json!({ "result": result, "errmsg": errmsg }))).into_response()
}

/// Compares without leaking how much of the token matched.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

pub async fn receive(
    State(state): State<AppState>,
    Path((carrier, token)): Path<(i64, String)>,
    body: axum::body::Bytes,
) -> Response {
    let expected: Option<String> =
        match sqlx::query_scalar("SELECT receipt_token FROM carriers WHERE id = $1")
            .bind(carrier)
            .fetch_optional(&state.pool)
            .await
        {
            Ok(token) => token,
            Err(err) => {
                tracing::error!("receipt carrier lookup: {err}");
                return answer(StatusCode::SERVICE_UNAVAILABLE, 1, "try again");
            }
        };
    if !expected.is_some_and(|t| same(&t, &token)) {
        return answer(StatusCode::UNAUTHORIZED, 1, "unknown carrier or token");
    }
    let receipts: Vec<Receipt> = match serde_json::from_slice(&body) {
        Ok(receipts) => receipts,
        Err(err) => {
            return answer(
                StatusCode::BAD_REQUEST,
                1,
                &format!("bad receipt JSON: {err}"),
            )
        }
    };
    let mut parsed = Vec::with_capacity(receipts.len());
    let mut unknown = 0;
    for receipt in &receipts {
        // Carriers speaking Herald's protocols return serials that carry the message key.
        let key = receipt.sid.rsplit(['-', ':']).next().unwrap_or("");
        match id_from_key(key) {
            Some(id) => parsed.push((
                id,
                receipt.report_status == "SUCCESS",
                receipt.errmsg.clone(),
            )),
            None => unknown += 1,
        }
    }
    match app::dispatch::repo::apply_receipts(&state.pool, &parsed).await {
        Ok((applied, kept, ignored)) => {
            if unknown + ignored > 0 {
                tracing::info!(
                    carrier,
                    applied,
                    kept,
                    ignored,
                    unknown,
                    "receipts with nothing to update"
                );
            }
            answer(StatusCode::OK, 0, "OK")
        }
        Err(err) => {
            tracing::warn!("receipts not applied: {err}");
            answer(StatusCode::SERVICE_UNAVAILABLE, 1, "try again")
        }
    }
}
