//! Recording audit events. Appends go through one writer task per node that commits whatever has
//! queued up as one batch (group commit); `record` returns only once its entry is durable, so a
//! response never precedes the entry that records it.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::events::EventPublisher;
use super::{Call, Caller, Error};
use crate::audit::chain::{self, ChainBase, ChainKey};
use crate::audit::{AuditEvent, Recorded};
use crate::model::audit::{AuditDraft, Origin};
use crate::model::{Environment, EnvironmentId, Event};
use crate::store::{ChainLink, Db, EnvStore, StoreError, StoredChain};

const QUEUE_DEPTH: usize = 16_384;
const MAX_BATCH: usize = 512;
const GATHER_YIELDS: usize = 3;

struct Pending {
    draft: AuditDraft,
    done: oneshot::Sender<Result<(), (bool, String)>>,
}

/// The node's audit writer: a queue in front of one batching task; and the publisher of the
/// events that audit entries of relying parties' interest become.
#[derive(Debug, Clone)]
pub struct AuditLog {
    queue: mpsc::Sender<Pending>,
    key: ChainKey,
    events: Arc<EventPublisher>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pending")
    }
}

impl AuditLog {
    pub(super) fn start(db: Db, key: ChainKey, cache_seconds: i64) -> Self {
        let events = Arc::new(EventPublisher::new(db.clone(), cache_seconds));
        let (queue, mut inbox) = mpsc::channel::<Pending>(QUEUE_DEPTH);
        let writer_key = key.clone();
        tokio::spawn(async move {
            let key = writer_key;
            let hash = move |seq: i64, draft: &AuditDraft, prev: &str| {
                chain::entry_hash(&key, seq, draft, prev)
            };
            let link = ChainLink {
                hash: &hash,
                genesis: chain::GENESIS,
            };
            while let Some(first) = inbox.recv().await {
                // Let the requests that are ready to run get to their audit entries first: under
                // load that fills the batch (one commit for many), and when idle it costs nothing.
                for _ in 0..GATHER_YIELDS {
                    tokio::task::yield_now().await;
                }
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match inbox.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let (drafts, waiters): (Vec<AuditDraft>, Vec<_>) =
                    batch.into_iter().map(|p| (p.draft, p.done)).unzip();
                let started = std::time::Instant::now();
                let batch_size = drafts.len();
                let result = db.append_audit(&drafts, link).await.map_err(|error| {
                    let unavailable = matches!(error, StoreError::Unavailable(_));
                    (unavailable, error.to_string())
                });
                if crate::telemetry::enabled() {
                    metrics::histogram!("airlock_audit_commit_seconds")
                        .record(started.elapsed().as_secs_f64());
                    metrics::histogram!("airlock_audit_batch_size").record(batch_size as f64);
                }
                for done in waiters {
                    let _ = done.send(result.clone());
                }
            }
        });
        AuditLog { queue, key, events }
    }

    /// Events: what a change writes beside itself for webhooks.
    pub fn events(&self) -> &EventPublisher {
        &self.events
    }

    /// The events `recorded` publishes in `call`'s zone (see `EventPublisher::outbox`).
    pub async fn outbox_of_call(
        &self,
        call: &Call<'_>,
        recorded: &Recorded,
    ) -> Result<Vec<Event>, Error> {
        self.events
            .outbox(call.zone, call.origin, recorded, call.now)
            .await
    }

    /// `event` by `caller` (the actor when the event names none, as in the audit entry), with
    /// the events it publishes (see `EventPublisher::outbox`).
    pub async fn outbox_by(
        &self,
        environment: &Environment,
        caller: &Caller,
        event: impl Into<Recorded>,
        now: i64,
    ) -> Result<(Recorded, Vec<Event>), Error> {
        let mut recorded = event.into();
        if recorded.actor.is_none() {
            recorded.actor = caller.actor.clone();
        }
        let events = self
            .events
            .outbox(environment, &caller.origin, &recorded, now)
            .await?;
        Ok((recorded, events))
    }

