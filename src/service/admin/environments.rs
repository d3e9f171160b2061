//! Environments: creation (with their first signing keys), settings and rate limits.

use serde::Serialize;

use super::audit::ZoneLabel;
use crate::audit::AuditEvent;
use crate::crypto::secrets;
use crate::model::{
    self, AccountPolicy, EnvKind, EnvPolicy, Environment, EnvironmentId, RateLimits, SigningAlg,
};
use crate::oidc::endpoints::Endpoint;
use crate::service::audit_log::AuditLog;
use crate::service::keyring::{self, KeyRing};
use crate::service::zones::ZoneDirectory;
use crate::service::{Caller, Error, Reach};
use crate::store::{Db, Deletion};

/// An environment as admins see it.
#[derive(Debug, Clone, Serialize)]
pub struct EnvironmentView {
    #[serde(flatten)]
    pub zone: ZoneLabel,
    pub issuer: String,
    pub discovery_url: String,
    pub policy: EnvPolicy,
    pub limits: RateLimits,
    pub path_issuer_enabled: bool,
    pub created_at: i64,
}

/// Changes to an environment's token and session lifetimes (seconds) and account flows; `None`
/// keeps the current value (an empty `mail_from` or `product_name` goes back to the default).
#[derive(Debug, Clone, Default)]
pub struct PolicyChanges {
    pub access_token_ttl: Option<i64>,
    pub id_token_ttl: Option<i64>,
    pub refresh_token_ttl: Option<i64>,
    pub refresh_family_ttl: Option<i64>,
    pub session_ttl: Option<i64>,
    pub signup: Option<bool>,
    pub require_verified_email: Option<bool>,
    pub password_min_length: Option<i64>,
    pub mail_from: Option<String>,
    pub product_name: Option<String>,
}

/// An environment's policy as admins see it: lifetimes and account flows.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyView {
    #[serde(flatten)]
    pub lifetimes: EnvPolicy,
    #[serde(flatten)]
    pub accounts: AccountPolicy,
}

impl PolicyView {
    pub fn of(environment: &Environment) -> Self {
        PolicyView {
            lifetimes: environment.policy,
            accounts: environment.accounts.clone(),
        }
    }
}

/// Changes to an environment's rate limits; `None` keeps the current value.
#[derive(Debug, Clone, Copy, Default)]
pub struct LimitChanges {
    pub token_requests_per_minute: Option<i64>,
    pub signin_failures_per_minute: Option<i64>,
    pub lockout_threshold: Option<i64>,
}

pub struct EnvironmentAdmin<'a> {
    pub(in crate::service) db: &'a Db,
    pub(in crate::service) zones: &'a ZoneDirectory,
    pub(in crate::service) keys: &'a KeyRing,
    pub(in crate::service) audit: &'a AuditLog,
    /// Live environments can send mail (flows that need it may be turned on).
    pub(in crate::service) smtp_configured: bool,
}

