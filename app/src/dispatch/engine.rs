//! The engine: a scheduler that starts tasks at their second and keeps marketing inside its
//! window, and workers that lease chunks, send them through the task's carrier and record what
//! came back. Any number of processes may run it on one database: chunks are claimed with
//! `FOR UPDATE SKIP LOCKED` leases, and `NOTIFY herald_dispatch` wakes every process when work
//! appears. See `model` for the message states and what each crash point leaves behind.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::{Notify, Semaphore};
use uuid::Uuid;

use super::model::{message_key, Chunk, ChunkEnd, MessageState, SendResult};
use super::queue::Pending;
use super::slot::{CarrierSlot, RateLimiter};
use crate::carriers::carrier::{
    Batch, CarrierError, HttpCarrier, HttpSettings, Outgoing, SharedCarrier,
};
use crate::carriers::model::SimulatorSettings;
use crate::carriers::simulator::Simulator;
use crate::carriers::tencent::{TencentCarrier, TencentSettings};
use crate::error::AppError;
use crate::templates::model::TemplateContent;
use crate::templates::segments::with_signature;

/// Carriers take at most this many numbers per call.
pub const MAX_BATCH: usize = 200;
const MAX_ATTEMPTS: u32 = 6;
/// A task pauses itself when more than this share of its messages is refused (after a sample).
const PAUSE_ERROR_RATE: f64 = 0.5;
const PAUSE_MIN_SAMPLE: i64 = 200;
const STATUS_EVERY: Duration = Duration::from_millis(250);
const RECONCILE_EVERY: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Workers in this process, each holding at most one chunk.
    pub workers: usize,
    /// Where carriers post receipts: this server's own address (`http://host:port`).
    pub public_url: String,
    /// How long a claimed chunk stays with a worker that stops renewing it (a dead process).
    pub lease_seconds: i64,
    /// Opens the carriers' stored secrets.
    pub secrets: crate::secrets::SecretBox,
    /// Counts messages against each application's frequency limits.
    pub limiter: Arc<crate::limits::store::Limiter>,
}

/// What became of one batch at its carrier(s).
enum Call {
    /// The carrier answered for each message, as this carrier.
    Answered(Vec<crate::carriers::carrier::Outcome>, i64),
    /// A carrier that cannot deduplicate may have taken the batch: its messages wait for a
    /// delivery status (never sent again).
    Unknown(i64),
    /// No carrier took it; the messages go back to the queue.
    NotTaken,
}

pub struct Engine {
    pool: PgPool,
    config: EngineConfig,
    owner: Uuid,
    wake: Notify,
    carriers: tokio::sync::Mutex<HashMap<i64, Arc<CarrierSlot>>>,
    /// Verification streams a worker of this process is sending (see `super::queue::claim`).
    streams_in_hand: tokio::sync::Mutex<std::collections::HashSet<i64>>,
}

impl Engine {
    /// Starts the scheduler, the workers and the listener; they run until the process ends.
    pub fn spawn(pool: PgPool, config: EngineConfig) -> Arc<Engine> {
        let engine = Arc::new(Engine {
            pool,
            config,
            owner: Uuid::new_v4(),
            wake: Notify::new(),
            carriers: tokio::sync::Mutex::new(HashMap::new()),
            streams_in_hand: Default::default(),
        });
        tokio::spawn(Arc::clone(&engine).listen());
        tokio::spawn(Arc::clone(&engine).schedule());
        tokio::spawn(Arc::clone(&engine).reconcile());
        for _ in 0..engine.config.workers.max(1) {
            tokio::spawn(Arc::clone(&engine).work());
        }
        engine
    }

