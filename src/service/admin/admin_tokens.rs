//! Admin API tokens: installation-wide, or bound to one environment (their prefix shows which).

use crate::audit::AuditEvent;
use crate::crypto::secrets;
use crate::model::{Environment, Secret, is_clean_text};
use crate::service::audit_log::AuditLog;
use crate::service::{Caller, Error, operators};
use crate::store::{AdminTokenRecord, Db};

#[derive(Debug, Clone)]
pub struct IssuedAdminToken {
    pub token_id: String,
    /// `PROJECT/ENV` of a bound token.
    pub environment: Option<String>,
    pub admin_token: Secret,
}

/// What a new token may do, and for how long.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokenOptions {
    /// It may look, never change.
    pub read_only: bool,
    /// Seconds until it stops working; `None`: until revoked.
    pub expires_in: Option<i64>,
}

pub struct AdminTokenAdmin<'a> {
    pub(in crate::service) db: &'a Db,
    pub(in crate::service) audit: &'a AuditLog,
}

impl AdminTokenAdmin<'_> {
    pub async fn create(
        &self,
        environment: Option<&Environment>,
        name: &str,
        caller: &Caller,
        now: i64,
    ) -> Result<IssuedAdminToken, Error> {
        self.create_with(environment, name, TokenOptions::default(), caller, now)
            .await
    }

    pub async fn create_with(
        &self,
        environment: Option<&Environment>,
        name: &str,
        options: TokenOptions,
        caller: &Caller,
        now: i64,
    ) -> Result<IssuedAdminToken, Error> {
        caller.require_installation()?;
        if environment.is_some_and(operators::is_operators_zone) {
            return Err(Error::Invalid(operators::OWN_ZONE.into()));
        }
        if options.expires_in.is_some_and(|seconds| seconds <= 0) {
            return Err(Error::Invalid(
                "an expiry is a positive number of seconds".into(),
            ));
        }
        if name.len() > 200 || !is_clean_text(name) {
            return Err(Error::Invalid(
                "an admin token's name has at most 200 characters, without control characters"
                    .into(),
            ));
        }
        let token = match environment {
            Some(environment) => secrets::prefixed_secret("aat", environment.kind),
            None => format!("aat_all_{}", secrets::random_token()),
        };
        let record = AdminTokenRecord {
            token_id: format!("at_{}", secrets::random_id()),
            env_id: environment.map(|e| e.id.clone()),
            name: name.to_string(),
            read_only: options.read_only,
            created_at: now,
            expires_at: options
                .expires_in
                .map(|seconds| now.saturating_add(seconds)),
            revoked_at: None,
        };
        self.db
            .insert_admin_token(&record, &secrets::digest(&token))
            .await?;
        // Installation-wide tokens belong to no environment's log; the server log records them.
        if let Some(environment) = environment {
            let event = AuditEvent::AdminTokenCreated {
                token_id: record.token_id.clone(),
                name: name.to_string(),
            };
            self.audit
                .record_by(environment, caller, event, now)
                .await?;
        } else {
            tracing::info!(token_id = %record.token_id, "installation-wide admin token created");
        }
        Ok(IssuedAdminToken {
            token_id: record.token_id,
            environment: environment.map(Environment::slug),
            admin_token: Secret::new(token),
        })
    }

    /// Every admin token (never the tokens themselves), with its state.
    pub async fn list(&self, caller: &Caller) -> Result<Vec<AdminTokenRecord>, Error> {
        caller.require_installation()?;
        Ok(self.db.list_admin_tokens(None).await?)
    }

    /// Revokes a token: every node reads tokens from the database on each request, so it fails
    /// everywhere at the next one.
    pub async fn revoke(&self, token_id: &str, caller: &Caller, now: i64) -> Result<(), Error> {
        caller.require_installation()?;
        let record = self
            .db
            .revoke_admin_token(token_id, now)
            .await?
            .ok_or(Error::NotFound)?;
        let bound = match &record.env_id {
            Some(env_id) => self.db.find_environment_by_id(env_id).await?,
            None => None,
        };
        match bound {
            Some(environment) => {
                let event = AuditEvent::AdminTokenRevoked {
                    token_id: record.token_id,
                };
                self.audit.record_by(&environment, caller, event, now).await
            }
            None => {
                tracing::info!(token_id = %record.token_id, "admin token revoked");
                Ok(())
            }
        }
    }
}
