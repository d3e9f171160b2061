//! Custom domains: binding a host to an environment, proving ownership through DNS, and resolving
//! requests by host (through a short-lived per-node cache, negative answers included, so random hosts
//! cannot hammer the database).

use std::path::Path;
use std::sync::Arc;

use hickory_resolver::TokioAsyncResolver;
use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig, ResolverOpts};
use serde::Serialize;

use super::{Airlock, Caller, Error, Event};
use crate::crypto::secrets;
use crate::model::{Domain, DomainState, Environment, Issuer, Zone, normalize_host};

/// A domain as shown to admins, with the DNS record that proves ownership.
#[derive(Debug, Clone, Serialize)]
pub struct DomainView {
    #[serde(flatten)]
    pub domain: Domain,
    pub project: String,
    pub environment: String,
    pub issuer: String,
    /// Publish this TXT record, then run `airlock domain verify HOST`.
    pub txt_record_name: String,
    pub txt_record_value: String,
}

/// Per-node cache of host → zone (or nothing).
pub type DomainCache = super::cache::TtlCache<String, Option<Zone>>;

/// Certificate and key files for a domain served over Airlock's own TLS listener.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert_file: String,
    pub key_file: String,
}

impl Airlock {
    fn domain_view(&self, domain: Domain, environment: &Environment) -> DomainView {
        DomainView {
            txt_record_name: domain.challenge_name(),
            txt_record_value: domain.challenge_value(),
            issuer: Issuer::for_domain(&domain.host).as_str().to_string(),
            project: environment.project.clone(),
            environment: environment.name.clone(),
            domain,
        }
    }

