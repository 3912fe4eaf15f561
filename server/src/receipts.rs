//! Delivery receipts, in Tencent's callback format (a JSON array) or Herald's generic one
//! (`{"receipts": [{"serial", "delivered", "code", "phone"}]}`), answered
//! `{"result":0,"errmsg":"OK"}` (anything else asks the sender to retry). Two doors:
//! - `/receipts/{carrier id}/{carrier's receipt token}`: what a carrier sends;
//! - `/receipts/app/{SmsSdkAppId}/{application's receipt token}`, or `/receipts/app/{SmsSdkAppId}`
//!   signed with `X-Herald-Timestamp` and `X-Herald-Signature` (HMAC-SHA256 of
//!   `"<timestamp>.<body>"` under the token): receipts for one application's messages.
//!
//! Repeats change nothing; receipts that come before their message's result are kept; receipts
//! naming no message are counted (dashboard) and acknowledged, so no sender retries forever.

use app::carriers::simulator::Receipt;
use app::dispatch::model::id_from_serial;
use app::error::AppError;
use app::metrics::Metrics;
use app::receipts::apply::CarrierReceipt;
use app::receipts::apply::ReceiptSource;
use app::receipts::apply::ReceiptTally;
use app::signing::same;
use app::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

pub const BODY_LIMIT: usize = 4 * 1024 * 1024;
/// A signed delivery older or newer than this is refused (a replay).
const SIGNATURE_WINDOW_SECONDS: i64 = 300;

fn answer(status: StatusCode, result: i64, errmsg: &str) -> Response {
    (status, Json(json!({ "result": result, "errmsg": errmsg }))).into_response()
}

/// One receipt, whichever format it came in.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Incoming {
    serial: String,
    delivered: bool,
    code: String,
    phone: Option<String>,
}

#[derive(Deserialize)]
struct Generic {
    receipts: Vec<GenericReceipt>,
}

#[derive(Deserialize)]
struct GenericReceipt {
    serial: String,
    delivered: bool,
    #[serde(default)]
    code: String,
    #[serde(default)]
    phone: Option<String>,
}

fn parse(body: &[u8]) -> Result<Vec<Incoming>, String> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        let receipts: Vec<Receipt> =
            serde_json::from_slice(body).map_err(|e| format!("bad receipt JSON: {e}"))?;
        return Ok(receipts
            .into_iter()
            .map(|r| Incoming {
                delivered: r.report_status == "SUCCESS",
                phone: Some(format!("+{}{}", r.nationcode, r.mobile)),
                serial: r.sid,
                code: r.errmsg,
            })
            .collect());
    }
    let generic: Generic =
        serde_json::from_slice(body).map_err(|e| format!("bad receipt JSON: {e}"))?;
    Ok(generic
        .receipts
        .into_iter()
        .map(|r| Incoming {
            code: match (r.code.trim(), r.delivered) {
                ("", true) => "DELIVRD".into(),
                ("", false) => "FAIL".into(),
                (code, _) => code.to_owned(),
            },
            serial: r.serial,
            delivered: r.delivered,
            phone: r.phone,
        })
        .collect())
}

/// Applies receipts naming Herald's keys directly and the rest through the carriers' serials.
async fn apply(
    state: &AppState,
    source: ReceiptSource,
    incoming: Vec<Incoming>,
) -> Result<ReceiptTally, AppError> {
    let (application, carrier) = match source {
        ReceiptSource::Application { id, .. } => (Some(id), None),
        ReceiptSource::Carrier(carrier) => (None, Some(carrier)),
    };
    let mut ours = Vec::with_capacity(incoming.len());
    let mut theirs = Vec::new();
    for receipt in incoming {
        match id_from_serial(&receipt.serial) {
            Some(id) => ours.push((id, receipt.delivered, receipt.code)),
            None => theirs.push(CarrierReceipt {
                serial: receipt.serial,
                delivered: receipt.delivered,
                code: receipt.code,
                phone: receipt.phone,
                batch: None,
            }),
        }
    }
    let mut tally =
        app::receipts::apply::apply_receipts(&state.pool, &ours, application, carrier).await?;
    if !theirs.is_empty() {
        tally += app::receipts::apply::apply_carrier_receipts(&state.pool, source, &theirs).await?;
    }
    let metrics = app::metrics::metrics();
    for (outcome, n) in [
        ("applied", tally.applied),
        ("kept", tally.kept),
        ("repeated", tally.repeated),
        ("unknown", tally.unknown),
    ] {
        Metrics::outcome(&metrics.receipts, outcome, n);
    }
    if tally.unknown > 0 {
        let label = match source {
            ReceiptSource::Carrier(id) => format!("carrier:{id}"),
            ReceiptSource::Application { id, .. } => format!("application:{id}"),
        };
        tracing::info!(
            source = label,
            unknown = tally.unknown,
            "receipts naming no message"
        );
        let mut conn = state.pool.acquire().await?;
        app::stats::counters::unmatched(&mut conn, &label, tally.unknown).await?;
    }
    Ok(tally)
}

