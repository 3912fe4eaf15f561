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
//!    `pending_receipts` and applied in the transaction that records the result.
//!
//! Units: the task reserved them when it started; each recorded result moves the units of
//! accepted messages from the reservation to `used`, in the same transaction.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MessageState {
    Queued,
    Submitting,
    Submitted,
    Delivered,
    Failed,
    Rejected,
    Cancelled,
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

    pub fn label(self) -> &'static str {
        match self {
            MessageState::Queued => "Queued",
            MessageState::Submitting => "Submitting",
            MessageState::Submitted => "Awaiting receipt",
            MessageState::Delivered => "Delivered",
            MessageState::Failed => "Failed",
            MessageState::Rejected => "Not sent",
            MessageState::Cancelled => "Cancelled",
        }
    }
}

/// The idempotency key a carrier deduplicates a message on.
pub fn message_key(id: i64) -> String {
    format!("hm{id}")
}

pub fn id_from_key(key: &str) -> Option<i64> {
    key.strip_prefix("hm")?.parse().ok()
}

/// What the live progress display shows for a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskProgress {
    pub id: i64,
    pub status: crate::campaigns::model::TaskStatus,
    pub status_reason: Option<String>,
    pub recipients: i64,
    pub sent: i64,
    pub delivered: i64,
    pub failed: i64,
    pub units_used: i64,
    /// When these figures were read; the page derives the current rate from two readings.
    pub as_of: chrono::DateTime<chrono::Utc>,
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
