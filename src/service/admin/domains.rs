//! Custom domains: binding a host to an environment and proving ownership through DNS.

use std::path::Path;

use hickory_resolver::TokioAsyncResolver;
use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig, ResolverOpts};

use crate::audit::{AuditEvent, VerificationMethod};
use crate::crypto::secrets;
use crate::model::{Domain, DomainState, Environment, normalize_host};
use crate::service::audit_log::AuditLog;
use crate::service::zones::ZoneDirectory;
use crate::service::{Caller, Error};
use crate::store::{ClaimRefused, Db, EnvStore};

/// Certificate and key files for a domain served over Airlock's own TLS listener.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert_file: String,
    pub key_file: String,
}

/// A domain and the environment it is bound to.
#[derive(Debug, Clone)]
pub struct BoundDomain {
    pub domain: Domain,
    pub environment: Environment,
}

/// Live pending claims one environment may hold at once.
pub const MAX_PENDING_PER_ENVIRONMENT: i64 = 20;

pub struct DomainAdmin<'a> {
    pub(in crate::service) db: &'a Db,
    pub(in crate::service) zones: &'a ZoneDirectory,
    pub(in crate::service) audit: &'a AuditLog,
    pub(in crate::service) dns_resolver: Option<std::net::SocketAddr>,
    pub(in crate::service) allow_manual_verification: bool,
    /// Seconds a pending claim lives unverified.
    pub(in crate::service) pending_ttl: i64,
}

