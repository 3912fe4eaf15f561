//! Bulk-task files over plain HTTP: the recipient upload (multipart, streamed to disk, imported in
//! the background), the rejected rows as CSV, and the standard template to fill in.

use std::path::PathBuf;

use app::accounts::model::Role;
use app::campaigns::import::{self, ImportError};
use app::campaigns::{repo, service, standard};
use app::error::AppError;
use app::forms::encode_query_value;
use app::state::AppState;
use app::templates::model::TemplateContent;
use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tower_sessions::Session;

use crate::documents::signed_in;

pub const MAX_FILE_BYTES: u64 = 30 * 1024 * 1024;
/// The file at its largest plus the form's other fields; a larger body is refused unread.
pub const UPLOAD_BODY_LIMIT: usize = MAX_FILE_BYTES as usize + 64 * 1024;

/// How the answer goes back: JSON for the page's upload request, a redirect for a plain form.
struct Reply {
    json: bool,
    chosen: Vec<(String, String)>,
}

impl Reply {
    fn error(&self, status: StatusCode, field: &str, message: &str) -> Response {
        if self.json {
            return (status, Json(json!({ "field": field, "message": message }))).into_response();
        }
        let mut query = format!(
            "/bulk?upload_field={}&upload_error={}",
            encode_query_value(field),
            encode_query_value(message)
        );
        for (name, value) in &self.chosen {
            query.push_str(&format!("&{name}={}", encode_query_value(value)));
        }
        Redirect::to(&query).into_response()
    }

    fn app_error(&self, err: AppError) -> Response {
        let status = StatusCode::from_u16(err.status_code()).unwrap_or(StatusCode::BAD_REQUEST);
        match &err {
            AppError::Invalid(fields) if !fields.is_empty() => {
                self.error(status, &fields[0].field, &fields[0].message)
            }
            _ => self.error(status, "", &err.to_string()),
        }
    }

    fn accepted(&self, upload_id: i64) -> Response {
        if self.json {
            Json(json!({ "upload_id": upload_id })).into_response()
        } else {
            Redirect::to(&format!("/bulk?upload={upload_id}")).into_response()
        }
    }
}

/// A file on disk that is removed when dropped, whatever happens to the request.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn too_large() -> String {
    app::tr!(bulk.errors.too_large)
}

pub async fn upload(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let mut reply = Reply {
        json: headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("application/json")),
        chosen: Vec::new(),
    };
    let user = match signed_in(&state, &session, &[Role::Marketer]).await {
        Ok(user) => user,
        Err(AppError::Unauthenticated) if !reply.json => {
            return Redirect::to("/login").into_response()
        }
        Err(err) => return reply.app_error(err),
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > UPLOAD_BODY_LIMIT) {
        return reply.error(StatusCode::PAYLOAD_TOO_LARGE, "file", &too_large());
    }
    let Ok(mut multipart) = multipart else {
        return reply.error(StatusCode::BAD_REQUEST, "", &app::tr!(upload.not_multipart));
    };

    let dir = std::env::temp_dir().join("herald-uploads");
    if let Err(e) = tokio::fs::create_dir_all(&dir).await {
        return reply.app_error(AppError::internal(format!("upload dir: {e}")));
    }
    let mut file: Option<(TempFile, String, u64)> = None;
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => return reply.error(StatusCode::PAYLOAD_TOO_LARGE, "file", &too_large()),
        };
        let name = field.name().unwrap_or("").to_owned();
        match name.as_str() {
            "application_id" | "signature_id" | "template_id" => {
                let value = field.text().await.unwrap_or_default();
                reply.chosen.push((name, value));
            }
            "file" => {
                let file_name = field
                    .file_name()
                    .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).to_owned())
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| "recipients".into());
                let path = TempFile(dir.join(uuid::Uuid::new_v4().to_string()));
                let mut out = match tokio::fs::File::create(&path.0).await {
                    Ok(out) => out,
                    Err(e) => {
                        return reply.app_error(AppError::internal(format!("upload file: {e}")))
                    }
                };
                let mut written = 0u64;
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) => {
                            written += chunk.len() as u64;
                            if written > MAX_FILE_BYTES {
                                return reply.error(
                                    StatusCode::PAYLOAD_TOO_LARGE,
                                    "file",
                                    &too_large(),
                                );
                            }
                            if let Err(e) = out.write_all(&chunk).await {
                                return reply
                                    .app_error(AppError::internal(format!("upload write: {e}")));
                            }
                        }
                        Ok(None) => break,
                        Err(_) => {
                            return reply.error(StatusCode::PAYLOAD_TOO_LARGE, "file", &too_large())
                        }
                    }
                }
                if let Err(e) = out.flush().await {
                    return reply.app_error(AppError::internal(format!("upload flush: {e}")));
                }
                file = Some((path, clip_name(&file_name), written));
            }
            _ => {}
        }
    }
    let chosen = |name: &str| {
        reply
            .chosen
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let source = match service::source(
        &state.pool,
        &chosen("application_id"),
        &chosen("signature_id"),
        &chosen("template_id"),
    )
    .await
    {
        Ok(source) => source,
        Err(err) => return reply.app_error(err),
    };
    let Some((path, file_name, bytes)) = file.filter(|(_, _, bytes)| *bytes > 0) else {
        return reply.error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "file",
            &app::tr!(bulk.file_problem.empty_file),
        );
    };
    let upload_id =
        match repo::create_upload(&state.pool, &source, &file_name, bytes as i64, user.id).await {
            Ok(id) => id,
            Err(err) => return reply.app_error(err),
        };
    let pool = state.pool.clone();
    let locale = app::locale::current();
    tokio::spawn(app::locale::answer_in(locale, async move {
        let started = std::time::Instant::now();
        let outcome = import::import(&pool, upload_id, path.0.clone(), source.rules()).await;
        drop(path);
        let reason = match outcome {
            Ok(totals) => {
                tracing::info!(
                    upload_id,
                    rows = totals.total_rows,
                    accepted = totals.accepted,
                    seconds = started.elapsed().as_secs_f64(),
                    "recipient file imported"
                );
                return;
            }
            Err(ImportError::File(problem)) => problem.0,
            Err(ImportError::Internal(err)) => err.to_string(),
        };
        if let Err(err) = import::mark_failed(&pool, upload_id, &reason).await {
            tracing::error!(upload_id, "could not mark the upload failed: {err}");
        }
    }));
    reply.accepted(upload_id)
}

