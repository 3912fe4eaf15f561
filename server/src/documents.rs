//! Certificate uploads (a plain multipart form, so it works before hydration) and serving the
//! stored documents to the people who review them.

use app::accounts::model::{CurrentUser, Role};
use app::accounts::session::user_of;
use app::error::AppError;
use app::forms::encode_query_value;
use app::signatures::model::MAX_DOCUMENT_BYTES;
use app::signatures::upload::{store, UploadedFile};
use app::state::{AppState, ClientIp};
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use tower_sessions::Session;

/// Two documents at their largest, plus the form's other fields.
pub const UPLOAD_BODY_LIMIT: usize = 2 * MAX_DOCUMENT_BYTES + 64 * 1024;

pub(crate) async fn signed_in(
    state: &AppState,
    session: &Session,
    allowed: &[Role],
) -> Result<CurrentUser, AppError> {
    let user = user_of(&state.pool, session)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    if allowed.iter().any(|r| user.has(*r)) {
        Ok(user)
    } else {
        Err(AppError::Forbidden)
    }
}

/// Only pages of the signature area may be returned to; anything else would be an open redirect.
fn safe_return_path(raw: &str) -> Option<String> {
    let path = raw.trim();
    let local = path.starts_with("/signatures/") && !path.contains("//") && !path.contains('\\');
    local.then(|| path.split(['?', '#']).next().unwrap_or(path).to_owned())
}

fn back_with_error(return_to: &str, field: &str, message: &str) -> Response {
    let query = format!(
        "upload_field={}&upload_error={}",
        encode_query_value(field),
        encode_query_value(message)
    );
    Redirect::to(&format!("{return_to}?{query}")).into_response()
}

pub async fn upload(
    State(state): State<AppState>,
    session: Session,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let user = match signed_in(&state, &session, &[Role::Operator]).await {
        Ok(user) => user,
        Err(AppError::Unauthenticated) => return Redirect::to("/login").into_response(),
        Err(err) => return err.into_response(),
    };
    let mut multipart = match multipart {
        Ok(m) => m,
        Err(_) => {
            return AppError::field("certificate", app::tr!(upload.not_multipart)).into_response()
        }
    };
    let mut return_to = "/signatures/new".to_owned();
    let mut files = Vec::new();
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => {
                return back_with_error(&return_to, "certificate", &app::tr!(upload.per_file_5mb))
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        let kind: &'static str = match name.as_str() {
            "return_to" => {
                if let Some(path) = field
                    .text()
                    .await
                    .ok()
                    .as_deref()
                    .and_then(safe_return_path)
                {
                    return_to = path;
                }
                continue;
            }
            "certificate" => "certificate",
            "authorisation" => "authorisation",
            _ => continue,
        };
        let file_name = field.file_name().unwrap_or_default().to_owned();
        let mut bytes = Vec::new();
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    // Stop reading at the limit rather than buffering an oversized file.
                    if bytes.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                        return back_with_error(&return_to, kind, &app::tr!(upload.too_large_5mb));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(_) => {
                    return back_with_error(&return_to, kind, &app::tr!(upload.too_large_5mb))
                }
            }
        }
        files.push(UploadedFile {
            field: kind,
            file_name,
            bytes,
        });
    }
    match store(&state.pool, &user, &ip, files).await {
        Ok(stored) => {
            let mut query = vec![];
            if let Some(id) = stored.certificate {
                query.push(format!("certificate={id}"));
            }
            if let Some(id) = stored.authorisation {
                query.push(format!("authorisation={id}"));
            }
            Redirect::to(&format!("{return_to}?{}", query.join("&"))).into_response()
        }
        Err(AppError::Invalid(fields)) => {
            let first = &fields[0];
            back_with_error(&return_to, &first.field, &first.message)
        }
        Err(err) => err.into_response(),
    }
}

pub async fn show(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
) -> Response {
    if let Err(err) = signed_in(&state, &session, &[Role::Operator, Role::Admin]).await {
        return err.into_response();
    }
    match app::signatures::repo::document(&state.pool, id).await {
        Ok((format, bytes)) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, format.media_type()),
                (header::CONTENT_DISPOSITION, "inline"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::CACHE_CONTROL, "private, max-age=3600"),
            ],
            bytes,
        )
            .into_response(),
        Err(err) => err.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_return_only_to_signature_pages() {
        assert_eq!(
            safe_return_path("/signatures/new").as_deref(),
            Some("/signatures/new")
        );
        assert_eq!(
            safe_return_path("/signatures/12?x=1").as_deref(),
            Some("/signatures/12")
        );
        assert_eq!(safe_return_path("https://evil.example/"), None);
        assert_eq!(safe_return_path("//evil.example/signatures/"), None);
        assert_eq!(safe_return_path("/signatures//evil.example"), None);
        assert_eq!(safe_return_path("/users"), None);
    }
}
