//! The `herald` server: start-up, routing and the command line. Features live in `app`.

// In the library, so `herald serve`, the tests and the benches all run on the same allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod bulk;
pub mod cli;
pub mod config;
pub mod documents;
pub mod exports;
pub mod http;
pub mod opt_out_import;
pub mod receipts;
pub mod simulator;
pub mod tencent_api;
pub mod verify;
pub mod webhooks;

use std::net::SocketAddr;
use std::time::Duration;

use app::state::AppState;
use app::{shell, App};
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{get, post};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;

use config::{DatabaseConfig, ServeConfig};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// A connection idle longer than this is checked (a round trip) before it is handed out.
const CHECK_IDLE_AFTER: Duration = Duration::from_secs(5);

/// The pool every part of the server shares. By default sqlx checks every connection it hands
/// out with a round trip: for the one-statement queries of the request paths (getSms, SendSms)
/// and the engine, that doubles what Postgres does per statement. Only connections that sat
/// idle (where a restarted database or a dropped link hides) are checked; a connection that
/// breaks in use fails its statement and is closed when returned (sqlx checks it then).
pub async fn connect(config: &DatabaseConfig) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new()
        .max_connections(config.db_max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire(false)
        .before_acquire(|connection, meta| {
            Box::pin(async move {
                if meta.idle_for > CHECK_IDLE_AFTER {
                    sqlx::Connection::ping(connection).await?;
                }
                Ok(true)
            })
        })
        .connect(&config.database_url)
        .await
}

/// Brings the schema up to date: Herald's migrations and the session store's table.
pub async fn migrate(pool: &PgPool) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    MIGRATOR.run(pool).await?;
    PostgresStore::new(pool.clone()).migrate().await?;
    Ok(())
}

pub fn leptos_options(config: &ServeConfig) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("herald")
        .site_root(config.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(config.addr)
        .build()
}

/// Everything the server answers, with its middleware.
pub fn router(state: AppState, config: &ServeConfig) -> Router {
    let store = PostgresStore::new(state.pool.clone());
    let sessions = SessionManagerLayer::new(store)
        .with_name("herald_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.cookie_secure)
        .with_expiry(Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::hours(config.session_hours),
        ));

    let routes = generate_route_list(App);
    let context_state = state.clone();
    let pages = Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(context_state.clone()),
            {
                let options = state.leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::page_session,
        ));
    let console = pages
        .route(
            "/documents",
            post(documents::upload).layer(DefaultBodyLimit::max(documents::UPLOAD_BODY_LIMIT)),
        )
        .route("/documents/{id}", get(documents::show))
        .route(
            "/bulk/uploads",
            post(bulk::upload).layer(DefaultBodyLimit::max(bulk::UPLOAD_BODY_LIMIT)),
        )
        .route("/bulk/uploads/{id}/rejected.csv", get(bulk::rejected_rows))
        .route("/bulk/standard/{file}", get(bulk::standard_template))
        .route(
            "/receipts/{carrier}/{token}",
            post(receipts::from_carrier).layer(DefaultBodyLimit::max(receipts::BODY_LIMIT)),
        )
        .route(
            "/receipts/app/{sdk_app_id}/{token}",
            post(receipts::for_application).layer(DefaultBodyLimit::max(receipts::BODY_LIMIT)),
        )
        .route(
            "/receipts/app/{sdk_app_id}",
            post(receipts::for_application_signed)
                .layer(DefaultBodyLimit::max(receipts::BODY_LIMIT)),
        )
        .route(
            &config.tencent_api_path,
            post(tencent_api::handle)
                .layer(DefaultBodyLimit::max(tencent_api::BODY_LIMIT))
                .layer(axum::middleware::from_fn(http::in_english)),
        )
        .route("/records/{id}/messages.csv", get(exports::task_messages))
        .route("/statistics.csv", get(exports::statistics))
        .route(
            "/opt-outs/import",
            post(opt_out_import::import)
                .layer(DefaultBodyLimit::max(opt_out_import::IMPORT_BODY_LIMIT)),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn(http::server_function_status))
        .layer(axum::middleware::from_fn(http::same_origin_only))
        .layer(axum::middleware::from_fn(http::in_readers_language))
        .layer(sessions);

    let trust_proxy = config.trust_proxy;
    let mut router = Router::new();
    if let Some(token) = config.metrics_token.clone().filter(|t| !t.is_empty()) {
        let token: std::sync::Arc<str> = token.into();
        router = router.route(
            "/metrics",
            get(move |State(state): State<AppState>, headers| {
                let token = std::sync::Arc::clone(&token);
                async move { http::metrics(state, &token, headers).await }
            }),
        );
    }
    let router = router
        .route("/healthz", get(http::healthz))
        .route("/readyz", get(http::readyz))
        // Called by login pages on any site, without a session: outside the console's
        // same-origin rule.
        .route(
            &config.verify_path,
            post(verify::handle)
                .options(verify::preflight)
                .layer(DefaultBodyLimit::max(verify::BODY_LIMIT)),
        )
        .route(
            &format!("{}/{{key}}", config.verify_path.trim_end_matches('/')),
            post(verify::handle_with_path_key)
                .options(verify::preflight)
                .layer(DefaultBodyLimit::max(verify::BODY_LIMIT)),
        )
        .merge(console)
        .layer(axum::middleware::from_fn(move |req, next| {
            http::client_ip(trust_proxy, req, next)
        }))
        .layer(axum::middleware::from_fn(http::track_requests))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state);
    http::catch_panics(router)
}

