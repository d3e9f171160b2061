//! Use cases shared by the HTTP adapters and the CLI. Services sequence I/O: they take `now` from
//! their caller, load through `EnvStore`, decide through `oidc`, persist, sign and audit.
//!
//! `Airlock` is the context, built once per process: the database handle (private; no adapter
//! reaches it) and the node's components, each with one job. A use case borrows only the components
//! it needs, so its dependencies are spelled out in its struct.

mod accounts;
mod audit_log;
mod cache;
mod caller;
mod changes;
mod client_keys;
mod clients;
mod error;
mod events;
mod fixtures;
mod flow;
mod keyring;
mod limits;
mod mail;
mod minting;
mod password_policy;
mod plan_limits;
mod purge;
mod refusals;
mod tokens;
mod usage;
mod webhooks;
mod zones;

pub mod admin;
pub mod authorize;
pub mod consent;
pub mod introspect;
pub mod login;
pub mod logout;
pub mod operators;
pub mod quickstart;
pub mod registration;
pub use purge::Purged;
pub mod revoke;
pub mod token;
pub mod userinfo;

use std::sync::Arc;
use std::time::Duration;

pub use accounts::{AccountPage, MailKind, SignupOutcome};
pub use caller::{Caller, Reach};
pub use clients::ClientDirectory;
pub use error::Error;
pub use fixtures::{FIXTURE_PASSWORD, FixtureSet};
pub use flow::{AuthorizeOutcome, Interaction, Protocol};
pub use keyring::{EnvKeys, KeyRing};
pub use limits::MAX_PARALLEL_SIGNINS;
pub use usage::{UsageReport, ZoneUsage};
pub use zones::ZoneDirectory;

use self::admin::AdminAccess;
use self::admin::admin_tokens::AdminTokenAdmin;
use self::admin::apis::ApiAdmin;
use self::admin::audit::AuditTrail;
use self::admin::clients::ClientAdmin;
use self::admin::console::ConsoleSessions;
use self::admin::domains::DomainAdmin;
use self::admin::environments::EnvironmentAdmin;
use self::admin::inbox::Inbox;
use self::admin::keys::KeyAdmin;
use self::admin::projects::ProjectAdmin;
use self::admin::users::UserAdmin;
use self::admin::webhooks::WebhookAdmin;
use self::audit_log::AuditLog;
use self::webhooks::{DeliveryWorker, Sender};

use self::accounts::Accounts;
use self::limits::{RateLimiter, SigninGate};
use self::login::Login;
use self::mail::{MailWorker, Mailer};
use self::refusals::RefusalTally;
use self::token::TokenEndpoint;
use self::tokens::{TokenVerifier, VerifiedTokenCache};
use crate::audit::AuditEvent;
use crate::audit::chain::ChainKey;
use crate::config::Config;
use crate::crypto::kek::Kek;
use crate::crypto::keyed::DerivedKey;
use crate::model::audit::Origin;
use crate::model::{KeyState, PublicUrl, Zone};
use crate::store::{Db, EnvStore, PoolSettings};
use crate::telemetry;

/// One call of a protocol use case: the zone it addresses, where it came from, and when.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    pub zone: &'a Zone,
    pub origin: &'a Origin,
    pub now: i64,
}

/// How often each node looks for key transitions to record.
const KEY_SWEEP_SECONDS: u64 = 5;

/// The service context of one node.
#[derive(Debug)]
pub struct Airlock {
    config: Arc<Config>,
    db: Db,
    zones: ZoneDirectory,
    clients: ClientDirectory,
    keys: KeyRing,
    audit: AuditLog,
    limiter: RateLimiter,
    signin_gate: SigninGate,
    refusals: RefusalTally,
    /// Links every audit chain (HMAC-SHA256), so a rewrite without the KEK is found.
    chain_key: ChainKey,
    /// Keys the digests of typed account names (the sign-in lockout's key, and what the audit log
    /// shows of a failed sign-in).
    account_names: DerivedKey,
    verified_tokens: VerifiedTokenCache,
    /// Sends webhook deliveries (and seals their signing secrets).
    sender: Sender,
    /// Composes account mail; sends live environments' over SMTP.
    mailer: Mailer,
    /// This node's usage counts since its last flush.
    usage: Arc<usage::UsageMeter>,
    /// The zones each console session was recorded in (its admin token's use), on this node.
    console_zones_seen: admin::console::ZonesSeen,
}

