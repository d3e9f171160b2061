//! Dynamic client registration: initial access tokens (an admin's side) and the registration and
//! management endpoints a client uses itself (RFC 7591, RFC 7592). Registered clients follow the
//! same rules as an admin's, through the same `ClientAdmin`.

use super::admin::clients::{ClientAdmin, ClientChanges, NewClient};
use super::audit_log::AuditLog;
use super::clients::ClientDirectory;
use super::{Call, Caller, Error, Reach};
use crate::audit::AuditEvent;
use crate::crypto::secrets;
use crate::model::{Client, ClientId, Environment, RegistrationToken, Secret, TokenAuthMethod};
use crate::oidc::registration::{self, ClientMetadata, Registration, RegistrationError};
use crate::store::{Db, EnvStore, StoreError};

/// Why a registration request was not served.
#[derive(Debug)]
pub enum RegistrationFailure {
    /// No token, or one not in force here (401 `invalid_token`, as RFC 7591 §3 and 7592 §2 say):
    /// the same for a missing client as for a wrong token.
    Unauthorized,
    /// The metadata was refused (400).
    Refused(RegistrationError),
    Failed(Error),
}

impl From<Error> for RegistrationFailure {
    fn from(error: Error) -> Self {
        match error {
            Error::Invalid(why) => RegistrationFailure::Refused(RegistrationError::metadata(why)),
            other => RegistrationFailure::Failed(other),
        }
    }
}

impl From<StoreError> for RegistrationFailure {
    fn from(error: StoreError) -> Self {
        RegistrationFailure::Failed(error.into())
    }
}

/// A client as registration answers it, with what it was just issued (shown once).
#[derive(Debug)]
pub struct RegisteredClient {
    pub client: Client,
    pub client_secret: Option<Secret>,
    pub registration_access_token: Option<Secret>,
}

pub struct Registrar<'a> {
    pub(super) db: &'a Db,
    pub(super) clients: &'a ClientDirectory,
    pub(super) audit: &'a AuditLog,
}

