//! The built-in carrier simulator: accepts, refuses or stalls batches like a real gateway, sends
//! delivery receipts to Herald's receipt endpoint in Tencent's callback format, deduplicates on
//! each message's idempotency key and keeps a ledger of what it accepted, for tests to count
//! duplicates and losses. Runs inside the server (the default carrier) or as its own process
//! (`herald simulator`), reached over the HTTP carrier protocol.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use futures_util::future::BoxFuture;

use super::carrier::{Batch, Carrier, CarrierError, Outcome};
use super::model::SimulatorSettings;
use crate::templates::segments::segments;

/// One receipt in Tencent's callback format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub user_receive_time: String,
    pub nationcode: String,
    pub mobile: String,
    pub report_status: String,
    pub errmsg: String,
    pub description: String,
    pub sid: String,
}

/// What the simulator accepted, for tests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerSummary {
    /// Distinct messages accepted (each would be one SMS on a handset).
    pub accepted: u64,
    /// Accepted messages whose phone and content were already accepted under another key:
    /// a real duplicate SMS.
    pub duplicates: u64,
    /// Times an already accepted key was presented again (answered with its first serial).
    pub resubmitted: u64,
    pub refused: u64,
    pub transient_failures: u64,
    /// Receipts sent saying the handset got the message, and saying it did not.
    #[serde(default)]
    pub receipts_delivered: u64,
    #[serde(default)]
    pub receipts_failed: u64,
}

#[derive(Default)]
struct Ledger {
    serials: HashMap<String, String>,
    per_recipient: HashMap<(String, u64), u32>,
    summary: LedgerSummary,
}

pub struct Simulator {
    settings: SimulatorSettings,
    seed: u64,
    calls: AtomicU64,
    ledger: Mutex<Ledger>,
    receipts: Option<mpsc::UnboundedSender<Receipt>>,
}

const LEDGER_CAP: usize = 5_000_000;

const REFUSALS: [(&str, &str); 2] = [
    (
        "FailedOperation.PhoneNumberInBlacklist",
        "the number is on the carrier's blacklist",
    ),
    (
        "InvalidParameterValue.IncorrectPhoneNumber",
        "the carrier does not know this number",
    ),
];
const UNDELIVERED: [(&str, &str); 3] = [
    ("UNDELIV", "the handset could not be reached"),
    ("EXPIRED", "the message expired before delivery"),
    ("REJECTD", "the network rejected the message"),
];

impl Simulator {
    /// A simulator; with `receipt_url` it posts receipts there after `receipt_delay_ms`.
    pub fn new(settings: SimulatorSettings, receipt_url: Option<String>) -> Self {
        let seed = settings.seed.unwrap_or_else(rand::random);
        let receipts = receipt_url.filter(|_| settings.send_receipts).map(|url| {
            let (sender, receiver) = mpsc::unbounded_channel();
            tokio::spawn(push_receipts(
                url,
                Duration::from_millis(settings.receipt_delay_ms),
                receiver,
            ));
            sender
        });
        Simulator {
            settings,
            seed,
            calls: AtomicU64::new(0),
            ledger: Mutex::new(Ledger::default()),
            receipts,
        }
    }

