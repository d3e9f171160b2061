//! Admin API tokens: installation-wide, or bound to one environment (their prefix shows which).

use crate::audit::AuditEvent;
use crate::crypto::secrets;
use crate::model::{Environment, Secret, is_clean_text};
use crate::service::audit_log::AuditLog;
use crate::service::{Caller, Error};
use crate::store::{AdminTokenRecord, Db};

#[derive(Debug, Clone)]
pub struct IssuedAdminToken {
    pub token_id: String,
    /// `PROJECT/ENV` of a bound token.
    pub environment: Option<String>,
    pub admin_token: Secret,
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
        caller.require_installation()?;
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
        };
        self.db
            .insert_admin_token(&record, &secrets::digest(&token), now)
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
}
