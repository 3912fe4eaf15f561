//! Server-side plumbing every server function shares: state, the caller, the response status.

use std::future::Future;

use axum::extract::FromRef;
use axum::http::{header::ACCEPT, request::Parts, StatusCode};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use sqlx::PgPool;
use tower_sessions::Session;

use crate::accounts::model::{CurrentUser, Role};
use crate::error::AppError;

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub leptos_options: LeptosOptions,
    /// Seals and opens stored secrets (carrier keys, API secret keys).
    pub secrets: crate::secrets::SecretBox,
    /// Frequency limits, shared with the dispatch engine.
    pub limiter: std::sync::Arc<crate::limits::store::Limiter>,
    /// Verification codes (Redis, or this process's memory).
    pub codes: std::sync::Arc<crate::verify::store::CodeStore>,
    /// What the verification endpoint's public keys open, briefly cached.
    pub verify_keys: std::sync::Arc<crate::verify::cache::KeyCache>,
    /// Records verification codes' messages, those arriving together in one write.
    pub code_writer: std::sync::Arc<crate::verify::stream::CodeWriter>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The caller's address as the server decided it (socket peer, or a trusted proxy's header).
#[derive(Clone, Debug)]
pub struct ClientIp(pub String);

/// What a server function knows about the request it serves.
pub struct Caller {
    pub state: AppState,
    pub session: Session,
    pub ip: String,
}

impl Caller {
    async fn from_request() -> Result<Self, AppError> {
        let state = use_context::<AppState>()
            .ok_or_else(|| AppError::internal("AppState missing from server function context"))?;
        let session: Session = leptos_axum::extract()
            .await
            .map_err(|e| AppError::internal(format!("session layer missing: {e}")))?;
        let axum::Extension(ClientIp(ip)) = leptos_axum::extract()
            .await
            .map_err(|e| AppError::internal(format!("client ip missing: {e}")))?;
        Ok(Caller { state, session, ip })
    }

    pub fn pool(&self) -> &PgPool {
        &self.state.pool
    }

    /// The signed-in user, if any.
    pub async fn signed_in(&self) -> Result<Option<CurrentUser>, AppError> {
        crate::accounts::session::user_of(&self.state.pool, &self.session).await
    }

    pub async fn user(&self) -> Result<CurrentUser, AppError> {
        self.signed_in().await?.ok_or(AppError::Unauthenticated)
    }

    pub async fn require(&self, role: Role) -> Result<CurrentUser, AppError> {
        self.require_any(&[role]).await
    }

    /// The signed-in user, if they hold at least one of `roles`.
    pub async fn require_any(&self, roles: &[Role]) -> Result<CurrentUser, AppError> {
        let user = self.user().await?;
        if roles.iter().any(|r| user.has(*r)) {
            Ok(user)
        } else {
            Err(AppError::Forbidden)
        }
    }
}

/// Runs a server function body with its caller and turns its error into the right HTTP status.
///
/// A plain HTML form post (before hydration) must keep the framework's redirect back to the form,
/// which carries the error in the URL, so its status is left alone.
pub async fn serve<T, F, Fut>(body: F) -> Result<T, AppError>
where
    F: FnOnce(Caller) -> Fut,
    Fut: Future<Output = Result<T, AppError>>,
{
    let result = match Caller::from_request().await {
        Ok(caller) => body(caller).await,
        Err(err) => Err(err),
    };
    if let Err(err) = &result {
        let from_html_form = use_context::<Parts>().is_some_and(|parts| {
            parts
                .headers
                .get(ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"))
        });
        if !from_html_form {
            if let Some(options) = use_context::<ResponseOptions>() {
                options.set_status(
                    StatusCode::from_u16(err.status_code())
                        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                );
            }
        }
    }
    result
}