    /// A number in [0, 1) fixed by the seed and `what`, so decisions repeat for the same key.
    fn draw(&self, what: &str, salt: u64) -> f64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (self.seed, what, salt).hash(&mut hasher);
        (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn ledger(&self) -> LedgerSummary {
        self.ledger
            .lock()
            .map(|l| l.summary.clone())
            .unwrap_or_default()
    }

    pub async fn submit(&self, batch: &Batch) -> Result<Vec<Outcome>, CarrierError> {
        if self.settings.latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(self.settings.latency_ms)).await;
        }
        let call = self.calls.fetch_add(1, Ordering::Relaxed);
        if self.draw("transient", call) < self.settings.transient_rate {
            if let Ok(mut ledger) = self.ledger.lock() {
                ledger.summary.transient_failures += 1;
            }
            return Err(CarrierError::Busy("simulated throttling".into()));
        }
        let fee = segments(&batch.content).parts as i64;
        let content_hash = {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            batch.content.hash(&mut hasher);
            hasher.finish()
        };
        let now = if self.receipts.is_some() {
            chrono::Utc::now()
                .with_timezone(&chrono_tz::Asia::Shanghai)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        } else {
            String::new()
        };
        let mut receipts = Vec::new();
        let outcomes = {
            let Ok(mut ledger) = self.ledger.lock() else {
                return Err(CarrierError::Busy("simulator ledger poisoned".into()));
            };
            batch
                .messages
                .iter()
                .map(|m| {
                    if let Some(serial) = ledger.serials.get(&m.key).cloned() {
                        ledger.summary.resubmitted += 1;
                        return Outcome::accepted(&m.key, serial, fee);
                    }
                    if self.draw(&m.key, 1) >= self.settings.accept_rate {
                        ledger.summary.refused += 1;
                        let (code, why) = REFUSALS[(self.draw(&m.key, 2) * 2.0) as usize % 2];
                        return Outcome::refused(&m.key, code, why);
                    }
                    let serial = format!("sim-{}", m.key);
                    if ledger.serials.len() >= LEDGER_CAP {
                        // A long-running in-process simulator must not grow without bound; the
                        // oldest keys' deduplication is given up (tests stay far below this).
                        ledger.serials.clear();
                        ledger.per_recipient.clear();
                    }
                    ledger.serials.insert(m.key.clone(), serial.clone());
                    ledger.summary.accepted += 1;
                    let seen = ledger
                        .per_recipient
                        .entry((m.phone.clone(), content_hash))
                        .or_default();
                    *seen += 1;
                    if *seen > 1 {
                        ledger.summary.duplicates += 1;
                    }
                    let delivered = self.draw(&m.key, 3) < self.settings.delivery_rate;
                    let (errmsg, description) = if delivered {
                        ("DELIVRD", "delivered")
                    } else {
                        UNDELIVERED[(self.draw(&m.key, 4) * 3.0) as usize % 3]
                    };
                    if self.receipts.is_none() {
                        return Outcome::accepted(&m.key, serial, fee);
                    }
                    if delivered {
                        ledger.summary.receipts_delivered += 1;
                    } else {
                        ledger.summary.receipts_failed += 1;
                    }
                    let (nationcode, mobile) = split_number(&m.phone);
                    receipts.push(Receipt {
                        user_receive_time: now.clone(),
                        nationcode,
                        mobile,
                        report_status: if delivered { "SUCCESS" } else { "FAIL" }.into(),
                        errmsg: errmsg.into(),
                        description: description.into(),
                        sid: serial.clone(),
                    });
                    Outcome::accepted(&m.key, serial, fee)
                })
                .collect()
        };
        if let Some(sink) = &self.receipts {
            for receipt in receipts {
                let _ = sink.send(receipt);
            }
        }
        Ok(outcomes)
    }
}

/// `+8613800000000` → ("86", "13800000000"); other countries by their usual code lengths.
fn split_number(e164: &str) -> (String, String) {
    let digits = e164.trim_start_matches('+');
    let code_len = if digits.starts_with('1') || digits.starts_with('7') {
        1
    } else if digits.starts_with("86") || digits.len() <= 11 {
        2
    } else {
        3
    };
    let (code, rest) = digits.split_at(code_len.min(digits.len()));
    (code.to_owned(), rest.to_owned())
}

/// Posts receipts in batches, each after the configured delay, retrying a refused post a few
/// times as carriers do.
async fn push_receipts(
    url: String,
    delay: Duration,
    mut receiver: mpsc::UnboundedReceiver<Receipt>,
) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    while let Some(first) = receiver.recv().await {
        tokio::time::sleep(delay.max(Duration::from_millis(50))).await;
        let mut batch = vec![first];
        while batch.len() < 1000 {
            match receiver.try_recv() {
                Ok(receipt) => batch.push(receipt),
                Err(_) => break,
            }
        }
        for attempt in 0..5u32 {
            let answer = client.post(&url).json(&batch).send().await;
            match answer {
                Ok(response) if response.status().is_success() => break,
                Ok(response) => {
                    tracing::warn!(status = %response.status(), "receipt post refused");
                }
                Err(err) => tracing::warn!("receipt post failed: {err}"),
            }
            tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
        }
    }
}

