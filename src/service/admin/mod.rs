//! Administration use cases, one file per resource, shared by the CLI and the admin HTTP API. Who may
//! act on what is decided here, not in the adapters: an admin token bound to one environment sees
//! only that environment (everything else is the same 404 as a missing one), and each use of a token
//! on an environment is recorded in that environment's log.

pub mod admin_tokens;
pub mod apis;
pub mod audit;
pub mod clients;
pub mod configuration;
pub mod console;
pub mod domains;
pub mod environments;
pub mod inbox;
pub mod keys;
pub mod projects;
pub mod releases;
pub mod users;
pub mod webhook_log;
pub mod webhooks;

use super::audit_log::AuditLog;
use super::{Caller, Error, Reach};
use crate::audit::AuditEvent;
use crate::crypto::secrets;
use crate::model::Environment;
use crate::model::audit::Origin;
use crate::store::{AdminTokenRecord, Db};

/// The caller an admin token in force stands for.
fn token_caller(record: AdminTokenRecord, origin: Origin) -> Caller {
    Caller {
        actor: Some(record.token_id.clone()),
        origin,
        reach: match record.env_id {
            Some(env_id) => Reach::Environment(env_id),
            None => Reach::Installation,
        },
        admin_token: Some(record.token_id),
        read_only: record.read_only,
    }
}

pub struct AdminAccess<'a> {
    pub(super) db: &'a Db,
    pub(super) audit: &'a AuditLog,
}

impl AdminAccess<'_> {
    /// The caller an admin API token stands for; `None` when no such token exists.
    pub async fn authenticate(&self, token: &str, origin: Origin) -> Result<Option<Caller>, Error> {
        let now = crate::clock::now();
        let Some(record) = self
            .db
            .find_admin_token(&secrets::digest(token), now)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(token_caller(record, origin)))
    }

    /// The environment `project/name` as `caller` may act on it: `NotFound` unless it exists and
    /// the caller's credential reaches it.
    pub async fn environment(
        &self,
        caller: &Caller,
        project: &str,
        name: &str,
        now: i64,
    ) -> Result<Environment, Error> {
        let environment = self.reachable(caller, project, name).await?;
        self.record_use(&environment, caller, now).await?;
        Ok(environment)
    }

    /// The environment as `caller` may see it, its use not recorded.
    pub(in crate::service) async fn reachable(
        &self,
        caller: &Caller,
        project: &str,
        name: &str,
    ) -> Result<Environment, Error> {
        self.db
            .find_environment(project, name)
            .await?
            .filter(|environment| caller.reaches(&environment.id))
            .ok_or(Error::NotFound)
    }

    /// Records an admin token's use on `environment` in its log.
    pub(in crate::service) async fn record_use(
        &self,
        environment: &Environment,
        caller: &Caller,
        now: i64,
    ) -> Result<(), Error> {
        if let Some(token_id) = &caller.admin_token {
            let event = AuditEvent::AdminTokenUsed {
                token_id: token_id.clone(),
            };
            self.audit
                .record_by(environment, caller, event, now)
                .await?;
        }
        Ok(())
    }

    /// `PROJECT/ENV` as admins write it.
    pub async fn environment_by_slug(
        &self,
        caller: &Caller,
        slug: &str,
        now: i64,
    ) -> Result<Environment, Error> {
        let (project, name) = split_slug(slug)?;
        self.environment(caller, project, name, now).await
    }
}

/// `PROJECT/ENV` into its two names.
pub fn split_slug(slug: &str) -> Result<(&str, &str), Error> {
    slug.split_once('/')
        .ok_or_else(|| Error::Invalid("write the environment as PROJECT/ENV".into()))
}