impl Registrar<'_> {
    fn store<'s>(&'s self, environment: &'s Environment) -> EnvStore<'s> {
        EnvStore::new(self.db, &environment.id)
    }

    fn client_admin(&self) -> ClientAdmin<'_> {
        ClientAdmin {
            db: self.db,
            clients: self.clients,
            audit: self.audit,
        }
    }

    /// Mints an initial access token for `environment`, valid for `expires_in` seconds and
    /// `max_uses` registrations (each unlimited when `None`).
    pub async fn create_token(
        &self,
        environment: &Environment,
        (expires_in, max_uses): (Option<i64>, Option<i64>),
        caller: &Caller,
        now: i64,
    ) -> Result<(RegistrationToken, Secret), Error> {
        if expires_in.is_some_and(|seconds| seconds <= 0) || max_uses.is_some_and(|uses| uses <= 0)
        {
            return Err(Error::Invalid(
                "an expiry and a number of uses are positive".into(),
            ));
        }
        let secret = Secret::new(secrets::prefixed_secret("rit", environment.kind));
        let token = RegistrationToken {
            token_id: format!("rit_{}", secrets::random_id()),
            created_at: now,
            expires_at: expires_in.map(|seconds| now.saturating_add(seconds)),
            max_uses,
            uses: 0,
            revoked_at: None,
        };
        let event = AuditEvent::RegistrationTokenCreated {
            token_id: token.token_id.clone(),
            expires_at: token.expires_at,
            max_uses,
        };
        let (event, events) = self
            .audit
            .outbox_by(environment, caller, event, now)
            .await?;
        let store = self.store(environment).emitting(&events);
        store
            .insert_registration_token(&token, &secrets::digest(secret.expose()))
            .await?;
        self.audit
            .record_by(environment, caller, event, now)
            .await?;
        Ok((token, secret))
    }

    pub async fn list_tokens(
        &self,
        environment: &Environment,
    ) -> Result<Vec<RegistrationToken>, Error> {
        Ok(self.store(environment).list_registration_tokens().await?)
    }

    /// Revokes an initial access token: it registers nothing more, at once on every node.
    pub async fn revoke_token(
        &self,
        environment: &Environment,
        token_id: &str,
        caller: &Caller,
        now: i64,
    ) -> Result<(), Error> {
        let event = AuditEvent::RegistrationTokenRevoked {
            token_id: token_id.to_string(),
        };
        let (event, events) = self
            .audit
            .outbox_by(environment, caller, event, now)
            .await?;
        let store = self.store(environment).emitting(&events);
        if !store.revoke_registration_token(token_id, now).await? {
            return Err(Error::NotFound);
        }
        self.audit.record_by(environment, caller, event, now).await
    }

    /// `POST {issuer}/register`: checks the metadata, spends one use of the initial access
    /// token, and registers the client with its own registration access token.
    pub async fn register(
        &self,
        call: &Call<'_>,
        initial_token: Option<&str>,
        body: &[u8],
    ) -> Result<RegisteredClient, RegistrationFailure> {
        let zone = call.zone;
        let Some(initial_token) = initial_token else {
            return Err(RegistrationFailure::Unauthorized);
        };
        let request = new_client(checked(body, zone)?);
        // Every rule is checked before a use of the token is spent: a refused request costs none.
        self.client_admin().check_new(zone, &request, call.now)?;
        let spent = self
            .store(zone)
            .spend_registration_token(&secrets::digest(initial_token), call.now)
            .await?;
        let Some(token_id) = spent else {
            return Err(RegistrationFailure::Unauthorized);
        };
        let access_token = Secret::new(secrets::prefixed_secret("rat", zone.kind));
        let caller = Caller {
            actor: Some(token_id),
            origin: call.origin.clone(),
            reach: Reach::Environment(zone.id.clone()),
            admin_token: None,
            read_only: false,
        };
        let issued = self
            .client_admin()
            .register(
                zone,
                request,
                Some(&secrets::digest(access_token.expose())),
                &caller,
                call.now,
            )
            .await?;
        Ok(RegisteredClient {
            client: issued.client,
            client_secret: issued.client_secret,
            registration_access_token: Some(access_token),
        })
    }

    /// The client `client_id`, if `token` is its registration access token.
    async fn authorized(
        &self,
        call: &Call<'_>,
        client_id: &ClientId,
        token: Option<&str>,
    ) -> Result<Client, RegistrationFailure> {
        let stored = self.store(call.zone).registration_digest(client_id).await?;
        let presented = token.unwrap_or_default();
        let matches = match &stored {
            Some(digest) => secrets::matches_digest(presented, digest),
            None => {
                // Same work as a real comparison: no telling which client ids exist.
                secrets::matches_digest(presented, &secrets::digest(""));
                false
            }
        };
        if !matches || token.is_none() {
            return Err(RegistrationFailure::Unauthorized);
        }
        Ok(self.client_admin().find(call.zone, client_id).await?)
    }

    /// `GET {issuer}/register/{client_id}` (RFC 7592 §2.1).
    pub async fn read(
        &self,
        call: &Call<'_>,
        client_id: &ClientId,
        token: Option<&str>,
    ) -> Result<Client, RegistrationFailure> {
        self.authorized(call, client_id, token).await
    }

    /// `PUT {issuer}/register/{client_id}` (RFC 7592 §2.2): the metadata replaced as a whole.
    pub async fn update(
        &self,
        call: &Call<'_>,
        client_id: &ClientId,
        token: Option<&str>,
        body: &[u8],
    ) -> Result<Client, RegistrationFailure> {
        let client = self.authorized(call, client_id, token).await?;
        let named = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|body| body.get("client_id")?.as_str().map(str::to_string));
        if named.as_deref() != Some(client_id.as_str()) {
            return Err(RegistrationFailure::Refused(RegistrationError::metadata(
                "the request must name this client's client_id",
            )));
        }
        let registration = checked(body, call.zone)?;
        if registration.method != client.token_endpoint_auth_method {
            return Err(RegistrationFailure::Refused(RegistrationError::metadata(
                "token_endpoint_auth_method cannot change",
            )));
        }
        let changes = ClientChanges {
            name: Some(registration.name),
            redirect_uris: Some(registration.redirect_uris),
            post_logout_redirect_uris: Some(registration.post_logout_redirect_uris),
            first_party: None,
            id_token_signed_response_alg: Some(registration.id_token_signed_response_alg),
            jwks: Some(registration.jwks),
            jwks_uri: Some(registration.jwks_uri),
        };
        let caller = self_caller(call, client_id);
        Ok(self
            .client_admin()
            .update(call.zone, client_id, changes, &caller, call.now)
            .await?)
    }

    /// `DELETE {issuer}/register/{client_id}` (RFC 7592 §2.3): the client and everything issued
    /// to it.
    pub async fn delete(
        &self,
        call: &Call<'_>,
        client_id: &ClientId,
        token: Option<&str>,
    ) -> Result<(), RegistrationFailure> {
        self.authorized(call, client_id, token).await?;
        let caller = self_caller(call, client_id);
        Ok(self
            .client_admin()
            .delete(call.zone, client_id, &caller, call.now)
            .await?)
    }
}

/// The client acting on its own registration, as the audit log names it.
fn self_caller(call: &Call<'_>, client_id: &ClientId) -> Caller {
    Caller {
        actor: Some(client_id.to_string()),
        origin: call.origin.clone(),
        reach: Reach::Environment(call.zone.id.clone()),
        admin_token: None,
        read_only: false,
    }
}

fn checked(body: &[u8], zone: &Environment) -> Result<Registration, RegistrationFailure> {
    ClientMetadata::parse(body)
        .and_then(|metadata| registration::check(metadata, zone.kind))
        .map_err(RegistrationFailure::Refused)
}

fn new_client(registration: Registration) -> NewClient {
    let public = registration.method == TokenAuthMethod::None;
    NewClient {
        name: registration.name,
        redirect_uris: registration.redirect_uris,
        post_logout_redirect_uris: registration.post_logout_redirect_uris,
        public,
        // A client that registered itself is never trusted to skip the consent screen.
        first_party: false,
        id_token_signed_response_alg: registration.id_token_signed_response_alg,
        token_endpoint_auth_method: Some(registration.method),
        jwks: registration.jwks,
        jwks_uri: registration.jwks_uri,
    }
}
