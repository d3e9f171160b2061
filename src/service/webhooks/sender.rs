//! Sending one event to one receiver: Standard Webhooks headers and signatures, a timeout, no
//! redirects, no proxy, the first 4 KiB of the answer kept; and the target rules applied to the
//! URL and, at connection time, to every address its host resolves to (no DNS rebinding).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::config::Config;
use crate::crypto::kek::Kek;
use crate::events::signature;
use crate::events::target::TargetRules;
use crate::model::{DeliveryAttempt, EnvKind};

/// How much of a response the delivery log keeps.
const RESPONSE_KEPT: usize = 4096;

/// Resolves names for one kind of environment, keeping only the addresses it may reach.
struct GuardedResolver {
    kind: EnvKind,
    allowed_networks: Arc<[IpNet]>,
}

impl GuardedResolver {
    fn allows(&self, address: IpAddr) -> bool {
        let rules = TargetRules {
            kind: self.kind,
            allowed_networks: &self.allowed_networks,
        };
        rules.allows_address(address)
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = GuardedResolver {
            kind: self.kind,
            allowed_networks: self.allowed_networks.clone(),
        };
        Box::pin(async move {
            let host = name.as_str().to_string();
            let resolved = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let allowed: Vec<SocketAddr> = resolved.filter(|a| guard.allows(a.ip())).collect();
            if allowed.is_empty() {
                let refused = format!("{host} resolves to no address this environment may reach");
                return Err(refused.into());
            }
            let addresses: Addrs = Box::new(allowed.into_iter());
            Ok(addresses)
        })
    }
}

/// The signing secrets of an endpoint as stored (sealed), and until when the previous one signs.
#[derive(Debug, Clone, Copy)]
pub struct SealedSecrets<'a> {
    pub current: &'a str,
    pub previous: Option<(&'a str, i64)>,
}

/// The node's HTTP clients for deliveries, one per kind of environment.
#[derive(Debug, Clone)]
pub struct Sender {
    live: reqwest::Client,
    test: reqwest::Client,
    allowed_networks: Arc<[IpNet]>,
    kek: Kek,
}

impl Sender {
    pub fn new(config: &Config, kek: Kek) -> anyhow::Result<Self> {
        let allowed_networks: Arc<[IpNet]> = config.webhook_allowed_networks.clone().into();
        let extra_roots = match &config.webhook_ca_file {
            Some(path) => {
                let pem = std::fs::read(path)
                    .map_err(|error| anyhow::anyhow!("cannot read {}: {error}", path.display()))?;
                reqwest::Certificate::from_pem_bundle(&pem)?
            }
            None => Vec::new(),
        };
        let client = |kind| {
            let resolver = GuardedResolver {
                kind,
                allowed_networks: allowed_networks.clone(),
            };
            let mut builder = reqwest::Client::builder()
                .timeout(Duration::from_secs(config.webhook_timeout))
                .connect_timeout(Duration::from_secs(config.webhook_timeout.min(10)))
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .user_agent(concat!("Airlock-Webhooks/", env!("CARGO_PKG_VERSION")))
                .dns_resolver(Arc::new(resolver));
            for root in &extra_roots {
                builder = builder.add_root_certificate(root.clone());
            }
            builder.build()
        };
        Ok(Sender {
            live: client(EnvKind::Live)?,
            test: client(EnvKind::Test)?,
            allowed_networks,
            kek,
        })
    }

    /// GETs a relying party's JWKS document from `url` under the same rules as a delivery (the
    /// target rules at the URL and at connect time, no redirects, no proxy), within `timeout` and
    /// at most `limit` bytes.
    pub async fn fetch_jwks(
        &self,
        (kind, url): (EnvKind, &str),
        timeout: Duration,
        limit: usize,
    ) -> Result<String, String> {
        let url = self.rules(kind).check_url(url)?;
        let client = match kind {
            EnvKind::Live => &self.live,
            EnvKind::Test => &self.test,
        };
        let request = client
            .get(url)
            .header("accept", "application/json, application/jwk-set+json")
            .timeout(timeout);
        let mut response = request.send().await.map_err(|e| describe(&e))?;
        if !response.status().is_success() {
            return Err(format!("answered {}", response.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e))? {
            body.extend_from_slice(&chunk);
            if body.len() > limit {
                return Err(format!("larger than {limit} bytes"));
            }
        }
        String::from_utf8(body).map_err(|_| "not UTF-8".to_string())
    }

    /// The rules for `kind`'s targets on this installation.
    pub fn rules(&self, kind: EnvKind) -> TargetRules<'_> {
        TargetRules {
            kind,
            allowed_networks: &self.allowed_networks,
        }
    }

