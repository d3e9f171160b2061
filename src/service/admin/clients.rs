//! Client registrations: the same redirect-URI rules at creation and after every update.

use crate::audit::AuditEvent;
use serde_json::Value;

use crate::crypto::{jose, secrets};
use crate::model::{
    Client, ClientId, Environment, Secret, SigningAlg, TokenAuthMethod, is_clean_text,
};
use crate::oidc::redirect;
use crate::service::audit_log::AuditLog;
use crate::service::client_keys::MAX_JWKS_BYTES;
use crate::service::clients::ClientDirectory;
use crate::service::{Caller, Error};
use crate::store::{Db, EnvStore};

/// What an admin asks for when registering a client.
#[derive(Debug, Clone)]
pub struct NewClient {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub public: bool,
    pub first_party: bool,
    pub id_token_signed_response_alg: SigningAlg,
    /// `None`: `client_secret_basic` (or `none` for a public client).
    pub token_endpoint_auth_method: Option<TokenAuthMethod>,
    /// `private_key_jwt`: the client's JWKS, inline or by URL (exactly one of them).
    pub jwks: Option<Value>,
    pub jwks_uri: Option<String>,
}

/// A registered client, with its secret when it was just issued (shown once).
#[derive(Debug, Clone)]
pub struct IssuedClient {
    pub client: Client,
    pub client_secret: Option<Secret>,
}

/// Changes to a client; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct ClientChanges {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub first_party: Option<bool>,
    pub id_token_signed_response_alg: Option<SigningAlg>,
    /// `Some(None)` removes the inline keys or the URL.
    pub jwks: Option<Option<Value>>,
    pub jwks_uri: Option<Option<String>>,
}

pub struct ClientAdmin<'a> {
    pub(in crate::service) db: &'a Db,
    pub(in crate::service) clients: &'a ClientDirectory,
    pub(in crate::service) audit: &'a AuditLog,
}

/// A client secret whose prefix shows the kind of zone it opens (`acs_test_…`, `acs_live_…`).
fn new_secret(environment: &Environment) -> Secret {
    Secret::new(secrets::prefixed_secret("acs", environment.kind))
}

