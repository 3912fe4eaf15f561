//! Where limit counters live: Redis (shared by every server process; one Lua script per batch,
//! so a check and its count are atomic), or this process's memory when no Redis is configured.
//!
//! Admission is idempotent per message: a number's day and hour are sets of message ids and the
//! same-content marker holds the id that set it, so a message admitted once (then retried after
//! a crash, a pause or a carrier refusal) is admitted again without counting twice.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use chrono::Utc;
use chrono_tz::Asia::Shanghai;

use super::{FrequencyRules, LimitHit};
use crate::error::AppError;

/// One message asking to go out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub message_id: i64,
    pub phone: String,
    /// Identifies the rendered content (signature, template and variables).
    pub content: String,
}

const DAY_TTL_SECONDS: u64 = 2 * 86_400;
const HOUR_TTL_SECONDS: u64 = 2 * 3_600;

const ADMIT: &str = r#"
local prefix, app, day, hour = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local same, per_hour, per_day, app_day =
  tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local app_key = prefix .. 'a:' .. app .. ':' .. day
local app_count = tonumber(redis.call('GET', app_key) or '0')
local added = 0
local out = {}
for i = 9, #ARGV, 3 do
  local id, phone, content = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local dk = prefix .. 'd:' .. app .. ':' .. phone .. ':' .. day
  local hk = prefix .. 'h:' .. app .. ':' .. phone .. ':' .. hour
  local ck = prefix .. 'c:' .. app .. ':' .. phone .. ':' .. content
  local hit = 0
  -- Added now (not admitted before): check it, and take it back out if over a limit.
  if redis.call('SADD', dk, id) == 1 then
    local today = redis.call('SCARD', dk)
    local marker = same > 0 and redis.call('GET', ck)
    if marker and marker ~= id then hit = 1
    elseif per_hour > 0 and redis.call('SCARD', hk) >= per_hour then hit = 2
    elseif per_day > 0 and today > per_day then hit = 3
    elseif app_day > 0 and app_count + added >= app_day then hit = 4
    end
    if hit > 0 then
      redis.call('SREM', dk, id)
    else
      if today == 1 then redis.call('EXPIRE', dk, 172800) end
      if per_hour > 0 then
        redis.call('SADD', hk, id)
        redis.call('EXPIRE', hk, 7200)
      end
      if same > 0 then redis.call('SET', ck, id, 'EX', same) end
      added = added + 1
    end
  end
  out[#out + 1] = hit
end
if added > 0 then
  redis.call('INCRBY', app_key, added)
  redis.call('EXPIRE', app_key, 172800)
end
return out
"#;

pub struct Limiter {
    prefix: String,
    backend: Backend,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let backend = if self.is_shared() { "redis" } else { "memory" };
        write!(f, "Limiter({backend}, {:?})", self.prefix)
    }
}

enum Backend {
    Redis {
        connection: redis::aio::ConnectionManager,
        script: redis::Script,
    },
    Memory(std::sync::Mutex<Memory>),
}

#[derive(Default)]
struct Memory {
    sets: HashMap<String, (HashSet<i64>, Instant)>,
    markers: HashMap<String, (i64, Instant)>,
    counts: HashMap<String, (u64, Instant)>,
    checked: usize,
}

impl Limiter {
    /// Counters in Redis at `url`, under keys starting with `prefix`.
    pub async fn redis(url: &str, prefix: &str) -> Result<Limiter, String> {
        let client = redis::Client::open(url).map_err(|e| format!("REDIS_URL {url}: {e}"))?;
        let connection = client
            .get_connection_manager()
            .await
            .map_err(|e| format!("connecting to Redis at {url}: {e}"))?;
        Ok(Limiter {
            prefix: prefix.to_owned(),
            backend: Backend::Redis {
                connection,
                script: redis::Script::new(ADMIT),
            },
        })
    }

