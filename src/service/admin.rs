//! Administration use cases, shared by the CLI and the admin HTTP API.

use serde::Serialize;

use super::{Airlock, Error};
use crate::crypto::{password, secrets};
use crate::model::{
    self, Client, EnvKind, EnvPolicy, Environment, Issuer, Project, SigningAlg, User,
};
use crate::oidc::redirect;
use crate::store::AdminTokenRecord;

/// What an admin asks for when registering a client.
#[derive(Debug, Clone)]
pub struct NewClient {
    pub name: String,
    pub redirect_uris: Vec<String>,
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
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct IssuedAdminToken {
    pub token_id: String,
    pub environment: Option<String>,
    pub admin_token: String,
}

impl Airlock {
    pub fn issuer(&self, environment: &Environment) -> Issuer {
        Issuer::for_path(&self.config.public_url, environment)
    }

    pub fn environment_view(&self, environment: &Environment) -> EnvironmentView {
        let issuer = self.issuer(environment);
        EnvironmentView {
            project: environment.project.clone(),
            environment: environment.name.clone(),
            kind: environment.kind,
            discovery_url: issuer.endpoint(crate::oidc::endpoints::Endpoint::Discovery.path()),
            issuer: issuer.as_str().to_string(),
            policy: environment.policy,
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
            created_at: now,
        };
        // Key generation (RSA-2048 especially) is CPU work: keep it off the async runtime.
        let kek = self.kek.clone();
        let keys = tokio::task::spawn_blocking(move || {
            SigningAlg::ALL
                .iter()
                .map(|alg| super::keys::new_stored_key(&kek, *alg, now))
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
        now: i64,
    ) -> Result<IssuedClient, Error> {
        if request.name.trim().is_empty() || request.name.len() > 200 {
            return Err(Error::Invalid(
                "a client needs a name of at most 200 characters".into(),
            ));
        }
        if request.redirect_uris.len() > 50 {
            return Err(Error::Invalid("at most 50 redirect URIs".into()));
        }
        for uri in &request.redirect_uris {
            redirect::check_registrable(uri, environment.kind)
                .map_err(|why| Error::Invalid(format!("redirect URI {uri}: {why}")))?;
        }
        let secret = (!request.public).then(|| secrets::prefixed_secret("acs", environment.kind));
        let client = Client {
            env_id: environment.id.clone(),
            client_id: format!("cl_{}", secrets::random_id()),
            name: request.name,
            secret_digest: secret.as_deref().map(secrets::digest),
            public: request.public,
            first_party: request.first_party,
            redirect_uris: request.redirect_uris,
            id_token_signed_response_alg: request.id_token_signed_response_alg,
            created_at: now,
        };
        self.env_store(environment).insert_client(&client).await?;
        Ok(IssuedClient {
            client,
            client_secret: secret,
        })
    }

    /// Issues a new secret for a confidential client; the old one stops working at once.
    pub async fn rotate_client_secret(
        &self,
        environment: &Environment,
        client_id: &str,
    ) -> Result<String, Error> {
        let secret = secrets::prefixed_secret("acs", environment.kind);
        let updated = self
            .env_store(environment)
            .update_client_secret(client_id, &secrets::digest(&secret))
            .await?;
        if updated {
            Ok(secret)
        } else {
            Err(Error::NotFound)
        }
    }

    pub async fn create_user(
        &self,
        environment: &Environment,
        email: &str,
        password_plain: String,
        name: Option<String>,
        now: i64,
    ) -> Result<User, Error> {
        let email = email.trim().to_ascii_lowercase();
        if !email.contains('@') || email.len() > 254 || email.chars().any(char::is_whitespace) {
            return Err(Error::Invalid("a valid email address is required".into()));
        }
        if password_plain.chars().count() < 8 || password_plain.len() > 1024 {
            return Err(Error::Invalid("passwords need 8 to 1024 characters".into()));
        }
        let name = name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
        let user = User {
            env_id: environment.id.clone(),
            user_id: format!("usr_{}", secrets::random_id()),
            email,
            email_verified: false,
            name,
            password_hash: password::hash(password_plain).await,
            created_at: now,
            updated_at: now,
        };
        self.env_store(environment).insert_user(&user).await?;
        Ok(user)
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
