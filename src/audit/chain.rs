//! The per-environment hash chain, pure: each entry's hash covers its fields and the previous entry's
//! hash, and the chain head (last sequence number and hash) is kept beside the entries, so edits,
//! removals, insertions, reorderings and a cut-off end are all found.
//!
//! The hash is an HMAC-SHA256 under the installation's chain key (derived from the KEK): someone who
//! can write the database but does not hold the KEK cannot recompute a chain that verifies, so a
//! rewritten log (entries edited, dropped or added, the head moved to match) is found too. What the
//! chain cannot show: a log rolled back whole, with its head, to an earlier state it really had, or
//! anything done by whoever holds the KEK.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::EventType;
use crate::model::audit::{AuditDraft, AuditEntry};

/// The key every chain of an installation is linked under. Its `Debug` never shows it.
#[derive(Clone)]
pub struct ChainKey(Hmac<Sha256>);

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainKey(<redacted>)")
    }
}

impl ChainKey {
    pub fn new(secret: &[u8]) -> Self {
        ChainKey(Hmac::new_from_slice(secret).expect("HMAC takes keys of any length"))
    }
}

/// The `prev_hash` of an environment's first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// HMAC-SHA256 under `key` over the entry's every field and the previous hash.
pub fn entry_hash(key: &ChainKey, seq: i64, draft: &AuditDraft, prev_hash: &str) -> String {
    let mut mac = key.0.clone();
    mac.update(framed(seq, draft, prev_hash).as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The bare SHA-256 that linked chains written before they were keyed; read only to re-key them.
pub fn legacy_entry_hash(seq: i64, draft: &AuditDraft, prev_hash: &str) -> String {
    hex::encode(Sha256::digest(framed(seq, draft, prev_hash).as_bytes()))
}

/// The entry's every field and the previous hash, as a JSON array (unambiguous framing).
fn framed(seq: i64, draft: &AuditDraft, prev_hash: &str) -> String {
    let framed: Value = json!([
        seq,
        draft.env_id,
        draft.at,
        draft.event,
        draft.outcome,
        draft.actor,
        draft.client_id,
        draft.ip,
        draft.user_agent,
        draft.request_id,
        draft.details,
        prev_hash,
    ]);
    framed.to_string()
}

/// Where a chain starts: `GENESIS` before seq 1, or the last entry pruned (its seq and hash).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainBase<'a> {
    pub seq: i64,
    pub hash: &'a str,
}

impl ChainBase<'_> {
    pub const GENESIS: ChainBase<'static> = ChainBase {
        seq: 0,
        hash: GENESIS,
    };
}

/// Where a chain stops being trustworthy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// The chain starts after entries that no `audit.pruned` entry records as pruned.
    UnrecordedPrune { base_seq: i64 },
    /// An entry's content no longer matches its hash: it was edited.
    Edited { seq: i64 },
    /// An entry does not follow the one before it: entries were removed, inserted or reordered.
    Unlinked { seq: i64, expected_seq: i64 },
    /// The chain ends before the recorded head: its last entries were removed.
    Truncated { last_seq: i64, head_seq: i64 },
    /// The recorded head does not match the last entry.
    HeadMismatch { head_seq: i64 },
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainBreak::UnrecordedPrune { base_seq } => write!(
                f,
                "entries up to {base_seq} are gone without an audit.pruned entry recording it (entries removed at the start)"
            ),
            ChainBreak::Edited { seq } => {
                write!(f, "entry {seq} was edited (its hash does not match)")
            }
            ChainBreak::Unlinked { seq, expected_seq } => write!(
                f,
                "entry {seq} does not follow entry {} (entries removed, inserted or reordered before it)",
                expected_seq - 1
            ),
            ChainBreak::Truncated { last_seq, head_seq } => write!(
                f,
                "the log ends at entry {last_seq} but {head_seq} entries were written (entries removed at the end)"
            ),
            ChainBreak::HeadMismatch { head_seq } => {
                write!(
                    f,
                    "entry {head_seq} is not the entry the chain head recorded"
                )
            }
        }
    }
}

