//! The per-environment hash chain, pure: each entry's hash covers its fields and the previous entry's
//! hash, and the chain head (last sequence number and hash) is kept beside the entries, so edits,
//! removals, insertions, reorderings and a cut-off end are all found.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::model::audit::{AuditDraft, AuditEntry};

/// The `prev_hash` of an environment's first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// SHA-256 over the entry's every field and the previous hash, as a JSON array (unambiguous framing).
pub fn entry_hash(seq: i64, draft: &AuditDraft, prev_hash: &str) -> String {
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
    hex::encode(Sha256::digest(framed.to_string().as_bytes()))
}

/// Where a chain stops being trustworthy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
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

/// Checks a whole chain in `seq` order against its recorded head (`None` when nothing was written).
pub fn verify_chain(
    entries: &[AuditEntry],
    head: Option<(i64, &str)>,
) -> Result<usize, ChainBreak> {
    let mut prev_hash = GENESIS.to_string();
    let mut expected_seq = 1;
    for entry in entries {
        if entry.seq != expected_seq || entry.prev_hash != prev_hash {
            return Err(ChainBreak::Unlinked {
                seq: entry.seq,
                expected_seq,
            });
        }
        if entry_hash(entry.seq, &entry.draft, &entry.prev_hash) != entry.hash {
            return Err(ChainBreak::Edited { seq: entry.seq });
        }
        prev_hash = entry.hash.clone();
        expected_seq += 1;
    }
    let last_seq = expected_seq - 1;
    match head {
        None if last_seq == 0 => Ok(0),
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
            let hash = entry_hash(seq, &draft, &prev);
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

    fn head(entries: &[AuditEntry]) -> Option<(i64, &str)> {
        entries.last().map(|e| (e.seq, e.hash.as_str()))
    }

    #[test]
    fn an_intact_chain_verifies() {
        let entries = chain(&["a", "b", "c"]);
        assert_eq!(verify_chain(&entries, head(&entries)), Ok(3));
        assert_eq!(verify_chain(&[], None), Ok(0));
    }

    #[test]
    fn edits_removals_reorders_and_truncation_are_found() {
        let entries = chain(&["a", "b", "c", "d"]);
        let recorded = (4, entries[3].hash.clone());
        let head = Some((recorded.0, recorded.1.as_str()));

        let mut edited = entries.clone();
        edited[1].draft.event = "x".into();
        assert_eq!(
            verify_chain(&edited, head),
            Err(ChainBreak::Edited { seq: 2 })
        );

        let mut removed = entries.clone();
        removed.remove(1);
        assert_eq!(
            verify_chain(&removed, head),
            Err(ChainBreak::Unlinked {
                seq: 3,
                expected_seq: 2
            })
        );

        let mut reordered = entries.clone();
        reordered.swap(1, 2);
        assert!(matches!(
            verify_chain(&reordered, head),
            Err(ChainBreak::Unlinked { seq: 3, .. })
        ));

        let truncated = &entries[..3];
        assert_eq!(
            verify_chain(truncated, head),
            Err(ChainBreak::Truncated {
                last_seq: 3,
                head_seq: 4
            })
        );
    }
}
