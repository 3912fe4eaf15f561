//! `herald simulator`: the carrier simulator as its own process, so its ledger outlives a killed
//! server. Serves the HTTP carrier protocol on `POST /send` and the ledger on `GET /ledger`.

use std::net::SocketAddr;
use std::sync::Arc;

use app::carriers::carrier::{Batch, BatchAnswer, CarrierError};
use app::carriers::model::SimulatorSettings;
use app::carriers::simulator::Simulator;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

#[derive(Debug, clap::Args)]
pub struct SimulatorArgs {
    #[arg(long, default_value = "127.0.0.1:7070")]
    pub listen: SocketAddr,
    /// Where to post delivery receipts (Herald's /receipts/{carrier}/{token}).
    #[arg(long)]
    pub receipts_url: Option<String>,
    /// Shared secret of the HTTP carrier protocol; requests must be signed with it.
    #[arg(long, env = "HERALD_SIMULATOR_SECRET")]
    pub secret: Option<String>,
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    #[arg(long, default_value_t = 1.0)]
    pub accept_rate: f64,
    #[arg(long, default_value_t = 1.0)]
    pub delivery_rate: f64,
    #[arg(long, default_value_t = 0.0)]
    pub transient_rate: f64,
    #[arg(long, default_value_t = 0)]
    pub receipt_delay_ms: u64,
    #[arg(long)]
    pub seed: Option<u64>,
}

struct Shared {
    simulator: Arc<Simulator>,
    secret: Option<String>,
}

/// The simulator's HTTP face: `POST /send` (signed with `secret` when given), `GET /ledger`.
pub fn router(simulator: Arc<Simulator>, secret: Option<String>) -> Router {
    Router::new()
        .route("/send", post(send))
        .route("/ledger", get(ledger))
        .with_state(Arc::new(Shared { simulator, secret }))
}

pub async fn run(args: SimulatorArgs) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let settings = SimulatorSettings {
        latency_ms: args.latency_ms,
        accept_rate: args.accept_rate,
        delivery_rate: args.delivery_rate,
        transient_rate: args.transient_rate,
        receipt_delay_ms: args.receipt_delay_ms,
        send_receipts: true,
        seed: args.seed,
    };
    let simulator = Arc::new(Simulator::new(settings, args.receipts_url));
    let router = router(simulator, args.secret);
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    tracing::info!("carrier simulator on http://{}", listener.local_addr()?);
    axum::serve(listener, router).await?;
    Ok(())
}

async fn send(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Some(secret) = &shared.secret {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
        };
        let timestamp: i64 = header("x-herald-timestamp").parse().unwrap_or(0);
        let expected = app::signing::signature(secret, timestamp, &body);
        if header("x-herald-signature") != expected {
            return (StatusCode::UNAUTHORIZED, "bad signature").into_response();
        }
    }
    let Ok(batch) = serde_json::from_slice::<Batch>(&body) else {
        return (StatusCode::BAD_REQUEST, "bad batch").into_response();
    };
    match shared.simulator.submit(&batch).await {
        Ok(results) => Json(BatchAnswer { results }).into_response(),
        Err(CarrierError::Busy(why) | CarrierError::Transient(why)) => {
            (StatusCode::TOO_MANY_REQUESTS, why).into_response()
        }
        Err(CarrierError::Permanent { code, message }) => {
            (StatusCode::BAD_REQUEST, format!("{code}: {message}")).into_response()
        }
    }
}

async fn ledger(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.simulator.ledger()).into_response()
}