/// Whether `build` starts the work a server runs beside its requests: the dispatch engine,
/// webhook delivery and the cleanups of expired sessions and abandoned uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Background {
    Start,
    /// Left to the caller: the tests start an engine of their own when they send, and deliver
    /// webhooks a step at a time.
    Leave,
}

/// The server `serve` runs, on `pool` (brought up to date first): its state, everything it
/// answers and, as `background` says, the work beside the requests. The tests build theirs here
/// too, so they exercise the wiring production runs.
pub async fn build(
    config: &ServeConfig,
    pool: PgPool,
    background: Background,
) -> Result<(AppState, Router), Box<dyn std::error::Error + Send + Sync>> {
    let secrets = config.secrets.secret_box()?;
    let limiter = std::sync::Arc::new(config.limiter().await?);
    migrate(&pool).await?;
    let sealed = app::carriers::repo::seal_carrier_secrets(&pool, &secrets).await?;
    if sealed > 0 {
        tracing::info!(
            carriers = sealed,
            "sealed carrier secrets stored in plain text"
        );
    }
    if background == Background::Start {
        spawn_session_cleanup(pool.clone());
        spawn_hourly_cleanup(pool.clone());
        app::dispatch::engine::Engine::spawn(
            pool.clone(),
            app::dispatch::engine::EngineConfig {
                workers: config.dispatch_workers,
                public_url: config.public_url(),
                lease_seconds: config.dispatch_lease_seconds.max(1),
                secrets: secrets.clone(),
                limiter: limiter.clone(),
            },
        );
        webhooks::spawn_worker(pool.clone(), limiter.clone());
    }
    let state = AppState {
        code_writer: std::sync::Arc::new(app::verify::stream::CodeWriter::spawn(
            pool.clone(),
            limiter.clone(),
        )),
        pool,
        leptos_options: leptos_options(config),
        secrets,
        limiter,
        codes: std::sync::Arc::new(config.code_store().await?),
        verify_keys: Default::default(),
    };
    let router = router(state.clone(), config);
    Ok((state, router))
}

/// Serves until SIGTERM or Ctrl-C, then finishes the requests in flight.
pub async fn serve(config: ServeConfig) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let pool = connect(&config.database).await?;
    let (_, router) = build(&config, pool, Background::Start).await?;
    let listener = TcpListener::bind(config.addr).await?;
    tracing::info!("Herald console on http://{}", listener.local_addr()?);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    tracing::info!("shut down cleanly");
    Ok(())
}

fn spawn_session_cleanup(pool: PgPool) {
    use tower_sessions::ExpiredDeletion;
    tokio::spawn(async move {
        let store = PostgresStore::new(pool);
        if let Err(err) = store
            .continuously_delete_expired(Duration::from_secs(3600))
            .await
        {
            tracing::error!("expired-session cleanup stopped: {err}");
        }
    });
}

/// Recipient files nobody made a task from are kept a week, so a marketer can come back to a
/// report, then dropped with their rows; so are API statuses nobody pulled.
fn spawn_hourly_cleanup(pool: PgPool) {
    tokio::spawn(async move {
        let mut hourly = tokio::time::interval(Duration::from_secs(3600));
        loop {
            hourly.tick().await;
            match app::campaigns::repo::delete_abandoned_uploads(&pool, 7).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(uploads = n, "abandoned recipient uploads deleted"),
                Err(err) => tracing::error!("upload cleanup failed: {err}"),
            }
            match app::receipts::tencent::drop_stale_statuses(&pool).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(statuses = n, "API statuses nobody pulled dropped"),
                Err(err) => tracing::error!("status outbox cleanup failed: {err}"),
            }
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!("cannot listen for SIGTERM: {err}");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown requested; finishing requests in flight");
}