fn clip_name(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).take(120).collect()
}

pub(crate) fn attachment(file_name: &str, media_type: &'static str, body: Body) -> Response {
    (
        [
            (header::CONTENT_TYPE, media_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

/// The rows that will not be sent, with their row number and reason, streamed from the database.
pub async fn rejected_rows(
    State(state): State<AppState>,
    session: Session,
    Path(upload_id): Path<i64>,
) -> Response {
    let user = match signed_in(&state, &session, &[Role::Marketer]).await {
        Ok(user) => user,
        Err(err) => return err.into_response(),
    };
    match repo::upload_owned_by(&state.pool, upload_id, user.id).await {
        Ok(true) => {}
        Ok(false) => return AppError::NotFound("Upload".into()).into_response(),
        Err(err) => return err.into_response(),
    }
    let rows = match repo::rejected_rows_csv(&state.pool, upload_id).await {
        Ok(rows) => rows,
        Err(err) => return err.into_response(),
    };
    // A BOM so Excel reads the file as UTF-8, then the header.
    let header = futures_util::stream::once(async {
        Ok(Bytes::from_static(
            "\u{feff}row,mobile number,reason,variables\n".as_bytes(),
        ))
    });
    attachment(
        &format!("upload-{upload_id}-rows-not-sent.csv"),
        "text/csv; charset=utf-8",
        Body::from_stream(header.chain(rows)),
    )
}

/// `/bulk/standard/{id}.csv` or `.xlsx`: the file to fill in for template `id`.
pub async fn standard_template(
    State(state): State<AppState>,
    session: Session,
    Path(file): Path<String>,
) -> Response {
    if let Err(err) = signed_in(&state, &session, &[Role::Marketer, Role::Operator]).await {
        return err.into_response();
    }
    let Some((id, extension)) = file
        .split_once('.')
        .and_then(|(id, ext)| Some((id.parse::<i64>().ok()?, ext)))
    else {
        return AppError::NotFound("Template".into()).into_response();
    };
    let template = match app::templates::repo::get(&state.pool, id).await {
        Ok(t) => t,
        Err(err) => return err.into_response(),
    };
    let params = TemplateContent::from_stored(template.content).param_count();
    let name = format!("recipients-template-{id}");
    match extension {
        "csv" => attachment(
            &format!("{name}.csv"),
            "text/csv; charset=utf-8",
            Body::from(standard::csv(params, template.sms_type)),
        ),
        "xlsx" => match standard::xlsx(params, template.sms_type) {
            Ok(bytes) => attachment(
                &format!("{name}.xlsx"),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                Body::from(bytes),
            ),
            Err(err) => err.into_response(),
        },
        _ => AppError::NotFound("Template file".into()).into_response(),
    }
}
