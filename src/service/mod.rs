//! Use cases shared by the HTTP adapters and the CLI. Services sequence I/O: they read the clock's
//! `now` from their caller, load through `EnvStore`, decide through `oidc`, persist and sign.

pub mod admin;
pub mod audit;
pub mod authorize;
mod cache;
pub mod domains;
pub mod keys;
pub mod lifecycle;
pub mod limits;
pub mod logout;
pub mod quickstart;
pub mod token;
pub mod userinfo;

use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;
use crate::crypto::kek::Kek;
use crate::model::{Environment, PublicUrl};
use crate::oidc::OAuthError;
use crate::store::{Db, EnvStore, PoolSettings, StoreError};

pub use audit::{AuditWriter, Caller, Event};
pub use cache::{
    ClientCache, DiscoveryCache, EnvironmentCache, PathZoneCache, UnknownClientCache,
    VerifiedTokenCache,
};
pub use keys::{EnvKeys, KeyCache};
pub use limits::{Limited, RateLimiter};

/// Everything a use case needs, built once per process.
#[derive(Debug)]
pub struct Airlock {
    pub config: Config,
    /// `config.public_url`, parsed once.
    pub public_url: PublicUrl,
    pub db: Db,
    kek: Kek,
    environments: EnvironmentCache,
    path_zones: PathZoneCache,
    clients: ClientCache,
    unknown_clients: UnknownClientCache,
    discovery: DiscoveryCache,
    verified_tokens: VerifiedTokenCache,
    keys: KeyCache,
    audit: AuditWriter,
    limiter: RateLimiter,
    signin_gate: limits::SigninGate,
    domains: domains::DomainCache,
}

impl Airlock {
    /// Connects to the database (migrating it) and loads or creates the KEK.
    pub async fn start(config: Config) -> anyhow::Result<Arc<Self>> {
        let kek = Kek::load_or_create(&config.kek_file)?;
        let settings = PoolSettings {
            max_connections: config.db_pool_size,
            acquire_timeout: Duration::from_secs(config.db_acquire_timeout.max(1)),
            statement_timeout: Duration::from_millis(config.db_statement_timeout_ms),
            connect_retry: Duration::from_secs(config.db_connect_retry),
        };
        let db = Db::connect(&config.database_url, settings).await?;
        Ok(Arc::new(Airlock {
            public_url: PublicUrl::parse(&config.public_url),
            config,
            audit: AuditWriter::start(db.clone()),
            db,
            kek,
            environments: EnvironmentCache::default(),
            path_zones: PathZoneCache::default(),
            clients: ClientCache::default(),
            unknown_clients: UnknownClientCache::default(),
            discovery: DiscoveryCache::default(),
            verified_tokens: VerifiedTokenCache::default(),
            keys: KeyCache::default(),
            limiter: RateLimiter::default(),
            signin_gate: limits::SigninGate::default(),
            domains: domains::DomainCache::default(),
        }))
    }

    pub fn env_store<'a>(&'a self, environment: &'a Environment) -> EnvStore<'a> {
        EnvStore::new(&self.db, &environment.id)
    }

    /// Resolves `PROJECT/ENV` as written by admins.
    pub async fn environment_by_slug(&self, slug: &str) -> Result<Environment, Error> {
        let (project, name) = slug
            .split_once('/')
            .ok_or_else(|| Error::Invalid("write the environment as PROJECT/ENV".into()))?;
        self.db
            .find_environment(project, name)
            .await?
            .ok_or(Error::NotFound)
    }
}

/// Errors of use cases. The HTTP layer maps them to the wire in one place.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    #[error("not found")]
    NotFound,
    #[error("already exists")]
    Conflict,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Invalid(String),
    /// A rate limit or lockout: retry after this many seconds.
    #[error("rate limited")]
    RateLimited(u64),
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict => Error::Conflict,
            StoreError::Unavailable(detail) => Error::Unavailable(detail),
            other => Error::Internal(other.to_string()),
        }
    }
}

impl From<crate::crypto::jose::JoseError> for Error {
    fn from(error: crate::crypto::jose::JoseError) -> Self {
        Error::Internal(error.to_string())
    }
}