    /// Seals a signing secret for storage, bound to its endpoint.
    pub fn seal_secret(&self, secret: &str, endpoint_id: &str) -> String {
        self.kek
            .seal(secret.as_bytes(), &secret_context(endpoint_id))
    }

    /// POSTs `payload` as event `webhook_id` to `url`, signed with the endpoint's secrets, and
    /// says how it went (`at` is when the attempt starts, in epoch seconds).
    pub async fn send(
        &self,
        (kind, url): (EnvKind, &str),
        (endpoint_id, secrets): (&str, SealedSecrets<'_>),
        (webhook_id, payload): (&str, &str),
        at: i64,
    ) -> DeliveryAttempt {
        let started = Instant::now();
        let failed = |error: String| DeliveryAttempt {
            attempt: 0,
            at,
            status_code: None,
            latency_ms: started.elapsed().as_millis() as i64,
            error: Some(storable(&error)),
            response: None,
            succeeded: false,
        };
        // Checked again at every attempt: the rules may have tightened since the endpoint was
        // added, and a literal address never goes through the resolver.
        let url = match self.rules(kind).check_url(url) {
            Ok(url) => url,
            Err(refused) => return failed(refused),
        };
        let keys = match self.signing_keys(endpoint_id, secrets, at) {
            Ok(keys) => keys,
            Err(error) => return failed(error),
        };
        let keys: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        let signature = signature::header(&keys, webhook_id, at, payload);
        let client = match kind {
            EnvKind::Live => &self.live,
            EnvKind::Test => &self.test,
        };
        let request = client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", webhook_id)
            .header("webhook-timestamp", at.to_string())
            .header("webhook-signature", signature)
            .body(payload.to_string());
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(error) => return failed(describe(&error)),
        };
        let status = response.status();
        let mut kept = Vec::new();
        let mut read_error = None;
        while kept.len() < RESPONSE_KEPT {
            match response.chunk().await {
                Ok(Some(chunk)) => kept.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(error) => {
                    read_error = Some(describe(&error));
                    break;
                }
            }
        }
        kept.truncate(RESPONSE_KEPT);
        DeliveryAttempt {
            attempt: 0,
            at,
            status_code: Some(i64::from(status.as_u16())),
            latency_ms: started.elapsed().as_millis() as i64,
            succeeded: status.is_success(),
            error: read_error
                .filter(|_| !status.is_success())
                .map(|e| storable(&e)),
            response: Some(storable(&String::from_utf8_lossy(&kept))),
        }
    }

    /// The keys that sign now: the current secret's, and the previous one's until it lapses.
    fn signing_keys(
        &self,
        endpoint_id: &str,
        secrets: SealedSecrets<'_>,
        now: i64,
    ) -> Result<Vec<Vec<u8>>, String> {
        let context = secret_context(endpoint_id);
        let mut sealed = vec![secrets.current];
        if let Some((previous, until)) = secrets.previous
            && now < until
        {
            sealed.push(previous);
        }
        sealed
            .into_iter()
            .map(|sealed| {
                let secret = self
                    .kek
                    .open(sealed, &context)
                    .map_err(|error| error.to_string())?;
                let secret =
                    String::from_utf8(secret).map_err(|_| "a corrupt secret".to_string())?;
                signature::parse_secret(&secret).ok_or_else(|| "a corrupt secret".to_string())
            })
            .collect()
    }
}

/// What a receiver sent, as text every backend can store (PostgreSQL text holds no NUL).
fn storable(text: &str) -> String {
    text.replace('\0', "\u{FFFD}")
}

fn secret_context(endpoint_id: &str) -> String {
    format!("webhook-secret:{endpoint_id}")
}

/// A transport error in a line, with its cause (a refused address, a timeout, a TLS failure).
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_string()
    } else if error.is_connect() {
        "could not connect".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn resolver(kind: EnvKind) -> GuardedResolver {
        GuardedResolver {
            kind,
            allowed_networks: Arc::from(Vec::new()),
        }
    }

    #[tokio::test]
    async fn names_resolving_to_this_machine_are_refused_to_live_zones_at_connect_time() {
        let name = || Name::from_str("localhost").expect("name");
        let refused = resolver(EnvKind::Live).resolve(name()).await;
        let error = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            error.contains("no address this environment may reach"),
            "{error}"
        );
        let allowed = resolver(EnvKind::Test).resolve(name()).await;
        let addresses: Vec<SocketAddr> = allowed.map(|a| a.collect()).unwrap_or_default();
        assert!(!addresses.is_empty());
        assert!(addresses.iter().all(|a| a.ip().is_loopback()));
    }
}