    pub async fn add_domain(
        &self,
        environment: &Environment,
        host: &str,
        tls: Option<TlsFiles>,
        caller: &Caller,
        now: i64,
    ) -> Result<DomainView, Error> {
        let host = normalize_host(host).ok_or_else(|| {
            Error::Invalid("a domain is a host name such as login.example.com".into())
        })?;
        if self.is_public_host(&host) {
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
        self.db.insert_domain(&domain).await?;
        let event = Event::success("domain.added")
            .detail("host", domain.host.clone())
            .detail("tls", tls.is_some());
        self.record_by(environment, caller, event, now).await?;
        Ok(self.domain_view(domain, environment))
    }

    pub async fn list_domains(
        &self,
        environment: Option<&Environment>,
    ) -> Result<Vec<DomainView>, Error> {
        let domains = self
            .db
            .list_domains(environment.map(|e| e.id.as_str()))
            .await?;
        let mut views = Vec::with_capacity(domains.len());
        for domain in domains {
            let owner = match environment {
                Some(environment) => environment.clone(),
                None => match self.db.find_environment_by_id(&domain.env_id).await? {
                    Some(environment) => environment,
                    None => continue,
                },
            };
            views.push(self.domain_view(domain, &owner));
        }
        Ok(views)
    }

    /// The domain `host` of `environment`; 404 when it is bound elsewhere or nowhere.
    async fn domain_of(&self, environment: &Environment, host: &str) -> Result<Domain, Error> {
        let host = normalize_host(host).ok_or(Error::NotFound)?;
        self.db
            .find_domain(&host)
            .await?
            .filter(|domain| domain.env_id == environment.id)
            .ok_or(Error::NotFound)
    }

    /// The environment a host is bound to (pending or active), for commands that name only the host.
    pub async fn domain_environment(&self, host: &str) -> Result<Environment, Error> {
        let host = normalize_host(host).ok_or(Error::NotFound)?;
        let domain = self.db.find_domain(&host).await?.ok_or(Error::NotFound)?;
        self.db
            .find_environment_by_id(&domain.env_id)
            .await?
            .ok_or(Error::NotFound)
    }

    /// Proves ownership through the TXT record (or, where the installation allows it, by an admin's
    /// word) and activates the domain.
    pub async fn verify_domain(
        &self,
        environment: &Environment,
        host: &str,
        manual: bool,
        caller: &Caller,
        now: i64,
    ) -> Result<DomainView, Error> {
        let domain = self.domain_of(environment, host).await?;
        if domain.state == DomainState::Active {
            return Ok(self.domain_view(domain, environment));
        }
        let method = if manual {
            if !self.config.allow_manual_domain_verification {
                return Err(Error::Forbidden(
                    "manual verification is not allowed on this installation".into(),
                ));
            }
            "manual"
        } else {
            let found = self.txt_records(&domain.challenge_name()).await;
            if !found.iter().any(|value| *value == domain.challenge_value()) {
                let event = Event::failure("domain.verification_failed")
                    .detail("host", domain.host.clone())
                    .detail("records_found", found.len());
                self.record_by(environment, caller, event, now).await?;
                return Err(Error::Invalid(format!(
                    "no TXT record {} with value {} was found",
                    domain.challenge_name(),
                    domain.challenge_value()
                )));
            }
            "dns"
        };
        if !self
            .db
            .activate_domain(&domain.host, &environment.id, method, now)
            .await?
        {
            return Err(Error::NotFound);
        }
        self.forget_host(&domain.host);
        for name in ["domain.verified", "domain.activated"] {
            let event = Event::success(name)
                .detail("host", domain.host.clone())
                .detail("method", method);
            self.record_by(environment, caller, event, now).await?;
        }
        let activated = self.domain_of(environment, &domain.host).await?;
        Ok(self.domain_view(activated, environment))
    }

    pub async fn remove_domain(
        &self,
        environment: &Environment,
        host: &str,
        caller: &Caller,
        now: i64,
    ) -> Result<(), Error> {
        let domain = self.domain_of(environment, host).await?;
        if !self.db.delete_domain(&domain.host, &environment.id).await? {
            return Err(Error::NotFound);
        }
        self.forget_host(&domain.host);
        let event = Event::success("domain.removed").detail("host", domain.host.clone());
        self.record_by(environment, caller, event, now).await
    }

    /// Turns an environment's path issuer on or off (its custom domains are unaffected).
    pub async fn set_path_issuer(
        &self,
        environment: &Environment,
        enabled: bool,
        caller: &Caller,
        now: i64,
    ) -> Result<(), Error> {
        self.db.set_path_issuer(&environment.id, enabled).await?;
        self.forget_environment(environment);
        let event = Event::success("environment.path_issuer_changed").detail("enabled", enabled);
        self.record_by(environment, caller, event, now).await
    }

    /// TXT values at `name`, each record's strings joined; empty when there are none or DNS fails.
    async fn txt_records(&self, name: &str) -> Vec<String> {
        let mut options = ResolverOpts::default();
        // Every verification asks afresh: a record published a second ago must count.
        options.cache_size = 0;
        let resolver = match self.config.dns_resolver {
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

    /// Whether `host` is the host of the public URL (where path issuers and the admin API live).
    pub fn is_public_host(&self, host: &str) -> bool {
        self.public_url.host() == host
    }

    /// The zone an active custom domain serves, if `host` is one.
    pub async fn zone_for_host(&self, host: &str, now: i64) -> Result<Option<Zone>, Error> {
        let ttl = self.config.cache_seconds;
        let key = host.to_string();
        if let Some(zone) = self.domains.get(&key, now, ttl) {
            return Ok(zone);
        }
        let zone = match self.db.find_domain(host).await? {
            Some(domain) if domain.state == DomainState::Active => self
                .db
                .find_environment_by_id(&domain.env_id)
                .await?
                .map(|environment| Zone {
                    environment: Arc::new(environment),
                    issuer: Arc::new(Issuer::for_domain(&domain.host)),
                }),
            _ => None,
        };
        self.domains.put(key, zone.clone(), now, ttl);
        Ok(zone)
    }

    fn forget_host(&self, host: &str) {
        self.domains.forget(&host.to_string());
    }
}