impl EnvironmentAdmin<'_> {
    /// The environments `caller` reaches, of `project` or of every project.
    pub async fn list(
        &self,
        project: Option<&str>,
        caller: &Caller,
    ) -> Result<Vec<Environment>, Error> {
        if let Some(project) = project
            && self.db.find_project(project).await?.is_none()
        {
            return Err(Error::NotFound);
        }
        let reached: Vec<Environment> = self
            .db
            .list_environments()
            .await?
            .into_iter()
            .filter(|environment| project.is_none_or(|p| environment.project == p))
            .filter(|environment| caller.reaches(&environment.id))
            .collect();
        // A token bound to one environment learns nothing of projects beyond its own.
        if caller.reach != Reach::Installation && reached.is_empty() {
            return Err(Error::NotFound);
        }
        Ok(reached)
    }

    /// Deletes an environment and every row of it (its clients, users, keys, audit log…), and
    /// nothing of any other; an installation-level record keeps who deleted what, and when. A
    /// live environment is deleted only when `confirm` is its full name (`PROJECT/ENV`).
    pub async fn delete(
        &self,
        environment: &Environment,
        confirm: Option<&str>,
        caller: &Caller,
        now: i64,
    ) -> Result<Deletion, Error> {
        caller.require_installation()?;
        let slug = environment.slug();
        if environment.kind == EnvKind::Live && confirm != Some(slug.as_str()) {
            return Err(Error::Invalid(format!(
                "{slug} is a live environment: confirm its deletion with its full name ({slug})"
            )));
        }
        if confirm.is_some_and(|confirm| confirm != slug) {
            return Err(Error::Invalid(format!(
                "the confirmation names another environment than {slug}"
            )));
        }
        let hosts: Vec<String> = self
            .db
            .list_domains(Some(&environment.id), 0)
            .await?
            .into_iter()
            .map(|domain| domain.host)
            .collect();
        let deletion = Deletion {
            deletion_id: format!("del_{}", secrets::random_id()),
            what: "environment".into(),
            name: slug,
            kind: Some(environment.kind.as_str().into()),
            env_id: Some(environment.id.to_string()),
            actor: caller.actor.clone().unwrap_or_else(|| "cli".into()),
            deleted_at: now,
            removed: serde_json::Value::Null,
        };
        let deletion = self.db.delete_environment(environment, &deletion).await?;
        tracing::info!(environment = %deletion.name, "environment deleted");
        self.zones.forget_environment(environment).await;
        for host in hosts {
            self.zones.forget_host(&host).await;
        }
        self.keys.forget(&environment.id).await;
        Ok(deletion)
    }

    /// The installation's record of deleted projects and environments.
    pub async fn deletions(&self, caller: &Caller) -> Result<Vec<Deletion>, Error> {
        caller.require_installation()?;
        Ok(self.db.list_deletions().await?)
    }

    pub fn view(&self, environment: &Environment) -> EnvironmentView {
        let issuer = self.zones.path_issuer(environment);
        EnvironmentView {
            zone: ZoneLabel::of(environment),
            discovery_url: issuer.endpoint(Endpoint::Discovery.path()),
            issuer: issuer.as_str().to_string(),
            policy: environment.policy,
            limits: environment.limits,
            path_issuer_enabled: environment.path_issuer_enabled,
            created_at: environment.created_at,
        }
    }

    /// A new zone with its own RSA and P-256 signing keys, active at once.
    pub async fn create(
        &self,
        project: &str,
        name: &str,
        kind: EnvKind,
        caller: &Caller,
        now: i64,
    ) -> Result<Environment, Error> {
        caller.require_installation()?;
        if !model::is_valid_slug(name) {
            return Err(Error::Invalid(
                "environment names use a-z, 0-9 and -, starting with a letter".into(),
            ));
        }
        let project = self
            .db
            .find_project(project)
            .await?
            .ok_or(Error::NotFound)?;
        let plan = crate::service::plan_limits::PlanLimits { db: self.db };
        plan.check_new_environment(&project.id, &project.name)
            .await?;
        let environment = Environment {
            id: EnvironmentId::new(secrets::random_id()),
            project_id: project.id,
            project: project.name,
            name: name.to_string(),
            kind,
            policy: EnvPolicy::default(),
            limits: RateLimits::default(),
            accounts: AccountPolicy::default(),
            path_issuer_enabled: true,
            created_at: now,
        };
        let first_keys = SigningAlg::ALL
            .iter()
            .map(|alg| (*alg, keyring::immediate(now)))
            .collect();
        let keys = self.keys.generate(first_keys, now).await?;
        self.db.insert_environment(&environment, &keys).await?;
        Ok(environment)
    }

    pub async fn set_limits(
        &self,
        environment: &Environment,
        changes: LimitChanges,
        caller: &Caller,
        now: i64,
    ) -> Result<RateLimits, Error> {
        let current = environment.limits;
        let limits = RateLimits {
            token_requests_per_minute: changes
                .token_requests_per_minute
                .unwrap_or(current.token_requests_per_minute),
            signin_failures_per_minute: changes
                .signin_failures_per_minute
                .unwrap_or(current.signin_failures_per_minute),
            lockout_threshold: changes
                .lockout_threshold
                .unwrap_or(current.lockout_threshold),
        };
        check_limits(&limits)?;
        self.db
            .update_environment_limits(&environment.id, &limits)
            .await?;
        self.zones.forget_environment(environment).await;
        let event = AuditEvent::EnvironmentLimitsChanged { limits };
        self.audit
            .record_by(environment, caller, event, now)
            .await?;
        Ok(limits)
    }

    pub async fn set_policy(
        &self,
        environment: &Environment,
        changes: PolicyChanges,
        caller: &Caller,
        now: i64,
    ) -> Result<PolicyView, Error> {
        let current = environment.policy;
        let policy = EnvPolicy {
            access_token_ttl: changes.access_token_ttl.unwrap_or(current.access_token_ttl),
            id_token_ttl: changes.id_token_ttl.unwrap_or(current.id_token_ttl),
            refresh_token_ttl: changes
                .refresh_token_ttl
                .unwrap_or(current.refresh_token_ttl),
            refresh_family_ttl: changes
                .refresh_family_ttl
                .unwrap_or(current.refresh_family_ttl),
            code_ttl: current.code_ttl,
            session_ttl: changes.session_ttl.unwrap_or(current.session_ttl),
        };
        check_lifetimes(&policy)?;
        let accounts = self.account_policy(environment, &changes)?;
        self.db
            .update_environment_policy(&environment.id, (&policy, &accounts))
            .await?;
        self.zones.forget_environment(environment).await;
        let event = AuditEvent::EnvironmentPolicyChanged {
            policy,
            accounts: accounts.clone(),
        };
        self.audit
            .record_by(environment, caller, event, now)
            .await?;
        Ok(PolicyView {
            lifetimes: policy,
            accounts,
        })
    }

    /// The account policy `changes` make, checked.
    fn account_policy(
        &self,
        environment: &Environment,
        changes: &PolicyChanges,
    ) -> Result<AccountPolicy, Error> {
        let current = &environment.accounts;
        let text = |new: &Option<String>, old: &Option<String>| match new {
            Some(value) if value.trim().is_empty() => None,
            Some(value) => Some(value.trim().to_string()),
            None => old.clone(),
        };
        let accounts = AccountPolicy {
            signup: changes.signup.unwrap_or(current.signup),
            require_verified_email: changes
                .require_verified_email
                .unwrap_or(current.require_verified_email),
            password_min_length: changes
                .password_min_length
                .unwrap_or(current.password_min_length),
            mail_from: text(&changes.mail_from, &current.mail_from),
            product_name: text(&changes.product_name, &current.product_name),
        };
        check_accounts(environment, &accounts, self.smtp_configured)?;
        Ok(accounts)
    }

    /// Turns an environment's path issuer on or off (its custom domains are unaffected); returns
    /// the environment as it is now.
    pub async fn set_path_issuer(
        &self,
        environment: &Environment,
        enabled: bool,
        caller: &Caller,
        now: i64,
    ) -> Result<Environment, Error> {
        self.db.set_path_issuer(&environment.id, enabled).await?;
        self.zones.forget_environment(environment).await;
        let event = AuditEvent::EnvironmentPathIssuerChanged { enabled };
        self.audit
            .record_by(environment, caller, event, now)
            .await?;
        Ok(Environment {
            path_issuer_enabled: enabled,
            ..environment.clone()
        })
    }
}

