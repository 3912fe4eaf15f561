//! A carrier as the engine holds it: its client, this process's share of its rate and
//! concurrency, and whether it is failing over to another.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::carriers::carrier::SharedCarrier;

const RETRY_PRIMARY_AFTER: Duration = Duration::from_secs(30);

/// A carrier built from its row, with this process's share of its limits.
pub(crate) struct CarrierSlot {
    pub id: i64,
    pub carrier: SharedCarrier,
    pub limiter: Arc<RateLimiter>,
    pub in_flight: Arc<Semaphore>,
    pub version: chrono::DateTime<chrono::Utc>,
    pub failover: Option<i64>,
    pub failover_after: u32,
    /// Consecutive calls the carrier refused, and when the last was: while at or above
    /// `failover_after`, batches go to the failover carrier; after `RETRY_PRIMARY_AFTER` the
    /// primary is tried again.
    pub refusals: std::sync::Mutex<(u32, Option<Instant>)>,
}

impl CarrierSlot {
    pub fn failing_over(&self) -> Option<i64> {
        let failover = self.failover?;
        let (refusals, last) = *self.refusals.lock().ok()?;
        let recent = last.is_some_and(|at| at.elapsed() < RETRY_PRIMARY_AFTER);
        (refusals >= self.failover_after && recent).then_some(failover)
    }

    pub fn note(&self, refused: bool) {
        if let Ok(mut state) = self.refusals.lock() {
            *state = if refused {
                (state.0.saturating_add(1), Some(Instant::now()))
            } else {
                (0, None)
            };
        }
    }
}

/// A token bucket: `rate` messages per second, bursts up to one second's worth.
pub struct RateLimiter {
    rate: f64,
    state: tokio::sync::Mutex<(f64, tokio::time::Instant)>,
}

impl RateLimiter {
    pub fn new(rate: f64) -> Self {
        RateLimiter {
            rate: rate.max(1.0),
            state: tokio::sync::Mutex::new((rate.max(1.0), tokio::time::Instant::now())),
        }
    }

    pub async fn acquire(&self, n: f64) {
        loop {
            let wait = {
                let mut state = self.state.lock().await;
                let (tokens, at) = &mut *state;
                let now = tokio::time::Instant::now();
                *tokens =
                    (*tokens + now.duration_since(*at).as_secs_f64() * self.rate).min(self.rate);
                *at = now;
                // A batch larger than the bucket waits for a full bucket, then goes.
                let need = n.min(self.rate);
                if *tokens >= need {
                    *tokens -= need;
                    return;
                }
                Duration::from_secs_f64((need - *tokens) / self.rate)
            };
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Paused time: the clock only moves when every task sleeps, so this is exact, not timed.
    #[tokio::test(start_paused = true)]
    async fn the_rate_limiter_spaces_calls_to_its_rate() {
        let limiter = RateLimiter::new(1000.0);
        let started = tokio::time::Instant::now();
        for _ in 0..15 {
            limiter.acquire(200.0).await;
        }
        // 3,000 messages at 1,000/s after a 1,000 burst: 2 s.
        let took = started.elapsed().as_secs_f64();
        assert!((1.99..2.01).contains(&took), "{took}");
    }
}
