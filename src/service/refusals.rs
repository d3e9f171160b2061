//! Sign-in refusals that cost the caller nothing (a locked name, an address over its budget, too
//! many parallel attempts) are folded per node: the first refusal of a kind for one subject in a
//! window is logged at once, the rest of that window are counted, and one entry with the count and
//! the first and last times follows when the window closes. A flood of refused attempts therefore
//! writes a bounded number of entries, yet every attempt is accounted for.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::audit::{RepeatedRefusals, SigninFailure};
use crate::model::EnvironmentId;

/// Seconds of one window.
pub const WINDOW_SECONDS: i64 = 60;
/// Subjects followed at once; past this, refusals are logged one by one rather than forgotten.
const MAX_SUBJECTS: usize = 50_000;

/// Whose refusals: the environment, the kind, and the account name's digest (or, for an address
/// over its budget, the address).
pub type RefusalKey = (EnvironmentId, SigninFailure, String);

/// What the folded entry needs besides the count: the client and the address of the last refusal.
#[derive(Debug, Clone)]
pub struct RefusalContext {
    pub account: String,
    pub client_id: String,
    pub ip: Option<String>,
}

#[derive(Debug)]
struct Window {
    opened: i64,
    folded: Option<RepeatedRefusals>,
    context: RefusalContext,
}

/// The node's open windows, and the folded refusals of windows closed but not yet logged.
#[derive(Debug, Default)]
pub struct RefusalTally {
    state: Mutex<Tally>,
}

#[derive(Debug, Default)]
struct Tally {
    windows: HashMap<RefusalKey, Window>,
    closed: Vec<Closed>,
}

/// A closed window's folded refusals, to be logged.
pub type Closed = (RefusalKey, RefusalContext, RepeatedRefusals);

impl Tally {
    fn close(&mut self, key: &RefusalKey) {
        if let Some(window) = self.windows.remove(key)
            && let Some(folded) = window.folded
        {
            self.closed.push((key.clone(), window.context, folded));
        }
    }
}

impl RefusalTally {
    /// Notes a refusal at `now`; true when it opens a window (log it now), false when it is folded.
    pub fn note(&self, key: RefusalKey, context: RefusalContext, now: i64) -> bool {
        let Ok(mut tally) = self.state.lock() else {
            return true;
        };
        let subjects = tally.windows.len();
        let open = tally.windows.get(&key).map(|window| window.opened);
        match open {
            Some(opened) if now < opened + WINDOW_SECONDS => {
                if let Some(window) = tally.windows.get_mut(&key) {
                    let folded = window.folded.get_or_insert(RepeatedRefusals {
                        repeated: 0,
                        first_at: now,
                        last_at: now,
                    });
                    folded.repeated += 1;
                    folded.last_at = now;
                    window.context = context;
                }
                false
            }
            None if subjects >= MAX_SUBJECTS => true,
            expired => {
                if expired.is_some() {
                    tally.close(&key);
                }
                let window = Window {
                    opened: now,
                    folded: None,
                    context,
                };
                tally.windows.insert(key, window);
                true
            }
        }
    }

    /// Puts back folded refusals that could not be logged, to be logged with the next closed ones.
    pub fn requeue(&self, unlogged: Vec<Closed>) {
        if let Ok(mut tally) = self.state.lock() {
            tally.closed.extend(unlogged);
        }
    }

    /// Closes the windows opened `WINDOW_SECONDS` or more before `now`; the folded refusals of
    /// those that had any, to be logged.
    pub fn close(&self, now: i64) -> Vec<Closed> {
        let Ok(mut tally) = self.state.lock() else {
            return Vec::new();
        };
        let expired: Vec<RefusalKey> = tally
            .windows
            .iter()
            .filter(|(_, window)| now >= window.opened + WINDOW_SECONDS)
            .map(|(key, _)| key.clone())
            .collect();
        for key in &expired {
            tally.close(key);
        }
        std::mem::take(&mut tally.closed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> RefusalKey {
        ("e".into(), SigninFailure::AccountLocked, "acct".into())
    }

    fn context() -> RefusalContext {
        RefusalContext {
            account: "acct".into(),
            client_id: "c".into(),
            ip: None,
        }
    }

    #[test]
    fn a_window_logs_its_first_refusal_and_folds_the_rest() {
        let tally = RefusalTally::default();
        assert!(tally.note(key(), context(), 100));
        for at in 101..141 {
            assert!(!tally.note(key(), context(), at));
        }
        assert!(tally.close(159).is_empty(), "still open");
        let closed = tally.close(160);
        assert_eq!(closed.len(), 1);
        let expected = RepeatedRefusals {
            repeated: 40,
            first_at: 101,
            last_at: 140,
        };
        assert_eq!(closed[0].2, expected);
        assert!(tally.note(key(), context(), 161), "a new window");
        assert!(!tally.note(key(), context(), 162));
        assert!(
            tally.note(key(), context(), 230),
            "the next window closes the last"
        );
        assert_eq!(tally.close(230).len(), 1);
    }
}