    /// Deletes `environment`'s entries older than `before` (at most `max`), recording the pruning
    /// in the chain itself, in the same transaction; how many went.
    pub async fn prune(
        &self,
        db: &Db,
        environment: &Environment,
        (before, max): (i64, i64),
        now: i64,
    ) -> Result<i64, Error> {
        let hash = |seq: i64, draft: &AuditDraft, prev: &str| {
            chain::entry_hash(&self.key, seq, draft, prev)
        };
        let link = ChainLink {
            hash: &hash,
            genesis: chain::GENESIS,
        };
        let record = |through_seq, through_hash: &str, entries| {
            let event = AuditEvent::AuditPruned {
                through_seq,
                through_hash: through_hash.to_string(),
                entries,
                before,
            };
            let recorded = event.actor("airlock");
            draft(environment, &Origin::default(), recorded, now)
        };
        let pruned = EnvStore::new(db, &environment.id)
            .prune_audit((before, max), record, link)
            .await?;
        Ok(pruned.unwrap_or(0))
    }

    /// Appends `event` to the environment's log; returns once it is durable.
    pub async fn record(
        &self,
        environment: &Environment,
        origin: &Origin,
        event: impl Into<Recorded>,
        now: i64,
    ) -> Result<(), Error> {
        let draft = draft(environment, origin, event.into(), now);
        let (done, written) = oneshot::channel();
        self.queue
            .send(Pending { draft, done })
            .await
            .map_err(|_| Error::Internal("the audit writer stopped".into()))?;
        match written.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err((true, detail))) => Err(Error::Unavailable(detail)),
            Ok(Err((false, detail))) => Err(Error::Internal(format!("audit append: {detail}"))),
            Err(_) => Err(Error::Internal("the audit writer stopped".into())),
        }
    }

    /// Appends an event of a protocol call to its zone's log.
    pub async fn record_call(
        &self,
        call: &Call<'_>,
        event: impl Into<Recorded>,
    ) -> Result<(), Error> {
        self.record(call.zone, call.origin, event, call.now).await
    }

    /// Like `record`, with the caller as actor when the event names none.
    pub async fn record_by(
        &self,
        environment: &Environment,
        caller: &Caller,
        event: impl Into<Recorded>,
        now: i64,
    ) -> Result<(), Error> {
        let mut event = event.into();
        if event.actor.is_none() {
            event.actor = caller.actor.clone();
        }
        self.record(environment, &caller.origin, event, now).await
    }
}

/// The entry that records `recorded` in `environment`'s log.
fn draft(environment: &Environment, origin: &Origin, recorded: Recorded, now: i64) -> AuditDraft {
    let Recorded {
        event,
        actor,
        client_id,
    } = recorded;
    let kind = event.event_type();
    AuditDraft {
        env_id: environment.id.clone(),
        at: now,
        event: kind.as_str().to_string(),
        outcome: kind.outcome().as_str().to_string(),
        actor,
        client_id,
        ip: origin.ip.clone(),
        user_agent: origin.user_agent.clone(),
        request_id: origin.request_id.clone(),
        details: event.details().to_string(),
    }
}

/// The migration that marks chains written before keying as unkeyed.
pub(super) const KEYED_CHAINS_MIGRATION: i64 = 7;

/// Relinks, under `key`, the chains written before chains were keyed, each only if it verifies as
/// it was written: a chain broken before stays broken, and `audit verify` says so. Runs once, in
/// the process that applied the keying migration, before it writes any entry.
pub(super) async fn key_unkeyed_chains(db: &Db, key: &ChainKey) -> Result<(), Error> {
    for env_id in db.unkeyed_chains().await? {
        let env_id = EnvironmentId::from(env_id);
        let store = EnvStore::new(db, &env_id);
        let StoredChain { entries, head, .. } = store.audit_chain().await?;
        let Some((head_seq, head_hash)) = head else {
            continue;
        };
        let written = (ChainBase::GENESIS, Some((head_seq, head_hash.as_str())));
        if chain::verify_chain(&entries, written, chain::legacy_entry_hash).is_err() {
            tracing::error!(env_id = %env_id, "an unkeyed audit chain does not verify as written; left unkeyed");
            continue;
        }
        let mut prev_hash = chain::GENESIS.to_string();
        let mut relinked = Vec::with_capacity(entries.len());
        for entry in &entries {
            let hash = chain::entry_hash(key, entry.seq, &entry.draft, &prev_hash);
            relinked.push((
                entry.seq,
                std::mem::replace(&mut prev_hash, hash.clone()),
                hash,
            ));
        }
        if store.rekey_chain(head_seq, &relinked).await? {
            tracing::info!(env_id = %env_id, entries = entries.len(), "audit chain keyed");
        }
    }
    Ok(())
}
