//! Recording and reading the per-environment audit logs.
//!
//! Appends go through one writer task per node that commits whatever has queued up as one batch
//! (group commit); `record` returns only once its entry is durable, so a response never precedes
//! the entry that records it.

use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};

use super::{Airlock, Error};
use crate::model::audit::{self, AuditDraft, AuditEntry, ChainBreak, Origin, Outcome};
use crate::model::{EnvKind, Environment};
use crate::store::{AuditQuery, Db, StoreError};

const QUEUE_DEPTH: usize = 16_384;
const MAX_BATCH: usize = 512;
const GATHER_YIELDS: usize = 3;

/// Who acted, as recorded: a user, a client, an admin token, or the CLI.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    pub actor: Option<String>,
    pub origin: Origin,
}

impl Caller {
    /// An operator at the command line.
    pub fn cli() -> Self {
        Caller {
            actor: Some("cli".into()),
            origin: Origin::default(),
        }
    }
}

/// One security-relevant event, before it is stamped with time and environment.
#[derive(Debug, Clone)]
pub struct Event {
    name: &'static str,
    outcome: Outcome,
    actor: Option<String>,
    client_id: Option<String>,
    details: Map<String, Value>,
}

impl Event {
    pub fn success(name: &'static str) -> Self {
        Event {
            name,
            outcome: Outcome::Success,
            actor: None,
            client_id: None,
            details: Map::new(),
        }
    }

    pub fn failure(name: &'static str) -> Self {
        Event {
            outcome: Outcome::Failure,
            ..Event::success(name)
        }
    }

    pub fn actor(mut self, actor: impl Into<String>) -> Self {
        self.actor = Some(actor.into());
        self
    }

    pub fn client(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    pub fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_string(), value.into());
        self
    }
}

struct Pending {
    draft: AuditDraft,
    done: oneshot::Sender<Result<(), (bool, String)>>,
}

/// The node's audit writer: a queue in front of one batching task.
#[derive(Debug, Clone)]
pub struct AuditWriter {
    queue: mpsc::Sender<Pending>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pending")
    }
}

impl AuditWriter {
    pub fn start(db: Db) -> Self {
        let (queue, mut inbox) = mpsc::channel::<Pending>(QUEUE_DEPTH);
        tokio::spawn(async move {
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
                let result = db.append_audit(&drafts).await.map_err(|error| {
                    let unavailable = matches!(error, StoreError::Unavailable(_));
                    (unavailable, error.to_string())
                });
                for done in waiters {
                    let _ = done.send(result.clone());
                }
            }
        });
        AuditWriter { queue }
    }

    async fn append(&self, draft: AuditDraft) -> Result<(), Error> {
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
}

/// An entry as shown to admins: with its environment's names and kind, so a sandbox entry is always
/// labelled as such.
#[derive(Debug, Clone, Serialize)]
pub struct AuditView {
    pub seq: i64,
    pub at: i64,
    pub project: String,
    pub environment: String,
    pub kind: EnvKind,
    /// `SANDBOX` for `test` environments, `LIVE` otherwise.
    pub label: &'static str,
    pub event: String,
    pub outcome: String,
    pub actor: Option<String>,
    pub client_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub details: Value,
    pub hash: String,
}

/// The result of checking one environment's chain.
#[derive(Debug, Clone, Serialize)]
pub struct ChainReport {
    pub project: String,
    pub environment: String,
    pub kind: EnvKind,
    pub label: &'static str,
    pub entries: usize,
    pub intact: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_seq: Option<i64>,
}

pub fn zone_label(kind: EnvKind) -> &'static str {
    match kind {
        EnvKind::Test => "SANDBOX",
        EnvKind::Live => "LIVE",
    }
}

fn view(environment: &Environment, entry: AuditEntry) -> AuditView {
    let details = serde_json::from_str(&entry.draft.details).unwrap_or(Value::Null);
    AuditView {
        seq: entry.seq,
        at: entry.draft.at,
        project: environment.project.clone(),
        environment: environment.name.clone(),
        kind: environment.kind,
        label: zone_label(environment.kind),
        event: entry.draft.event,
        outcome: entry.draft.outcome,
        actor: entry.draft.actor,
        client_id: entry.draft.client_id,
        ip: entry.draft.ip,
        user_agent: entry.draft.user_agent,
        request_id: entry.draft.request_id,
        details,
        hash: entry.hash,
    }
}

impl Airlock {
    /// Appends `event` to the environment's log; returns once it is durable.
    pub async fn record(
        &self,
        environment: &Environment,
        origin: &Origin,
        event: Event,
        now: i64,
    ) -> Result<(), Error> {
        let draft = AuditDraft {
            env_id: environment.id.clone(),
            at: now,
            event: event.name.to_string(),
            outcome: event.outcome.as_str().to_string(),
            actor: event.actor,
            client_id: event.client_id,
            ip: origin.ip.clone(),
            user_agent: origin.user_agent.clone(),
            request_id: origin.request_id.clone(),
            details: Value::Object(event.details).to_string(),
        };
        self.audit.append(draft).await
    }

    /// Like `record`, with the caller as actor when the event names none.
    pub async fn record_by(
        &self,
        environment: &Environment,
        caller: &Caller,
        event: Event,
        now: i64,
    ) -> Result<(), Error> {
        let event = match (&event.actor, &caller.actor) {
            (None, Some(actor)) => event.actor(actor.clone()),
            _ => event,
        };
        self.record(environment, &caller.origin, event, now).await
    }

    pub async fn audit_list(
        &self,
        environment: &Environment,
        since: Option<i64>,
        event: Option<String>,
        limit: Option<i64>,
    ) -> Result<Vec<AuditView>, Error> {
        let query = AuditQuery {
            since,
            event,
            limit: limit.unwrap_or(1000).clamp(1, 10_000),
        };
        let entries = self.env_store(environment).audit_entries(&query).await?;
        Ok(entries.into_iter().map(|e| view(environment, e)).collect())
    }

    pub async fn audit_verify(&self, environment: &Environment) -> Result<ChainReport, Error> {
        let (entries, head) = self.env_store(environment).audit_chain().await?;
        let result = audit::verify_chain(&entries, head.as_ref().map(|(s, h)| (*s, h.as_str())));
        let (intact, problem, at_seq) = match &result {
            Ok(_) => (true, None, None),
            Err(problem) => (false, Some(problem.to_string()), Some(break_seq(problem))),
        };
        Ok(ChainReport {
            project: environment.project.clone(),
            environment: environment.name.clone(),
            kind: environment.kind,
            label: zone_label(environment.kind),
            entries: entries.len(),
            intact,
            problem,
            at_seq,
        })
    }
}

fn break_seq(problem: &ChainBreak) -> i64 {
    match problem {
        ChainBreak::Edited { seq } | ChainBreak::Unlinked { seq, .. } => *seq,
        ChainBreak::Truncated { last_seq, .. } => last_seq + 1,
        ChainBreak::HeadMismatch { head_seq } => *head_seq,
    }
}