impl ClientAdmin<'_> {
    fn store<'s>(&'s self, environment: &'s Environment) -> EnvStore<'s> {
        EnvStore::new(self.db, &environment.id)
    }

    pub async fn create(
        &self,
        environment: &Environment,
        request: NewClient,
        caller: &Caller,
        now: i64,
    ) -> Result<IssuedClient, Error> {
        self.register(environment, request, None, caller, now).await
    }

    /// Creates a client; one that registered itself (RFC 7591) with the digest of its
    /// registration access token.
    pub(in crate::service) async fn register(
        &self,
        environment: &Environment,
        request: NewClient,
        registration: Option<&str>,
        caller: &Caller,
        now: i64,
    ) -> Result<IssuedClient, Error> {
        let (client, secret) = self.prepare(environment, request, registration.is_some(), now)?;
        let event = AuditEvent::ClientCreated {
            name: client.name.clone(),
            public: client.public,
            redirect_uris: client.redirect_uris.clone(),
            post_logout_redirect_uris: client.post_logout_redirect_uris.clone(),
            token_endpoint_auth_method: client.token_endpoint_auth_method.as_str(),
            dynamically_registered: client.dynamically_registered,
        }
        .client(client.client_id.as_str());
        let (event, events) = self
            .audit
            .outbox_by(environment, caller, event, now)
            .await?;
        let store = self.store(environment);
        store
            .emitting(&events)
            .insert_client(&client, registration)
            .await?;
        self.clients.forget(environment, &client.client_id).await;
        self.audit
            .record_by(environment, caller, event, now)
            .await?;
        Ok(IssuedClient {
            client,
            client_secret: secret,
        })
    }

    /// Whether `request` would make a valid client of `environment`; nothing is stored.
    pub(in crate::service) fn check_new(
        &self,
        environment: &Environment,
        request: &NewClient,
        now: i64,
    ) -> Result<(), Error> {
        self.prepare(environment, request.clone(), true, now)
            .map(|_| ())
    }

    /// The client `request` asks for, with its new secret, once every registration rule holds.
    pub(in crate::service) fn prepare(
        &self,
        environment: &Environment,
        request: NewClient,
        dynamically_registered: bool,
        now: i64,
    ) -> Result<(Client, Option<Secret>), Error> {
        let method = match (request.public, request.token_endpoint_auth_method) {
            (true, None | Some(TokenAuthMethod::None)) => TokenAuthMethod::None,
            (true, Some(_)) => {
                return Err(Error::Invalid(
                    "a public client authenticates with none".into(),
                ));
            }
            (false, None) => TokenAuthMethod::ClientSecretBasic,
            (false, Some(TokenAuthMethod::None)) => {
                return Err(Error::Invalid(
                    "a client without authentication is a public one".into(),
                ));
            }
            (false, Some(method)) => method,
        };
        let secret = method.has_secret().then(|| new_secret(environment));
        let mut client = Client {
            env_id: environment.id.clone(),
            client_id: ClientId::new(format!("cl_{}", secrets::random_id())),
            name: request.name,
            secret_digest: secret.as_ref().map(|s| secrets::digest(s.expose())),
            public: request.public,
            first_party: request.first_party,
            redirect_uris: request.redirect_uris,
            post_logout_redirect_uris: request.post_logout_redirect_uris,
            id_token_signed_response_alg: request.id_token_signed_response_alg,
            token_endpoint_auth_method: method,
            jwks: request.jwks,
            jwks_uri: request.jwks_uri,
            secret_sealed: None,
            dynamically_registered,
            created_at: now,
        };
        if let Some(secret) = &secret
            && method == TokenAuthMethod::ClientSecretJwt
        {
            client.secret_sealed = Some(self.clients.seal_secret(&client, secret));
        }
        check_client(environment, &client)?;
        self.check_keys(environment, &client)?;
        Ok((client, secret))
    }

    pub async fn list(&self, environment: &Environment) -> Result<Vec<Client>, Error> {
        Ok(self.store(environment).list_clients().await?)
    }

    pub async fn find(
        &self,
        environment: &Environment,
        client_id: &ClientId,
    ) -> Result<Client, Error> {
        self.store(environment)
            .find_client(client_id)
            .await?
            .ok_or(Error::NotFound)
    }

    pub async fn update(
        &self,
        environment: &Environment,
        client_id: &ClientId,
        changes: ClientChanges,
        caller: &Caller,
        now: i64,
    ) -> Result<Client, Error> {
        let mut client = self.find(environment, client_id).await?;
        let changed = apply(&mut client, changes);
        self.check(environment, &client)?;
        let event = AuditEvent::ClientUpdated { changed }.client(client_id.as_str());
        let (event, events) = self
            .audit
            .outbox_by(environment, caller, event, now)
            .await?;
        let store = self.store(environment);
        if !store.emitting(&events).update_client(&client).await? {
            return Err(Error::NotFound);
        }
        self.clients.forget(environment, client_id).await;
        self.audit
            .record_by(environment, caller, event, now)
            .await?;
        Ok(client)
    }

    /// Deletes a client and everything issued to it.
    pub async fn delete(
        &self,
        environment: &Environment,
        client_id: &ClientId,
        caller: &Caller,
        now: i64,
    ) -> Result<(), Error> {
        let event = AuditEvent::ClientDeleted {}.client(client_id.as_str());
        let (event, events) = self
            .audit
            .outbox_by(environment, caller, event, now)
            .await?;
        let store = self.store(environment);
        if !store.emitting(&events).delete_client(client_id).await? {
            return Err(Error::NotFound);
        }
        self.clients.forget(environment, client_id).await;
        self.audit.record_by(environment, caller, event, now).await
    }

    /// Issues a new secret for a confidential client; the old one stops working at once.
    pub async fn rotate_secret(
        &self,
        environment: &Environment,
        client_id: &ClientId,
        caller: &Caller,
        now: i64,
    ) -> Result<Secret, Error> {
        let client = self.find(environment, client_id).await?;
        if !client.token_endpoint_auth_method.has_secret() {
            return Err(Error::Invalid(format!(
                "a {} client has no secret",
                client.token_endpoint_auth_method.as_str()
            )));
        }
        let secret = new_secret(environment);
        let sealed = (client.token_endpoint_auth_method == TokenAuthMethod::ClientSecretJwt)
            .then(|| self.clients.seal_secret(&client, &secret));
        let event = AuditEvent::ClientSecretRotated {}.client(client_id.as_str());
        let (event, events) = self
            .audit
            .outbox_by(environment, caller, event, now)
            .await?;
        let updated = self
            .store(environment)
            .emitting(&events)
            .update_client_secret(
                client_id,
                (&secrets::digest(secret.expose()), sealed.as_deref()),
            )
            .await?;
        if !updated {
            return Err(Error::NotFound);
        }
        self.clients.forget(environment, client_id).await;
        self.audit
            .record_by(environment, caller, event, now)
            .await?;
        Ok(secret)
    }
}

