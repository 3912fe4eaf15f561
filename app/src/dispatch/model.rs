//! The life of one message, and what a crash at each point does to it.
//!
//! ```text
//!            claim chunk                carrier accepted          receipt
//!  queued ───────────────▶ submitting ───────────────▶ submitted ─────────▶ delivered
//!    │                       │  │                          │
//!    │ opt-out at send time  │  │ carrier refused          └──── receipt ───▶ failed
//!    ▼                       │  └──────────────────────────────────────────▶ failed
//!  rejected                  │ paused / window closed before its call
//!                            └──────────────▶ queued
//!  queued / (unclaimed) ── task cancelled ──▶ cancelled
//! ```
//!
//! Every message carries an idempotency key (`hm<id>`) that the carrier deduplicates on; a
//! message is only ever handed to a carrier again with the same key.
//!
//! Crash points (the process dies, its chunk lease expires (30 s by default,
//! `HERALD_DISPATCH_LEASE_SECONDS`), another worker in any process claims the chunk):
//! 1. After the claim, before the carrier call: the chunk's messages are `submitting`; the next
//!    worker sends them — for the first time.
//! 2. During or after the carrier call, before the results are recorded: still `submitting`; the
//!    next worker sends them again with the same keys and the carrier answers with the serial it
//!    already gave (no second SMS), which is then recorded.
//! 3. After the results are recorded: `submitted` / `failed` rows are never claimed again; a
//!    receipt may still arrive and is applied (or kept until its message is recorded).
//! 4. A receipt that arrives before its message's result was recorded (fast carriers) is kept in
//!    `pending_receipts` (or, for a carrier's own serials, `carrier_receipts_early`) and applied
//!    in the transaction that records the result.
//! 5. A worker that stalls past its lease (it could not renew) stops before its next call,
//!    records what it sent and leaves the rest to the worker that took the chunk over.
//!
//! Carriers that cannot deduplicate (Tencent) change points 2 and 4 of the above: a message a
//! dead worker left `submitting`, or whose call timed out, is never sent again. It is recorded
//! `submitted` without a serial and listed in `unconfirmed_messages`; a delivery status that
//! names it (pulled with PullSmsSendStatus, matched by the batch's SessionContext and the
//! number) settles it, and when none comes within the carrier's window it fails as
//! `Herald.OutcomeUnknown`. A message in crash point 1 can therefore fail unsent: the price of
//! never sending one twice through a carrier that would send it twice.
//!
//! Units: the task reserved them when it started; each recorded result moves the units of
//! accepted messages from the reservation to `used`, in the same transaction.

use serde::{Deserialize, Serialize};

/// Stored as its `code` (a smallint): statements bind states, they never spell the numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::Type))]
#[repr(i16)]
pub enum MessageState {
    Queued = 0,
    Submitting = 1,
    Submitted = 2,
    Delivered = 3,
    Failed = 4,
    Rejected = 5,
    Cancelled = 6,
}

impl MessageState {
    pub const ALL: [MessageState; 7] = [
        MessageState::Queued,
        MessageState::Submitting,
        MessageState::Submitted,
        MessageState::Delivered,
        MessageState::Failed,
        MessageState::Rejected,
        MessageState::Cancelled,
    ];

    pub fn code(self) -> i16 {
        self as i16
    }

    pub fn from_code(code: i16) -> Option<MessageState> {
        MessageState::ALL.get(usize::try_from(code).ok()?).copied()
    }

    /// Its name in metrics and logs.
    pub fn name(self) -> &'static str {
        match self {
            MessageState::Queued => "queued",
            MessageState::Submitting => "submitting",
            MessageState::Submitted => "submitted",
            MessageState::Delivered => "delivered",
            MessageState::Failed => "failed",
            MessageState::Rejected => "rejected",
            MessageState::Cancelled => "cancelled",
        }
    }

    /// As the per-recipient records show it.
    pub fn label(self) -> &'static str {
        match self {
            MessageState::Queued => "Queued",
            MessageState::Submitting => "Sending",
            MessageState::Submitted => "Awaiting receipt",
            MessageState::Delivered => "Delivered",
            MessageState::Failed => "Failed",
            MessageState::Rejected => "Not sent",
            MessageState::Cancelled => "Cancelled",
        }
    }

    /// Whether `self → next` is a move the engine may make.
    pub fn can_become(self, next: MessageState) -> bool {
        use MessageState::*;
        matches!(
            (self, next),
            (Queued, Submitting)
                | (Queued, Rejected)
                | (Queued, Cancelled)
                | (Submitting, Submitting)
                | (Submitting, Queued)
                | (Submitting, Submitted)
                | (Submitting, Failed)
                | (Submitted, Delivered)
                | (Submitted, Failed)
        )
    }
}

