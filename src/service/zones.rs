//! Which zone a request addresses: a path issuer `/{project}/{environment}` on the public host, or
//! an active custom domain. Lookups go through the node's caches (negative answers included, so
//! made-up hosts and paths cannot hammer the database).

use std::sync::Arc;

use bytes::Bytes;
use moka::sync::Cache;

use super::changes::{self, Change};
use super::{Error, cache};
use crate::model::{Environment, Issuer, PublicUrl, Zone};
use crate::store::Db;

#[derive(Debug)]
pub struct ZoneDirectory {
    db: Db,
    public_url: PublicUrl,
    /// Path issuers' zones by `(project, name)`. Only zones that exist are cached, so an
    /// environment created (or a path issuer turned on) anywhere answers at once.
    path_zones: Cache<(String, String), Zone>,
    /// Custom domains' zones by host; `None` for hosts that are not an active domain.
    domains: Cache<String, Option<Zone>>,
    /// Serialised discovery documents by issuer (a pure function of the issuer, never stale).
    discovery: Cache<String, Bytes>,
}

impl ZoneDirectory {
    pub(super) fn new(db: Db, public_url: PublicUrl, cache_seconds: i64) -> Self {
        ZoneDirectory {
            db,
            public_url,
            path_zones: cache::expiring(cache_seconds),
            domains: cache::expiring(cache_seconds),
            discovery: cache::lasting(),
        }
    }

    /// The zone of the path issuer `/{project}/{name}`; none when the environment does not exist
    /// or its path issuer is turned off.
    pub async fn path_zone(&self, project: &str, name: &str) -> Result<Option<Zone>, Error> {
        let key = (project.to_string(), name.to_string());
        if let Some(zone) = self.path_zones.get(&key) {
            crate::telemetry::cache_lookup("zones", Some(&zone), true);
            return Ok(Some(zone));
        }
        crate::telemetry::cache_lookup("zones", None, false);
        let zone = self
            .db
            .find_environment(project, name)
            .await?
            .filter(|environment| environment.path_issuer_enabled)
            .map(|environment| Zone {
                issuer: Arc::new(self.path_issuer(&environment)),
                environment: Arc::new(environment),
            });
        if let Some(zone) = &zone {
            self.path_zones.insert(key, zone.clone());
        }
        Ok(zone)
    }

    /// The zone an active custom domain serves, if `host` is one.
    pub async fn domain_zone(&self, host: &str) -> Result<Option<Zone>, Error> {
        if let Some(zone) = self.domains.get(host) {
            crate::telemetry::cache_lookup("zones", zone.as_deref(), true);
            return Ok(zone);
        }
        crate::telemetry::cache_lookup("zones", None, false);
        let zone = match self.db.find_active_domain(host).await? {
            Some(domain) => {
                self.db
                    .find_environment_by_id(&domain.env_id)
                    .await?
                    .map(|environment| Zone {
                        environment: Arc::new(environment),
                        issuer: Arc::new(Issuer::for_domain(&domain.host)),
                    })
            }
            _ => None,
        };
        self.domains.insert(host.to_string(), zone.clone());
        Ok(zone)
    }

    /// The zone whose issuer is exactly `issuer` (a path issuer under the public URL, or an
    /// active custom domain), if it is one of this installation's.
    pub async fn zone_of_issuer(&self, issuer: &str) -> Result<Option<Zone>, Error> {
        let Ok(url) = url::Url::parse(issuer) else {
            return Ok(None);
        };
        let path_zone = match issuer
            .strip_prefix(self.public_url.as_str())
            .and_then(|rest| rest.strip_prefix('/'))
            .and_then(|rest| rest.split_once('/'))
        {
            Some((project, name)) if !name.contains('/') => self.path_zone(project, name).await?,
            _ => None,
        };
        let zone = match (path_zone, url.host_str()) {
            (Some(zone), _) => Some(zone),
            (None, Some(host)) => match crate::model::normalize_host(host) {
                Some(host) => self.domain_zone(&host).await?,
                None => None,
            },
            (None, None) => None,
        };
        Ok(zone.filter(|zone| zone.issuer.as_str() == issuer))
    }

    /// Whether `host` is the host of the public URL (where path issuers and the admin API live).
    pub fn is_public_host(&self, host: &str) -> bool {
        self.public_url.host() == host
    }

    pub fn path_issuer(&self, environment: &Environment) -> Issuer {
        Issuer::for_path(&self.public_url, environment)
    }

    /// The discovery document of `issuer`, serialised once per node.
    pub fn discovery_document(&self, issuer: &Issuer) -> Bytes {
        if let Some(document) = self.discovery.get(issuer.as_str()) {
            return document;
        }
        let document: Bytes = crate::oidc::discovery::metadata(issuer).to_string().into();
        self.discovery
            .insert(issuer.as_str().to_string(), document.clone());
        document
    }

    /// Drops what this node cached about `environment`'s path issuer after changing it, and
    /// tells the other nodes.
    pub(super) async fn forget_environment(&self, environment: &Environment) {
        let (project, name) = (environment.project.clone(), environment.name.clone());
        self.forget_path_zone_here(&project, &name);
        changes::announce(&self.db, Change::PathZone(project, name)).await;
    }

    pub(super) async fn forget_host(&self, host: &str) {
        self.forget_host_here(host);
        changes::announce(&self.db, Change::Host(host.to_string())).await;
    }

    pub(super) fn forget_path_zone_here(&self, project: &str, name: &str) {
        self.path_zones
            .invalidate(&(project.to_string(), name.to_string()));
    }

    pub(super) fn forget_host_here(&self, host: &str) {
        self.domains.invalidate(host);
    }

    pub(super) fn forget_all_here(&self) {
        self.path_zones.invalidate_all();
        self.domains.invalidate_all();
    }
}
