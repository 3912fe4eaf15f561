use sqlx::PgPool;

use super::model::{AbuseToday, VerifySettings, DEFAULT_VALIDITY_MINUTES};
use crate::error::AppError;

const SELECT: &str = "SELECT application_id, public_key, template_id, signature_id,
                             validity_minutes, per_ip_hourly, per_prefix_hourly
                        FROM verify_settings";

#[derive(sqlx::FromRow)]
struct Row {
    application_id: i64,
    public_key: String,
    template_id: Option<i64>,
    signature_id: Option<i64>,
    validity_minutes: i32,
    per_ip_hourly: i32,
    per_prefix_hourly: i32,
}

impl From<Row> for VerifySettings {
    fn from(r: Row) -> Self {
        VerifySettings {
            application_id: r.application_id,
            public_key: r.public_key,
            template_id: r.template_id,
            signature_id: r.signature_id,
            validity_minutes: r.validity_minutes,
            per_ip_hourly: r.per_ip_hourly,
            per_prefix_hourly: r.per_prefix_hourly,
        }
    }
}

/// Public keys recently looked up, with what they open (or that they open nothing), and what
/// each application's codes go out with, so the endpoint does not ask the database for either
/// on every request. A change in the console (or in another server process) is seen within
/// `KEY_CACHE_SECONDS`.
#[derive(Default)]
pub struct KeyCache {
    keys: Fresh<String, Option<VerifySettings>>,
    sending: Fresh<i64, Option<super::stream::Sending>>,
}

pub const KEY_CACHE_SECONDS: u64 = 5;
/// Past this many entries (random keys from a scanner, say) a cache starts afresh.
const KEY_CACHE_ENTRIES: usize = 10_000;

/// Values looked up less than `KEY_CACHE_SECONDS` ago. When one grows older, the next caller
/// looks it up again while the others go on with the old value: at thousands of requests a
/// second, every request that found it expired would otherwise look it up at once (a burst that
/// stalled the endpoint every five seconds).
struct Fresh<K, V> {
    entries: std::sync::Mutex<std::collections::HashMap<K, Entry<V>>>,
}

struct Entry<V> {
    looked_up: std::time::Instant,
    value: V,
    /// Since when a caller has been looking it up again (given up after `KEY_CACHE_SECONDS`, so
    /// a failed lookup is retried).
    refreshing_since: Option<std::time::Instant>,
}

impl<K, V> Default for Fresh<K, V> {
    fn default() -> Self {
        Fresh {
            entries: Default::default(),
        }
    }
}

impl<K: std::hash::Hash + Eq, V: Clone> Fresh<K, V> {
    /// The value, unless this caller is the one to look it up (and `put` it).
    fn get(&self, key: &K) -> Option<V> {
        let fresh = std::time::Duration::from_secs(KEY_CACHE_SECONDS);
        let mut entries = self.entries.lock().expect("verify cache");
        let entry = entries.get_mut(key)?;
        let someone_refreshing = entry
            .refreshing_since
            .is_some_and(|since| since.elapsed() < fresh);
        if entry.looked_up.elapsed() < fresh || someone_refreshing {
            return Some(entry.value.clone());
        }
        entry.refreshing_since = Some(std::time::Instant::now());
        None
    }

    fn put(&self, key: K, value: V) {
        let mut entries = self.entries.lock().expect("verify cache");
        if entries.len() >= KEY_CACHE_ENTRIES {
            entries.clear();
        }
        let entry = Entry {
            looked_up: std::time::Instant::now(),
            value,
            refreshing_since: None,
        };
        entries.insert(key, entry);
    }

    fn clear(&self) {
        self.entries.lock().expect("verify cache").clear();
    }
}

impl KeyCache {
    /// After a change made in this process: seen at once here, elsewhere within seconds.
    pub fn forget_all(&self) {
        self.keys.clear();
        self.sending.clear();
    }

    /// What `key` opens. Only a well-formed key is looked up and remembered: a stranger's
    /// made-up keys, however long, cost neither a query nor memory.
    pub async fn get(&self, pool: &PgPool, key: &str) -> Result<Option<VerifySettings>, AppError> {
        if !is_public_key(key) {
            return Ok(None);
        }
        let key = key.to_owned();
        if let Some(settings) = self.keys.get(&key) {
            return Ok(settings);
        }
        let settings = by_public_key(pool, &key).await?;
        self.keys.put(key, settings.clone());
        Ok(settings)
    }