/// Token and session lifetimes within their bounds.
pub(in crate::service) fn check_lifetimes(policy: &EnvPolicy) -> Result<(), Error> {
    const MINUTE: i64 = 60;
    const DAY: i64 = 24 * 3600;
    let bounds = [
        ("access_token_ttl", policy.access_token_ttl, DAY),
        ("id_token_ttl", policy.id_token_ttl, DAY),
        ("refresh_token_ttl", policy.refresh_token_ttl, 365 * DAY),
        (
            "refresh_family_ttl",
            policy.refresh_family_ttl,
            5 * 365 * DAY,
        ),
        ("session_ttl", policy.session_ttl, 90 * DAY),
    ];
    for (name, seconds, most) in bounds {
        if !(MINUTE..=most).contains(&seconds) {
            return Err(Error::Invalid(format!(
                "{name} is {MINUTE} to {most} seconds"
            )));
        }
    }
    Ok(())
}

/// Rate limits within their bounds (0 turns one off).
pub(in crate::service) fn check_limits(limits: &RateLimits) -> Result<(), Error> {
    let values = [
        limits.token_requests_per_minute,
        limits.signin_failures_per_minute,
        limits.lockout_threshold,
    ];
    if values.iter().any(|v| !(0..=10_000_000).contains(v)) {
        return Err(Error::Invalid("limits are 0 (off) to 10000000".into()));
    }
    Ok(())
}

/// An account policy for `environment`: a live environment without SMTP cannot turn on a flow
/// that needs mail (it would never arrive).
pub(in crate::service) fn check_accounts(
    environment: &Environment,
    accounts: &AccountPolicy,
    smtp_configured: bool,
) -> Result<(), Error> {
    if !(8..=128).contains(&accounts.password_min_length) {
        return Err(Error::Invalid("password_min_length is 8 to 128".into()));
    }
    if let Some(from) = &accounts.mail_from
        && (from.parse::<lettre::message::Mailbox>().is_err() || !model::is_clean_text(from))
    {
        return Err(Error::Invalid(format!(
            "mail_from: {from:?} is not an address such as \"Acme <no-reply@acme.com>\""
        )));
    }
    if let Some(name) = &accounts.product_name
        && (name.len() > 100 || !model::is_clean_text(name))
    {
        return Err(Error::Invalid(
            "product_name: at most 100 characters, without control characters".into(),
        ));
    }
    let needs_mail = (accounts.signup && !environment.accounts.signup)
        || (accounts.require_verified_email && !environment.accounts.require_verified_email);
    if needs_mail && environment.kind == EnvKind::Live && !smtp_configured {
        return Err(Error::Invalid(
            "no SMTP server is configured (AIRLOCK_SMTP_URL): a live environment cannot send the mail that sign-up and address verification need".into(),
        ));
    }
    Ok(())
}
