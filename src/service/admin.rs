//! Administration use cases, shared by the CLI and the admin HTTP API.

use serde::Serialize;

use super::{Airlock, Caller, Error, Event};
use crate::crypto::{password, secrets};
use crate::model::{
    self, Client, EnvKind, EnvPolicy, Environment, Issuer, Project, RateLimits, SigningAlg, User,
};
use crate::oidc::redirect;
use crate::store::AdminTokenRecord;

/// What an admin asks for when registering a client.
#[derive(Debug, Clone)]
pub struct NewClient {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub public: bool,
    pub first_party: bool,
    pub id_token_signed_response_alg: SigningAlg,
}

/// A registered client, with its secret when it was just issued (shown once).
#[derive(Debug, Clone, Serialize)]
pub struct IssuedClient {
    #[serde(flatten)]
    pub client: Client,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EnvironmentView {
    pub project: String,
    pub environment: String,
    pub kind: EnvKind,
    pub issuer: String,
    pub discovery_url: String,
    pub policy: EnvPolicy,
    pub limits: RateLimits,
    pub path_issuer_enabled: bool,
    pub created_at: i64,
}

/// Changes to a client; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct ClientChanges {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub first_party: Option<bool>,
    pub id_token_signed_response_alg: Option<SigningAlg>,
}

/// Changes to a user; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub email: Option<String>,
    pub name: Option<String>,
    pub email_verified: Option<bool>,
}

/// Changes to an environment's rate limits; `None` keeps the current value.
#[derive(Debug, Clone, Copy, Default, serde::Deserialize)]
pub struct LimitChanges {
    pub token_requests_per_minute: Option<i64>,
    pub signin_failures_per_minute: Option<i64>,
    pub lockout_threshold: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IssuedAdminToken {
    pub token_id: String,
    pub environment: Option<String>,
    pub admin_token: String,
}

impl Airlock {
    pub fn path_issuer(&self, environment: &Environment) -> Issuer {
        Issuer::for_path(&self.public_url, environment)
    }

    pub fn environment_view(&self, environment: &Environment) -> EnvironmentView {
        let issuer = self.path_issuer(environment);
        EnvironmentView {
            project: environment.project.clone(),
            environment: environment.name.clone(),
            kind: environment.kind,
            discovery_url: issuer.endpoint(crate::oidc::endpoints::Endpoint::Discovery.path()),
            issuer: issuer.as_str().to_string(),
            policy: environment.policy,
            limits: environment.limits,
            path_issuer_enabled: environment.path_issuer_enabled,
            created_at: environment.created_at,
        }
    }

    pub async fn create_project(&self, name: &str, now: i64) -> Result<Project, Error> {
        if !model::is_valid_slug(name) {
            return Err(Error::Invalid(
                "project names use a-z, 0-9 and -, starting with a letter".into(),
            ));
        }
        let project = Project {
            id: secrets::random_id(),
            name: name.to_string(),
            created_at: now,
        };
        self.db.insert_project(&project).await?;
        Ok(project)
    }

