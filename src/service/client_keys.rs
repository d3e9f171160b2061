//! Relying parties' public keys for `private_key_jwt`: a client's inline JWKS, or the one at its
//! `jwks_uri` (fetched under the outbound rules, with a timeout and a size cap), parsed once and
//! kept per node for the cache period.

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::sync::Cache;

use super::cache;
use super::webhooks::Sender;
use crate::crypto::jose::{self, JwksKey};
use crate::model::{Client, ClientId, EnvKind, EnvironmentId};

/// How long a fetch of a client's JWKS may take, and how large the document may be.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
pub const MAX_JWKS_BYTES: usize = 64 * 1024;
/// A key the cached set lacks makes a refetch, at most this often per client (a client that
/// rotated its key is heard at once; one sending made-up key ids does not drive fetches).
const REFETCH_AFTER: Duration = Duration::from_secs(5);

#[derive(Debug)]
struct KnownKeys {
    /// What the keys came from: the inline document or the URL, so a changed registration is
    /// never answered with the old keys.
    source: String,
    keys: Arc<Vec<JwksKey>>,
    fetched: Instant,
}

#[derive(Debug)]
pub struct ClientKeys {
    sender: Sender,
    known: Cache<(EnvironmentId, ClientId), Arc<KnownKeys>>,
    /// Clients whose `jwks_uri` was fetched (or tried) within `REFETCH_AFTER`: a failing or
    /// missing-key URL is fetched at most that often, however many assertions name the client.
    fetched_lately: Cache<(EnvironmentId, ClientId), ()>,
}

impl ClientKeys {
    pub fn new(sender: Sender, cache_seconds: i64) -> Self {
        ClientKeys {
            sender,
            known: cache::expiring(cache_seconds),
            fetched_lately: cache::expiring(REFETCH_AFTER.as_secs() as i64),
        }
    }

    /// The client's keys; `stale` asks for a fresh fetch of a `jwks_uri` (a key was missing).
    pub async fn of(
        &self,
        kind: EnvKind,
        client: &Client,
        stale: bool,
    ) -> Result<Arc<Vec<JwksKey>>, String> {
        let key = (client.env_id.clone(), client.client_id.clone());
        let source = match (&client.jwks, &client.jwks_uri) {
            (Some(jwks), _) => jwks.to_string(),
            (None, Some(uri)) => uri.clone(),
            (None, None) => return Err("the client registered no keys".into()),
        };
        let known = self.known.get(&key).filter(|known| known.source == source);
        if let Some(known) = &known {
            let refetch =
                stale && client.jwks.is_none() && known.fetched.elapsed() >= REFETCH_AFTER;
            if !refetch {
                return Ok(known.keys.clone());
            }
        }
        let document = match (&client.jwks, &client.jwks_uri) {
            (Some(_), _) => source.clone(),
            (None, _) => {
                if self.fetched_lately.contains_key(&key) {
                    return match known {
                        Some(known) => Ok(known.keys.clone()),
                        None => Err("the client's keys could not be fetched moments ago".into()),
                    };
                }
                self.fetched_lately.insert(key.clone(), ());
                self.sender
                    .fetch_jwks((kind, &source), FETCH_TIMEOUT, MAX_JWKS_BYTES)
                    .await?
            }
        };
        let keys = Arc::new(jose::jwks_keys(&document).map_err(|e| e.to_string())?);
        let known = KnownKeys {
            source,
            keys: keys.clone(),
            fetched: Instant::now(),
        };
        self.known.insert(key, Arc::new(known));
        Ok(keys)
    }

    /// Why `uri` cannot serve keys to a zone of `kind` (the outbound target rules), if it cannot.
    pub fn check_uri(&self, kind: EnvKind, uri: &str) -> Result<(), String> {
        self.sender.rules(kind).check_url(uri).map(|_| ())
    }

    pub fn forget(&self, env_id: &EnvironmentId, client_id: &ClientId) {
        let key = (env_id.clone(), client_id.clone());
        self.known.invalidate(&key);
        self.fetched_lately.invalidate(&key);
    }

    pub fn forget_all(&self) {
        self.known.invalidate_all();
        self.fetched_lately.invalidate_all();
    }
}