    /// What the application's codes go out with today (`None`: not set up to send).
    pub async fn sending(
        &self,
        pool: &PgPool,
        settings: &VerifySettings,
    ) -> Result<Option<super::stream::Sending>, AppError> {
        let today = super::stream::china_today();
        let cached = self.sending.get(&settings.application_id);
        if let Some(sending) = cached.filter(|s| s.as_ref().is_none_or(|s| s.day == today)) {
            return Ok(sending);
        }
        let sending = super::stream::resolve(pool, settings, today).await?;
        self.sending.put(settings.application_id, sending.clone());
        Ok(sending)
    }
}

/// The settings a public key opens, if any (of an enabled application).
pub async fn by_public_key(pool: &PgPool, key: &str) -> Result<Option<VerifySettings>, AppError> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "{SELECT} WHERE public_key = $1
            AND EXISTS (SELECT 1 FROM applications a WHERE a.id = application_id AND a.enabled)"
    ))
    .bind(key)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(Into::into))
}

/// A key as `new_public_key` makes them.
fn is_public_key(key: &str) -> bool {
    key.strip_prefix("pk_").is_some_and(|hex| {
        hex.len() == 32
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

fn new_public_key() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("pk_{}", crate::signing::hex(&bytes))
}

/// An application's settings, created with defaults (and a public key) on first use.
pub async fn for_application(
    pool: &PgPool,
    application_id: i64,
) -> Result<VerifySettings, AppError> {
    sqlx::query(
        "INSERT INTO verify_settings (application_id, public_key, validity_minutes)
         SELECT id, $2, $3 FROM applications WHERE id = $1
         ON CONFLICT (application_id) DO NOTHING",
    )
    .bind(application_id)
    .bind(new_public_key())
    .bind(DEFAULT_VALIDITY_MINUTES)
    .execute(pool)
    .await?;
    let row: Option<Row> = sqlx::query_as(&format!("{SELECT} WHERE application_id = $1"))
        .bind(application_id)
        .fetch_optional(pool)
        .await?;
    row.map(Into::into)
        .ok_or_else(|| AppError::NotFound(crate::tr!(apps.application)))
}

pub async fn save(pool: &PgPool, settings: &VerifySettings) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE verify_settings
            SET template_id = $2, signature_id = $3, validity_minutes = $4, per_ip_hourly = $5,
                per_prefix_hourly = $6, updated_at = now()
          WHERE application_id = $1",
    )
    .bind(settings.application_id)
    .bind(settings.template_id)
    .bind(settings.signature_id)
    .bind(settings.validity_minutes)
    .bind(settings.per_ip_hourly)
    .bind(settings.per_prefix_hourly)
    .execute(pool)
    .await?;
    Ok(())
}

/// Replaces the public key (the old one stops working at once).
pub async fn new_key(pool: &PgPool, application_id: i64) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE verify_settings SET public_key = $2, updated_at = now() WHERE application_id = $1",
    )
    .bind(application_id)
    .bind(new_public_key())
    .execute(pool)
    .await?;
    Ok(())
}

/// Counts a getSms the anti-pumping limits refused (`kind`: `ip` or `prefix`).
pub async fn count_abuse(pool: &PgPool, application_id: i64, kind: &str) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO verify_abuse (application_id, day, limit_kind, hits)
         VALUES ($1, (now() AT TIME ZONE 'Asia/Shanghai')::date, $2, 1)
         ON CONFLICT (application_id, day, limit_kind) DO UPDATE
            SET hits = verify_abuse.hits + 1, last_at = now()",
    )
    .bind(application_id)
    .bind(kind)
    .execute(pool)
    .await?;
    Ok(())
}

/// Refusals today (China time), over every application.
pub async fn abuse_today(pool: &PgPool) -> Result<AbuseToday, AppError> {
    let (by_ip, by_prefix): (i64, i64) = sqlx::query_as(
        "SELECT coalesce(sum(hits) FILTER (WHERE limit_kind = 'ip'), 0)::bigint,
                coalesce(sum(hits) FILTER (WHERE limit_kind = 'prefix'), 0)::bigint
           FROM verify_abuse WHERE day = (now() AT TIME ZONE 'Asia/Shanghai')::date",
    )
    .fetch_one(pool)
    .await?;
    Ok(AbuseToday { by_ip, by_prefix })
}

