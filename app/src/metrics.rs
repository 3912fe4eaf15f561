//! Prometheus metrics of this process (`/metrics`, OpenMetrics text). Counters and histograms
//! count what this process did, so a Prometheus scraping every server sums them; the gauges
//! read shared state (the dispatch queue) from the database at scrape time.

use std::sync::LazyLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Metric, Registry};
use sqlx::PgPool;

use crate::error::AppError;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub route: String,
    pub method: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MessageLabels {
    pub state: &'static str,
    pub carrier: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CarrierCallLabels {
    pub carrier: String,
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabels {
    pub code: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

pub struct Metrics {
    pub http_requests: Family<HttpLabels, Counter>,
    pub http_seconds: Histograms<RouteLabels>,
    /// Messages this process recorded, by the state the engine gave them and their carrier.
    pub messages: Family<MessageLabels, Counter>,
    pub carrier_call_seconds: Histograms<CarrierCallLabels>,
    /// Receipts by what became of them (applied, kept until their message is recorded, repeated,
    /// unknown).
    pub receipts: Family<OutcomeLabels, Counter>,
    /// getSms requests by result (queued for sending, refused by a limit or an opt-out).
    pub verification_sends: Family<OutcomeLabels, Counter>,
    /// Frequency-limit and anti-pumping refusals, by Tencent's code.
    pub limit_hits: Family<CodeLabels, Counter>,
    pub import_seconds: Histograms<OutcomeLabels>,
    queued_messages: Gauge,
    waiting_chunks: Gauge,
    tasks_sending: Gauge,
    webhook_backlog: Gauge,
    registry: Registry,
}

/// From 1 ms to about 33 s, doubling: carrier calls, requests and imports all fit.
fn seconds_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

fn timings<L: Clone + std::hash::Hash + Eq>() -> Histograms<L> {
    Family::new_with_constructor(seconds_histogram)
}

fn registered<M: Metric + Clone>(registry: &mut Registry, name: &str, help: &str, metric: M) -> M {
    registry.register(name, help, metric.clone());
    metric
}

impl Metrics {
    fn new() -> Metrics {
        let mut r = Registry::with_prefix("herald");
        Metrics {
            http_requests: registered(
                &mut r,
                "http_requests",
                "HTTP requests by route, method and status",
                Family::default(),
            ),
            http_seconds: registered(
                &mut r,
                "http_request_duration_seconds",
                "Time to answer HTTP requests, by route",
                timings(),
            ),
            messages: registered(
                &mut r,
                "messages",
                "Messages recorded by the dispatch engine, by state and carrier",
                Family::default(),
            ),
            carrier_call_seconds: registered(
                &mut r,
                "carrier_call_duration_seconds",
                "Carrier calls by carrier and outcome (answered, busy, transient)",
                timings(),
            ),
            receipts: registered(
                &mut r,
                "receipts",
                "Delivery receipts by outcome",
                Family::default(),
            ),
            verification_sends: registered(
                &mut r,
                "verification_sends",
                "getSms requests by result",
                Family::default(),
            ),
            limit_hits: registered(
                &mut r,
                "limit_hits",
                "Sends refused by frequency limits and anti-pumping rules, by code",
                Family::default(),
            ),
            import_seconds: registered(
                &mut r,
                "import_duration_seconds",
                "Recipient file imports, by outcome",
                timings(),
            ),
            queued_messages: registered(
                &mut r,
                "queued_messages",
                "Messages waiting in dispatch chunks, at most (all servers; a chunk being sent counts whole)",
                Gauge::default(),
            ),
            waiting_chunks: registered(
                &mut r,
                "dispatch_chunks_waiting",
                "Dispatch chunks not yet done (all servers)",
                Gauge::default(),
            ),
            tasks_sending: registered(
                &mut r,
                "tasks_sending",
                "Tasks currently sending (all servers)",
                Gauge::default(),
            ),
            webhook_backlog: registered(
                &mut r,
                "webhook_deliveries_pending",
                "Event webhook deliveries not yet delivered or given up (all servers)",
                Gauge::default(),
            ),
            registry: r,
        }
    }

    pub fn limit_hit(&self, code: &str) {
        self.limit_hits
            .get_or_create(&CodeLabels { code: code.into() })
            .inc();
    }

    /// Counts recorded messages by state and carrier (`none`: refused before any carrier).
    pub fn count_messages(&self, recorded: impl Iterator<Item = (&'static str, Option<i64>)>) {
        let mut tally: std::collections::HashMap<(&'static str, Option<i64>), u64> =
            std::collections::HashMap::new();
        for key in recorded {
            *tally.entry(key).or_default() += 1;
        }
        for ((state, carrier), n) in tally {
            let carrier = carrier.map_or_else(|| "none".to_owned(), |c| c.to_string());
            self.messages
                .get_or_create(&MessageLabels { state, carrier })
                .inc_by(n);
        }
    }

    pub fn outcome(family: &Family<OutcomeLabels, Counter>, outcome: &'static str, n: u64) {
        if n > 0 {
            family.get_or_create(&OutcomeLabels { outcome }).inc_by(n);
        }
    }

    /// The exposition: the shared gauges read now, then every series.
    pub async fn render(&self, pool: &PgPool) -> Result<String, AppError> {
        // Task counters cannot give the queue (`failed` also counts sent messages whose
        // receipt failed); the open chunks' id ranges can, from a small table.
        let gauges = sqlx::query!(
            r#"SELECT coalesce(sum(last_id - first_id + 1), 0)::bigint AS "queued!",
                      count(*) AS "chunks!",
                      (SELECT count(*) FROM tasks WHERE status = 'sending') AS "sending!",
                      (SELECT count(*) FROM webhook_deliveries
                        WHERE delivered_at IS NULL AND failed_at IS NULL) AS "webhooks!"
                 FROM dispatch_chunks WHERE NOT done"#,
        )
        .fetch_one(pool)
        .await?;
        self.queued_messages.set(gauges.queued);
        self.waiting_chunks.set(gauges.chunks);
        self.tasks_sending.set(gauges.sending);
        self.webhook_backlog.set(gauges.webhooks);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .map_err(|e| AppError::internal(format!("metrics encoding: {e}")))?;
        Ok(text)
    }
}

/// This process's metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);
    &METRICS
}