    /// Wakes the workers and the scheduler when any process announces work. Reconnects after
    /// the database goes away; the timers below keep things moving meanwhile.
    async fn listen(self: Arc<Self>) {
        loop {
            match PgListener::connect_with(&self.pool).await {
                Ok(mut listener) => {
                    if listener.listen("herald_dispatch").await.is_ok() {
                        while listener.recv().await.is_ok() {
                            self.wake.notify_waiters();
                        }
                    }
                }
                Err(err) => tracing::warn!("dispatch listener cannot connect: {err}"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    async fn schedule(self: Arc<Self>) {
        loop {
            let next = match self.schedule_once().await {
                Ok(next) => next,
                Err(err) => {
                    tracing::warn!("scheduler: {err}");
                    None
                }
            };
            // Sleep to the next task's second exactly, at most a second (the marketing window
            // and other processes' changes are looked at every second).
            let nap = next
                .and_then(|at| (at - chrono::Utc::now()).to_std().ok())
                .unwrap_or(Duration::from_secs(1))
                .min(Duration::from_secs(1));
            tokio::select! {
                _ = tokio::time::sleep(nap) => {}
                _ = self.wake.notified() => {}
            }
        }
    }

    async fn schedule_once(&self) -> Result<Option<chrono::DateTime<chrono::Utc>>, AppError> {
        if super::lifecycle::start_due(&self.pool).await? > 0 {
            self.wake.notify_waiters();
        }
        super::lifecycle::apply_marketing_window(&self.pool).await?;
        // A task whose last chunk finished while it was paused completes once it runs again.
        for task_id in super::lifecycle::sending_without_work(&self.pool).await? {
            super::lifecycle::complete_if_done(&self.pool, task_id).await?;
        }
        super::lifecycle::next_due(&self.pool).await
    }

    async fn work(self: Arc<Self>) {
        loop {
            match self.claim().await {
                Ok(Some(chunk)) => {
                    let sent = self.send_chunk(&chunk).await;
                    if chunk.stream {
                        self.streams_in_hand.lock().await.remove(&chunk.task_id);
                    }
                    if let Err(err) = sent {
                        // The lease runs out and the chunk is taken up again.
                        tracing::warn!(task_id = chunk.task_id, "chunk failed: {err}");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
                Ok(None) => {
                    // While a worker here sends a stream, it takes the codes that arrive next;
                    // waking the idle ones for each would only have them look in vain.
                    let streaming = !self.streams_in_hand.lock().await.is_empty();
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                        _ = self.wake.notified() => {}
                        _ = super::queue::local_work(), if !streaming => {}
                    }
                }
                Err(err) => {
                    tracing::warn!("claiming work: {err}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// Claims work, leaving the streams this process's other workers are sending to them (one
    /// claim at a time here, so two workers never both take a stream).
    async fn claim(&self) -> Result<Option<Chunk>, AppError> {
        let mut in_hand = self.streams_in_hand.lock().await;
        let skip: Vec<i64> = in_hand.iter().copied().collect();
        let chunk =
            super::queue::claim(&self.pool, self.owner, self.config.lease_seconds, &skip).await?;
        if let Some(chunk) = chunk.as_ref().filter(|c| c.stream) {
            in_hand.insert(chunk.task_id);
        }
        Ok(chunk)
    }

    async fn carrier(&self, id: Option<i64>) -> Result<Arc<CarrierSlot>, AppError> {
        let row = crate::carriers::repo::carrier(&self.pool, id).await?;
        let mut carriers = self.carriers.lock().await;
        if let Some(slot) = carriers
            .get(&row.id)
            .filter(|s| s.version == row.updated_at)
        {
            return Ok(Arc::clone(slot));
        }
        let settings =
            crate::carriers::repo::open_settings(row.settings.clone(), &self.config.secrets)?;
        let carrier: SharedCarrier = match row.kind.as_str() {
            "simulator" => {
                let settings: SimulatorSettings = serde_json::from_value(settings)
                    .map_err(|e| AppError::internal(format!("simulator settings: {e}")))?;
                let receipts = format!(
                    "{}/receipts/{}/{}",
                    self.config.public_url, row.id, row.receipt_token
                );
                Arc::new(Simulator::new(settings, Some(receipts)))
            }
            "http" => {
                let settings: HttpSettings = serde_json::from_value(settings)
                    .map_err(|e| AppError::internal(format!("http carrier settings: {e}")))?;
                Arc::new(HttpCarrier::new(settings))
            }
            "tencent" => {
                let settings: TencentSettings = serde_json::from_value(settings)
                    .map_err(|e| AppError::internal(format!("tencent carrier settings: {e}")))?;
                Arc::new(TencentCarrier::new(settings).map_err(AppError::internal)?)
            }
            other => return Err(AppError::internal(format!("unknown carrier kind {other}"))),
        };
        let slot = Arc::new(CarrierSlot {
            id: row.id,
            carrier,
            limiter: Arc::new(RateLimiter::new(f64::from(row.rate_limit))),
            in_flight: Arc::new(Semaphore::new(row.concurrency as usize)),
            version: row.updated_at,
            failover: row.failover_carrier_id,
            failover_after: row.failover_after.max(1) as u32,
            refusals: std::sync::Mutex::new((0, None)),
        });
        carriers.insert(row.id, Arc::clone(&slot));
        Ok(slot)
    }

    async fn send_chunk(&self, chunk: &Chunk) -> Result<(), AppError> {
        let task = super::lifecycle::task_context(&self.pool, chunk.task_id).await?;
        let slot = self.carrier(task.carrier_id).await?;
        let body = TemplateContent::from_stored(task.template.clone()).compile();
        // A carrier that cannot deduplicate never gets a message a dead worker may have sent.
        let resendable = slot.carrier.deduplicates();
        let mut messages = super::queue::take_messages(&self.pool, chunk, !resendable).await?;
        if task.origin == "verify" {
            // The code is kept sealed; only the carrier gets it in clear.
            for m in &mut messages {
                if let Some(code) = m.params.first_mut() {
                    *code = self.config.secrets.open(code)?;
                }
            }
        }

        let phones: Vec<String> = messages.iter().map(|m| m.phone.clone()).collect();
        let opted_out: std::collections::HashSet<String> =
            super::queue::opted_out(&self.pool, &phones)
                .await?
                .into_iter()
                .collect();
        let mut results: Vec<SendResult> = Vec::with_capacity(messages.len());
        let mut to_send: Vec<&Pending> = Vec::with_capacity(messages.len());
        for m in &messages {
            if m.taken_over && !resendable {
                // Another worker asked the carrier before it stopped; when is not known.
                results.push(SendResult {
                    id: m.id,
                    state: MessageState::Submitted,
                    serial: None,
                    code: None,
                    units: i64::from(m.units),
                    carrier: Some(slot.id),
                    at: Utc::now(),
                });
            } else if opted_out.contains(&m.phone) {
                results.push(SendResult {
                    id: m.id,
                    state: MessageState::Rejected,
                    serial: None,
                    code: Some("Herald.OptedOut".into()),
                    units: 0,
                    carrier: None,
                    at: Utc::now(),
                });
            } else {
                to_send.push(m);
            }
        }

        // One carrier call per content: recipients whose variables match share it.
        let mut groups: Vec<(Vec<String>, Vec<&Pending>)> = Vec::new();
        let mut index: HashMap<&[String], usize> = HashMap::new();
        for m in to_send {
            match index.get(m.params.as_slice()) {
                Some(&i) => groups[i].1.push(m),
                None => {
                    index.insert(m.params.as_slice(), groups.len());
                    groups.push((m.params.clone(), vec![m]));
                }
            }
        }
        // API and verification sends were counted when they were requested (their answer said
        // so); counting them again here would count them twice.
        let admitted_already = task.origin != "console";
        let checked = if admitted_already {
            Ok(HashMap::new())
        } else {
            self.check_limits(&task, &groups).await
        };
        let hits = match checked {
            Ok(hits) => hits,
            Err(err) => {
                // Nothing goes out unchecked: the chunk waits for the counters to come back.
                tracing::warn!(
                    task_id = chunk.task_id,
                    "frequency limits unavailable: {err}"
                );
                let unsent: Vec<i64> = groups
                    .iter()
                    .flat_map(|(_, members)| members.iter().map(|m| m.id))
                    .collect();
                record_with_retry(
                    &self.pool,
                    chunk,
                    &results,
                    &unsent,
                    false,
                    ChunkEnd::Finish,
                )
                .await?;
                tokio::time::sleep(Duration::from_secs(1)).await;
                return Ok(());
            }
        };
        for (_, members) in &mut groups {
            members.retain(|m| match hits.get(&m.id) {
                Some(hit) => {
                    results.push(SendResult {
                        id: m.id,
                        state: MessageState::Rejected,
                        serial: None,
                        code: Some(hit.code().into()),
                        units: 0,
                        carrier: None,
                        at: Utc::now(),
                    });
                    false
                }
                None => true,
            });
        }
        let mut unsent: Vec<i64> = Vec::new();
        let mut stopped = false;
        let mut cancelled = false;
        let mut last_renewal = Instant::now();
        let mut last_flush = Instant::now();
        let mut status_checked: Option<Instant> = None;
        for (params, members) in &groups {
            for part in members.chunks(MAX_BATCH) {
                if stopped {
                    unsent.extend(part.iter().map(|m| m.id));
                    continue;
                }
                // Pause, cancel and the marketing window take effect before the next call
                // (looked up every quarter second, not per call: calls can be one message each).
                if status_checked.is_none_or(|at| at.elapsed() > STATUS_EVERY) {
                    status_checked = Some(Instant::now());
                    let status = super::lifecycle::task_status(&self.pool, chunk.task_id).await?;
                    if status != "sending" {
                        stopped = true;
                        cancelled = status == "cancelled";
                        unsent.extend(part.iter().map(|m| m.id));
                        continue;
                    }
                }
                if last_renewal.elapsed().as_secs_f64() > self.config.lease_seconds as f64 / 3.0 {
                    if !super::queue::renew(
                        &self.pool,
                        chunk,
                        self.owner,
                        self.config.lease_seconds,
                    )
                    .await?
                    {
                        // Another worker took the chunk over (this one stalled past its lease):
                        // keep what was sent, leave the rest to it.
                        tracing::warn!(task_id = chunk.task_id, "chunk lease lost; stopping");
                        return record_with_retry(
                            &self.pool,
                            chunk,
                            &results,
                            &[],
                            false,
                            ChunkEnd::Continue,
                        )
                        .await;
                    }
                    last_renewal = Instant::now();
                }
                let values: Vec<&str> = params.iter().map(String::as_str).collect();
                let mut text = String::new();
                body.render_into(&values, &mut text);
                let batch = Batch {
                    sign: task.signature.clone(),
                    content: with_signature(&task.signature, &text),
                    template_id: task.template_id,
                    params: params.clone(),
                    messages: part
                        .iter()
                        .map(|m| Outgoing {
                            key: message_key(m.id),
                            phone: m.phone.clone(),
                        })
                        .collect(),
                };
                // Taken before the call: a receipt can arrive before the carrier's answer does.
                let asked_at = Utc::now();
                match self.call(&slot, &batch, chunk.task_id).await {
                    Call::Answered(outcomes, carrier) => {
                        results.extend(outcome_results(part, outcomes, carrier, asked_at))
                    }
                    Call::Unknown(carrier) => results.extend(part.iter().map(|m| SendResult {
                        id: m.id,
                        state: MessageState::Submitted,
                        serial: None,
                        code: None,
                        units: i64::from(m.units),
                        carrier: Some(carrier),
                        at: asked_at,
                    })),
                    Call::NotTaken => unsent.extend(part.iter().map(|m| m.id)),
                }
                // With a slow carrier, show progress every second rather than per chunk.
                if last_flush.elapsed() > Duration::from_secs(1) && !results.is_empty() {
                    record_with_retry(&self.pool, chunk, &results, &[], false, ChunkEnd::Continue)
                        .await?;
                    results.clear();
                    last_flush = Instant::now();
                }
            }
        }
        record_with_retry(
            &self.pool,
            chunk,
            &results,
            &unsent,
            cancelled,
            ChunkEnd::Finish,
        )
        .await?;
        if unsent.is_empty() && !chunk.stream {
            super::lifecycle::complete_if_done(&self.pool, chunk.task_id).await?;
        }
        self.pause_if_failing(chunk.task_id).await
    }

    /// Counts the chunk's messages against the application's limits; the refused ones, by id.
    async fn check_limits(
        &self,
        task: &super::lifecycle::TaskContext,
        groups: &[(Vec<String>, Vec<&Pending>)],
    ) -> Result<HashMap<i64, crate::limits::LimitHit>, AppError> {
        let mut attempts = Vec::new();
        for (params, members) in groups {
            let content = crate::limits::content_key(&task.signature, &task.template, params);
            attempts.extend(members.iter().map(|m| crate::limits::store::Attempt {
                message_id: m.id,
                phone: m.phone.clone(),
                content: content.clone(),
            }));
        }
        let hits = self
            .config
            .limiter
            .admit(task.application_id, &task.rules, &attempts)
            .await?;
        Ok(attempts
            .iter()
            .zip(hits)
            .filter_map(|(a, hit)| Some((a.message_id, hit?)))
            .collect())
    }

    /// Sends one batch with retries (exponential backoff with jitter). After repeated refusals
    /// by the primary the batch goes to its failover carrier — only after refusals, never after
    /// an unknown outcome, so no batch reaches two carriers. A carrier that cannot deduplicate
    /// is never called twice for an unknown outcome.
    async fn call(&self, primary: &Arc<CarrierSlot>, batch: &Batch, task_id: i64) -> Call {
        // Once a carrier may have the batch, every retry goes to that carrier.
        let mut pinned: Option<Arc<CarrierSlot>> = None;
        for attempt in 0..MAX_ATTEMPTS {
            let slot = match (&pinned, primary.failing_over()) {
                (Some(slot), _) => Arc::clone(slot),
                (None, Some(failover)) => match self.carrier(Some(failover)).await {
                    Ok(slot) => slot,
                    Err(err) => {
                        tracing::warn!(failover, "failover carrier unusable: {err}");
                        Arc::clone(primary)
                    }
                },
                (None, None) => Arc::clone(primary),
            };
            slot.limiter.acquire(batch.messages.len() as f64).await;
            let outcome = {
                let Ok(_permit) = slot.in_flight.acquire().await else {
                    return Call::NotTaken;
                };
                let started = Instant::now();
                let outcome = slot.carrier.send(batch).await;
                let labels = crate::metrics::CarrierCallLabels {
                    carrier: slot.id.to_string(),
                    outcome: match &outcome {
                        Ok(_) => "answered",
                        Err(CarrierError::Permanent { .. }) => "refused",
                        Err(CarrierError::Transient(_)) => "transient",
                        Err(CarrierError::Busy(_)) => "busy",
                    },
                };
                crate::metrics::metrics()
                    .carrier_call_seconds
                    .get_or_create(&labels)
                    .observe(started.elapsed().as_secs_f64());
                outcome
            };
            match outcome {
                Ok(outcomes) => {
                    slot.note(false);
                    return Call::Answered(outcomes, slot.id);
                }
                Err(CarrierError::Permanent { code, message }) => {
                    slot.note(false);
                    let refused = batch
                        .messages
                        .iter()
                        .map(|m| {
                            crate::carriers::carrier::Outcome::refused(&m.key, &code, &message)
                        })
                        .collect();
                    return Call::Answered(refused, slot.id);
                }
                Err(err @ CarrierError::Transient(_)) if !slot.carrier.deduplicates() => {
                    tracing::warn!(
                        task_id,
                        carrier = slot.id,
                        "outcome unknown, awaiting delivery statuses: {err}"
                    );
                    return Call::Unknown(slot.id);
                }
                Err(err) => {
                    let refused = matches!(err, CarrierError::Busy(_));
                    if refused {
                        slot.note(true);
                    } else {
                        pinned = Some(Arc::clone(&slot));
                    }
                    let backoff = 100u64 << attempt.min(6);
                    let jitter = rand::random::<u64>() % (backoff / 2 + 1);
                    tracing::debug!(task_id, carrier = slot.id, attempt, "carrier: {err}");
                    tokio::time::sleep(Duration::from_millis(backoff + jitter)).await;
                }
            }
        }
        Call::NotTaken
    }

    /// Asks carriers that hand out delivery statuses for them (Tencent's PullSmsSendStatus):
    /// they settle unconfirmed messages and act as receipts; unconfirmed messages past their
    /// carrier's window fail.
    async fn reconcile(self: Arc<Self>) {
        loop {
            tokio::time::sleep(RECONCILE_EVERY).await;
            let carriers = match crate::receipts::apply::pulling_carriers(&self.pool).await {
                Ok(carriers) => carriers,
                Err(err) => {
                    tracing::warn!("reconciliation: {err}");
                    continue;
                }
            };
            for (carrier, window_minutes) in carriers {
                if let Err(err) = self.reconcile_carrier(carrier, window_minutes).await {
                    tracing::warn!(carrier, "reconciliation: {err}");
                }
            }
        }
    }

    async fn reconcile_carrier(&self, carrier: i64, window_minutes: i64) -> Result<(), AppError> {
        let slot = self.carrier(Some(carrier)).await?;
        if let Some(pull) = slot.carrier.pull_statuses() {
            let statuses = pull
                .await
                .map_err(|e| AppError::internal(format!("pulling statuses: {e}")))?;
            if !statuses.is_empty() {
                let confirmed =
                    crate::receipts::apply::confirm_from_statuses(&self.pool, carrier, &statuses)
                        .await?;
                let receipts: Vec<crate::receipts::apply::CarrierReceipt> = statuses
                    .into_iter()
                    .map(|s| crate::receipts::apply::CarrierReceipt {
                        batch: crate::carriers::model::session_range(&s.session),
                        serial: s.serial,
                        delivered: s.delivered,
                        code: s.code,
                        phone: Some(s.phone),
                    })
                    .collect();
                let tally = crate::receipts::apply::apply_carrier_receipts(
                    &self.pool,
                    crate::receipts::apply::ReceiptSource::Carrier(carrier),
                    &receipts,
                )
                .await?;
                tracing::debug!(carrier, confirmed, ?tally, "statuses pulled");
            }
        }
        let expired =
            crate::receipts::apply::expire_unconfirmed(&self.pool, carrier, window_minutes).await?;
        if expired > 0 {
            tracing::warn!(
                carrier,
                expired,
                "unconfirmed messages failed: no delivery status named them"
            );
        }
        Ok(())
    }

    async fn pause_if_failing(&self, task_id: i64) -> Result<(), AppError> {
        // An API request's or a verification code's few messages say nothing about the
        // carrier: their callers see each result and decide themselves.
        let Some(counts) = sqlx::query!(
            "SELECT sent, failed FROM tasks WHERE id = $1 AND origin = 'console'",
            task_id,
        )
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(());
        };
        let (sent, failed) = (counts.sent, counts.failed);
        let total = i64::from(sent) + i64::from(failed);
        if total >= PAUSE_MIN_SAMPLE && f64::from(failed) / total as f64 > PAUSE_ERROR_RATE {
            let reason = format!(
                "Paused automatically: {failed} of {total} messages failed so far. Check the \
                 carrier and the failure codes, then resume."
            );
            if let Some(name) =
                super::lifecycle::pause_for_errors(&self.pool, task_id, &reason).await?
            {
                let limiter = &self.config.limiter;
                if let Err(err) =
                    crate::alerts::sms::report_task_paused(&self.pool, limiter, &name).await
                {
                    tracing::warn!(task_id, "SMS alert not sent: {err}");
                }
            }
        }
        Ok(())
    }
}

/// Maps a carrier's answer onto the batch; a message the carrier did not mention is treated as
/// not sent (it goes back to the queue under its key).
fn outcome_results(
    part: &[&Pending],
    outcomes: Vec<crate::carriers::carrier::Outcome>,
    carrier: i64,
    asked_at: DateTime<Utc>,
) -> Vec<SendResult> {
    let mut by_key: HashMap<String, crate::carriers::carrier::Outcome> =
        outcomes.into_iter().map(|o| (o.key.clone(), o)).collect();
    part.iter()
        .filter_map(|m| {
            let outcome = by_key.remove(&message_key(m.id))?;
            Some(if outcome.accepted {
                SendResult {
                    id: m.id,
                    state: MessageState::Submitted,
                    serial: outcome.serial,
                    code: None,
                    units: outcome.fee.max(i64::from(m.units)),
                    carrier: Some(carrier),
                    at: asked_at,
                }
            } else {
                SendResult {
                    id: m.id,
                    state: MessageState::Failed,
                    serial: None,
                    code: outcome.code,
                    units: 0,
                    carrier: None,
                    at: asked_at,
                }
            })
        })
        .collect()
}

async fn record_with_retry(
    pool: &PgPool,
    chunk: &Chunk,
    results: &[SendResult],
    unsent: &[i64],
    cancelled: bool,
    end: ChunkEnd,
) -> Result<(), AppError> {
    // A receipt applied at the same moment can deadlock with this; one side retries.
    let mut last = None;
    for attempt in 0..3u64 {
        match super::recording::record(pool, chunk, results, unsent, cancelled, end).await {
            Ok(()) => return Ok(()),
            Err(err) => {
                last = Some(err);
                tokio::time::sleep(Duration::from_millis(50 * (attempt + 1))).await;
            }
        }
    }
    Err(last.unwrap_or_else(|| AppError::internal("recording failed")))
}
