//! The audit chain verifier: any chain of entries, linked or tampered with, is verified or broken
//! at an entry, never a panic; a chain linked by the key verifies whole.
#![no_main]

use airlock::audit::chain::{ChainBase, ChainKey, GENESIS, entry_hash, verify_chain};
use airlock::model::EnvironmentId;
use airlock::model::audit::{AuditDraft, AuditEntry};
use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Draft {
    at: i64,
    event: String,
    outcome: String,
    actor: Option<String>,
    details: String,
    /// Link it properly, or keep these hashes.
    linked: bool,
    prev_hash: String,
    hash: String,
    seq: i64,
}

fuzz_target!(|data: &[u8]| {
    let mut input = Unstructured::new(data);
    let Ok(drafts) = Vec::<Draft>::arbitrary(&mut input) else {
        return;
    };
    let key = ChainKey::new(b"a fuzzing chain key");
    let hash = |seq: i64, draft: &AuditDraft, prev: &str| entry_hash(&key, seq, draft, prev);
    let mut prev = GENESIS.to_string();
    let mut entries = Vec::new();
    let mut all_linked = true;
    for (at, draft) in drafts.into_iter().enumerate() {
        let seq = i64::try_from(at).unwrap_or(i64::MAX).saturating_add(1);
        let audit = AuditDraft {
            env_id: EnvironmentId::from("env_fuzz".to_string()),
            at: draft.at,
            event: draft.event,
            outcome: draft.outcome,
            actor: draft.actor,
            client_id: None,
            ip: None,
            user_agent: None,
            request_id: None,
            details: draft.details,
        };
        let entry = match draft.linked {
            true => {
                let linked = hash(seq, &audit, &prev);
                AuditEntry {
                    seq,
                    draft: audit,
                    prev_hash: prev.clone(),
                    hash: linked,
                }
            }
            false => {
                all_linked = false;
                AuditEntry {
                    seq: draft.seq,
                    draft: audit,
                    prev_hash: draft.prev_hash,
                    hash: draft.hash,
                }
            }
        };
        prev = entry.hash.clone();
        entries.push(entry);
    }
    let head = entries.last().map(|last| (last.seq, last.hash.as_str()));
    let verified = verify_chain(&entries, (ChainBase::GENESIS, head), hash);
    if all_linked && !entries.iter().any(|e| e.draft.event == "audit.pruned") {
        assert_eq!(
            verified.ok(),
            Some(entries.len()),
            "a linked chain verifies"
        );
    }
});
