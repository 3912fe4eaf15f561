//! Cross-cutting HTTP concerns: client address, cross-site refusal, panics, health probes,
//! request metrics and their exposition.

use std::any::Any;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use app::accounts::model::PreloadedSession;
use app::error::AppError;
use app::metrics::{HttpLabels, RouteLabels};
use app::state::{AppState, ClientIp};
use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::HeaderMap;
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_sessions::Session;

/// A server function whose arguments cannot be read fails before its body runs, and the framework
/// answers every such failure 500; the error itself knows its status (400 for a malformed request).
pub async fn server_function_status(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let framework_failure = response.status() == StatusCode::INTERNAL_SERVER_ERROR
        && response
            .headers()
            .contains_key(leptos::server_fn::error::SERVER_FN_ERROR_HEADER);
    if !framework_failure {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Ok(err) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status =
            StatusCode::from_u16(err.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Records who is calling, for audit records, sign-in throttling and getSms limits. Behind a
/// trusted proxy that is the last X-Forwarded-For entry, the one the proxy appended: the ones
/// before it are whatever the client wrote.
pub async fn client_ip(trust_proxy: bool, mut request: Request, next: Next) -> Response {
    let forwarded = trust_proxy
        .then(|| forwarded_client(request.headers()))
        .flatten();
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string());
    let ip = forwarded.or(peer).unwrap_or_else(|| "unknown".to_owned());
    request.extensions_mut().insert(ClientIp(ip));
    next.run(request).await
}

/// The client a trusted proxy names: the last entry of the last X-Forwarded-For line (a proxy may
/// append its own line rather than extend the client's).
fn forwarded_client(headers: &HeaderMap) -> Option<String> {
    let last = headers.get_all("x-forwarded-for").iter().next_back()?;
    let entry = last.to_str().ok()?.rsplit(',').next()?.trim();
    (!entry.is_empty()).then(|| entry.to_owned())
}

/// A console page is rendered knowing the reader's session, so the server and the browser build
/// the same page from the start (nothing waits for the session in a suspended part of the page,
/// which the server may render more than once). A reader who does not belong on the page is sent
/// where they do before anything is rendered: to set-up, or to sign in and then back.
pub async fn page_session(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let is_page = request.method() == Method::GET
        && !request.uri().path().starts_with("/api/")
        && request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"));
    let session = request.extensions().get::<Session>().cloned();
    let (true, Some(session)) = (is_page, session) else {
        return next.run(request).await;
    };
    // A failure here is the page's to report: it asks for the session itself.
    if let Ok(found) = app::accounts::session::state(&state.pool, &session).await {
        let uri = request.uri();
        if let Some(to) = found.redirect_for(uri.path(), uri.query()) {
            return Redirect::to(&to).into_response();
        }
        request.extensions_mut().insert(PreloadedSession(found));
    }
    next.run(request).await
}

/// Messages the console's server functions build (field errors, conflicts) are written in the
/// language of the reader's console.
pub async fn in_readers_language(request: Request, next: Next) -> Response {
    let locale = app::locale::from_headers(request.headers());
    app::locale::answer_in(locale, next.run(request)).await
}

/// The Tencent-compatible API's messages are English whatever language the caller's client asks
/// for (it sits among the console's routes, which answer in the reader's language).
pub async fn in_english(request: Request, next: Next) -> Response {
    app::locale::answer_in(app::i18n::Locale::en, next.run(request)).await
}

/// Refuses state-changing requests that a browser sent from another site. Browsers always send
/// Origin (or Sec-Fetch-Site) on cross-site POSTs; clients without either are not browsers and
/// carry no victim's cookie.
pub async fn same_origin_only(request: Request, next: Next) -> Response {
    if is_cross_site(&request) {
        tracing::warn!(path = %request.uri().path(), "refused cross-site request");
        return AppError::CrossSite.into_response();
    }
    next.run(request).await
}

fn is_cross_site(request: &Request) -> bool {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return false;
    }
    let headers = request.headers();
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(origin) => {
            let origin_host = origin.split_once("://").map(|(_, rest)| rest);
            origin_host.is_none() || origin_host != host
        }
        None => headers
            .get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes() == b"cross-site"),
    }
}

/// A panic in one request answers 500 with an id to quote; the server carries on.
pub fn catch_panics<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router.layer(CatchPanicLayer::custom(
        |panic: Box<dyn Any + Send + 'static>| {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("non-text panic payload");
            let error = AppError::internal(format!("panic: {message}"));
            let mut response = error.into_response();
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            response
        },
    ))
}

/// Counts each request by its route pattern (never the raw path, so the series stay few),
/// method and status, and times it.
pub async fn track_requests(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let metrics = app::metrics::metrics();
    metrics
        .http_seconds
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .http_requests
        .get_or_create(&HttpLabels {
            route,
            method,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// `/metrics` for a scraper holding the token (`Authorization: Bearer …`).
pub async fn metrics(state: AppState, token: &str, headers: HeaderMap) -> Response {
    let offered = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !app::signing::same(offered, token) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "a valid metrics token is required",
        )
            .into_response();
    }
    match app::metrics::metrics().render(&state.pool).await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(err) => err.into_response(),
    }
}

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(state): State<AppState>) -> Response {
    let check = sqlx::query_scalar!("SELECT 1").fetch_one(&state.pool);
    match tokio::time::timeout(Duration::from_secs(2), check).await {
        Ok(Ok(_)) => (StatusCode::OK, "ready").into_response(),
        Ok(Err(err)) => {
            tracing::warn!("readiness: database error: {err}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Body::from("database unreachable"),
            )
                .into_response()
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Body::from("database timeout"),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(headers: &[(&str, &str)]) -> Request {
        let mut builder = Request::builder().method(Method::POST).uri("/api/log_in");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Body::empty()).unwrap()
    }

    #[test]
    fn same_site_posts_pass_and_foreign_ones_do_not() {
        assert!(!is_cross_site(&post(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://127.0.0.1:3000")
        ])));
        assert!(is_cross_site(&post(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://evil.example")
        ])));
        assert!(is_cross_site(&post(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "null")
        ])));
        assert!(is_cross_site(&post(&[
            ("host", "127.0.0.1:3000"),
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(!is_cross_site(&post(&[
            ("host", "127.0.0.1:3000"),
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(!is_cross_site(&post(&[("host", "127.0.0.1:3000")])));
    }

    #[test]
    fn reads_are_never_refused() {
        let request = Request::builder()
            .method(Method::GET)
            .uri("/")
            .header("origin", "http://evil.example")
            .body(Body::empty())
            .unwrap();
        assert!(!is_cross_site(&request));
    }

    #[test]
    fn the_client_is_what_the_proxy_appended_last() {
        let headers = |lines: &[&str]| {
            let mut map = HeaderMap::new();
            for line in lines {
                map.append("x-forwarded-for", line.parse().unwrap());
            }
            map
        };
        assert_eq!(forwarded_client(&headers(&[])), None);
        assert_eq!(
            forwarded_client(&headers(&["203.0.113.7"])).as_deref(),
            Some("203.0.113.7")
        );
        assert_eq!(
            forwarded_client(&headers(&["1.2.3.4, 203.0.113.7"])).as_deref(),
            Some("203.0.113.7"),
            "what the client wrote comes first"
        );
        // A proxy that adds a line of its own: the client's line says what it likes.
        assert_eq!(
            forwarded_client(&headers(&["1.2.3.4", "203.0.113.7"])).as_deref(),
            Some("203.0.113.7")
        );
        assert_eq!(forwarded_client(&headers(&["1.2.3.4", " "])), None);
    }
}
