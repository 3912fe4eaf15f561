//! Delivery receipts from carriers, in Tencent's callback format: a JSON array posted to
//! `/receipts/{carrier id}/{carrier's receipt token}`, answered `{"result":0,"errmsg":"OK"}`.

use app::dispatch::model::id_from_serial;
use app::dispatch::repo;
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
    let mut ours = Vec::with_capacity(receipts.len());
    let mut theirs = Vec::new();
    for receipt in &receipts {
        let delivered = receipt.report_status == "SUCCESS";
        // Carriers speaking Herald's protocols return serials that carry the message key;
        // others (Tencent) their own, recorded when the message was accepted.
        match id_from_serial(&receipt.sid) {
            Some(id) => ours.push((id, delivered, receipt.errmsg.clone())),
            None => theirs.push(repo::CarrierReceipt {
                serial: receipt.sid.clone(),
                delivered,
                code: receipt.errmsg.clone(),
                phone: Some(format!("+{}{}", receipt.nationcode, receipt.mobile)),
                batch: None,
            }),
        }
    }
    let applied = async {
        let (a, k, i) = repo::apply_receipts(&state.pool, &ours).await?;
        if theirs.is_empty() {
            return Ok((a, k, i));
        }
        let (a2, k2, i2) = repo::apply_carrier_receipts(&state.pool, carrier, &theirs).await?;
        Ok::<_, app::error::AppError>((a + a2, k + k2, i + i2))
    };
    match applied.await {
        Ok((applied, kept, ignored)) => {
            if ignored > 0 {
                tracing::info!(
                    carrier,
                    applied,
                    kept,
                    ignored,
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
