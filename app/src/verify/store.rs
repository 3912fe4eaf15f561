//! Where verification codes live: Redis (shared by every server process), or this process's
//! memory when no Redis is configured (one server only). Only a digest of each code is kept
//! (HMAC under the server's key, bound to the application and number), with when it was sent,
//! until when it is valid, the wrong attempts so far and whether it was used.
//!
//! A code is kept a day past its validity, so "expired" can be told from "never sent". Checking
//! reads the code, compares digests in constant time here, then applies the outcome with a
//! compare-and-set script, so two logins racing on one code cannot both succeed and every
//! wrong attempt counts.

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

    fn parse(raw: &str) -> CodeState {
        match raw {
            "pending" => CodeState::Pending,
            "used" => CodeState::Used,
            _ => CodeState::Void,
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

/// Applies a checked attempt only if the code is still what was read (same digest, same
/// attempts, still pending).
const APPLY: &str = r#"
local key = KEYS[1]
local current = redis.call('HMGET', key, 'digest', 'attempts', 'state')
if current[1] ~= ARGV[1] or current[2] ~= ARGV[2] or current[3] ~= 'pending' then
  return 0
end
redis.call('HSET', key, 'attempts', ARGV[3], 'state', ARGV[4])
return 1
"#;

/// Counts one request in an hourly window and says whether it went over `limit`.
const COUNT: &str = r#"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], 7200) end
return n
"#;

pub struct CodeStore {
    prefix: String,
    backend: Backend,
}

enum Backend {
    Redis {
        connection: redis::aio::ConnectionManager,
        apply: redis::Script,
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
                apply: redis::Script::new(APPLY),
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
                connection, apply, ..
            } => {
                let mut connection = connection.clone();
                // A concurrent attempt changes the code between read and write at most a few
                // times; each retry reads its result.
                for _ in 0..8 {
                    let fields: (Option<String>, Option<i64>, Option<u32>, Option<String>) =
                        redis::cmd("HMGET")
                            .arg(&key)
                            .arg(&["digest", "expires_at", "attempts", "state"])
                            .query_async(&mut connection)
                            .await
                            .map_err(redis_error)?;
                    let (Some(stored), Some(expires_at), Some(attempts), Some(state)) = fields
                    else {
                        return Ok(Verdict::Wrong);
                    };
                    let code = Code {
                        digest: stored,
                        expires_at,
                        attempts,
                        state: CodeState::parse(&state),
                    };
                    let (verdict, after) = code.attempt(digest, now);
                    let Some(after) = after else {
                        return Ok(verdict);
                    };
                    let applied: i64 = apply
                        .key(&key)
                        .arg(&code.digest)
                        .arg(code.attempts)
                        .arg(after.attempts)
                        .arg(after.state.as_str())
                        .invoke_async(&mut connection)
                        .await
                        .map_err(redis_error)?;
                    if applied == 1 {
                        return Ok(verdict);
                    }
                }
                Err(AppError::internal(
                    "verification code kept changing while being checked",
                ))
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

    /// Counts a request against an hourly `limit` on `subject` (a client address, a number
    /// prefix); true when this one is over it. A limit of 0 counts nothing.
    pub async fn over_hourly(
        &self,
        application: i64,
        subject: &str,
        limit: u32,
        now: i64,
    ) -> Result<bool, AppError> {
        if limit == 0 {
            return Ok(false);
        }
        let key = format!("{}p:{application}:{subject}:{}", self.prefix, now / 3600);
        let count: u64 = match &self.backend {
            Backend::Redis {
                connection, count, ..
            } => {
                let mut connection = connection.clone();
                count
                    .key(&key)
                    .invoke_async(&mut connection)
                    .await
                    .map_err(redis_error)?
            }
            Backend::Memory(memory) => {
                let mut memory = memory.lock().expect("code store lock");
                let now_instant = Instant::now();
                memory.sweep(now_instant);
                let entry = memory
                    .counts
                    .entry(key)
                    .or_insert((0, now_instant + Duration::from_secs(7200)));
                entry.0 += 1;
                entry.0
            }
        };
        Ok(count > u64::from(limit))
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
}