impl DomainAdmin<'_> {
    /// The oldest `created_at` a pending claim may have at `now` and still count.
    fn oldest_pending(&self, now: i64) -> i64 {
        now - self.pending_ttl
    }

    /// Claims `host` for `environment`, pending until ownership is proven. Other environments may
    /// claim the same host meanwhile (so a claim tells nothing about them, and squats nothing): the
    /// first to prove ownership activates it; `Conflict` only once it is active somewhere. Naming
    /// certificate files on the server is the operator's call.
    pub async fn add(
        &self,
        environment: &Environment,
        host: &str,
        tls: Option<TlsFiles>,
        caller: &Caller,
        now: i64,
    ) -> Result<Domain, Error> {
        if tls.is_some() {
            caller.require_installation()?;
        }
        let host = normalize_host(host).ok_or_else(|| {
            Error::Invalid("a domain is a host name such as login.example.com".into())
        })?;
        if self.zones.is_public_host(&host) {
            return Err(Error::Invalid(
                "this host serves the path issuers already".into(),
            ));
        }
        if let Some(files) = &tls {
            for file in [&files.cert_file, &files.key_file] {
                if !Path::new(file).is_file() {
                    return Err(Error::Invalid(format!("no such file: {file}")));
                }
            }
        }
        let domain = Domain {
            host,
            env_id: environment.id.clone(),
            challenge: secrets::random_token(),
            state: DomainState::Pending,
            verified_by: None,
            tls_cert_file: tls.as_ref().map(|t| t.cert_file.clone()),
            tls_key_file: tls.as_ref().map(|t| t.key_file.clone()),
            created_at: now,
            verified_at: None,
        };
        let event = AuditEvent::DomainAdded {
            host: domain.host.clone(),
            tls: tls.is_some(),
        };
        let (event, events) = self
            .audit
            .outbox_by(environment, caller, event, now)
            .await?;
        let limits = (self.oldest_pending(now), MAX_PENDING_PER_ENVIRONMENT);
        match self.db.claim_domain(&domain, limits, &events).await? {
            Ok(()) => {}
            Err(ClaimRefused::Taken) => return Err(Error::Conflict),
            Err(ClaimRefused::TooManyPending) => {
                return Err(Error::Invalid(format!(
                    "an environment holds at most {MAX_PENDING_PER_ENVIRONMENT} unverified domains; verify or remove some first"
                )));
            }
        }
        self.audit
            .record_by(environment, caller, event, now)
            .await?;
        Ok(domain)
    }

    /// Live domains of one environment, or (for the operator) of all, with their environments.
    pub async fn list(
        &self,
        environment: Option<&Environment>,
        now: i64,
    ) -> Result<Vec<BoundDomain>, Error> {
        let oldest = self.oldest_pending(now);
        let domains = self
            .db
            .list_domains(environment.map(|e| &e.id), oldest)
            .await?;
        let mut bound = Vec::with_capacity(domains.len());
        for domain in domains {
            let owner = match environment {
                Some(environment) => environment.clone(),
                None => match self.db.find_environment_by_id(&domain.env_id).await? {
                    Some(environment) => environment,
                    None => continue,
                },
            };
            bound.push(BoundDomain {
                domain,
                environment: owner,
            });
        }
        Ok(bound)
    }

    /// Every active domain that has certificate files, for the TLS listener.
    pub async fn with_tls(&self) -> Result<Vec<Domain>, Error> {
        Ok(self.db.domains_with_tls().await?)
    }

    /// The live claim of `host` by `environment`; `NotFound` when it has none.
    async fn domain_of(
        &self,
        environment: &Environment,
        host: &str,
        now: i64,
    ) -> Result<Domain, Error> {
        let host = normalize_host(host).ok_or(Error::NotFound)?;
        let claims = self
            .db
            .domain_claims(&host, self.oldest_pending(now))
            .await?;
        claims
            .into_iter()
            .find(|domain| domain.env_id == environment.id)
            .ok_or(Error::NotFound)
    }

    /// Whether another environment has proven `host` already.
    async fn is_active_elsewhere(
        &self,
        environment: &Environment,
        host: &str,
    ) -> Result<bool, Error> {
        let active = self.db.find_active_domain(host).await?;
        Ok(active.is_some_and(|domain| domain.env_id != environment.id))
    }

    /// The environment of a host, for commands that name only the host, as `caller` may see it:
    /// where it is active, or the one environment that claims it; ambiguous claims must be named.
    pub async fn environment_of(
        &self,
        host: &str,
        caller: &Caller,
        now: i64,
    ) -> Result<Environment, Error> {
        let host = normalize_host(host).ok_or(Error::NotFound)?;
        let claims = self
            .db
            .domain_claims(&host, self.oldest_pending(now))
            .await?;
        let mut visible = Vec::new();
        for claim in claims.iter().filter(|claim| caller.reaches(&claim.env_id)) {
            if let Some(environment) = self.db.find_environment_by_id(&claim.env_id).await? {
                if claim.state == DomainState::Active {
                    return Ok(environment);
                }
                visible.push(environment);
            }
        }
        match visible.len() {
            0 => Err(Error::NotFound),
            1 => Ok(visible.remove(0)),
            _ => Err(Error::Invalid(format!(
                "{host} is claimed by several environments; name one"
            ))),
        }
    }

    /// Proves ownership through the TXT record (or, where the installation allows it, by the
    /// operator's word) and activates the domain.
    pub async fn verify(
        &self,
        environment: &Environment,
        host: &str,
        manual: bool,
        caller: &Caller,
        now: i64,
    ) -> Result<Domain, Error> {
        if manual {
            caller.require_installation()?;
        }
        let domain = self.domain_of(environment, host, now).await?;
        if domain.state == DomainState::Active {
            return Ok(domain);
        }
        if self.is_active_elsewhere(environment, &domain.host).await? {
            return Err(Error::Conflict);
        }
        let method = if manual {
            if !self.allow_manual_verification {
                return Err(Error::Forbidden(
                    "manual verification is not allowed on this installation".into(),
                ));
            }
            VerificationMethod::Manual
        } else {
            let found = self.txt_records(&domain.challenge_name()).await;
            if !found.iter().any(|value| *value == domain.challenge_value()) {
                let event = AuditEvent::DomainVerificationFailed {
                    host: domain.host.clone(),
                    records_found: found.len(),
                };
                let (event, events) = self
                    .audit
                    .outbox_by(environment, caller, event, now)
                    .await?;
                let store = EnvStore::new(self.db, &environment.id);
                store.emitting(&events).write_events().await?;
                self.audit
                    .record_by(environment, caller, event, now)
                    .await?;
                return Err(Error::Invalid(format!(
                    "no TXT record {} with value {} was found",
                    domain.challenge_name(),
                    domain.challenge_value()
                )));
            }
            VerificationMethod::Dns
        };
        let host = domain.host.clone();
        let verified = AuditEvent::DomainVerified {
            host: host.clone(),
            method,
        };
        let (verified, mut events) = self
            .audit
            .outbox_by(environment, caller, verified, now)
            .await?;
        let activated = AuditEvent::DomainActivated { host, method };
        let (activated, more) = self
            .audit
            .outbox_by(environment, caller, activated, now)
            .await?;
        events.extend(more);
        let oldest = self.oldest_pending(now);
        let is_activated = EnvStore::new(self.db, &environment.id)
            .emitting(&events)
            .activate_domain(&domain.host, (method.as_str(), oldest), now)
            .await?;
        if !is_activated {
            return Err(Error::NotFound);
        }
        self.zones.forget_host(&domain.host).await;
        self.audit
            .record_by(environment, caller, verified, now)
            .await?;
        self.audit
            .record_by(environment, caller, activated, now)
            .await?;
        self.domain_of(environment, &domain.host, now).await
    }

    pub async fn remove(
        &self,
        environment: &Environment,
        host: &str,
        caller: &Caller,
        now: i64,
    ) -> Result<(), Error> {
        let domain = self.domain_of(environment, host, now).await?;
        let event = AuditEvent::DomainRemoved {
            host: domain.host.clone(),
        };
        let (event, events) = self
            .audit
            .outbox_by(environment, caller, event, now)
            .await?;
        let store = EnvStore::new(self.db, &environment.id);
        if !store.emitting(&events).delete_domain(&domain.host).await? {
            return Err(Error::NotFound);
        }
        self.zones.forget_host(&domain.host).await;
        self.audit.record_by(environment, caller, event, now).await
    }

    /// Releases `host` from every environment that claims it, active or pending, expired claims
    /// included: the operator's remedy for a host held by the wrong zone. Each removal goes to its
    /// environment's log. Returns how many claims were released.
    pub async fn release(&self, host: &str, caller: &Caller, now: i64) -> Result<usize, Error> {
        caller.require_installation()?;
        let host = normalize_host(host).ok_or(Error::NotFound)?;
        let claims = self.db.domain_claims(&host, i64::MIN).await?;
        if claims.is_empty() {
            return Err(Error::NotFound);
        }
        for claim in &claims {
            let Some(environment) = self.db.find_environment_by_id(&claim.env_id).await? else {
                continue;
            };
            let event = AuditEvent::DomainRemoved { host: host.clone() };
            let (event, events) = self
                .audit
                .outbox_by(&environment, caller, event, now)
                .await?;
            let store = EnvStore::new(self.db, &environment.id);
            if store.emitting(&events).delete_domain(&host).await? {
                self.audit
                    .record_by(&environment, caller, event, now)
                    .await?;
            }
        }
        self.zones.forget_host(&host).await;
        Ok(claims.len())
    }

    /// TXT values at `name`, each record's strings joined; empty when there are none or DNS fails.
    async fn txt_records(&self, name: &str) -> Vec<String> {
        let mut options = ResolverOpts::default();
        // Every verification asks afresh: a record published a second ago must count.
        options.cache_size = 0;
        let resolver = match self.dns_resolver {
            Some(server) => {
                let servers =
                    NameServerConfigGroup::from_ips_clear(&[server.ip()], server.port(), true);
                TokioAsyncResolver::tokio(
                    ResolverConfig::from_parts(None, vec![], servers),
                    options,
                )
            }
            None => match TokioAsyncResolver::tokio_from_system_conf() {
                Ok(resolver) => resolver,
                Err(error) => {
                    tracing::warn!(%error, "no system DNS configuration");
                    return Vec::new();
                }
            },
        };
        match resolver.txt_lookup(format!("{name}.")).await {
            Ok(lookup) => lookup
                .iter()
                .map(|txt| {
                    let bytes: Vec<u8> = txt
                        .txt_data()
                        .iter()
                        .flat_map(|part| part.iter().copied())
                        .collect();
                    String::from_utf8_lossy(&bytes).into_owned()
                })
                .collect(),
            Err(error) => {
                tracing::info!(%error, name, "TXT lookup found nothing");
                Vec::new()
            }
        }
    }
}