    /// Counters in this process only: right for a single server.
    pub fn in_memory() -> Limiter {
        Limiter {
            prefix: String::new(),
            backend: Backend::Memory(std::sync::Mutex::new(Memory::default())),
        }
    }

    pub fn is_shared(&self) -> bool {
        matches!(self.backend, Backend::Redis { .. })
    }

    /// Admits each attempt or names the limit it hit, counting the admitted ones; in order.
    pub async fn admit(
        &self,
        app: i64,
        rules: &FrequencyRules,
        attempts: &[Attempt],
    ) -> Result<Vec<Option<LimitHit>>, AppError> {
        if attempts.is_empty() {
            return Ok(Vec::new());
        }
        let now = Utc::now().with_timezone(&Shanghai);
        let day = now.format("%Y%m%d").to_string();
        let hour = now.format("%Y%m%d%H").to_string();
        match &self.backend {
            Backend::Redis { connection, script } => {
                let mut invocation = script.prepare_invoke();
                invocation
                    .arg(&self.prefix)
                    .arg(app)
                    .arg(&day)
                    .arg(&hour)
                    .arg(rules.same_content_seconds)
                    .arg(rules.per_hour)
                    .arg(rules.per_day)
                    .arg(rules.app_per_day);
                for a in attempts {
                    invocation.arg(a.message_id).arg(&a.phone).arg(&a.content);
                }
                let mut connection = connection.clone();
                let hits: Vec<i64> = invocation
                    .invoke_async(&mut connection)
                    .await
                    .map_err(|e| AppError::internal(format!("frequency limits (Redis): {e}")))?;
                Ok(hits.into_iter().map(LimitHit::from_wire).collect())
            }
            Backend::Memory(memory) => {
                let mut memory = memory
                    .lock()
                    .map_err(|_| AppError::internal("frequency limit counters poisoned"))?;
                Ok(memory.admit(app, &day, &hour, rules, attempts))
            }
        }
    }
}

impl Memory {
    fn admit(
        &mut self,
        app: i64,
        day: &str,
        hour: &str,
        rules: &FrequencyRules,
        attempts: &[Attempt],
    ) -> Vec<Option<LimitHit>> {
        let now = Instant::now();
        self.forget_expired(now);
        let app_key = format!("a:{app}:{day}");
        let day_ttl = now + Duration::from_secs(DAY_TTL_SECONDS);
        let mut admitted = 0u64;
        let app_count = self.counts.get(&app_key).map_or(0, |c| c.0);
        let hits = attempts
            .iter()
            .map(|a| {
                let day_key = format!("d:{app}:{}:{day}", a.phone);
                let hour_key = format!("h:{app}:{}:{hour}", a.phone);
                let content_key = format!("c:{app}:{}:{}", a.phone, a.content);
                let count = |sets: &HashMap<String, (HashSet<i64>, Instant)>, key: &str| {
                    sets.get(key).map_or(0, |s| s.0.len() as u64)
                };
                if self
                    .sets
                    .get(&day_key)
                    .is_some_and(|s| s.0.contains(&a.message_id))
                {
                    return None;
                }
                let marker = self.markers.get(&content_key).map(|m| m.0);
                let hit = if rules.same_content_seconds > 0
                    && marker.is_some_and(|id| id != a.message_id)
                {
                    Some(LimitHit::SameContent)
                } else if rules.per_hour > 0
                    && count(&self.sets, &hour_key) >= u64::from(rules.per_hour)
                {
                    Some(LimitHit::Hour)
                } else if rules.per_day > 0
                    && count(&self.sets, &day_key) >= u64::from(rules.per_day)
                {
                    Some(LimitHit::Day)
                } else if rules.app_per_day > 0 && app_count + admitted >= rules.app_per_day {
                    Some(LimitHit::AppDay)
                } else {
                    None
                };
                if hit.is_none() {
                    self.sets
                        .entry(day_key)
                        .or_insert_with(|| (HashSet::new(), day_ttl))
                        .0
                        .insert(a.message_id);
                    if rules.per_hour > 0 {
                        let hour_ttl = now + Duration::from_secs(HOUR_TTL_SECONDS);
                        self.sets
                            .entry(hour_key)
                            .or_insert_with(|| (HashSet::new(), hour_ttl))
                            .0
                            .insert(a.message_id);
                    }
                    if rules.same_content_seconds > 0 {
                        let until =
                            now + Duration::from_secs(u64::from(rules.same_content_seconds));
                        self.markers.insert(content_key, (a.message_id, until));
                    }
                    admitted += 1;
                }
                hit
            })
            .collect();
        if admitted > 0 {
            self.counts.entry(app_key).or_insert((0, day_ttl)).0 += admitted;
        }
        hits
    }