/// A verification message as recorded: what the demo's log shows. `params[0]` is the sealed
/// code.
#[derive(sqlx::FromRow)]
pub struct CodeRow {
    pub phone: String,
    pub signature: String,
    pub template: String,
    pub params: Vec<String>,
    pub state: i16,
    pub at: chrono::DateTime<chrono::Utc>,
    /// Sent to the built-in simulator (no handset receives it), so the demo may show the code.
    pub simulated: bool,
}

/// The application's last ten verification messages that went (or are going) to a carrier,
/// newest first.
pub async fn recent_codes(pool: &PgPool, application_id: i64) -> Result<Vec<CodeRow>, AppError> {
    // Found through their chunks (one per code, keyed by the message's id): a stream's messages
    // share their id range with other tasks', and its range grows only as the engine records
    // them. A stream keeps one carrier (a change of carrier opens another), so its carrier says
    // where each of its codes went.
    Ok(sqlx::query_as(
        "SELECT m.phone, t.signature_text AS signature, t.template_text AS template, m.params,
                m.state, coalesce(m.submitted_at, m.done_at, t.created_at) AS at,
                coalesce(c.kind = 'simulator', false) AS simulated
           FROM (SELECT * FROM tasks
                  WHERE application_id = $1 AND origin = 'verify'
                  ORDER BY created_at DESC LIMIT 10) t
          CROSS JOIN LATERAL (
                SELECT first_id FROM dispatch_chunks d
                 WHERE d.task_id = t.id ORDER BY first_id DESC LIMIT 10) d
           JOIN messages m ON m.id = d.first_id
           LEFT JOIN carriers c ON c.id = t.carrier_id
          ORDER BY m.id DESC LIMIT 10",
    )
    .bind(application_id)
    .fetch_all(pool)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn ago(seconds: u64) -> Instant {
        Instant::now()
            .checked_sub(Duration::from_secs(seconds))
            .unwrap()
    }

    fn age(cache: &Fresh<i64, &'static str>, key: i64, looked_up: u64, refreshing: Option<u64>) {
        let mut entries = cache.entries.lock().unwrap();
        let entry = entries.get_mut(&key).unwrap();
        entry.looked_up = ago(looked_up);
        entry.refreshing_since = refreshing.map(ago);
    }

    #[test]
    fn one_caller_looks_an_expired_value_up_while_the_others_keep_the_old_one() {
        let cache: Fresh<i64, &'static str> = Fresh::default();
        assert_eq!(cache.get(&1), None, "never looked up");
        cache.put(1, "old");
        assert_eq!(cache.get(&1), Some("old"));

        age(&cache, 1, KEY_CACHE_SECONDS + 1, None);
        assert_eq!(
            cache.get(&1),
            None,
            "the first caller after expiry looks it up"
        );
        assert_eq!(
            cache.get(&1),
            Some("old"),
            "the others meanwhile keep the old value"
        );
        cache.put(1, "new");
        assert_eq!(cache.get(&1), Some("new"));

        // A lookup that never came back is given up, and the next caller tries again.
        age(
            &cache,
            1,
            2 * KEY_CACHE_SECONDS + 1,
            Some(KEY_CACHE_SECONDS + 1),
        );
        assert_eq!(cache.get(&1), None);
    }

    /// A made-up key is answered without a query (the pool here reaches no database) and is not
    /// remembered, however long: an unknown key cannot fill memory.
    #[tokio::test]
    async fn made_up_keys_are_neither_looked_up_nor_remembered() {
        let nowhere = PgPool::connect_lazy("postgres://nobody@127.0.0.1:1/none").unwrap();
        let cache = KeyCache::default();
        for key in [
            "pk_unknown".to_owned(),
            format!("pk_{}", "a".repeat(60_000)),
            "PK_0123456789ABCDEF0123456789ABCDEF".to_owned(),
            String::new(),
        ] {
            assert!(cache.get(&nowhere, &key).await.unwrap().is_none());
        }
        assert!(cache.keys.entries.lock().unwrap().is_empty());
        assert!(is_public_key("pk_0123456789abcdef0123456789abcdef"));
    }
}
