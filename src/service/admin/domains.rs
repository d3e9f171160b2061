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
use crate::store::Db;

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

pub struct DomainAdmin<'a> {
    pub(in crate::service) db: &'a Db,
    pub(in crate::service) zones: &'a ZoneDirectory,
    pub(in crate::service) audit: &'a AuditLog,
    pub(in crate::service) dns_resolver: Option<std::net::SocketAddr>,
    pub(in crate::service) allow_manual_verification: bool,
}

impl DomainAdmin<'_> {
    /// Binds `host` to `environment`, pending until ownership is proven. Naming certificate files
    /// on the server is the operator's call.
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
        self.db.insert_domain(&domain).await?;
        let event = AuditEvent::DomainAdded {
            host: domain.host.clone(),
            tls: tls.is_some(),
        };
        self.audit
            .record_by(environment, caller, event, now)
            .await?;
        Ok(domain)
    }

    /// Domains of one environment, or (for the operator) of all, with their environments.
    pub async fn list(&self, environment: Option<&Environment>) -> Result<Vec<BoundDomain>, Error> {
        let domains = self.db.list_domains(environment.map(|e| &e.id)).await?;
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

    /// The domain `host` of `environment`; `NotFound` when it is bound elsewhere or nowhere.
    async fn domain_of(&self, environment: &Environment, host: &str) -> Result<Domain, Error> {
        let host = normalize_host(host).ok_or(Error::NotFound)?;
        self.db
            .find_domain(&host)
            .await?
            .filter(|domain| domain.env_id == environment.id)
            .ok_or(Error::NotFound)
    }

    /// The environment a host is bound to (pending or active), for commands that name only the
    /// host; as `caller` may see it.
    pub async fn environment_of(&self, host: &str, caller: &Caller) -> Result<Environment, Error> {
        let host = normalize_host(host).ok_or(Error::NotFound)?;
        let domain = self.db.find_domain(&host).await?.ok_or(Error::NotFound)?;
        self.db
            .find_environment_by_id(&domain.env_id)
            .await?
            .filter(|environment| caller.reaches(&environment.id))
            .ok_or(Error::NotFound)
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
        let domain = self.domain_of(environment, host).await?;
        if domain.state == DomainState::Active {
            return Ok(domain);
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
        if !self
            .db
            .activate_domain(&domain.host, &environment.id, method.as_str(), now)
            .await?
        {
            return Err(Error::NotFound);
        }
        self.zones.forget_host(&domain.host);
        let host = domain.host.clone();
        let verified = AuditEvent::DomainVerified {
            host: host.clone(),
            method,
        };
        self.audit
            .record_by(environment, caller, verified, now)
            .await?;
        let activated = AuditEvent::DomainActivated { host, method };
        self.audit
            .record_by(environment, caller, activated, now)
            .await?;
        self.domain_of(environment, &domain.host).await
    }

    pub async fn remove(
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
        self.zones.forget_host(&domain.host);
        let event = AuditEvent::DomainRemoved { host: domain.host };
        self.audit.record_by(environment, caller, event, now).await
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