    /// Expired counters are dropped every so often, as Redis drops expired keys.
    fn forget_expired(&mut self, now: Instant) {
        self.checked += 1;
        if !self.checked.is_multiple_of(1024) {
            return;
        }
        self.sets.retain(|_, (_, until)| *until > now);
        self.markers.retain(|_, (_, until)| *until > now);
        self.counts.retain(|_, (_, until)| *until > now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(id: i64, phone: &str, content: &str) -> Attempt {
        Attempt {
            message_id: id,
            phone: phone.into(),
            content: content.into(),
        }
    }

    /// The same story against either backend: they must agree.
    async fn limits_hold(limiter: &Limiter) {
        let rules = FrequencyRules {
            same_content_seconds: 30,
            per_hour: 0,
            per_day: 3,
            app_per_day: 7,
        };
        let a = "+8613800000001";
        // Same content twice in one batch: the second waits 30 s.
        let hits = limiter
            .admit(1, &rules, &[attempt(1, a, "x"), attempt(2, a, "x")])
            .await
            .unwrap();
        assert_eq!(hits, [None, Some(LimitHit::SameContent)]);
        // Retrying an admitted message admits it again without counting it again.
        let hits = limiter
            .admit(1, &rules, &[attempt(1, a, "x")])
            .await
            .unwrap();
        assert_eq!(hits, [None]);
        let hits = limiter
            .admit(
                1,
                &rules,
                &[attempt(3, a, "y"), attempt(4, a, "z"), attempt(5, a, "w")],
            )
            .await
            .unwrap();
        assert_eq!(hits, [None, None, Some(LimitHit::Day)], "3 a day");
        // Another application counts on its own.
        let hits = limiter
            .admit(2, &rules, &[attempt(6, a, "w")])
            .await
            .unwrap();
        assert_eq!(hits, [None]);
        // The application's daily cap: 3 admitted so far, 4 more fit.
        let others: Vec<Attempt> = (0..5)
            .map(|i| attempt(10 + i, &format!("+861390000000{i}"), "x"))
            .collect();
        let hits = limiter.admit(1, &rules, &others).await.unwrap();
        assert_eq!(hits, [None, None, None, None, Some(LimitHit::AppDay)]);

        let hourly = FrequencyRules {
            per_hour: 1,
            ..FrequencyRules::default()
        };
        let b = "+8613700000001";
        let hits = limiter
            .admit(3, &hourly, &[attempt(20, b, "x"), attempt(21, b, "y")])
            .await
            .unwrap();
        assert_eq!(hits, [None, Some(LimitHit::Hour)]);
    }

    #[tokio::test]
    async fn in_memory_counters_enforce_every_limit() {
        limits_hold(&Limiter::in_memory()).await;
    }

    #[tokio::test]
    async fn redis_counters_enforce_every_limit_the_same_way() {
        let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let prefix = format!("herald-test:{}:", uuid::Uuid::new_v4());
        let limiter = Limiter::redis(&url, &prefix)
            .await
            .expect("the tests need Redis (make test starts it)");
        assert!(limiter.is_shared());
        limits_hold(&limiter).await;
    }
}
