//! Resource servers (APIs) of an environment, and which of their scopes each client may ask for.

use super::clients::Changed;
use crate::audit::{AuditEvent, Recorded};
use crate::crypto::secrets;
use crate::model::{Api, ApiGrant, ApiId, ClientId, Environment, SigningAlg};
use crate::oidc::{resource, scope};
use crate::service::audit_log::AuditLog;
use crate::service::{Caller, Error};
use crate::store::{Db, EnvStore};

/// At most this many scopes per API.
const MAX_SCOPES: usize = 100;
/// Access tokens live between a minute and a day.
const TTL_RANGE: std::ops::RangeInclusive<i64> = 60..=86_400;

/// What an admin asks for when registering an API.
#[derive(Debug, Clone)]
pub struct NewApi {
    pub identifier: String,
    pub scopes: Vec<String>,
    pub access_token_ttl: Option<i64>,
    pub signing_alg: SigningAlg,
}

/// Changes to an API; `None` keeps the current value. Its identifier never changes: tokens name it.
#[derive(Debug, Clone, Default)]
pub struct ApiChanges {
    pub scopes: Option<Vec<String>>,
    /// `Some(None)` goes back to the environment's lifetime.
    pub access_token_ttl: Option<Option<i64>>,
    pub signing_alg: Option<SigningAlg>,
}

pub struct ApiAdmin<'a> {
    pub(in crate::service) db: &'a Db,
    pub(in crate::service) audit: &'a AuditLog,
}

