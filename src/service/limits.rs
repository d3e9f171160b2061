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
    /// Token endpoint requests from one IP address whose client failed to authenticate.
    TokenAuthFailures,
    /// Account mail (reset and verification links) asked for from one IP address.
    AccountMails,
    /// Accounts created from one IP address.
    Signups,
}

/// One bucket and its size: an environment's budget for one kind of request from one subject
/// (client id or address), `per_minute` (`<= 0`: unlimited).
#[derive(Debug, Clone, Copy)]
pub struct Budget<'a> {
    pub env_id: &'a str,
    pub what: Limited,
    pub subject: &'a str,
    pub per_minute: i64,
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

    /// Spends one unit, or says how many seconds to wait.
    pub fn take(&self, budget: Budget<'_>) -> Result<(), u64> {
        let Budget {
            env_id,
            what,
            subject,
            per_minute,
        } = budget;
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

    /// Gives back one unit spent by `take` (capped at the budget), for a request that turned out
    /// not to count against it.
    pub fn refund(&self, budget: Budget<'_>) {
        if budget.per_minute <= 0 {
            return;
        }
        let key = (
            budget.env_id.to_string(),
            budget.what,
            budget.subject.to_string(),
        );
        if let Ok(mut buckets) = self.shard(&key).lock()
            && let Some(bucket) = buckets.get_mut(&key)
        {
            bucket.tokens = (bucket.tokens + 1.0).min(budget.per_minute as f64);
        }
    }
}

/// Sign-in attempts one account name, or one address, may have in verification at once on a node:
/// a bound on the CPU a burst of guesses takes (how many are checked at all is the lockout's
/// reservation, in the database).
pub const MAX_PARALLEL_SIGNINS: usize = 32;

/// Per-node count of sign-in attempts in verification, by environment and subject.
#[derive(Debug, Default)]
pub struct SigninGate {
    in_flight: Mutex<HashMap<(String, String), usize>>,
}

/// Holds a place in the gate for every subject of one attempt until dropped.
#[derive(Debug)]
pub struct SigninPass<'a> {
    gate: &'a SigninGate,
    keys: Vec<(String, String)>,
}

impl SigninGate {
    /// A place for an attempt by all of `subjects` (say an address and an account name), or None
    /// when any of them already has `MAX_PARALLEL_SIGNINS` attempts in verification.
    pub fn enter(&self, env_id: &str, subjects: &[&str]) -> Option<SigninPass<'_>> {
        let mut in_flight = self.in_flight.lock().ok()?;
        let keys: Vec<(String, String)> = subjects
            .iter()
            .map(|subject| (env_id.to_string(), subject.to_string()))
            .collect();
        if keys
            .iter()
            .any(|key| in_flight.get(key).copied().unwrap_or(0) >= MAX_PARALLEL_SIGNINS)
        {
            return None;
        }
        for key in &keys {
            *in_flight.entry(key.clone()).or_insert(0) += 1;
        }
        Some(SigninPass { gate: self, keys })
    }
}

impl Drop for SigninPass<'_> {
    fn drop(&mut self) {
        if let Ok(mut in_flight) = self.gate.in_flight.lock() {
            for key in &self.keys {
                if let Some(count) = in_flight.get_mut(key) {
                    *count -= 1;
                    if *count == 0 {
                        in_flight.remove(key);
                    }
                }
            }
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
        let token = |env_id, subject, per_minute| {
            limiter.take(Budget {
                env_id,
                what: Limited::TokenRequests,
                subject,
                per_minute,
            })
        };
        for _ in 0..3 {
            assert!(token("sandbox", "c", 3).is_ok());
        }
        let wait = token("sandbox", "c", 3).unwrap_err();
        assert!((1..=20).contains(&wait));
        assert!(token("production", "c", 3).is_ok());
        assert!(token("sandbox", "other", 3).is_ok());
        assert!(token("sandbox", "c", 0).is_ok(), "0 is no limit");
        let signin = Budget {
            env_id: "sandbox",
            what: Limited::SigninFailures,
            subject: "c",
            per_minute: 3,
        };
        assert!(limiter.take(signin).is_ok(), "another kind of bucket");
    }

    #[test]
    fn a_refund_gives_one_unit_back_up_to_the_budget() {
        let limiter = RateLimiter::default();
        let budget = Budget {
            env_id: "e",
            what: Limited::SigninFailures,
            subject: "ip",
            per_minute: 1,
        };
        limiter.refund(budget);
        assert!(limiter.take(budget).is_ok());
        assert!(limiter.take(budget).is_err());
        limiter.refund(budget);
        limiter.refund(budget);
        assert!(limiter.take(budget).is_ok());
        assert!(limiter.take(budget).is_err(), "never more than the budget");
    }

    #[test]
    fn the_gate_bounds_attempts_in_verification() {
        let gate = SigninGate::default();
        let passes: Vec<_> = (0..MAX_PARALLEL_SIGNINS)
            .map(|_| gate.enter("e", &["ip", "account"]).expect("room"))
            .collect();
        assert!(gate.enter("e", &["account"]).is_none());
        assert!(gate.enter("e", &["other-ip", "account"]).is_none());
        assert!(gate.enter("e", &["other-ip", "other-account"]).is_some());
        assert!(gate.enter("production", &["ip", "account"]).is_some());
        drop(passes);
        assert!(gate.enter("e", &["ip", "account"]).is_some());
        assert!(gate.in_flight.lock().expect("lock").is_empty());
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
