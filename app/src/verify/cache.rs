//! What the verification endpoint looks up on every request, kept for a few seconds.

use sqlx::PgPool;

use super::model::VerifySettings;
use super::repo::{by_public_key, is_public_key};
use super::stream::{china_today, resolve, Sending};
use crate::error::AppError;

/// Public keys recently looked up, with what they open (or that they open nothing), and what
/// each application's codes go out with, so the endpoint does not ask the database for either
/// on every request. A change in the console (or in another server process) is seen within
/// `KEY_CACHE_SECONDS`.
#[derive(Default)]
pub struct KeyCache {
    keys: Fresh<String, Option<VerifySettings>>,
    sending: Fresh<i64, Option<Sending>>,
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
    ) -> Result<Option<Sending>, AppError> {
        let today = china_today();
        let cached = self.sending.get(&settings.application_id);
        if let Some(sending) = cached.filter(|s| s.as_ref().is_none_or(|s| s.day == today)) {
            return Ok(sending);
        }
        let sending = resolve(pool, settings, today).await?;
        self.sending.put(settings.application_id, sending.clone());
        Ok(sending)
    }
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
