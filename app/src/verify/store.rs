//! Where verification codes live: Redis (shared by every server process), or this process's
//! memory when no Redis is configured (one server only). Only a digest of each code is kept
//! (HMAC under the server's key, bound to the application and number), with when it was sent,
//! until when it is valid, the wrong attempts so far and whether it was used.
//!
//! A code is kept a day past its validity, so "expired" can be told from "never sent". An attempt
//! is judged and its outcome applied in one step — a Lua script in Redis, under the lock in
//! memory — so two logins racing on one code cannot both succeed and every wrong attempt counts.
//! Digests are compared in constant time in both.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::error::AppError;

/// Wrong attempts after which a code is void.
pub const MAX_ATTEMPTS: u32 = 5;
/// How long a code's record outlives its validity.
const KEEP_SECONDS: i64 = 86_400;

/// What a login attempt finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The code matched and is now used.
    Accepted,
    /// The code matched nothing (or this number was never sent one).
    Wrong,
    /// The code's time is over.
    Expired,
    /// Used already, or voided by too many wrong attempts or a newer code.
    NoLongerValid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Code {
    digest: String,
    expires_at: i64,
    attempts: u32,
    state: CodeState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CodeState {
    Pending,
    Used,
    Void,
}

impl CodeState {
    fn as_str(self) -> &'static str {
        match self {
            CodeState::Pending => "pending",
            CodeState::Used => "used",
            CodeState::Void => "void",
        }
    }
}

impl Code {
    /// What an attempt with `digest` does at `now`: the verdict, and the code as it is after.
    fn attempt(&self, digest: &str, now: i64) -> (Verdict, Option<Code>) {
        if self.state != CodeState::Pending {
            return (Verdict::NoLongerValid, None);
        }
        if now >= self.expires_at {
            return (Verdict::Expired, None);
        }
        let mut after = self.clone();
        if crate::signing::same(&self.digest, digest) {
            after.state = CodeState::Used;
            (Verdict::Accepted, Some(after))
        } else {
            after.attempts += 1;
            if after.attempts >= MAX_ATTEMPTS {
                after.state = CodeState::Void;
            }
            (Verdict::Wrong, Some(after))
        }
    }
}

/// Judges an attempt and applies its outcome in one round trip; the same rules as
/// `Code::attempt` (the in-memory store's), which the tests hold both to. Answers the verdict's
/// name. ARGV: the attempt's digest, now (Unix seconds), the attempts that void a code.
const CHECK: &str = r#"
local key = KEYS[1]
local code = redis.call('HMGET', key, 'digest', 'expires_at', 'attempts', 'state')
if not (code[1] and code[2] and code[3] and code[4]) then return 'wrong' end
if code[4] ~= 'pending' then return 'no_longer_valid' end
if tonumber(ARGV[2]) >= tonumber(code[2]) then return 'expired' end
local stored, given = code[1], ARGV[1]
-- Constant time: every byte is looked at, wherever the first difference is.
local diff = (#stored == #given) and 0 or 1
for i = 1, math.min(#stored, #given) do
  diff = bit.bor(diff, bit.bxor(string.byte(stored, i), string.byte(given, i)))
end
if diff == 0 then
  redis.call('HSET', key, 'state', 'used')
  return 'accepted'
end
local attempts = tonumber(code[3]) + 1
if attempts >= tonumber(ARGV[3]) then
  redis.call('HSET', key, 'attempts', attempts, 'state', 'void')
else
  redis.call('HSET', key, 'attempts', attempts)
end
return 'wrong'
"#;

/// Counts one request against each subject's hourly counter in turn (KEYS, with their limits
/// in ARGV; 0 counts nothing) and stops at the first that goes over: answers its position
/// (from 1), or 0.
const COUNT: &str = r#"
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[i])
  if limit > 0 then
    local n = redis.call('INCR', key)
    if n == 1 then redis.call('EXPIRE', key, 7200) end
    if n > limit then return i end
  end
end
return 0
"#;

pub struct CodeStore {
    prefix: String,
    backend: Backend,
}

enum Backend {
    Redis {
        connection: redis::aio::ConnectionManager,
        check: redis::Script,
        count: redis::Script,
    },
    Memory(std::sync::Mutex<Memory>),
}

#[derive(Default)]
struct Memory {
    codes: HashMap<String, (Code, Instant)>,
    counts: HashMap<String, (u64, Instant)>,
    writes: u64,
}

impl Memory {
    /// Drops what has outlived its time, every thousandth write (a full pass each time would
    /// cost every request the whole map).
    fn sweep(&mut self, now: Instant) {
        self.writes += 1;
        if self.writes.is_multiple_of(1000) {
            self.codes.retain(|_, (_, until)| *until > now);
            self.counts.retain(|_, (_, until)| *until > now);
        }
    }
}

impl std::fmt::Debug for CodeStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let backend = match self.backend {
            Backend::Redis { .. } => "redis",
            Backend::Memory(_) => "memory",
        };
        write!(f, "CodeStore({backend}, {:?})", self.prefix)
    }
}