impl Airlock {
    /// Connects to the database (migrating it) and loads or creates the KEK.
    pub async fn start(config: Arc<Config>) -> anyhow::Result<Arc<Self>> {
        let kek = Kek::load_or_create(&config.kek_file)?;
        let settings = PoolSettings {
            max_connections: config.db_pool_size,
            acquire_timeout: Duration::from_secs(config.db_acquire_timeout.max(1)),
            statement_timeout: Duration::from_millis(config.db_statement_timeout_ms),
            connect_retry: Duration::from_secs(config.db_connect_retry),
        };
        let db = Db::connect(&config.database_url, settings).await?;
        let cache_seconds = config.cache_seconds;
        let chain_key = ChainKey::new(kek.derive("audit-chain").secret());
        // Only the process that added the keying (migration 7) relinks the chains written before
        // it: a later process never accepts a bare-hash chain, so someone who marks a rewritten
        // chain unkeyed cannot have it laundered by the next start.
        if db.applied_here(audit_log::KEYED_CHAINS_MIGRATION) {
            audit_log::key_unkeyed_chains(&db, &chain_key).await?;
        }
        let sender = Sender::new(&config, kek.clone())?;
        Ok(Arc::new(Airlock {
            account_names: kek.derive("account-names"),
            clients: ClientDirectory::new(db.clone(), cache_seconds, kek.clone(), sender.clone()),
            sender,
            mailer: Mailer::new(config.smtp_url.as_deref(), &config.mail_from, kek.clone())?,
            usage: Arc::default(),
            zones: ZoneDirectory::new(
                db.clone(),
                PublicUrl::parse(&config.public_url),
                cache_seconds,
            ),
            keys: KeyRing::new(db.clone(), kek, cache_seconds),
            audit: AuditLog::start(db.clone(), chain_key.clone(), cache_seconds),
            chain_key,
            limiter: RateLimiter::default(),
            signin_gate: SigninGate::default(),
            refusals: RefusalTally::default(),
            verified_tokens: tokens::verified_token_cache(cache_seconds),
            console_zones_seen: admin::console::zones_seen(),
            db,
            config,
        }))
    }

    /// The base URL of the path issuers.
    pub fn public_url(&self) -> &str {
        &self.config.public_url
    }

    /// Which zone a request addresses, and its discovery document.
    pub fn zones(&self) -> &ZoneDirectory {
        &self.zones
    }

    /// Client records as the protocol endpoints see them (through the node cache).
    pub fn client_directory(&self) -> &ClientDirectory {
        &self.clients
    }

    /// Each environment's keys, as this node signs and publishes them.
    pub fn key_ring(&self) -> &KeyRing {
        &self.keys
    }

    /// The JWKS document of a zone.
    pub async fn jwks(&self, zone: &Zone, now: i64) -> Result<bytes::Bytes, Error> {
        Ok(self.keys.keys(zone, now).await?.jwks.clone())
    }

