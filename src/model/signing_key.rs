//! The life of a signing key, decided by its timestamps alone so every node agrees without talking to
//! the others: staged (published, not signing) → active (signing) → retired (published, verifying
//! only) → removed (gone from the JWKS).

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    Staged,
    Active,
    Retired,
    Removed,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Staged => "staged",
            KeyState::Active => "active",
            KeyState::Retired => "retired",
            KeyState::Removed => "removed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "staged" => Some(KeyState::Staged),
            "active" => Some(KeyState::Active),
            "retired" => Some(KeyState::Retired),
            "removed" => Some(KeyState::Removed),
            _ => None,
        }
    }

    /// Whether the key appears in the JWKS and verifies tokens.
    pub fn is_published(self) -> bool {
        self != KeyState::Removed
    }
}

/// When a key starts signing, stops signing and leaves the JWKS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KeySchedule {
    pub activates_at: i64,
    pub retires_at: Option<i64>,
    pub unpublish_at: Option<i64>,
}

impl KeySchedule {
    pub fn state_at(&self, now: i64) -> KeyState {
        if self.unpublish_at.is_some_and(|at| now >= at) {
            KeyState::Removed
        } else if self.retires_at.is_some_and(|at| now >= at) {
            // A staged key replaced before it ever signed goes straight to retired.
            KeyState::Retired
        } else if now < self.activates_at {
            KeyState::Staged
        } else {
            KeyState::Active
        }
    }

    /// The next moment this key changes state, if any: caches must not outlive it.
    pub fn next_transition(&self, now: i64) -> Option<i64> {
        [Some(self.activates_at), self.retires_at, self.unpublish_at]
            .into_iter()
            .flatten()
            .filter(|at| *at > now)
            .min()
    }
}

/// What a rotation at `now` decides: the new key is published at once and signs after
/// `publish_delay`, never sooner than `cache_slack` (so every node, whatever it has cached, publishes
/// the key before any node signs with it); the keys it replaces stop signing then, and leave the
/// JWKS once every token they signed has expired (`max_token_ttl`) and every node's cache has seen
/// the change (`cache_slack`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    pub new_key: KeySchedule,
    pub retire_replaced_at: i64,
    pub unpublish_replaced_at: i64,
}

pub fn rotation(now: i64, publish_delay: i64, max_token_ttl: i64, cache_slack: i64) -> Rotation {
    let switch = now + publish_delay.max(cache_slack).max(0);
    Rotation {
        new_key: KeySchedule {
            activates_at: switch,
            retires_at: None,
            unpublish_at: None,
        },
        retire_replaced_at: switch,
        unpublish_replaced_at: switch + max_token_ttl.max(0) + cache_slack.max(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_signs_before_every_node_can_have_published_it() {
        let decided = rotation(1_000, 0, 600, 10);
        assert_eq!(decided.new_key.state_at(1_009), KeyState::Staged);
        assert_eq!(decided.new_key.state_at(1_010), KeyState::Active);
        assert_eq!(decided.retire_replaced_at, 1_010);
    }

    #[test]
    fn a_rotation_overlaps_old_and_new_keys() {
        let decided = rotation(1_000, 300, 600, 60);
        let new_key = decided.new_key;
        let old = KeySchedule {
            activates_at: 0,
            retires_at: Some(decided.retire_replaced_at),
            unpublish_at: Some(decided.unpublish_replaced_at),
        };
        assert_eq!(new_key.state_at(1_000), KeyState::Staged);
        assert_eq!(old.state_at(1_000), KeyState::Active);
        assert_eq!(new_key.state_at(1_300), KeyState::Active);
        assert_eq!(old.state_at(1_300), KeyState::Retired);
        assert_eq!(old.state_at(1_959), KeyState::Retired);
        assert_eq!(old.state_at(1_960), KeyState::Removed);
        assert_eq!(new_key.next_transition(1_000), Some(1_300));
        assert_eq!(old.next_transition(1_300), Some(1_960));
        assert_eq!(old.next_transition(1_960), None);
    }

    #[test]
    fn a_staged_key_replaced_before_it_signs_never_becomes_active() {
        let first = rotation(1_000, 3_600, 600, 60);
        let second = rotation(1_100, 0, 600, 60);
        let staged = KeySchedule {
            retires_at: Some(second.retire_replaced_at),
            unpublish_at: Some(second.unpublish_replaced_at),
            ..first.new_key
        };
        // The second rotation's key signs from 1_160 (its delay is raised to the cache slack).
        assert_eq!(staged.state_at(1_159), KeyState::Staged);
        assert_eq!(staged.state_at(1_160), KeyState::Retired);
        assert_eq!(staged.state_at(1_820), KeyState::Removed);
    }

    #[test]
    fn states_round_trip() {
        for state in [
            KeyState::Staged,
            KeyState::Active,
            KeyState::Retired,
            KeyState::Removed,
        ] {
            assert_eq!(KeyState::parse(state.as_str()), Some(state));
        }
        assert!(!KeyState::Removed.is_published());
        assert!(KeyState::Retired.is_published());
    }
}
