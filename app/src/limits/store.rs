//! Where limit counters live: Redis (shared by every server process; one Lua script per batch,
//! so a check and its count are atomic), or this process's memory when no Redis is configured.
//!
//! Per application and China-time day (and hour, when an hourly cap is set) a hash counts each
//! number's messages; per number and content a marker holds the message that last sent it and
//! when. Three operations per new message (read the marker, count, write the marker): a bulk
//! task counts a million numbers in one script per chunk of 1,000. A message seen again while
//! its marker lives (an hour: a retry after a crash, a pause or a carrier refusal) is admitted
//! without counting twice.

use std::collections::HashMap;
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
/// How long a message is recognised when it asks again (its retries), at least.
const MARKER_SECONDS: u64 = 3_600;

const ADMIT: &str = r#"
local prefix, app, day, hour, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local same, per_hour, per_day, app_day =
  tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local marker_ttl = math.max(same, tonumber(ARGV[10]))
local day_key = prefix .. 'd:' .. app .. ':' .. day
local hour_key = prefix .. 'h:' .. app .. ':' .. hour
local app_key = prefix .. 'a:' .. app .. ':' .. day
local app_count = tonumber(redis.call('GET', app_key) or '0')
local added = 0
local out = {}
for i = 11, #ARGV, 3 do
  local id, phone, content = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local marker_key = prefix .. 'c:' .. app .. ':' .. phone .. ':' .. content
  local marker = redis.call('GET', marker_key)
  local marker_id, sent_at
  if marker then
    local bar = string.find(marker, '|', 1, true)
    marker_id, sent_at = string.sub(marker, 1, bar - 1), tonumber(string.sub(marker, bar + 1))
  end
  local hit = 0
  if marker_id ~= id then
    if marker and now - sent_at < same then
      hit = 1
    elseif app_day > 0 and app_count + added >= app_day then
      hit = 4
    else
      local today = redis.call('HINCRBY', day_key, phone, 1)
      if per_day > 0 and today > per_day then
        redis.call('HINCRBY', day_key, phone, -1)
        hit = 3
      elseif per_hour > 0 then
        if redis.call('HINCRBY', hour_key, phone, 1) > per_hour then
          redis.call('HINCRBY', hour_key, phone, -1)
          redis.call('HINCRBY', day_key, phone, -1)
          hit = 2
        end
      end
    end
    if hit == 0 then
      redis.call('SET', marker_key, id .. '|' .. now, 'EX', marker_ttl)
      added = added + 1
    end
  end
  out[#out + 1] = hit
end
if added > 0 then
  redis.call('EXPIRE', day_key, 172800)
  if per_hour > 0 then redis.call('EXPIRE', hour_key, 7200) end
  redis.call('INCRBY', app_key, added)
  redis.call('EXPIRE', app_key, 172800)
end
return out
"#;

/// Takes back what `ADMIT` counted for messages that will not go out after all: the marker still
/// naming the message, its number's day (and hour) count and the application's day count.
const WITHDRAW: &str = r#"
local prefix, app, day, hour, per_hour = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local day_key = prefix .. 'd:' .. app .. ':' .. day
local hour_key = prefix .. 'h:' .. app .. ':' .. hour
local app_key = prefix .. 'a:' .. app .. ':' .. day
for i = 6, #ARGV, 3 do
  local id, phone, content = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local marker_key = prefix .. 'c:' .. app .. ':' .. phone .. ':' .. content
  local marker = redis.call('GET', marker_key)
  if marker and string.sub(marker, 1, string.find(marker, '|', 1, true) - 1) == id then
    redis.call('DEL', marker_key)
    redis.call('HINCRBY', day_key, phone, -1)
    if per_hour > 0 then redis.call('HINCRBY', hour_key, phone, -1) end
    redis.call('DECR', app_key)
  end
end
return 0
"#;

/// A Redis URL fit for a log line: `redis://user:secret@host` becomes `redis://user:…@host`.
pub fn without_password(url: &str) -> String {
    match (url.split_once("://"), url.rfind('@')) {
        (Some((scheme, rest)), Some(at)) if at > scheme.len() => {
            let credentials = &rest[..at - scheme.len() - 3];
            let user = credentials.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:…@{}", &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

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
        withdraw: redis::Script,
    },
    Memory(std::sync::Mutex<Memory>),
}

#[derive(Default)]
struct Memory {
    /// Day or hour (with application) → number → messages counted.
    counts: HashMap<String, (HashMap<String, u64>, Instant)>,
    /// Number and content → (message, when it was admitted, until when it is kept).
    markers: HashMap<String, (i64, chrono::DateTime<Utc>, Instant)>,
    checked: usize,
}

impl Limiter {
    /// Counters in Redis at `url`, under keys starting with `prefix`.
    pub async fn redis(url: &str, prefix: &str) -> Result<Limiter, String> {
        let shown = without_password(url);
        let client = redis::Client::open(url).map_err(|e| format!("REDIS_URL {shown}: {e}"))?;
        let connection = client
            .get_connection_manager()
            .await
            .map_err(|e| format!("connecting to Redis at {shown}: {e}"))?;
        Ok(Limiter {
            prefix: prefix.to_owned(),
            backend: Backend::Redis {
                connection,
                script: redis::Script::new(ADMIT),
                withdraw: redis::Script::new(WITHDRAW),
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
        self.admit_at(app, rules, attempts, Utc::now()).await
    }

    /// `admit` as if it were `now`: for a caller that may `withdraw` what it admitted, and for
    /// tests that walk the clock over the limits' boundaries.
    pub async fn admit_at(
        &self,
        app: i64,
        rules: &FrequencyRules,
        attempts: &[Attempt],
        now: chrono::DateTime<Utc>,
    ) -> Result<Vec<Option<LimitHit>>, AppError> {
        let hits = self.count(app, rules, attempts, now).await?;
        for hit in hits.iter().flatten() {
            crate::metrics::metrics().limit_hit(hit.code());
        }
        Ok(hits)
    }

    async fn count(
        &self,
        app: i64,
        rules: &FrequencyRules,
        attempts: &[Attempt],
        now: chrono::DateTime<Utc>,
    ) -> Result<Vec<Option<LimitHit>>, AppError> {
        if attempts.is_empty() {
            return Ok(Vec::new());
        }
        let (day, hour) = periods(now);
        let now = now.with_timezone(&Shanghai);
        match &self.backend {
            Backend::Redis {
                connection, script, ..
            } => {
                let mut invocation = script.prepare_invoke();
                invocation
                    .arg(&self.prefix)
                    .arg(app)
                    .arg(&day)
                    .arg(&hour)
                    .arg(now.timestamp())
                    .arg(rules.same_content_seconds)
                    .arg(rules.per_hour)
                    .arg(rules.per_day)
                    .arg(rules.app_per_day)
                    .arg(MARKER_SECONDS);
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
                Ok(memory.admit(app, (&day, &hour, now.to_utc()), rules, attempts))
            }
        }
    }
}

impl Limiter {
    /// Takes back what `admit_at(…, now)` counted for `attempts` (admitted ones) whose messages
    /// will not go out after all: a refused request leaves its numbers' limits as they were.
    pub async fn withdraw(
        &self,
        app: i64,
        rules: &FrequencyRules,
        attempts: &[Attempt],
        now: chrono::DateTime<Utc>,
    ) -> Result<(), AppError> {
        if attempts.is_empty() {
            return Ok(());
        }
        let (day, hour) = periods(now);
        match &self.backend {
            Backend::Redis {
                connection,
                withdraw,
                ..
            } => {
                let mut invocation = withdraw.prepare_invoke();
                invocation
                    .arg(&self.prefix)
                    .arg(app)
                    .arg(&day)
                    .arg(&hour)
                    .arg(rules.per_hour);
                for a in attempts {
                    invocation.arg(a.message_id).arg(&a.phone).arg(&a.content);
                }
                let mut connection = connection.clone();
                invocation
                    .invoke_async::<i64>(&mut connection)
                    .await
                    .map_err(|e| AppError::internal(format!("frequency limits (Redis): {e}")))?;
                Ok(())
            }
            Backend::Memory(memory) => {
                memory
                    .lock()
                    .map_err(|_| AppError::internal("frequency limit counters poisoned"))?
                    .withdraw(app, (&day, &hour), rules, attempts);
                Ok(())
            }
        }
    }
}

/// The China-time day and hour that limits count in (as `ADMIT` and `WITHDRAW` name them).
fn periods(now: chrono::DateTime<Utc>) -> (String, String) {
    let now = now.with_timezone(&Shanghai);
    (
        now.format("%Y%m%d").to_string(),
        now.format("%Y%m%d%H").to_string(),
    )
}

/// The numbers' day and hour counters and the application's day counter, as `ADMIT` names them.
fn counter_keys(app: i64, day: &str, hour: &str) -> (String, String, String) {
    (
        format!("d:{app}:{day}"),
        format!("h:{app}:{hour}"),
        format!("a:{app}:{day}"),
    )
}

impl Memory {
    fn withdraw(
        &mut self,
        app: i64,
        (day, hour): (&str, &str),
        rules: &FrequencyRules,
        attempts: &[Attempt],
    ) {
        let (day_key, hour_key, app_key) = counter_keys(app, day, hour);
        for a in attempts {
            let marker_key = format!("c:{app}:{}:{}", a.phone, a.content);
            if self.markers.get(&marker_key).map(|m| m.0) != Some(a.message_id) {
                continue;
            }
            self.markers.remove(&marker_key);
            self.take(&day_key, &a.phone);
            self.take(&app_key, "");
            if rules.per_hour > 0 {
                self.take(&hour_key, &a.phone);
            }
        }
    }

    /// Counts one message fewer for the number under `key`.
    fn take(&mut self, key: &str, number: &str) {
        if let Some(count) = self
            .counts
            .get_mut(key)
            .and_then(|(numbers, _)| numbers.get_mut(number))
        {
            *count = count.saturating_sub(1);
        }
    }

    fn admit(
        &mut self,
        app: i64,
        (day, hour, now): (&str, &str, chrono::DateTime<Utc>),
        rules: &FrequencyRules,
        attempts: &[Attempt],
    ) -> Vec<Option<LimitHit>> {
        let clock = Instant::now();
        self.forget_expired(clock);
        let (day_key, hour_key, app_key) = counter_keys(app, day, hour);
        let same = i64::from(rules.same_content_seconds);
        let marker_life =
            Duration::from_secs(MARKER_SECONDS.max(u64::from(rules.same_content_seconds)));
        let mut hits = Vec::with_capacity(attempts.len());
        for a in attempts {
            let marker_key = format!("c:{app}:{}:{}", a.phone, a.content);
            let marker = self.markers.get(&marker_key).map(|m| (m.0, m.1));
            if marker.is_some_and(|(id, _)| id == a.message_id) {
                hits.push(None);
                continue;
            }
            let app_today = self.current(&app_key, "");
            let hit = if marker.is_some_and(|(_, at)| (now - at).num_seconds() < same) {
                Some(LimitHit::SameContent)
            } else if rules.app_per_day > 0 && app_today >= rules.app_per_day {
                Some(LimitHit::AppDay)
            } else if rules.per_day > 0
                && self.current(&day_key, &a.phone) >= u64::from(rules.per_day)
            {
                Some(LimitHit::Day)
            } else if rules.per_hour > 0
                && self.current(&hour_key, &a.phone) >= u64::from(rules.per_hour)
            {
                Some(LimitHit::Hour)
            } else {
                None
            };
            if hit.is_none() {
                let day_life = clock + Duration::from_secs(DAY_TTL_SECONDS);
                self.add(&day_key, &a.phone, day_life);
                self.add(&app_key, "", day_life);
                if rules.per_hour > 0 {
                    self.add(
                        &hour_key,
                        &a.phone,
                        clock + Duration::from_secs(HOUR_TTL_SECONDS),
                    );
                }
                self.markers
                    .insert(marker_key, (a.message_id, now, clock + marker_life));
            }
            hits.push(hit);
        }
        hits
    }

    fn current(&self, key: &str, number: &str) -> u64 {
        self.counts
            .get(key)
            .and_then(|c| c.0.get(number))
            .copied()
            .unwrap_or(0)
    }

    /// Counts one more message for the number under `key`, kept until `until`.
    fn add(&mut self, key: &str, number: &str, until: Instant) {
        let entry = self
            .counts
            .entry(key.to_owned())
            .or_insert_with(|| (HashMap::new(), until));
        entry.1 = until;
        *entry.0.entry(number.to_owned()).or_default() += 1;
    }

    /// Expired counters are dropped every so often, as Redis drops expired keys.
    fn forget_expired(&mut self, now: Instant) {
        self.checked += 1;
        if !self.checked.is_multiple_of(1024) {
            return;
        }
        self.counts.retain(|_, (_, until)| *until > now);
        self.markers.retain(|_, (_, _, until)| *until > now);
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

    /// Tencent's defaults at their edges, on a moved clock: the 30th second, the 10th and 11th
    /// message of a day, and the next China-time day.
    async fn boundaries_hold(limiter: &Limiter) {
        use chrono::TimeZone;
        let rules = FrequencyRules::default();
        let a = "+8613800000009";
        let t0 = Shanghai
            .with_ymd_and_hms(2026, 11, 25, 23, 59, 0)
            .unwrap()
            .to_utc();
        let at = |seconds: i64| t0 + chrono::Duration::seconds(seconds);
        let one = |id: i64, content: &str| vec![attempt(id, a, content)];
        let admit = |attempts: Vec<Attempt>, now| async move {
            limiter.admit_at(5, &rules, &attempts, now).await.unwrap()
        };
        assert_eq!(admit(one(1, "x"), at(0)).await, [None]);
        assert_eq!(
            admit(one(2, "x"), at(29)).await,
            [Some(LimitHit::SameContent)],
            "29 s later: still the same 30 s"
        );
        assert_eq!(
            admit(one(3, "x"), at(30)).await,
            [None],
            "the 30th second is free"
        );
        let eight: Vec<Attempt> = (4..12).map(|i| attempt(i, a, &format!("c{i}"))).collect();
        assert_eq!(
            admit(eight, at(31)).await,
            vec![None; 8],
            "messages 3 to 10"
        );
        assert_eq!(
            admit(one(12, "c12"), at(59)).await,
            [Some(LimitHit::Day)],
            "the 11th of the day"
        );
        assert_eq!(
            admit(one(13, "c13"), at(60)).await,
            [None],
            "00:00:00 China time starts a new day"
        );
    }

    #[test]
    fn passwords_stay_out_of_redis_urls_in_messages() {
        assert_eq!(
            without_password("redis://:s3cret@cache:6379/0"),
            "redis://:…@cache:6379/0"
        );
        assert_eq!(
            without_password("rediss://herald:s3cret@cache:6380"),
            "rediss://herald:…@cache:6380"
        );
        assert_eq!(
            without_password("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
    }

    /// What a refused request counted is taken back; a message admitted again later (or another
    /// message's marker) is not touched.
    async fn withdrawals_give_back(limiter: &Limiter) {
        let rules = FrequencyRules {
            same_content_seconds: 30,
            per_hour: 1,
            per_day: 1,
            app_per_day: 1,
        };
        let now = Utc::now();
        let a = "+8613600000001";
        let first = [attempt(30, a, "x")];
        assert_eq!(
            limiter.admit_at(4, &rules, &first, now).await.unwrap(),
            [None]
        );
        limiter.withdraw(4, &rules, &first, now).await.unwrap();
        // Every limit (same content, hour, day, the application's day) is free again.
        let again = [attempt(31, a, "x")];
        assert_eq!(
            limiter.admit_at(4, &rules, &again, now).await.unwrap(),
            [None]
        );
        // Withdrawing a message the marker does not name changes nothing.
        limiter.withdraw(4, &rules, &first, now).await.unwrap();
        assert_eq!(
            limiter
                .admit_at(4, &rules, &[attempt(32, a, "y")], now)
                .await
                .unwrap(),
            [Some(LimitHit::AppDay)]
        );
    }

    #[tokio::test]
    async fn in_memory_counters_enforce_every_limit() {
        limits_hold(&Limiter::in_memory()).await;
        boundaries_hold(&Limiter::in_memory()).await;
        withdrawals_give_back(&Limiter::in_memory()).await;
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
        boundaries_hold(&limiter).await;
        withdrawals_give_back(&limiter).await;
    }
}