async fn apply_and_answer(state: &AppState, source: ReceiptSource, body: &[u8]) -> Response {
    let incoming = match parse(body) {
        Ok(incoming) => incoming,
        Err(err) => return answer(StatusCode::BAD_REQUEST, 1, &err),
    };
    match apply(state, source, incoming).await {
        Ok(_) => answer(StatusCode::OK, 0, "OK"),
        Err(err) => {
            tracing::warn!("receipts not applied: {err}");
            answer(StatusCode::SERVICE_UNAVAILABLE, 1, "try again")
        }
    }
}

/// `/receipts/{carrier}/{token}`.
pub async fn from_carrier(
    State(state): State<AppState>,
    Path((carrier, token)): Path<(i64, String)>,
    body: axum::body::Bytes,
) -> Response {
    let expected =
        match sqlx::query_scalar!("SELECT receipt_token FROM carriers WHERE id = $1", carrier)
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
    apply_and_answer(&state, ReceiptSource::Carrier(carrier), &body).await
}

/// What checking and applying an application's receipts needs.
struct ReceiptApplication {
    id: i64,
    receipt_token: String,
    /// The carrier its messages use.
    carrier_id: i64,
}

/// The application with this SmsSdkAppId.
async fn application(
    state: &AppState,
    sdk_app_id: i64,
) -> Result<Option<ReceiptApplication>, AppError> {
    Ok(sqlx::query_as!(
        ReceiptApplication,
        r#"SELECT a.id, a.receipt_token,
                coalesce(a.carrier_id, (SELECT id FROM carriers WHERE is_default))
                    AS "carrier_id!"
           FROM applications a WHERE a.sdk_app_id = $1"#,
        sdk_app_id,
    )
    .fetch_optional(&state.pool)
    .await?)
}

/// `/receipts/app/{sdk_app_id}/{token}`.
pub async fn for_application(
    State(state): State<AppState>,
    Path((sdk_app_id, token)): Path<(i64, String)>,
    body: axum::body::Bytes,
) -> Response {
    match application(&state, sdk_app_id).await {
        Ok(Some(application)) if same(&application.receipt_token, &token) => {
            let source = ReceiptSource::Application {
                id: application.id,
                carrier: application.carrier_id,
            };
            apply_and_answer(&state, source, &body).await
        }
        Ok(_) => answer(StatusCode::UNAUTHORIZED, 1, "unknown application or token"),
        Err(_) => answer(StatusCode::SERVICE_UNAVAILABLE, 1, "try again"),
    }
}

/// `/receipts/app/{sdk_app_id}` with an HMAC signature instead of the token in the path.
pub async fn for_application_signed(
    State(state): State<AppState>,
    Path(sdk_app_id): Path<i64>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let timestamp = header("x-herald-timestamp").and_then(|t| t.parse::<i64>().ok());
    let (Some(timestamp), Some(signature)) = (timestamp, header("x-herald-signature")) else {
        return answer(
            StatusCode::UNAUTHORIZED,
            1,
            "X-Herald-Timestamp and X-Herald-Signature required",
        );
    };
    if (chrono::Utc::now().timestamp() - timestamp).abs() > SIGNATURE_WINDOW_SECONDS {
        return answer(
            StatusCode::UNAUTHORIZED,
            1,
            "timestamp outside the 5-minute window",
        );
    }
    match application(&state, sdk_app_id).await {
        Ok(Some(application))
            if same(
                &app::signing::signature(&application.receipt_token, timestamp, &body),
                signature,
            ) =>
        {
            let source = ReceiptSource::Application {
                id: application.id,
                carrier: application.carrier_id,
            };
            apply_and_answer(&state, source, &body).await
        }
        Ok(_) => answer(
            StatusCode::UNAUTHORIZED,
            1,
            "unknown application or bad signature",
        ),
        Err(_) => answer(StatusCode::SERVICE_UNAVAILABLE, 1, "try again"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_formats_read_the_same() {
        let tencent = br#"[{"user_receive_time":"2015-10-17 08:03:04","nationcode":"86",
            "mobile":"13800000000","report_status":"SUCCESS","errmsg":"DELIVRD",
            "description":"ok","sid":"x-hm7"}]"#;
        let generic =
            br#"{"receipts":[{"serial":"x-hm7","delivered":true,"phone":"+8613800000000"}]}"#;
        assert_eq!(parse(tencent).unwrap(), parse(generic).unwrap());
        assert!(parse(b"{}").is_err());
        assert!(parse(b"[{\"sid\": 1}]").is_err());
    }
}
