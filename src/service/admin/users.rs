//! End users of one environment, as admins manage them.

use super::clients::Changed;
use crate::audit::AuditEvent;
use crate::crypto::{password, secrets};
use crate::model::{ClientId, Environment, Secret, User, UserId, is_clean_text};
use crate::service::audit_log::AuditLog;
use crate::service::{Caller, Error, password_policy};
use crate::store::{Db, EnvStore};

/// Changes to a user; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub email: Option<String>,
    pub name: Option<String>,
    pub email_verified: Option<bool>,
}

/// A new user as an admin describes them.
pub struct NewUser {
    pub email: String,
    pub password: Secret,
    pub name: Option<String>,
}

pub struct UserAdmin<'a> {
    pub(in crate::service) db: &'a Db,
    pub(in crate::service) audit: &'a AuditLog,
}

impl UserAdmin<'_> {
    fn store<'s>(&'s self, environment: &'s Environment) -> EnvStore<'s> {
        EnvStore::new(self.db, &environment.id)
    }

    pub async fn create(
        &self,
        environment: &Environment,
        new: NewUser,
        caller: &Caller,
        now: i64,
    ) -> Result<User, Error> {
        self.create_marked(environment, (new, false), caller, now)
            .await
    }

    /// Creates a user, marked as a fixture when `fixture` says so.
    pub(in crate::service) async fn create_marked(
        &self,
        environment: &Environment,
        (new, fixture): (NewUser, bool),
        caller: &Caller,
        now: i64,
    ) -> Result<User, Error> {
        let email = checked_email(&new.email)?;
        password_policy::check(&new.password, environment.accounts.password_min_length)?;
        let plan = crate::service::plan_limits::PlanLimits { db: self.db };
        plan.check_new_user(environment).await?;
        let user = User {
            env_id: environment.id.clone(),
            user_id: UserId::new(format!("usr_{}", secrets::random_id())),
            email,
            email_verified: false,
            name: clean_name(new.name)?,
            password_hash: Secret::new(password::hash(new.password.expose().to_string()).await),
            created_at: now,
            updated_at: now,
            fixture,
            disabled_at: None,
            signed_up: false,
        };
        let event = AuditEvent::UserCreated {
            sub: user.user_id.to_string(),
        };
        let (event, events) = self
            .audit
            .outbox_by(environment, caller, event, now)
            .await?;
        let store = self.store(environment);
        store.emitting(&events).insert_user(&user).await?;
        self.audit
            .record_by(environment, caller, event, now)
            .await?;
        Ok(user)
    }

    pub async fn list(&self, environment: &Environment) -> Result<Vec<User>, Error> {
        Ok(self.store(environment).list_users().await?)
    }

    pub async fn find(&self, environment: &Environment, user_id: &UserId) -> Result<User, Error> {
        self.store(environment)
            .find_user(user_id)
            .await?
            .ok_or(Error::NotFound)
    }

    pub async fn update(
        &self,
        environment: &Environment,
        user_id: &UserId,
        changes: UserChanges,
        caller: &Caller,
        now: i64,
    ) -> Result<User, Error> {
        let mut user = self.find(environment, user_id).await?;
        let mut changed = Changed::default();
        if let Some(email) = changes.email {
            // A new address is unverified until proven otherwise.
            user.email_verified = false;
            changed.set(&mut user.email, Some(checked_email(&email)?), "email");
        }
        let name = changes
            .name
            .map(|name| clean_name(Some(name)))
            .transpose()?;
        changed.set(&mut user.name, name, "name");
        changed.set(
            &mut user.email_verified,
            changes.email_verified,
            "email_verified",
        );
        user.updated_at = now;
        let event = AuditEvent::UserUpdated {
            sub: user.user_id.to_string(),
            changed: changed.0,
        };
        let (event, events) = self
            .audit
            .outbox_by(environment, caller, event, now)
            .await?;
        if !self
            .store(environment)
            .emitting(&events)
            .update_user(&user)
            .await?
        {
            return Err(Error::NotFound);
        }
        self.audit
            .record_by(environment, caller, event, now)
            .await?;
        Ok(user)
    }

    /// Sets a new password and ends the user's sessions. Whoever knew the old password may hold
    /// tokens too, so the user's grants are revoked (their refresh and access tokens die with
    /// them) unless `keep_grants` says the change is routine. Returns how many grants were revoked.
    pub async fn set_password(
        &self,
        environment: &Environment,
        user_id: &UserId,
        new_password: Secret,
        keep_grants: bool,
        caller: &Caller,
        now: i64,
    ) -> Result<u64, Error> {
        password_policy::check(&new_password, environment.accounts.password_min_length)?;
        let mut user = self.find(environment, user_id).await?;
        user.password_hash = Secret::new(password::hash(new_password.expose().to_string()).await);
        user.updated_at = now;
        let store = self.store(environment);
        // Counted before the change, for the event written with it (grants begun in between are
        // revoked too, and missing from the count).
        let live_grants = if keep_grants {
            0
        } else {
            store.count_live_grants(user_id, None).await?
        };
        let event = AuditEvent::UserPasswordChanged {
            sub: user_id.to_string(),
            revoked_grants: live_grants,
        };
        let (event, events) = self
            .audit
            .outbox_by(environment, caller, event, now)
            .await?;
        let revoked_grants = store
            .emitting(&events)
            .change_password(&user, keep_grants)
            .await?
            .ok_or(Error::NotFound)?;
        self.audit
            .record_by(environment, caller, event, now)
            .await?;
        Ok(revoked_grants)
    }

    /// Disables a user (they cannot sign in; their sessions end and their grants are revoked with
    /// every refresh and access token) or enables them again.
    pub async fn set_disabled(
        &self,
        environment: &Environment,
        user_id: &UserId,
        disabled: bool,
        caller: &Caller,
        now: i64,
    ) -> Result<User, Error> {
        let user = self.find(environment, user_id).await?;
        if user.disabled_at.is_some() == disabled {
            return Ok(user);
        }
        let store = self.store(environment);
        let event = match disabled {
            true => AuditEvent::UserDisabled {
                sub: user_id.to_string(),
                revoked_grants: store.count_live_grants(user_id, None).await?,
            },
            false => AuditEvent::UserEnabled {
                sub: user_id.to_string(),
            },
        };
        let (event, events) = self
            .audit
            .outbox_by(environment, caller, event, now)
            .await?;
        let disabled_at = disabled.then_some(now);
        store
            .emitting(&events)
            .set_user_disabled(user_id, disabled_at, now)
            .await?
            .ok_or(Error::NotFound)?;
        self.audit
            .record_by(environment, caller, event, now)
            .await?;
        self.find(environment, user_id).await
    }

    /// Withdraws a user's consent to a client: the grants it backed are revoked (with their refresh
    /// and access tokens), and the next authorization asks again. How many grants were revoked.
    pub async fn revoke_consent(
        &self,
        environment: &Environment,
        user_id: &UserId,
        client_id: &ClientId,
        caller: &Caller,
        now: i64,
    ) -> Result<u64, Error> {
        let store = self.store(environment);
        let live_grants = store.count_live_grants(user_id, Some(client_id)).await?;
        let event = AuditEvent::ConsentRevoked {
            sub: user_id.to_string(),
            revoked_grants: live_grants,
        }
        .client(client_id.as_str());
        let (event, events) = self
            .audit
            .outbox_by(environment, caller, event, now)
            .await?;
        let store = store.emitting(&events);
        if !store.revoke_consent(user_id, client_id, now).await? {
            return Err(Error::NotFound);
        }
        self.audit
            .record_by(environment, caller, event, now)
            .await?;
        Ok(live_grants)
    }

    /// Deletes a user with their sessions, consents and grants.
    pub async fn delete(
        &self,
        environment: &Environment,
        user_id: &UserId,
        caller: &Caller,
        now: i64,
    ) -> Result<(), Error> {
        let event = AuditEvent::UserDeleted {
            sub: user_id.to_string(),
        };
        let (event, events) = self
            .audit
            .outbox_by(environment, caller, event, now)
            .await?;
        if !self
            .store(environment)
            .emitting(&events)
            .delete_user(user_id)
            .await?
        {
            return Err(Error::NotFound);
        }
        self.audit.record_by(environment, caller, event, now).await
    }
}

fn checked_email(email: &str) -> Result<String, Error> {
    let email = email.trim().to_ascii_lowercase();
    if !email.contains('@')
        || email.len() > 254
        || email.chars().any(char::is_whitespace)
        || !is_clean_text(&email)
    {
        return Err(Error::Invalid("a valid email address is required".into()));
    }
    Ok(email)
}

/// A display name, trimmed; empty means none.
fn clean_name(name: Option<String>) -> Result<Option<String>, Error> {
    let name = name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    match name {
        Some(name) if name.len() > 200 || !is_clean_text(&name) => Err(Error::Invalid(
            "a name has at most 200 characters, without control characters".into(),
        )),
        name => Ok(name),
    }
}
