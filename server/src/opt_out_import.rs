//! Importing an opt-out CSV: a plain multipart form, answered with a redirect that carries the
//! counts back to the opt-out page.

use app::accounts::model::Role;
use app::audit::repo::{record, AuditEvent};
use app::error::AppError;
use app::optouts::{import::parse_csv, repo};
use app::state::{AppState, ClientIp};
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use serde_json::json;
use tower_sessions::Session;

use app::forms::encode_query_value;

use crate::documents::signed_in;

const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;
pub const IMPORT_BODY_LIMIT: usize = MAX_FILE_BYTES + 64 * 1024;
const PAGE: &str = "/settings/opt-outs";

fn back_with_error(message: &str) -> Response {
    Redirect::to(&format!(
        "{PAGE}?import_error={}",
        encode_query_value(message)
    ))
    .into_response()
}

pub async fn import(
    State(state): State<AppState>,
    session: Session,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let admin = match signed_in(&state, &session, &[Role::Admin]).await {
        Ok(user) => user,
        Err(AppError::Unauthenticated) => return Redirect::to("/login").into_response(),
        Err(err) => return err.into_response(),
    };
    let Ok(mut multipart) = multipart else {
        return back_with_error(&app::tr!(upload.not_multipart));
    };
    let mut bytes = Vec::new();
    loop {
        match multipart.next_field().await {
            Ok(Some(mut field)) if field.name() == Some("file") => loop {
                match field.chunk().await {
                    Ok(Some(chunk)) if bytes.len() + chunk.len() <= MAX_FILE_BYTES => {
                        bytes.extend_from_slice(&chunk)
                    }
                    Ok(Some(_)) | Err(_) => {
                        return back_with_error(&app::tr!(upload.too_large_5mb))
                    }
                    Ok(None) => break,
                }
            },
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(_) => return back_with_error(&app::tr!(upload.too_large_5mb)),
        }
    }
    if bytes.is_empty() {
        return back_with_error(&app::tr!(upload.choose_csv));
    }
    let parsed = parse_csv(&bytes);
    let outcome = async {
        let mut tx = state.pool.begin().await?;
        let added = repo::add_all(&mut tx, &parsed.numbers, "import", "", admin.id).await?;
        let details = json!({
            "added": added,
            "already_listed": parsed.numbers.len() as u64 - added,
            "invalid_rows": parsed.invalid_rows.len(),
        });
        record(
            &mut *tx,
            AuditEvent::by(&admin, &ip, "opt_out.import", "opt_out", "import", details),
        )
        .await?;
        tx.commit().await?;
        Ok::<_, AppError>(added)
    }
    .await;
    match outcome {
        Ok(added) => {
            let rows: Vec<String> = parsed
                .invalid_rows
                .iter()
                .take(10)
                .map(usize::to_string)
                .collect();
            Redirect::to(&format!(
                "{PAGE}?imported={added}&duplicates={}&invalid={}&invalid_rows={}",
                parsed.numbers.len() as u64 - added,
                parsed.invalid_rows.len(),
                encode_query_value(&rows.join(", "))
            ))
            .into_response()
        }
        Err(err) => err.into_response(),
    }
}