    fn tokens(&self) -> TokenVerifier<'_> {
        TokenVerifier {
            db: &self.db,
            keys: &self.keys,
            clients: &self.clients,
            verified: &self.verified_tokens,
        }
    }

    /// Authorization, consent, logout, introspection, revocation and UserInfo.
    pub fn protocol(&self) -> Protocol<'_> {
        Protocol {
            db: &self.db,
            clients: &self.clients,
            tokens: self.tokens(),
            audit: &self.audit,
        }
    }

    pub fn login(&self) -> Login<'_> {
        Login {
            usage: &self.usage,
            core: self.protocol(),
            limiter: &self.limiter,
            gate: &self.signin_gate,
            refusals: &self.refusals,
            account_names: &self.account_names,
        }
    }

    /// Password reset, email verification and sign-up.
    pub fn accounts(&self) -> Accounts<'_> {
        Accounts {
            core: self.protocol(),
            mailer: &self.mailer,
            limiter: &self.limiter,
        }
    }

    /// Whether live environments can send mail (an SMTP server is configured).
    pub fn smtp_configured(&self) -> bool {
        self.config.smtp_url.is_some()
    }

    /// Adds this node's usage counts to the database every `AIRLOCK_USAGE_FLUSH_SECONDS`.
    pub fn spawn_usage_flusher(self: &Arc<Self>) {
        let airlock = Arc::downgrade(self);
        let period = Duration::from_secs(self.config.usage_flush_seconds);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let Some(airlock) = airlock.upgrade() else {
                    break;
                };
                if let Err(error) = airlock.flush_usage().await {
                    tracing::warn!(%error, "usage counts not flushed; kept for the next flush");
                }
            }
        });
    }

    /// Starts this node's mail worker (live environments' queued mail), for as long as the
    /// context lives.
    pub fn spawn_mail_worker(self: &Arc<Self>) {
        let worker = MailWorker {
            db: self.db.clone(),
            mailer: self.mailer.clone(),
            schedule: self.config.webhook_retry_schedule.clone(),
            poll: Duration::from_secs(1),
        };
        worker.spawn(Arc::downgrade(self));
    }

    pub fn token_endpoint(&self) -> TokenEndpoint<'_> {
        TokenEndpoint {
            usage: &self.usage,
            db: &self.db,
            clients: &self.clients,
            keys: &self.keys,
            audit: &self.audit,
            limiter: &self.limiter,
        }
    }

    /// Admin credentials and which environments they reach.
    pub fn admin_access(&self) -> AdminAccess<'_> {
        AdminAccess {
            db: &self.db,
            audit: &self.audit,
        }
    }

    /// Console sign-ins, opened with an admin token.
    pub fn console_sessions(&self) -> ConsoleSessions<'_> {
        ConsoleSessions {
            db: &self.db,
            access: self.admin_access(),
            zones_seen: &self.console_zones_seen,
        }
    }

    pub fn projects(&self) -> ProjectAdmin<'_> {
        ProjectAdmin { db: &self.db }
    }

    pub fn environments(&self) -> EnvironmentAdmin<'_> {
        EnvironmentAdmin {
            db: &self.db,
            zones: &self.zones,
            keys: &self.keys,
            audit: &self.audit,
            smtp_configured: self.smtp_configured(),
        }
    }

    pub fn clients(&self) -> ClientAdmin<'_> {
        ClientAdmin {
            db: &self.db,
            clients: &self.clients,
            audit: &self.audit,
        }
    }

    /// Dynamic client registration: initial access tokens, and the client's own endpoints.
    pub fn registrar(&self) -> registration::Registrar<'_> {
        registration::Registrar {
            db: &self.db,
            clients: &self.clients,
            audit: &self.audit,
        }
    }

    /// Configuration as data: export, and the plans of applying a document or a promotion.
    pub fn configuration(&self) -> admin::configuration::ConfigurationAdmin<'_> {
        admin::configuration::ConfigurationAdmin {
            db: &self.db,
            smtp_configured: self.smtp_configured(),
            zones: &self.zones,
            clients: &self.clients,
            audit: &self.audit,
            sender: &self.sender,
        }
    }

    pub fn apis(&self) -> ApiAdmin<'_> {
        ApiAdmin {
            db: &self.db,
            audit: &self.audit,
        }
    }

    pub fn users(&self) -> UserAdmin<'_> {
        UserAdmin {
            db: &self.db,
            audit: &self.audit,
        }
    }

    pub fn keys(&self) -> KeyAdmin<'_> {
        KeyAdmin {
            db: &self.db,
            keys: &self.keys,
            audit: &self.audit,
            default_publish_delay: self.config.key_publish_delay,
            cache_seconds: self.config.cache_seconds,
        }
    }

    pub fn domains(&self) -> DomainAdmin<'_> {
        DomainAdmin {
            db: &self.db,
            zones: &self.zones,
            audit: &self.audit,
            dns_resolver: self.config.dns_resolver,
            allow_manual_verification: self.config.allow_manual_domain_verification,
            pending_ttl: self.config.pending_domain_ttl,
        }
    }

    /// An environment's mail: the captured inbox of test environments, the sent log of live ones.
    pub fn inbox(&self) -> Inbox<'_> {
        Inbox { db: &self.db }
    }

    pub fn webhooks(&self) -> WebhookAdmin<'_> {
        WebhookAdmin {
            db: &self.db,
            audit: &self.audit,
            sender: &self.sender,
        }
    }

    /// Starts this node's webhook delivery worker, for as long as the context lives.
    pub fn spawn_delivery_worker(self: &Arc<Self>) {
        let config = &self.config;
        let worker = DeliveryWorker {
            db: self.db.clone(),
            audit: self.audit.clone(),
            sender: self.sender.clone(),
            schedule: config.webhook_retry_schedule.clone(),
            timeout: config.webhook_timeout as i64,
            concurrency: config.webhook_concurrency as usize,
            per_environment: config.webhook_environment_concurrency as usize,
            poll: Duration::from_millis(config.webhook_poll_ms),
            written: self.audit.events().written(),
            usage: self.usage.clone(),
        };
        worker.spawn(Arc::downgrade(self));
    }

    pub fn admin_tokens(&self) -> AdminTokenAdmin<'_> {
        AdminTokenAdmin {
            db: &self.db,
            audit: &self.audit,
        }
    }

    pub fn audit_trail(&self) -> AuditTrail<'_> {
        AuditTrail {
            db: &self.db,
            chain_key: &self.chain_key,
        }
    }

    /// Sets the gauges read at scrape time: database connections in use and idle.
    pub async fn record_gauges(&self, now: i64) -> Result<(), Error> {
        let (open, idle) = self.db.pool_stats();
        let in_use = f64::from(open) - idle as f64;
        metrics::gauge!("airlock_db_connections", "state" => "in_use").set(in_use);
        metrics::gauge!("airlock_db_connections", "state" => "idle").set(idle as f64);
        // Per zone, every series each time (zero included), so none is left at a stale value.
        let environments = self.db.list_environments().await?;
        let schedules = self.db.key_schedules().await?;
        let waiting: std::collections::HashMap<_, _> = self
            .db
            .oldest_pending_deliveries()
            .await?
            .into_iter()
            .collect();
        for environment in &environments {
            for state in [KeyState::Staged, KeyState::Active, KeyState::Retired] {
                let keys = schedules
                    .iter()
                    .filter(|(env_id, schedule)| {
                        *env_id == environment.id && schedule.state_at(now) == state
                    })
                    .count();
                let labels = [("state", state.as_str())];
                telemetry::set_gauge("airlock_signing_keys", environment, &labels, keys as f64);
            }
            let lag = waiting
                .get(&environment.id)
                .map_or(0, |oldest| (now - oldest).max(0));
            telemetry::set_gauge("airlock_webhook_lag_seconds", environment, &[], lag as f64);
        }
        Ok(())
    }

    /// Whether the database answers and every migration this binary knows is applied.
    pub async fn is_ready(&self) -> Result<bool, Error> {
        Ok(self.db.is_ready().await?)
    }

    pub async fn migrate(&self) -> Result<(), Error> {
        self.db.migrate().await?;
        Ok(())
    }

    /// Logs the sign-in refusals folded in windows closed by `now` (one entry per window); how
    /// many entries were written.
    pub async fn log_folded_refusals(&self, now: i64) -> Result<usize, Error> {
        let mut closed = self.refusals.close(now).into_iter();
        let mut logged = 0;
        while let Some(window) = closed.next() {
            if let Err(error) = self.log_folded(&window, now).await {
                // Nothing is lost: these go with the next windows to close.
                let mut unlogged = vec![window];
                unlogged.extend(closed);
                self.refusals.requeue(unlogged);
                return Err(error);
            }
            logged += 1;
        }
        Ok(logged)
    }

    async fn log_folded(&self, window: &refusals::Closed, now: i64) -> Result<(), Error> {
        let ((env_id, reason, _), context, repeated) = window;
        let Some(environment) = self.db.find_environment_by_id(env_id).await? else {
            return Ok(());
        };
        let event = AuditEvent::SigninFailed {
            reason: *reason,
            account: context.account.clone(),
            counted: None,
            repeated: Some(*repeated),
        };
        let origin = Origin {
            ip: context.ip.clone(),
            ..Origin::default()
        };
        let recorded = event.client(context.client_id.as_str());
        let events = self
            .audit
            .events()
            .outbox(&environment, &origin, &recorded, now)
            .await?;
        let store = EnvStore::new(&self.db, &environment.id);
        store.emitting(&events).write_events().await?;
        self.audit
            .record(&environment, &origin, recorded, now)
            .await
    }

    /// Closes the database pool (the node is going away).
    pub async fn close(&self) {
        self.db.close().await;
    }

    /// Listens for the other nodes' changes (PostgreSQL) and drops what they changed from this
    /// node's caches as each is announced. When the channel is down it retries, and drops
    /// everything once back (what was announced meanwhile is lost); the cache bound holds meanwhile.
    pub fn spawn_change_listener(self: &Arc<Self>) {
        let airlock = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut pause = Duration::from_millis(200);
            loop {
                let Some(db) = airlock.upgrade().map(|airlock| airlock.db.clone()) else {
                    break;
                };
                let mut listener = match db.listen_for_changes().await {
                    Ok(Some(listener)) => listener,
                    Ok(None) => break,
                    Err(error) => {
                        tracing::warn!(%error, "cannot listen for other nodes' changes; retrying");
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(Duration::from_secs(10));
                        continue;
                    }
                };
                drop(db);
                pause = Duration::from_millis(200);
                // Whatever was announced before this connection listened may have been missed.
                if let Some(airlock) = airlock.upgrade() {
                    airlock.forget_everything_here();
                }
                loop {
                    let announced = listener.next().await;
                    let Some(airlock) = airlock.upgrade() else {
                        return;
                    };
                    match announced {
                        Ok(Some(payload)) => match changes::Change::parse(&payload) {
                            Some(change) => airlock.forget_here(change),
                            None => tracing::warn!(%payload, "unknown change announced"),
                        },
                        Ok(None) => airlock.forget_everything_here(),
                        Err(error) => {
                            tracing::warn!(%error, "the change channel failed; reconnecting");
                            break;
                        }
                    }
                }
            }
        });
    }

    /// Drops from this node's caches what another node announced it changed.
    fn forget_here(&self, change: changes::Change) {
        use changes::Change;
        match change {
            Change::Client(env_id, client_id) => self.clients.forget_here(&env_id, &client_id),
            Change::Keys(env_id) => self.keys.forget_here(&env_id),
            Change::PathZone(project, name) => self.zones.forget_path_zone_here(&project, &name),
            Change::Host(host) => self.zones.forget_host_here(&host),
            Change::Subscriptions(env_id) => self.audit.events().forget_here(&env_id),
        }
    }

    fn forget_everything_here(&self) {
        self.clients.forget_all_here();
        self.keys.forget_all_here();
        self.zones.forget_all_here();
        self.audit.events().forget_all_here();
    }

    /// Starts this node's frequent upkeep: key transitions, and the refusals folded in windows that
    /// have closed, are audited within a few seconds.
    pub fn spawn_sweeper(self: &Arc<Self>) {
        let airlock = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(Duration::from_secs(KEY_SWEEP_SECONDS));
            loop {
                ticks.tick().await;
                let Some(airlock) = airlock.upgrade() else {
                    break;
                };
                let now = crate::clock::now();
                if let Err(error) = airlock.keys().sweep(now).await {
                    tracing::warn!(%error, "key state sweep failed");
                }
                if let Err(error) = airlock.log_folded_refusals(now).await {
                    tracing::warn!(%error, "folded refusals could not be logged");
                }
            }
        });
    }
}
