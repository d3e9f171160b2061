//! Rate limits and account lockout. Buckets are keyed by environment first, so a load test against
//! sandbox drains only sandbox's buckets. Token buckets live in each node's memory (a per-node limit,
//! as documented); lockouts live in the database so they hold across nodes.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::time::Instant;

const SHARDS: usize = 16;
/// Above this many buckets in a shard, full (idle) buckets are dropped.
const SHARD_SOFT_CAP: usize = 8_192;

/// What a bucket limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limited {
    /// Token endpoint requests of one client.
    TokenRequests,
    /// Failed sign-ins from one IP address.
    SigninFailures,
}

/// Environment id, what is limited, and whose budget (client id or IP).
type BucketKey = (String, Limited, String);
type Shard = Mutex<HashMap<BucketKey, Bucket>>;

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Per-node token buckets: capacity and refill are `per_minute`, so a full minute's budget can burst.
#[derive(Debug)]
pub struct RateLimiter {
    shards: Vec<Shard>,
}

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }
}

impl RateLimiter {
    fn shard(&self, key: &BucketKey) -> &Shard {
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        &self.shards[(hasher.finish() as usize) % SHARDS]
    }

    /// Spends one unit, or says how many seconds to wait. `per_minute <= 0` means unlimited.
    pub fn take(
        &self,
        env_id: &str,
        what: Limited,
        subject: &str,
        per_minute: i64,
    ) -> Result<(), u64> {
        if per_minute <= 0 {
            return Ok(());
        }
        let capacity = per_minute as f64;
        let per_second = capacity / 60.0;
        let key = (env_id.to_string(), what, subject.to_string());
        let now = Instant::now();
        let Ok(mut buckets) = self.shard(&key).lock() else {
            return Ok(());
        };
        if buckets.len() > SHARD_SOFT_CAP {
            buckets.retain(|_, bucket| {
                bucket.tokens + now.duration_since(bucket.updated).as_secs_f64() * per_second
                    < capacity
            });
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        let refilled = now.duration_since(bucket.updated).as_secs_f64() * per_second;
        bucket.tokens = (bucket.tokens + refilled).min(capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - bucket.tokens) / per_second).ceil().max(1.0) as u64)
        }
    }

    /// Gives back a unit `take` spent, for attempts that turned out not to count.
    pub fn refund(&self, env_id: &str, what: Limited, subject: &str, per_minute: i64) {
        if per_minute <= 0 {
            return;
        }
        let key = (env_id.to_string(), what, subject.to_string());
        if let Ok(mut buckets) = self.shard(&key).lock()
            && let Some(bucket) = buckets.get_mut(&key)
        {
            bucket.tokens = (bucket.tokens + 1.0).min(per_minute as f64);
        }
    }
}

/// First lock after `threshold` consecutive failures: this long, doubling with each further failure.
const FIRST_LOCK_SECONDS: i64 = 30;
const MAX_LOCK_SECONDS: i64 = 3600;
/// A series of failures older than this starts over.
pub const FAILURE_MEMORY_SECONDS: i64 = 24 * 3600;

/// Until when an account name is locked after `failures` consecutive failures, if at all.
pub fn lockout_until(failures: i64, threshold: i64, now: i64) -> Option<i64> {
    if threshold <= 0 || failures < threshold {
        return None;
    }
    let doublings = (failures - threshold).min(16) as u32;
    let delay = FIRST_LOCK_SECONDS
        .saturating_mul(1_i64 << doublings)
        .min(MAX_LOCK_SECONDS);
    Some(now + delay)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_per_environment() {
        let limiter = RateLimiter::default();
        for _ in 0..3 {
            assert!(
                limiter
                    .take("sandbox", Limited::TokenRequests, "c", 3)
                    .is_ok()
            );
        }
        let wait = limiter
            .take("sandbox", Limited::TokenRequests, "c", 3)
            .unwrap_err();
        assert!((1..=20).contains(&wait));
        assert!(
            limiter
                .take("production", Limited::TokenRequests, "c", 3)
                .is_ok()
        );
        assert!(
            limiter
                .take("sandbox", Limited::TokenRequests, "other", 3)
                .is_ok()
        );
        assert!(
            limiter
                .take("sandbox", Limited::SigninFailures, "c", 3)
                .is_ok()
        );
        assert!(
            limiter
                .take("sandbox", Limited::TokenRequests, "c", 0)
                .is_ok()
        );
    }

    #[test]
    fn a_refund_gives_one_unit_back() {
        let limiter = RateLimiter::default();
        assert!(limiter.take("e", Limited::SigninFailures, "ip", 1).is_ok());
        assert!(limiter.take("e", Limited::SigninFailures, "ip", 1).is_err());
        limiter.refund("e", Limited::SigninFailures, "ip", 1);
        assert!(limiter.take("e", Limited::SigninFailures, "ip", 1).is_ok());
        assert!(limiter.take("e", Limited::SigninFailures, "ip", 1).is_err());
        limiter.refund("other", Limited::SigninFailures, "ip", 1);
        assert!(limiter.take("e", Limited::SigninFailures, "ip", 1).is_err());
    }

    #[test]
    fn lockouts_grow_and_are_capped() {
        assert_eq!(lockout_until(4, 5, 100), None);
        assert_eq!(lockout_until(5, 5, 100), Some(130));
        assert_eq!(lockout_until(6, 5, 100), Some(160));
        assert_eq!(lockout_until(50, 5, 100), Some(100 + MAX_LOCK_SECONDS));
        assert_eq!(lockout_until(50, 0, 100), None);
    }
}