/// The idempotency key a carrier deduplicates a message on.
pub fn message_key(id: i64) -> String {
    format!("hm{id}")
}

pub fn id_from_key(key: &str) -> Option<i64> {
    key.strip_prefix("hm")?.parse().ok()
}

/// The message a carrier's serial names, when the carrier speaks Herald's protocols (its serials
/// end with `-<key>` or `:<key>`); other carriers' serials are looked up in `carrier_serials`.
pub fn id_from_serial(serial: &str) -> Option<i64> {
    serial.rsplit(['-', ':']).next().and_then(id_from_key)
}

/// What the live progress display shows for a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskProgress {
    pub id: i64,
    pub status: crate::campaigns::model::TaskStatus,
    pub status_reason: Option<String>,
    pub recipients: i64,
    pub sent: i64,
    /// Never sent: refused by the carrier, or withheld by Herald (opted out, over a limit).
    pub refused: i64,
    pub delivered: i64,
    pub failed: i64,
    pub units_used: i64,
    /// When these figures were read; the page derives the current rate from two readings.
    pub as_of: chrono::DateTime<chrono::Utc>,
}

/// What a worker holds: chunks of one task, as message id ranges. A bulk task's worker holds
/// one chunk of up to `CHUNK_SIZE` messages; a verification stream's holds up to
/// `STREAM_CLAIM` chunks of one message each (one per code), claimed together so that codes
/// requested one by one are sent and recorded in batches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub task_id: i64,
    pub ranges: Vec<(i64, i64)>,
    /// Of a verification stream: its messages are counted as recipients when recorded.
    pub stream: bool,
}

impl Chunk {
    /// Its chunks, as `dispatch_chunks` keys them (by first message id).
    pub fn firsts(&self) -> Vec<i64> {
        self.ranges.iter().map(|(first, _)| *first).collect()
    }

    /// Its messages, for SQL.
    pub fn messages(&self) -> MessageSet {
        match self.ranges.as_slice() {
            [(first, last)] => MessageSet::Range(*first, *last),
            ranges => MessageSet::Ids(ranges.iter().flat_map(|(f, l)| *f..=*l).collect()),
        }
    }
}

/// Messages a statement reads or changes: a range scans the primary key, a list probes it. (A
/// join against a list of ranges can be planned as a scan of the whole table.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageSet {
    Range(i64, i64),
    Ids(Vec<i64>),
}

/// The result of one message, to record.
#[derive(Debug, Clone)]
pub struct SendResult {
    pub id: i64,
    pub state: MessageState,
    /// `None` on a submitted message: the carrier may have it, but did not say (unconfirmed).
    pub serial: Option<String>,
    pub code: Option<String>,
    pub units: i64,
    /// The carrier that has (or may have) a submitted message.
    pub carrier: Option<i64>,
    /// When the carrier was asked (or Herald decided without asking): a submitted message's
    /// submission time, which its receipt can only follow, and a refused one's outcome time.
    pub at: chrono::DateTime<chrono::Utc>,
}

/// How a recording leaves the chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkEnd {
    /// Still being sent: the lease stays (progress shown while a slow carrier works).
    Continue,
    /// Everything sent; or the task stopped: `unsent` goes back to the queue (or is cancelled).
    Finish,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_match_storage() {
        for s in MessageState::ALL {
            assert_eq!(MessageState::from_code(s.code()), Some(s));
        }
        assert_eq!(MessageState::Queued.code(), 0);
        assert_eq!(MessageState::Cancelled.code(), 6);
    }

    #[test]
    fn finished_messages_never_move_back() {
        use MessageState::*;
        for done in [Delivered, Failed, Rejected, Cancelled] {
            for next in MessageState::ALL {
                assert!(!done.can_become(next), "{done:?} → {next:?}");
            }
        }
        assert!(
            !Submitted.can_become(Submitting),
            "an accepted message is never sent again"
        );
        assert!(
            Submitting.can_become(Submitting),
            "a dead worker's claim is taken over"
        );
    }

    #[test]
    fn keys_carry_the_message_id() {
        assert_eq!(id_from_key(&message_key(42)), Some(42));
        assert_eq!(id_from_key("x42"), None);
    }
}