fn redis_error(err: redis::RedisError) -> AppError {
    AppError::internal(format!("verification codes in Redis: {err}"))
}

impl CodeStore {
    /// Codes in Redis at `url`, under keys starting with `prefix`.
    pub async fn redis(url: &str, prefix: &str) -> Result<CodeStore, String> {
        let shown = crate::limits::store::without_password(url);
        let client = redis::Client::open(url).map_err(|e| format!("REDIS_URL {shown}: {e}"))?;
        let connection = client
            .get_connection_manager()
            .await
            .map_err(|e| format!("connecting to Redis at {shown}: {e}"))?;
        Ok(CodeStore {
            prefix: prefix.to_owned(),
            backend: Backend::Redis {
                connection,
                check: redis::Script::new(CHECK),
                count: redis::Script::new(COUNT),
            },
        })
    }

    /// Codes in this process only: right for a single server.
    pub fn in_memory() -> CodeStore {
        CodeStore {
            prefix: String::new(),
            backend: Backend::Memory(std::sync::Mutex::new(Memory::default())),
        }
    }

    fn code_key(&self, application: i64, phone: &str) -> String {
        format!("{}v:{application}:{phone}", self.prefix)
    }

    /// Keeps a new code for the number, replacing (and so voiding) any earlier one.
    pub async fn issue(
        &self,
        application: i64,
        phone: &str,
        digest: &str,
        now: i64,
        validity_seconds: i64,
    ) -> Result<(), AppError> {
        let key = self.code_key(application, phone);
        let code = Code {
            digest: digest.to_owned(),
            expires_at: now + validity_seconds,
            attempts: 0,
            state: CodeState::Pending,
        };
        let keep = validity_seconds + KEEP_SECONDS;
        match &self.backend {
            Backend::Redis { connection, .. } => {
                let mut connection = connection.clone();
                redis::pipe()
                    .atomic()
                    .del(&key)
                    .hset_multiple(
                        &key,
                        &[
                            ("digest", code.digest.clone()),
                            ("expires_at", code.expires_at.to_string()),
                            ("attempts", "0".to_owned()),
                            ("state", code.state.as_str().to_owned()),
                        ],
                    )
                    .expire(&key, keep)
                    .query_async::<()>(&mut connection)
                    .await
                    .map_err(redis_error)
            }
            Backend::Memory(memory) => {
                let now = Instant::now();
                let mut memory = memory.lock().expect("code store lock");
                memory.sweep(now);
                memory
                    .codes
                    .insert(key, (code, now + Duration::from_secs(keep as u64)));
                Ok(())
            }
        }
    }

    /// Checks an attempt (`digest` of the code the user typed) at `now`.
    pub async fn check(
        &self,
        application: i64,
        phone: &str,
        digest: &str,
        now: i64,
    ) -> Result<Verdict, AppError> {
        let key = self.code_key(application, phone);
        match &self.backend {
            Backend::Redis {
                connection, check, ..
            } => {
                let mut connection = connection.clone();
                let verdict: String = check
                    .key(&key)
                    .arg(digest)
                    .arg(now)
                    .arg(MAX_ATTEMPTS)
                    .invoke_async(&mut connection)
                    .await
                    .map_err(redis_error)?;
                match verdict.as_str() {
                    "accepted" => Ok(Verdict::Accepted),
                    "wrong" => Ok(Verdict::Wrong),
                    "expired" => Ok(Verdict::Expired),
                    "no_longer_valid" => Ok(Verdict::NoLongerValid),
                    other => Err(AppError::internal(format!(
                        "verification check script answered {other:?}"
                    ))),
                }
            }
            Backend::Memory(memory) => {
                let mut memory = memory.lock().expect("code store lock");
                let Some((code, until)) = memory.codes.get_mut(&key) else {
                    return Ok(Verdict::Wrong);
                };
                if *until <= Instant::now() {
                    memory.codes.remove(&key);
                    return Ok(Verdict::Wrong);
                }
                let (verdict, after) = code.attempt(digest, now);
                if let Some(after) = after {
                    *code = after;
                }
                Ok(verdict)
            }
        }
    }

