//! The one cache implementation of a node (moka): bounded in time, so another node's changes are
//! seen within `AIRLOCK_CACHE_SECONDS`, and in size, so hostile keys cannot grow it without end
//! (when full, the least useful entries go, not everything).

use std::hash::Hash;
use std::time::Duration;

use moka::sync::Cache;

/// Entries per cache.
pub const MAX_ENTRIES: u64 = 20_000;

/// A cache whose entries live at most `seconds`.
pub fn expiring<K, V>(seconds: i64) -> Cache<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    Cache::builder()
        .max_capacity(MAX_ENTRIES)
        .time_to_live(Duration::from_secs(seconds.max(0) as u64))
        .build()
}

/// A cache of values that never go stale (a pure function of their key), bounded in size only.
pub fn lasting<K, V>() -> Cache<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    Cache::builder().max_capacity(MAX_ENTRIES).build()
}