/// Checks a whole chain in `seq` order from its `base`, linked by `hash`, against its recorded head
/// (`None` when nothing was written). A base past genesis must be the one the last `audit.pruned`
/// entry names.
pub fn verify_chain(
    entries: &[AuditEntry],
    (base, head): (ChainBase<'_>, Option<(i64, &str)>),
    hash: impl Fn(i64, &AuditDraft, &str) -> String,
) -> Result<usize, ChainBreak> {
    if base.seq > 0 {
        let recorded = entries
            .iter()
            .rev()
            .find(|entry| entry.draft.event == EventType::AuditPruned.as_str())
            .and_then(|entry| serde_json::from_str::<Value>(&entry.draft.details).ok());
        let names_base = recorded.is_some_and(|details| {
            details["through_seq"] == base.seq && details["through_hash"] == base.hash
        });
        if !names_base {
            return Err(ChainBreak::UnrecordedPrune { base_seq: base.seq });
        }
    }
    let mut prev_hash = base.hash.to_string();
    let mut expected_seq = base.seq + 1;
    for entry in entries {
        if entry.seq != expected_seq || entry.prev_hash != prev_hash {
            return Err(ChainBreak::Unlinked {
                seq: entry.seq,
                expected_seq,
            });
        }
        if hash(entry.seq, &entry.draft, &entry.prev_hash) != entry.hash {
            return Err(ChainBreak::Edited { seq: entry.seq });
        }
        prev_hash = entry.hash.clone();
        expected_seq += 1;
    }
    let last_seq = expected_seq - 1;
    match head {
        None if last_seq == base.seq && base.seq == 0 => Ok(0),
        None => Err(ChainBreak::HeadMismatch { head_seq: 0 }),
        Some((head_seq, _)) if head_seq > last_seq => {
            Err(ChainBreak::Truncated { last_seq, head_seq })
        }
        Some((head_seq, head_hash)) if head_seq != last_seq || head_hash != prev_hash => {
            Err(ChainBreak::HeadMismatch { head_seq })
        }
        Some(_) => Ok(entries.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(event: &str) -> AuditDraft {
        AuditDraft {
            env_id: "env".into(),
            at: 1,
            event: event.into(),
            outcome: "success".into(),
            actor: Some("usr_1".into()),
            client_id: None,
            ip: Some("127.0.0.1".into()),
            user_agent: None,
            request_id: Some("r".into()),
            details: "{}".into(),
        }
    }

    fn chain(events: &[&str]) -> Vec<AuditEntry> {
        let mut prev = GENESIS.to_string();
        let mut out = Vec::new();
        for (i, event) in events.iter().enumerate() {
            let seq = i as i64 + 1;
            let draft = draft(event);
            let hash = entry_hash(&key(), seq, &draft, &prev);
            out.push(AuditEntry {
                seq,
                draft,
                prev_hash: prev.clone(),
                hash: hash.clone(),
            });
            prev = hash;
        }
        out
    }

    fn key() -> ChainKey {
        ChainKey::new(b"test chain key")
    }

    fn keyed(seq: i64, draft: &AuditDraft, prev: &str) -> String {
        entry_hash(&key(), seq, draft, prev)
    }

    #[test]
    fn a_chain_rewritten_without_the_key_is_found() {
        let entries = chain(&["a", "b", "c"]);
        // Whoever rewrites the log without the key can only recompute bare hashes.
        let mut prev = GENESIS.to_string();
        let mut forged = entries.clone();
        forged.remove(1);
        for (i, entry) in forged.iter_mut().enumerate() {
            entry.seq = i as i64 + 1;
            entry.prev_hash = prev.clone();
            entry.hash = legacy_entry_hash(entry.seq, &entry.draft, &prev);
            prev = entry.hash.clone();
        }
        let forged_head = Some((2, prev.as_str()));
        assert_eq!(
            verify_chain(&forged, (ChainBase::GENESIS, forged_head), keyed),
            Err(ChainBreak::Edited { seq: 1 })
        );
        let other_key = ChainKey::new(b"another installation");
        let rehash = |s, d: &AuditDraft, p: &str| entry_hash(&other_key, s, d, p);
        assert!(verify_chain(&entries, (ChainBase::GENESIS, head(&entries)), rehash).is_err());
    }

    fn head(entries: &[AuditEntry]) -> Option<(i64, &str)> {
        entries.last().map(|e| (e.seq, e.hash.as_str()))
    }

    #[test]
    fn a_pruned_chain_verifies_from_its_recorded_base() {
        let entries = chain(&["a", "b", "c", "d"]);
        let base_hash = entries[1].hash.clone();
        let base = ChainBase {
            seq: 2,
            hash: &base_hash,
        };
        let mut kept = entries[2..].to_vec();
        // No audit.pruned entry names the base: entries were removed at the start.
        assert_eq!(
            verify_chain(&kept, (base, head(&kept)), keyed),
            Err(ChainBreak::UnrecordedPrune { base_seq: 2 })
        );
        // The record of the pruning, appended to the chain.
        let mut record = draft(EventType::AuditPruned.as_str());
        record.details = json!({"through_seq": 2, "through_hash": base_hash}).to_string();
        let prev = kept[1].hash.clone();
        let hash = keyed(5, &record, &prev);
        kept.push(AuditEntry {
            seq: 5,
            draft: record,
            prev_hash: prev,
            hash,
        });
        assert_eq!(verify_chain(&kept, (base, head(&kept)), keyed), Ok(3));
    }

    #[test]
    fn an_intact_chain_verifies() {
        let entries = chain(&["a", "b", "c"]);
        assert_eq!(
            verify_chain(&entries, (ChainBase::GENESIS, head(&entries)), keyed),
            Ok(3)
        );
        assert_eq!(verify_chain(&[], (ChainBase::GENESIS, None), keyed), Ok(0));
    }

    #[test]
    fn edits_removals_reorders_and_truncation_are_found() {
        let entries = chain(&["a", "b", "c", "d"]);
        let recorded = (4, entries[3].hash.clone());
        let head = Some((recorded.0, recorded.1.as_str()));

        let mut edited = entries.clone();
        edited[1].draft.event = "x".into();
        assert_eq!(
            verify_chain(&edited, (ChainBase::GENESIS, head), keyed),
            Err(ChainBreak::Edited { seq: 2 })
        );

        let mut removed = entries.clone();
        removed.remove(1);
        assert_eq!(
            verify_chain(&removed, (ChainBase::GENESIS, head), keyed),
            Err(ChainBreak::Unlinked {
                seq: 3,
                expected_seq: 2
            })
        );

        let mut reordered = entries.clone();
        reordered.swap(1, 2);
        assert!(matches!(
            verify_chain(&reordered, (ChainBase::GENESIS, head), keyed),
            Err(ChainBreak::Unlinked { seq: 3, .. })
        ));

        let truncated = &entries[..3];
        assert_eq!(
            verify_chain(truncated, (ChainBase::GENESIS, head), keyed),
            Err(ChainBreak::Truncated {
                last_seq: 3,
                head_seq: 4
            })
        );
    }
}