impl ClientAdmin<'_> {
    /// Every rule a stored client keeps after an update.
    pub(in crate::service) fn check(
        &self,
        environment: &Environment,
        client: &Client,
    ) -> Result<(), Error> {
        check_client(environment, client)?;
        self.check_keys(environment, client)
    }

    /// A `private_key_jwt` client has exactly one source of keys: an inline JWKS of usable public
    /// keys, or a URL its zone may fetch from. Other clients have none.
    fn check_keys(&self, environment: &Environment, client: &Client) -> Result<(), Error> {
        let private_key_jwt = client.token_endpoint_auth_method == TokenAuthMethod::PrivateKeyJwt;
        match (&client.jwks, &client.jwks_uri) {
            (Some(_), Some(_)) => Err(Error::Invalid(
                "give the client's keys inline (jwks) or by URL (jwks_uri), not both".into(),
            )),
            (None, None) if private_key_jwt => Err(Error::Invalid(
                "a private_key_jwt client needs its keys: jwks or jwks_uri".into(),
            )),
            (None, None) => Ok(()),
            _ if !private_key_jwt => Err(Error::Invalid(
                "only a private_key_jwt client registers keys".into(),
            )),
            (Some(jwks), None) => {
                let document = jwks.to_string();
                if document.len() > MAX_JWKS_BYTES {
                    return Err(Error::Invalid("the JWKS is larger than 64 KiB".into()));
                }
                jose::jwks_keys(&document)
                    .map(|_| ())
                    .map_err(|why| Error::Invalid(format!("jwks: {why}")))
            }
            (None, Some(uri)) => self
                .clients
                .check_jwks_uri(environment.kind, uri)
                .map_err(|why| Error::Invalid(format!("jwks_uri: {why}"))),
        }
    }
}

/// Applies `changes`, naming the fields that changed.
fn apply(c: &mut Client, changes: ClientChanges) -> Vec<&'static str> {
    let mut changed = Changed::default();
    let (uris, logout_uris) = (changes.redirect_uris, changes.post_logout_redirect_uris);
    let alg = changes.id_token_signed_response_alg;
    changed.set(&mut c.name, changes.name, "name");
    changed.set(&mut c.redirect_uris, uris, "redirect_uris");
    changed.set(
        &mut c.post_logout_redirect_uris,
        logout_uris,
        "post_logout_redirect_uris",
    );
    changed.set(&mut c.first_party, changes.first_party, "first_party");
    changed.set(&mut c.jwks, changes.jwks, "jwks");
    changed.set(&mut c.jwks_uri, changes.jwks_uri, "jwks_uri");
    changed.set(
        &mut c.id_token_signed_response_alg,
        alg,
        "id_token_signed_response_alg",
    );
    changed.0
}

/// The names of the fields an update changed, for the audit log.
#[derive(Default)]
pub(super) struct Changed(pub Vec<&'static str>);

impl Changed {
    /// Sets `field` to `value` if there is one, and notes its `name`.
    pub fn set<T>(&mut self, field: &mut T, value: Option<T>, name: &'static str) {
        if let Some(value) = value {
            *field = value;
            self.0.push(name);
        }
    }
}

/// Registration rules every client must satisfy, at creation and after every update.
fn check_client(environment: &Environment, client: &Client) -> Result<(), Error> {
    if client.name.trim().is_empty() || client.name.len() > 200 || !is_clean_text(&client.name) {
        return Err(Error::Invalid(
            "a client needs a name of at most 200 characters, without control characters".into(),
        ));
    }
    if client.redirect_uris.len() > 50 || client.post_logout_redirect_uris.len() > 50 {
        return Err(Error::Invalid(
            "at most 50 redirect URIs of each kind".into(),
        ));
    }
    let lists = [
        ("redirect URI", &client.redirect_uris),
        (
            "post-logout redirect URI",
            &client.post_logout_redirect_uris,
        ),
    ];
    for (what, uris) in lists {
        for uri in uris {
            redirect::check_registrable(uri, environment.kind)
                .map_err(|why| Error::Invalid(format!("{what} {uri}: {why}")))?;
        }
    }
    Ok(())
}
