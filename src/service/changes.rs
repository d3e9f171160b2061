//! What one node tells the others to forget from their caches when it changes something, so a
//! rotated secret or key, a deleted client or a changed zone holds on every node at once. The
//! cache bound (`AIRLOCK_CACHE_SECONDS`) stays the fallback: when the announcement cannot be sent or
//! is missed, the entry still ages out.

use crate::model::{ClientId, EnvironmentId};
use crate::store::Db;

/// A cached thing that changed, as announced between nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Change {
    Client(EnvironmentId, ClientId),
    Keys(EnvironmentId),
    /// The path issuer `/{project}/{name}`.
    PathZone(String, String),
    Host(String),
    Subscriptions(EnvironmentId),
}

impl Change {
    /// One line of tab-separated fields (no identifier or host holds a tab).
    fn payload(&self) -> String {
        match self {
            Change::Client(env, client) => format!("client\t{env}\t{client}"),
            Change::Keys(env) => format!("keys\t{env}"),
            Change::PathZone(project, name) => format!("zone\t{project}\t{name}"),
            Change::Host(host) => format!("host\t{host}"),
            Change::Subscriptions(env) => format!("subscriptions\t{env}"),
        }
    }

    pub(super) fn parse(payload: &str) -> Option<Self> {
        let fields: Vec<&str> = payload.split('\t').collect();
        Some(match fields.as_slice() {
            ["client", env, client] => Change::Client((*env).into(), (*client).into()),
            ["keys", env] => Change::Keys((*env).into()),
            ["zone", project, name] => Change::PathZone((*project).into(), (*name).into()),
            ["host", host] => Change::Host((*host).into()),
            ["subscriptions", env] => Change::Subscriptions((*env).into()),
            _ => return None,
        })
    }
}

/// Tells the other nodes, once the change committed. A failure is logged, not raised: the change
/// itself is made, and the other nodes' caches age out.
pub(super) async fn announce(db: &Db, change: Change) {
    if let Err(error) = db.announce_change(&change.payload()).await {
        tracing::warn!(%error, "could not announce a change to the other nodes");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip() {
        for change in [
            Change::Client("env_1".into(), "cl_2".into()),
            Change::Keys("env_1".into()),
            Change::PathZone("acme".into(), "sandbox".into()),
            Change::Host("login.acme.com".into()),
            Change::Subscriptions("env_1".into()),
        ] {
            assert_eq!(Change::parse(&change.payload()), Some(change));
        }
        assert_eq!(Change::parse("client\tonly-one"), None);
        assert_eq!(Change::parse(""), None);
    }
}