    pub async fn create_environment(
        &self,
        project: &str,
        name: &str,
        kind: EnvKind,
        now: i64,
    ) -> Result<Environment, Error> {
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
        let environment = Environment {
            id: secrets::random_id(),
            project_id: project.id,
            project: project.name,
            name: name.to_string(),
            kind,
            policy: EnvPolicy::default(),
            limits: RateLimits::default(),
            path_issuer_enabled: true,
            created_at: now,
        };
        // Key generation (RSA-2048 especially) is CPU work: keep it off the async runtime.
        let kek = self.kek.clone();
        let keys = tokio::task::spawn_blocking(move || {
            SigningAlg::ALL
                .iter()
                .map(|alg| {
                    super::keys::new_stored_key(&kek, *alg, super::keys::immediate(now), now)
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))??;
        self.db.insert_environment(&environment, &keys).await?;
        Ok(environment)
    }

    pub async fn create_client(
        &self,
        environment: &Environment,
        request: NewClient,
        caller: &Caller,
        now: i64,
    ) -> Result<IssuedClient, Error> {
        let secret = (!request.public).then(|| secrets::prefixed_secret("acs", environment.kind));
        let client = Client {
            env_id: environment.id.clone(),
            client_id: format!("cl_{}", secrets::random_id()),
            name: request.name,
            secret_digest: secret.as_deref().map(secrets::digest),
            public: request.public,
            first_party: request.first_party,
            redirect_uris: request.redirect_uris,
            post_logout_redirect_uris: request.post_logout_redirect_uris,
            id_token_signed_response_alg: request.id_token_signed_response_alg,
            created_at: now,
        };
        check_client(environment, &client)?;
        self.env_store(environment).insert_client(&client).await?;
        self.forget_client(environment, &client.client_id);
        let event = Event::success("client.created")
            .client(client.client_id.clone())
            .detail("name", client.name.clone())
            .detail("public", client.public)
            .detail("redirect_uris", client.redirect_uris.clone())
            .detail(
                "post_logout_redirect_uris",
                client.post_logout_redirect_uris.clone(),
            );
        self.record_by(environment, caller, event, now).await?;
        Ok(IssuedClient {
            client,
            client_secret: secret,
        })
    }

    pub async fn list_clients(&self, environment: &Environment) -> Result<Vec<Client>, Error> {
        Ok(self.env_store(environment).list_clients().await?)
    }

    pub async fn find_client(
        &self,
        environment: &Environment,
        client_id: &str,
    ) -> Result<Client, Error> {
        self.env_store(environment)
            .find_client(client_id)
            .await?
            .ok_or(Error::NotFound)
    }

    pub async fn update_client(
        &self,
        environment: &Environment,
        client_id: &str,
        changes: ClientChanges,
        caller: &Caller,
        now: i64,
    ) -> Result<Client, Error> {
        let mut client = self.find_client(environment, client_id).await?;
        let mut changed = Vec::new();
        if let Some(name) = changes.name {
            client.name = name;
            changed.push("name");
        }
        if let Some(uris) = changes.redirect_uris {
            client.redirect_uris = uris;
            changed.push("redirect_uris");
        }
        if let Some(uris) = changes.post_logout_redirect_uris {
            client.post_logout_redirect_uris = uris;
            changed.push("post_logout_redirect_uris");
        }
        if let Some(first_party) = changes.first_party {
            client.first_party = first_party;
            changed.push("first_party");
        }
        if let Some(alg) = changes.id_token_signed_response_alg {
            client.id_token_signed_response_alg = alg;
            changed.push("id_token_signed_response_alg");
        }
        check_client(environment, &client)?;
        if !self.env_store(environment).update_client(&client).await? {
            return Err(Error::NotFound);
        }
        self.forget_client(environment, client_id);
        let event = Event::success("client.updated")
            .client(client.client_id.clone())
            .detail("changed", changed);
        self.record_by(environment, caller, event, now).await?;
        Ok(client)
    }

    /// Deletes a client and everything issued to it.
    pub async fn delete_client(
        &self,
        environment: &Environment,
        client_id: &str,
        caller: &Caller,
        now: i64,
    ) -> Result<(), Error> {
        if !self.env_store(environment).delete_client(client_id).await? {
            return Err(Error::NotFound);
        }
        self.forget_client(environment, client_id);
        let event = Event::success("client.deleted").client(client_id);
        self.record_by(environment, caller, event, now).await
    }

    /// Issues a new secret for a confidential client; the old one stops working at once.
    pub async fn rotate_client_secret(
        &self,
        environment: &Environment,
        client_id: &str,
        caller: &Caller,
        now: i64,
    ) -> Result<String, Error> {
        let secret = secrets::prefixed_secret("acs", environment.kind);
        let updated = self
            .env_store(environment)
            .update_client_secret(client_id, &secrets::digest(&secret))
            .await?;
        if !updated {
            return Err(Error::NotFound);
        }
        self.forget_client(environment, client_id);
        let event = Event::success("client.secret_rotated").client(client_id);
        self.record_by(environment, caller, event, now).await?;
        Ok(secret)
    }

    pub async fn create_user(
        &self,
        environment: &Environment,
        email: &str,
        password_plain: String,
        name: Option<String>,
        caller: &Caller,
        now: i64,
    ) -> Result<User, Error> {
        let email = checked_email(email)?;
        check_password(&password_plain)?;
        let user = User {
            env_id: environment.id.clone(),
            user_id: format!("usr_{}", secrets::random_id()),
            email,
            email_verified: false,
            name: clean_name(name),
            password_hash: password::hash(password_plain).await,
            created_at: now,
            updated_at: now,
        };
        self.env_store(environment).insert_user(&user).await?;
        let event = Event::success("user.created").detail("sub", user.user_id.clone());
        self.record_by(environment, caller, event, now).await?;
        Ok(user)
    }

    pub async fn list_users(&self, environment: &Environment) -> Result<Vec<User>, Error> {
        Ok(self.env_store(environment).list_users().await?)
    }

    pub async fn find_user(&self, environment: &Environment, user_id: &str) -> Result<User, Error> {
        self.env_store(environment)
            .find_user(user_id)
            .await?
            .ok_or(Error::NotFound)
    }

    pub async fn update_user(
        &self,
        environment: &Environment,
        user_id: &str,
        changes: UserChanges,
        caller: &Caller,
        now: i64,
    ) -> Result<User, Error> {
        let mut user = self.find_user(environment, user_id).await?;
        let mut changed = Vec::new();
        if let Some(email) = changes.email {
            user.email = checked_email(&email)?;
            user.email_verified = false;
            changed.push("email");
        }
        if let Some(name) = changes.name {
            user.name = clean_name(Some(name));
            changed.push("name");
        }
        if let Some(verified) = changes.email_verified {
            user.email_verified = verified;
            changed.push("email_verified");
        }
        user.updated_at = now;
        if !self.env_store(environment).update_user(&user).await? {
            return Err(Error::NotFound);
        }
        let event = Event::success("user.updated")
            .detail("sub", user.user_id.clone())
            .detail("changed", changed);
        self.record_by(environment, caller, event, now).await?;
        Ok(user)
    }

    /// Sets a new password and ends the user's sessions.
    pub async fn set_user_password(
        &self,
        environment: &Environment,
        user_id: &str,
        password_plain: String,
        caller: &Caller,
        now: i64,
    ) -> Result<(), Error> {
        check_password(&password_plain)?;
        let mut user = self.find_user(environment, user_id).await?;
        user.password_hash = password::hash(password_plain).await;
        user.updated_at = now;
        let store = self.env_store(environment);
        if !store.update_user(&user).await? {
            return Err(Error::NotFound);
        }
        store.delete_user_sessions(user_id).await?;
        let event = Event::success("user.password_changed").detail("sub", user_id);
        self.record_by(environment, caller, event, now).await
    }

    /// Deletes a user with their sessions, consents and grants.
    pub async fn delete_user(
        &self,
        environment: &Environment,
        user_id: &str,
        caller: &Caller,
        now: i64,
    ) -> Result<(), Error> {
        if !self.env_store(environment).delete_user(user_id).await? {
            return Err(Error::NotFound);
        }
        let event = Event::success("user.deleted").detail("sub", user_id);
        self.record_by(environment, caller, event, now).await
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
        let values = [
            limits.token_requests_per_minute,
            limits.signin_failures_per_minute,
            limits.lockout_threshold,
        ];
        if values.iter().any(|v| !(0..=10_000_000).contains(v)) {
            return Err(Error::Invalid("limits are 0 (off) to 10000000".into()));
        }
        self.db
            .update_environment_limits(&environment.id, &limits)
            .await?;
        self.forget_environment(environment);
        let event = Event::success("environment.limits_changed")
            .detail("limits", serde_json::to_value(limits).unwrap_or_default());
        self.record_by(environment, caller, event, now).await?;
        Ok(limits)
    }

    /// An admin API token: installation-wide, or bound to one environment (its prefix shows the kind).
    pub async fn create_admin_token(
        &self,
        environment: Option<&Environment>,
        name: &str,
        now: i64,
    ) -> Result<IssuedAdminToken, Error> {
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
            let event = Event::success("admin_token.created")
                .detail("token_id", record.token_id.clone())
                .detail("name", name);
            self.record_by(environment, &Caller::cli(), event, now)
                .await?;
        } else {
            tracing::info!(token_id = %record.token_id, "installation-wide admin token created");
        }
        Ok(IssuedAdminToken {
            token_id: record.token_id,
            environment: environment.map(Environment::slug),
            admin_token: token,
        })
    }

    pub async fn authenticate_admin(&self, token: &str) -> Result<Option<AdminTokenRecord>, Error> {
        Ok(self.db.find_admin_token(&secrets::digest(token)).await?)
    }
}

/// Registration rules every client must satisfy, at creation and after every update.
fn check_client(environment: &Environment, client: &Client) -> Result<(), Error> {
    if client.name.trim().is_empty() || client.name.len() > 200 {
        return Err(Error::Invalid(
            "a client needs a name of at most 200 characters".into(),
        ));
    }
    if client.redirect_uris.len() > 50 || client.post_logout_redirect_uris.len() > 50 {
        return Err(Error::Invalid(
            "at most 50 redirect URIs of each kind".into(),
        ));
    }
    for uri in &client.redirect_uris {
        redirect::check_registrable(uri, environment.kind)
            .map_err(|why| Error::Invalid(format!("redirect URI {uri}: {why}")))?;
    }
    for uri in &client.post_logout_redirect_uris {
        redirect::check_registrable(uri, environment.kind)
            .map_err(|why| Error::Invalid(format!("post-logout redirect URI {uri}: {why}")))?;
    }
    Ok(())
}

fn checked_email(email: &str) -> Result<String, Error> {
    let email = email.trim().to_ascii_lowercase();
    if !email.contains('@') || email.len() > 254 || email.chars().any(char::is_whitespace) {
        return Err(Error::Invalid("a valid email address is required".into()));
    }
    Ok(email)
}

fn check_password(password_plain: &str) -> Result<(), Error> {
    if password_plain.chars().count() < 8 || password_plain.len() > 1024 {
        return Err(Error::Invalid("passwords need 8 to 1024 characters".into()));
    }
    Ok(())
}

fn clean_name(name: Option<String>) -> Option<String> {
    name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty())
}