impl Carrier for Simulator {
    fn send<'a>(&'a self, batch: &'a Batch) -> BoxFuture<'a, Result<Vec<Outcome>, CarrierError>> {
        Box::pin(self.submit(batch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carriers::carrier::Outgoing;

    fn batch(keys: &[&str]) -> Batch {
        Batch {
            sign: "Herald".into(),
            content: "【Herald】hello".into(),
            template_id: 0,
            params: vec![],
            messages: keys
                .iter()
                .enumerate()
                .map(|(i, k)| Outgoing {
                    key: (*k).into(),
                    phone: format!("+861380000000{i}"),
                })
                .collect(),
        }
    }

    #[tokio::test]
    async fn a_key_is_accepted_once_and_answered_with_its_serial_again() {
        let sim = Simulator::new(SimulatorSettings::default(), None);
        let first = sim.submit(&batch(&["hm1", "hm2"])).await.unwrap();
        let again = sim.submit(&batch(&["hm1"])).await.unwrap();
        assert_eq!(first[0].serial, again[0].serial);
        let ledger = sim.ledger();
        assert_eq!(
            (ledger.accepted, ledger.resubmitted, ledger.duplicates),
            (2, 1, 0)
        );
        assert_eq!(first[0].fee, 1);
    }

    #[tokio::test]
    async fn the_same_recipient_under_a_new_key_is_a_duplicate() {
        let sim = Simulator::new(SimulatorSettings::default(), None);
        sim.submit(&batch(&["hm1"])).await.unwrap();
        sim.submit(&batch(&["hm9"])).await.unwrap();
        assert_eq!(sim.ledger().duplicates, 1);
    }

    #[tokio::test]
    async fn rates_and_seed_shape_the_answers() {
        let settings = SimulatorSettings {
            accept_rate: 0.5,
            seed: Some(7),
            ..SimulatorSettings::default()
        };
        let keys: Vec<String> = (0..1000).map(|i| format!("hm{i}")).collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let a = Simulator::new(settings.clone(), None)
            .submit(&batch(&refs))
            .await
            .unwrap();
        let b = Simulator::new(settings, None)
            .submit(&batch(&refs))
            .await
            .unwrap();
        assert_eq!(a, b, "seeded runs repeat");
        let accepted = a.iter().filter(|o| o.accepted).count();
        assert!((400..600).contains(&accepted), "{accepted}");
        assert!(a.iter().filter(|o| !o.accepted).all(|o| o.code.is_some()));
    }

    #[tokio::test]
    async fn the_ledger_counts_the_receipts_it_sends_by_outcome() {
        let settings = SimulatorSettings {
            delivery_rate: 0.5,
            send_receipts: true,
            seed: Some(3),
            ..SimulatorSettings::default()
        };
        // Nobody listens there: the receipts are only counted, their posts fail quietly.
        let sim = Simulator::new(settings, Some("http://127.0.0.1:9/receipts".into()));
        let keys: Vec<String> = (0..200).map(|i| format!("hm{i}")).collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        sim.submit(&batch(&refs)).await.unwrap();
        let ledger = sim.ledger();
        assert_eq!(ledger.receipts_delivered + ledger.receipts_failed, 200);
        assert!((60..140).contains(&ledger.receipts_delivered), "{ledger:?}");
        let quiet = Simulator::new(SimulatorSettings::default(), None);
        quiet.submit(&batch(&["hm1"])).await.unwrap();
        assert_eq!(
            quiet.ledger().receipts_delivered,
            0,
            "no receipts, none counted"
        );
    }

    #[tokio::test]
    async fn transient_failures_refuse_the_whole_call() {
        let sim = Simulator::new(
            SimulatorSettings {
                transient_rate: 1.0,
                ..SimulatorSettings::default()
            },
            None,
        );
        assert!(matches!(
            sim.submit(&batch(&["hm1"])).await,
            Err(CarrierError::Busy(_))
        ));
        assert_eq!(sim.ledger().accepted, 0);
    }

    #[test]
    fn numbers_split_into_country_and_subscriber() {
        assert_eq!(
            split_number("+8613800000000"),
            ("86".into(), "13800000000".into())
        );
        assert_eq!(
            split_number("+14155550100"),
            ("1".into(), "4155550100".into())
        );
    }
}