impl ApiAdmin<'_> {
    fn store<'s>(&'s self, environment: &'s Environment) -> EnvStore<'s> {
        EnvStore::new(self.db, &environment.id)
    }

    pub async fn create(
        &self,
        environment: &Environment,
        request: NewApi,
        caller: &Caller,
        now: i64,
    ) -> Result<Api, Error> {
        let api = Api {
            env_id: environment.id.clone(),
            api_id: ApiId::new(format!("api_{}", secrets::random_id())),
            identifier: request.identifier,
            scopes: request.scopes,
            access_token_ttl: request.access_token_ttl,
            signing_alg: request.signing_alg,
            created_at: now,
        };
        check_api(&api)?;
        let event = AuditEvent::ApiCreated {
            api_id: api.api_id.to_string(),
            identifier: api.identifier.clone(),
            scopes: api.scopes.clone(),
        };
        let (event, events) = self
            .audit
            .outbox_by(environment, caller, event, now)
            .await?;
        let store = self.store(environment).emitting(&events);
        if !store.insert_api(&api).await? {
            // Its identifier is taken in this environment.
            return Err(Error::Conflict);
        }
        self.audit
            .record_by(environment, caller, event, now)
            .await?;
        Ok(api)
    }

    pub async fn list(&self, environment: &Environment) -> Result<Vec<Api>, Error> {
        Ok(self.store(environment).list_apis().await?)
    }

    /// An API by its id (`api_…`) or its identifier.
    pub async fn find(&self, environment: &Environment, api: &str) -> Result<Api, Error> {
        self.store(environment)
            .find_api(api)
            .await?
            .ok_or(Error::NotFound)
    }

    pub async fn update(
        &self,
        environment: &Environment,
        api: &str,
        changes: ApiChanges,
        caller: &Caller,
        now: i64,
    ) -> Result<Api, Error> {
        let mut api = self.find(environment, api).await?;
        let mut changed = Changed::default();
        changed.set(&mut api.scopes, changes.scopes, "scopes");
        changed.set(
            &mut api.access_token_ttl,
            changes.access_token_ttl,
            "access_token_ttl",
        );
        changed.set(&mut api.signing_alg, changes.signing_alg, "signing_alg");
        check_api(&api)?;
        let event = AuditEvent::ApiUpdated {
            api_id: api.api_id.to_string(),
            changed: changed.0,
        };
        let (event, events) = self
            .audit
            .outbox_by(environment, caller, event, now)
            .await?;
        if !self
            .store(environment)
            .emitting(&events)
            .update_api(&api)
            .await?
        {
            return Err(Error::NotFound);
        }
        self.audit
            .record_by(environment, caller, event, now)
            .await?;
        Ok(api)
    }

    /// Deletes an API with every client's grant of it; tokens already minted for it run out.
    pub async fn delete(
        &self,
        environment: &Environment,
        api: &str,
        caller: &Caller,
        now: i64,
    ) -> Result<(), Error> {
        let api = self.find(environment, api).await?;
        let event = AuditEvent::ApiDeleted {
            api_id: api.api_id.to_string(),
            identifier: api.identifier.clone(),
        };
        let (event, events) = self
            .audit
            .outbox_by(environment, caller, event, now)
            .await?;
        let store = self.store(environment).emitting(&events);
        if !store.delete_api(&api.api_id).await? {
            return Err(Error::NotFound);
        }
        self.audit.record_by(environment, caller, event, now).await
    }

    /// The APIs a client may use, with their scopes.
    pub async fn grants_of(
        &self,
        environment: &Environment,
        client_id: &ClientId,
    ) -> Result<Vec<ApiGrant>, Error> {
        self.client_exists(environment, client_id).await?;
        Ok(self
            .store(environment)
            .api_grants_of_client(client_id)
            .await?)
    }

    async fn client_exists(
        &self,
        environment: &Environment,
        client_id: &ClientId,
    ) -> Result<(), Error> {
        match self.store(environment).find_client(client_id).await? {
            Some(_) => Ok(()),
            None => Err(Error::NotFound),
        }
    }

    /// The scopes of `api` the client holds now.
    async fn held(
        &self,
        environment: &Environment,
        client_id: &ClientId,
        api: &Api,
    ) -> Result<Vec<String>, Error> {
        let grants = self.grants_of(environment, client_id).await?;
        Ok(grants
            .into_iter()
            .find(|grant| grant.api_id == api.api_id)
            .map(|grant| grant.scopes)
            .unwrap_or_default())
    }

    /// Lets a client ask for `scopes` of `api` (every scope the API defines when none are named),
    /// on top of what it holds; returns what it holds after.
    pub async fn grant(
        &self,
        environment: &Environment,
        client_id: &ClientId,
        (api, scopes): (&str, Vec<String>),
        caller: &Caller,
        now: i64,
    ) -> Result<ApiGrant, Error> {
        let api = self.find(environment, api).await?;
        let adding = if scopes.is_empty() {
            api.scopes.clone()
        } else {
            scopes
        };
        if let Some(unknown) = adding.iter().find(|s| !api.scopes.contains(s)) {
            return Err(Error::Invalid(format!(
                "{} defines no scope {unknown}",
                api.identifier
            )));
        }
        if adding.is_empty() {
            return Err(Error::Invalid(format!(
                "{} defines no scopes to grant",
                api.identifier
            )));
        }
        let mut held = self.held(environment, client_id, &api).await?;
        for scope in adding {
            if !held.contains(&scope) {
                held.push(scope);
            }
        }
        let event = AuditEvent::ClientApiGranted {
            api: api.identifier.clone(),
            scopes: held.clone(),
        }
        .client(client_id.as_str());
        self.write_grant(environment, (client_id, api, held), (caller, event), now)
            .await
    }

    /// Takes `scopes` of `api` back from a client (all of them when none are named). Tokens already
    /// minted keep their scopes until they expire; refreshing them drops what was taken back.
    pub async fn revoke(
        &self,
        environment: &Environment,
        client_id: &ClientId,
        (api, scopes): (&str, Vec<String>),
        caller: &Caller,
        now: i64,
    ) -> Result<ApiGrant, Error> {
        let api = self.find(environment, api).await?;
        let held = self.held(environment, client_id, &api).await?;
        if held.is_empty() {
            return Err(Error::NotFound);
        }
        let (revoked, remaining): (Vec<String>, Vec<String>) = held
            .into_iter()
            .partition(|scope| scopes.is_empty() || scopes.contains(scope));
        let event = AuditEvent::ClientApiRevoked {
            api: api.identifier.clone(),
            revoked,
            remaining: remaining.clone(),
        }
        .client(client_id.as_str());
        self.write_grant(
            environment,
            (client_id, api, remaining),
            (caller, event),
            now,
        )
        .await
    }

    /// Stores the scopes of `api` the client holds from now on, with the audit entry and events of
    /// the change.
    async fn write_grant(
        &self,
        environment: &Environment,
        (client_id, api, scopes): (&ClientId, Api, Vec<String>),
        (caller, event): (&Caller, Recorded),
        now: i64,
    ) -> Result<ApiGrant, Error> {
        let (event, events) = self
            .audit
            .outbox_by(environment, caller, event, now)
            .await?;
        let store = self.store(environment).emitting(&events);
        store
            .set_api_grant(client_id, &api.api_id, &scopes, now)
            .await?;
        self.audit
            .record_by(environment, caller, event, now)
            .await?;
        Ok(ApiGrant {
            client_id: client_id.clone(),
            api_id: api.api_id,
            identifier: api.identifier,
            scopes,
        })
    }
}

/// Rules every API satisfies, at creation and after every update.
pub(super) fn check_api(api: &Api) -> Result<(), Error> {
    resource::check_identifier(&api.identifier).map_err(|why| Error::Invalid(why.into()))?;
    if api.scopes.len() > MAX_SCOPES {
        return Err(Error::Invalid(format!(
            "at most {MAX_SCOPES} scopes per API"
        )));
    }
    for (at, name) in api.scopes.iter().enumerate() {
        if !scope::is_scope_token(name) || name.len() > 200 {
            return Err(Error::Invalid(format!(
                "scope {name:?}: printable ASCII without spaces, quotes or backslashes, at most 200 characters"
            )));
        }
        if scope::is_oidc(name) {
            return Err(Error::Invalid(format!(
                "scope {name} is one of OpenID Connect's, not an API's"
            )));
        }
        if api.scopes[..at].contains(name) {
            return Err(Error::Invalid(format!("scope {name} is listed twice")));
        }
    }
    if let Some(ttl) = api.access_token_ttl
        && !TTL_RANGE.contains(&ttl)
    {
        return Err(Error::Invalid(
            "an access token lifetime is between 60 and 86400 seconds".into(),
        ));
    }
    Ok(())
}