    /// Counts a request against hourly limits on subjects (a client address, a number prefix),
    /// in order, stopping at the first it goes over: that one's position. A limit of 0 counts
    /// nothing. One round trip to Redis for all of them.
    pub async fn first_over_hourly(
        &self,
        application: i64,
        limits: &[(&str, u32)],
        now: i64,
    ) -> Result<Option<usize>, AppError> {
        let hour = now / 3600;
        let key = |subject: &str| format!("{}p:{application}:{subject}:{hour}", self.prefix);
        match &self.backend {
            Backend::Redis {
                connection, count, ..
            } => {
                let mut connection = connection.clone();
                let mut invocation = count.prepare_invoke();
                for (subject, limit) in limits {
                    invocation.key(key(subject)).arg(*limit);
                }
                let over: usize = invocation
                    .invoke_async(&mut connection)
                    .await
                    .map_err(redis_error)?;
                Ok(over.checked_sub(1))
            }
            Backend::Memory(memory) => {
                let mut memory = memory.lock().expect("code store lock");
                let now_instant = Instant::now();
                memory.sweep(now_instant);
                for (position, (subject, limit)) in limits.iter().enumerate() {
                    if *limit == 0 {
                        continue;
                    }
                    let entry = memory
                        .counts
                        .entry(key(subject))
                        .or_insert((0, now_instant + Duration::from_secs(7200)));
                    entry.0 += 1;
                    if entry.0 > u64::from(*limit) {
                        return Ok(Some(position));
                    }
                }
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(digest: &str) -> Code {
        Code {
            digest: digest.into(),
            expires_at: 1_000,
            attempts: 0,
            state: CodeState::Pending,
        }
    }

    #[test]
    fn the_right_code_in_time_is_accepted_once() {
        let (verdict, after) = pending("abc").attempt("abc", 999);
        assert_eq!(verdict, Verdict::Accepted);
        let used = after.unwrap();
        assert_eq!(used.attempt("abc", 999).0, Verdict::NoLongerValid);
    }

    #[test]
    fn a_code_expires_at_its_second() {
        assert_eq!(pending("abc").attempt("abc", 1_000).0, Verdict::Expired);
        assert_eq!(pending("abc").attempt("abc", 999).0, Verdict::Accepted);
    }

    #[test]
    fn five_wrong_attempts_void_the_code() {
        let mut code = pending("abc");
        for n in 1..=MAX_ATTEMPTS {
            let (verdict, after) = code.attempt("xyz", 10);
            assert_eq!(verdict, Verdict::Wrong);
            code = after.unwrap();
            assert_eq!(code.attempts, n);
        }
        assert_eq!(code.state, CodeState::Void);
        assert_eq!(code.attempt("abc", 10).0, Verdict::NoLongerValid);
    }

    #[test]
    fn four_wrong_attempts_still_leave_the_right_one() {
        let mut code = pending("abc");
        for _ in 1..MAX_ATTEMPTS {
            code = code.attempt("xyz", 10).1.unwrap();
        }
        assert_eq!(code.attempt("abc", 10).0, Verdict::Accepted);
    }

    /// The rules of `Code::attempt`, through a store's own check (the Lua script in Redis).
    async fn checks_follow_the_rules(store: &CodeStore) {
        let right = "a".repeat(64);
        let wrong = "b".repeat(64);
        assert_eq!(
            store.check(1, "+8613800000001", &right, 0).await.unwrap(),
            Verdict::Wrong,
            "never sent"
        );

        store
            .issue(1, "+8613800000001", &right, 0, 100)
            .await
            .unwrap();
        for _ in 1..MAX_ATTEMPTS {
            assert_eq!(
                store.check(1, "+8613800000001", &wrong, 10).await.unwrap(),
                Verdict::Wrong
            );
        }
        assert_eq!(
            store.check(1, "+8613800000001", &right, 10).await.unwrap(),
            Verdict::Accepted
        );
        assert_eq!(
            store.check(1, "+8613800000001", &right, 10).await.unwrap(),
            Verdict::NoLongerValid,
            "single use"
        );

        store
            .issue(1, "+8613800000002", &right, 0, 100)
            .await
            .unwrap();
        for _ in 0..MAX_ATTEMPTS {
            assert_eq!(
                store.check(1, "+8613800000002", &wrong, 10).await.unwrap(),
                Verdict::Wrong
            );
        }
        assert_eq!(
            store.check(1, "+8613800000002", &right, 10).await.unwrap(),
            Verdict::NoLongerValid,
            "voided"
        );

        store
            .issue(1, "+8613800000003", &right, 0, 100)
            .await
            .unwrap();
        assert_eq!(
            store.check(1, "+8613800000003", &right, 100).await.unwrap(),
            Verdict::Expired,
            "at its second"
        );
        assert_eq!(
            store.check(2, "+8613800000003", &right, 10).await.unwrap(),
            Verdict::Wrong,
            "another application's"
        );
        assert_eq!(
            store.check(1, "+8613800000003", &right, 99).await.unwrap(),
            Verdict::Accepted
        );
    }

    #[tokio::test]
    async fn the_memory_store_checks_by_the_rules() {
        checks_follow_the_rules(&CodeStore::in_memory()).await;
    }

    #[tokio::test]
    async fn the_redis_script_checks_by_the_same_rules() {
        let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let prefix = format!("herald-test:{}:", uuid::Uuid::new_v4());
        let store = CodeStore::redis(&url, &prefix)
            .await
            .expect("the tests need Redis (make test starts it)");
        checks_follow_the_rules(&store).await;
    }
}
