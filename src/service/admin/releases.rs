//! Releases: a configuration (a file, a promotion, an earlier release) applied to an environment
//! in one transaction as its next numbered release. Clients are matched by name; new ones get
//! credentials minted in the target, shown once. Nothing of another zone's secrets, users,
//! sessions, grants or keys is copied.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::apis::check_api;
use super::clients::{ClientAdmin, NewClient};
use super::configuration::{ConfigurationAdmin, ConfigurationPlan};
use super::environments::{check_accounts, check_lifetimes, check_limits};
use super::webhooks::{MAX_ENDPOINTS, WebhookAdmin, checked_description, checked_events};
use crate::audit::AuditEvent;
use crate::crypto::secrets;
use crate::model::{
    AccountPolicy, Api, ApiId, Client, ClientId, EndpointHealth, EnvPolicy, Environment,
    RateLimits, Secret, SigningAlg, TokenAuthMethod, WebhookEndpoint,
};
use crate::promotion::document::{ApiConfig, ClientConfig, EnvConfig, WebhookConfig};
use crate::service::{Caller, Error};
use crate::store::{Release, ReleaseRefused, ReleaseWrite};

/// The APIs after a release, by identifier: id and scopes.
type ReleasedApis = BTreeMap<String, (ApiId, Vec<String>)>;
/// The clients after a release, by name: id, and whether the release creates it.
type ReleasedClients = BTreeMap<String, (ClientId, bool)>;

/// Where a release's configuration comes from.
#[derive(Debug, Clone)]
pub enum ReleaseSource {
    File,
    Promotion { from: String },
    Rollback { to: i64 },
}

impl ReleaseSource {
    fn describe(&self) -> String {
        match self {
            ReleaseSource::File => "file".into(),
            ReleaseSource::Promotion { from } => format!("promotion from {from}"),
            ReleaseSource::Rollback { to } => format!("rollback to {to}"),
        }
    }
}

/// A credential minted in the target by a release: shown once, never stored in clear.
#[derive(Debug, Clone, Serialize)]
pub struct MintedCredential {
    /// `client` or `webhook`.
    pub kind: &'static str,
    /// The client's name or the endpoint's URL.
    pub name: String,
    /// The client id or the endpoint id.
    pub id: String,
    pub secret: Secret,
}

/// What applying a plan did.
#[derive(Debug, Clone, Serialize)]
pub struct AppliedRelease {
    pub target: String,
    /// The release made; `None` when the target already matched (nothing written).
    pub release: Option<i64>,
    pub plan: crate::promotion::Plan,
    pub credentials: Vec<MintedCredential>,
    /// Failed go-live checks applied anyway, by name.
    pub accepted: Vec<String>,
}

impl ConfigurationAdmin<'_> {
    /// Releases of `environment`, newest first.
    pub async fn releases(
        &self,
        environment: &Environment,
        caller: &Caller,
    ) -> Result<Vec<Release>, Error> {
        caller.require_installation()?;
        Ok(self.store(environment).list_releases().await?)
    }

    /// The plan of restoring the configuration release `to` left, as a new release. Domain
    /// bindings stay as they are: each has its own proof.
    pub async fn plan_rollback(
        &self,
        target: &Environment,
        to: i64,
        caller: &Caller,
    ) -> Result<ConfigurationPlan, Error> {
        caller.require_installation()?;
        let Some(config) = self.store(target).release_config(to).await? else {
            return Err(Error::Invalid(format!(
                "{} has no release {to}",
                target.slug()
            )));
        };
        let mut desired: EnvConfig = serde_json::from_str(&config).map_err(Error::internal)?;
        desired.domains = self.export(target).await?.domains;
        self.plan_for(target, desired, None).await
    }

    /// Applies `planned` to `target` as its next release: all of it in one transaction, or
    /// nothing. A failed go-live check blocks it unless named in `accept`; a release made since
    /// the plan (another apply) refuses it.
    pub async fn apply(
        &self,
        target: &Environment,
        planned: ConfigurationPlan,
        (source, accept): (ReleaseSource, &[String]),
        caller: &Caller,
        now: i64,
    ) -> Result<AppliedRelease, Error> {
        caller.require_installation()?;
        let accepted = checked_acceptance(&planned, accept)?;
        let mut applied = AppliedRelease {
            target: target.slug(),
            release: None,
            plan: planned.plan.clone(),
            credentials: Vec::new(),
            accepted,
        };
        if planned.plan.is_empty() {
            return Ok(applied);
        }
        let current = self.export(target).await?;
        let hosts = |config: &EnvConfig| {
            let hosts: BTreeSet<String> = config.domains.iter().map(|d| d.host.clone()).collect();
            hosts
        };
        if hosts(&current) != hosts(&planned.desired) {
            return Err(Error::Invalid(
                "domains: a release does not bind or unbind custom domains (each needs its own \
                 proof): use `airlock domain add|remove`, then apply"
                    .into(),
            ));
        }
        let mut write = ReleaseWrite {
            number: planned.base_release + 1,
            created_at: now,
            actor: caller.actor.clone().unwrap_or_else(|| "unknown".into()),
            source: source.describe(),
            changes: serde_json::to_string(&planned.plan).map_err(Error::internal)?,
            config: serde_json::to_string(&planned.desired).map_err(Error::internal)?,
            ..ReleaseWrite::default()
        };
        let desired = &planned.desired;
        write.settings = self.settings(target, desired)?;
        let apis = self.apis(target, desired, &mut write, now).await?;
        let clients = self
            .clients(target, desired, &mut write, &mut applied, now)
            .await?;
        self.grants(target, desired, (&apis, &clients), &mut write)
            .await?;
        self.endpoints(target, desired, &mut write, &mut applied, now)
            .await?;
        if write.changes_nothing() {
            // What differed in the plan's text is the same once checked (a URL's trailing slash,
            // an event filter written otherwise).
            applied.credentials.clear();
            return Ok(applied);
        }

        let changes: Vec<String> = planned.plan.render().lines().map(String::from).collect();
        let event = match source {
            ReleaseSource::Rollback { to } => AuditEvent::ReleaseRolledBack {
                number: write.number,
                to,
                changes,
            },
            _ => AuditEvent::ReleaseApplied {
                number: write.number,
                source: write.source.clone(),
                changes,
            },
        };
        let (event, events) = self.audit.outbox_by(target, caller, event, now).await?;
        let store = self.store(target).emitting(&events);
        match store.write_release(&write).await? {
            Ok(()) => {}
            Err(ReleaseRefused::Superseded) => {
                return Err(Error::Superseded(format!(
                    "{} changed while this was planned (release {} was made from release {}): \
                     plan again",
                    target.slug(),
                    write.number,
                    planned.base_release
                )));
            }
            Err(ReleaseRefused::ApiTaken(identifier)) => {
                return Err(Error::Superseded(format!(
                    "API {identifier} was created in {} meanwhile: plan again",
                    target.slug()
                )));
            }
        }
        self.forget_released(target, &write).await;
        applied.release = Some(write.number);
        // The release is written with its events; its credentials must reach the operator even
        // if its audit entry does not.
        if let Err(error) = self.audit.record_by(target, caller, event, now).await {
            tracing::error!(%error, release = write.number, "release applied, audit entry not written");
        }
        Ok(applied)
    }

    /// Drops what this node and the others cached of what the release changed.
    async fn forget_released(&self, target: &Environment, write: &ReleaseWrite) {
        if write.settings.is_some() {
            self.zones.forget_environment(target).await;
            if let Ok(config) = self.export(target).await {
                for domain in config.domains {
                    self.zones.forget_host(&domain.host).await;
                }
            }
        }
        let clients = write
            .changed_clients
            .iter()
            .chain(&write.new_clients)
            .map(|client| &client.client_id)
            .chain(&write.deleted_clients)
            .chain(write.grants.iter().map(|(client_id, _, _)| client_id))
            .chain(write.removed_grants.iter().map(|(client_id, _)| client_id));
        for client_id in clients.collect::<BTreeSet<_>>() {
            self.clients.forget(target, client_id).await;
        }
        let endpoints = !write.new_endpoints.is_empty()
            || !write.changed_endpoints.is_empty()
            || !write.deleted_endpoints.is_empty();
        if endpoints {
            self.audit.events().forget(&target.id).await;
        }
    }

    /// The policy, account flows and limits `desired` asks for, checked; `None` when unchanged.
    fn settings(
        &self,
        target: &Environment,
        desired: &EnvConfig,
    ) -> Result<Option<(EnvPolicy, AccountPolicy, RateLimits)>, Error> {
        let (wanted, accounts, limits) = (&desired.policy, &desired.accounts, &desired.limits);
        let policy = EnvPolicy {
            access_token_ttl: wanted.access_token_ttl,
            id_token_ttl: wanted.id_token_ttl,
            refresh_token_ttl: wanted.refresh_token_ttl,
            refresh_family_ttl: wanted.refresh_family_ttl,
            code_ttl: target.policy.code_ttl,
            session_ttl: wanted.session_ttl,
        };
        let text = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(String::from)
        };
        let accounts = AccountPolicy {
            signup: accounts.signup,
            require_verified_email: accounts.require_verified_email,
            password_min_length: accounts.password_min_length,
            mail_from: text(&accounts.mail_from),
            product_name: text(&accounts.product_name),
        };
        let limits = RateLimits {
            token_requests_per_minute: limits.token_requests_per_minute,
            signin_failures_per_minute: limits.signin_failures_per_minute,
            lockout_threshold: limits.lockout_threshold,
        };
        if policy == target.policy && accounts == target.accounts && limits == target.limits {
            return Ok(None);
        }
        check_lifetimes(&policy).map_err(|e| within("policy", e))?;
        check_accounts(target, &accounts, self.smtp_configured)
            .map_err(|e| within("accounts", e))?;
        check_limits(&limits).map_err(|e| within("limits", e))?;
        Ok(Some((policy, accounts, limits)))
    }

    /// The APIs `desired` asks for, by identifier: created, changed, deleted. Returns each
    /// identifier's API id in the target after the release.
    async fn apis(
        &self,
        target: &Environment,
        desired: &EnvConfig,
        write: &mut ReleaseWrite,
        now: i64,
    ) -> Result<ReleasedApis, Error> {
        let current = self.store(target).list_apis().await?;
        let mut ids = BTreeMap::new();
        for (at, wanted) in desired.apis.iter().enumerate() {
            let path = format!("apis[{at}] ({})", wanted.identifier);
            if ids.contains_key(&wanted.identifier) {
                return Err(Error::Invalid(format!("{path}: listed twice")));
            }
            let api = match current.iter().find(|a| a.identifier == wanted.identifier) {
                Some(existing) => {
                    let api = configured_api(existing.clone(), wanted, &path)?;
                    if &api != existing {
                        write.changed_apis.push(api.clone());
                    }
                    api
                }
                None => {
                    let fresh = Api {
                        env_id: target.id.clone(),
                        api_id: ApiId::new(format!("api_{}", secrets::random_id())),
                        identifier: wanted.identifier.clone(),
                        scopes: Vec::new(),
                        access_token_ttl: None,
                        signing_alg: SigningAlg::RS256,
                        created_at: now,
                    };
                    let api = configured_api(fresh, wanted, &path)?;
                    write.new_apis.push(api.clone());
                    api
                }
            };
            ids.insert(api.identifier.clone(), (api.api_id, api.scopes));
        }
        write.deleted_apis = current
            .into_iter()
            .filter(|api| !ids.contains_key(&api.identifier))
            .map(|api| api.api_id)
            .collect();
        Ok(ids)
    }

    /// The clients `desired` asks for, by name. A client whose kind (public or not) or way of
    /// authenticating changes is replaced: a new one, with new credentials. Returns each name's
    /// client id after the release, with whether it is new.
    async fn clients(
        &self,
        target: &Environment,
        desired: &EnvConfig,
        write: &mut ReleaseWrite,
        applied: &mut AppliedRelease,
        now: i64,
    ) -> Result<ReleasedClients, Error> {
        let admin = ClientAdmin {
            db: self.db,
            clients: self.clients,
            audit: self.audit,
        };
        let current = self.store(target).list_clients().await?;
        let mut ids = BTreeMap::new();
        for (at, wanted) in desired.clients.iter().enumerate() {
            let path = format!("clients[{at}] ({})", wanted.name);
            if ids.contains_key(&wanted.name) {
                return Err(Error::Invalid(format!("{path}: the name is listed twice")));
            }
            let mut same_name = current.iter().filter(|c| c.name == wanted.name);
            let existing = same_name.next();
            if same_name.next().is_some() {
                return Err(Error::Invalid(format!(
                    "{path}: {} has several clients of this name; rename all but one first",
                    target.slug()
                )));
            }
            let request = new_client(wanted, &path)?;
            let method = request.token_endpoint_auth_method;
            let kept = existing.filter(|c| {
                c.public == request.public && Some(c.token_endpoint_auth_method) == method
            });
            match (existing, kept) {
                (_, Some(existing)) => {
                    let client = configured_client(existing.clone(), request);
                    admin.check(target, &client).map_err(|e| within(&path, e))?;
                    if &client != existing {
                        write.changed_clients.push(client);
                    }
                    ids.insert(wanted.name.clone(), (existing.client_id.clone(), false));
                }
                (replaced, None) => {
                    if let Some(replaced) = replaced {
                        write.deleted_clients.push(replaced.client_id.clone());
                    }
                    let (client, secret) = admin
                        .prepare(target, request, false, now)
                        .map_err(|e| within(&path, e))?;
                    if let Some(secret) = secret {
                        applied.credentials.push(MintedCredential {
                            kind: "client",
                            name: client.name.clone(),
                            id: client.client_id.to_string(),
                            secret,
                        });
                    }
                    ids.insert(wanted.name.clone(), (client.client_id.clone(), true));
                    write.new_clients.push(client);
                }
            }
        }
        write.deleted_clients.extend(
            current
                .into_iter()
                .filter(|client| !ids.contains_key(&client.name))
                .map(|client| client.client_id),
        );
        Ok(ids)
    }

    /// Each client's API grants as `desired` lists them: set where they differ, removed where
    /// it lists none.
    async fn grants(
        &self,
        target: &Environment,
        desired: &EnvConfig,
        (apis, clients): (&ReleasedApis, &ReleasedClients),
        write: &mut ReleaseWrite,
    ) -> Result<(), Error> {
        let store = self.store(target);
        for (at, wanted) in desired.clients.iter().enumerate() {
            let Some((client_id, new)) = clients.get(&wanted.name) else {
                continue;
            };
            let held = match new {
                true => Vec::new(),
                false => store.api_grants_of_client(client_id).await?,
            };
            let mut granted = BTreeSet::new();
            for grant in &wanted.api_grants {
                let path = format!(
                    "clients[{at}] ({}): api_grants ({})",
                    wanted.name, grant.api
                );
                let Some((api_id, scopes)) = apis.get(&grant.api) else {
                    return Err(Error::Invalid(format!(
                        "{path}: the configuration has no such API"
                    )));
                };
                if !granted.insert(api_id.clone()) {
                    return Err(Error::Invalid(format!("{path}: listed twice")));
                }
                if grant.scopes.is_empty() {
                    return Err(Error::Invalid(format!("{path}: grant at least one scope")));
                }
                if let Some(unknown) = grant.scopes.iter().find(|s| !scopes.contains(s)) {
                    return Err(Error::Invalid(format!(
                        "{path}: the API has no scope {unknown}"
                    )));
                }
                if let Some(twice) = grant
                    .scopes
                    .iter()
                    .enumerate()
                    .find_map(|(at, s)| grant.scopes[..at].contains(s).then_some(s))
                {
                    return Err(Error::Invalid(format!(
                        "{path}: scope {twice} is listed twice"
                    )));
                }
                let unchanged = held
                    .iter()
                    .any(|h| &h.api_id == api_id && h.scopes == grant.scopes);
                if !unchanged {
                    write
                        .grants
                        .push((client_id.clone(), api_id.clone(), grant.scopes.clone()));
                }
            }
            write.removed_grants.extend(
                held.into_iter()
                    .filter(|h| !granted.contains(&h.api_id))
                    .map(|h| (client_id.clone(), h.api_id)),
            );
        }
        Ok(())
    }

    /// The webhook endpoints `desired` asks for, by URL; new ones get a signing secret, shown
    /// once.
    async fn endpoints(
        &self,
        target: &Environment,
        desired: &EnvConfig,
        write: &mut ReleaseWrite,
        applied: &mut AppliedRelease,
        now: i64,
    ) -> Result<(), Error> {
        if desired.webhooks.len() > MAX_ENDPOINTS {
            return Err(Error::Invalid(format!(
                "webhooks: an environment has at most {MAX_ENDPOINTS} webhook endpoints"
            )));
        }
        let admin = WebhookAdmin {
            db: self.db,
            audit: self.audit,
            sender: self.sender,
        };
        let current = self.store(target).list_endpoints().await?;
        let mut kept = BTreeSet::new();
        for (at, wanted) in desired.webhooks.iter().enumerate() {
            let path = format!("webhooks[{at}] ({})", wanted.url);
            let (url, events, description) =
                checked_endpoint(&admin, target, wanted).map_err(|e| within(&path, e))?;
            if !kept.insert(url.clone()) {
                return Err(Error::Invalid(format!("{path}: listed twice")));
            }
            match current.iter().find(|endpoint| endpoint.url == url) {
                Some(existing) => {
                    if existing.events != events || existing.description != description {
                        let mut endpoint = existing.clone();
                        endpoint.events = events;
                        endpoint.description = description;
                        endpoint.updated_at = now;
                        write.changed_endpoints.push(endpoint);
                    }
                }
                None => {
                    let endpoint_id = format!("we_{}", secrets::random_id());
                    let secret = secrets::webhook_secret();
                    applied.credentials.push(MintedCredential {
                        kind: "webhook",
                        name: url.clone(),
                        id: endpoint_id.clone(),
                        secret: Secret::new(secret.clone()),
                    });
                    write.new_endpoints.push(WebhookEndpoint {
                        env_id: target.id.clone(),
                        url,
                        description,
                        events,
                        enabled: true,
                        disabled_reason: None,
                        secret_sealed: self.sender.seal_secret(&secret, &endpoint_id),
                        previous_secret_sealed: None,
                        previous_secret_until: None,
                        created_at: now,
                        updated_at: now,
                        health: EndpointHealth::default(),
                        endpoint_id,
                    });
                }
            }
        }
        write.deleted_endpoints = current
            .into_iter()
            .filter(|endpoint| !kept.contains(&endpoint.url))
            .map(|endpoint| endpoint.endpoint_id)
            .collect();
        Ok(())
    }
}

/// The failed go-live checks `accept` names, or why the plan may not be applied.
fn checked_acceptance(
    planned: &ConfigurationPlan,
    accept: &[String],
) -> Result<Vec<String>, Error> {
    if let Some(unknown) = accept.iter().find(|name| {
        !planned
            .checks
            .iter()
            .any(|check| check.name == name.as_str())
    }) {
        let known: Vec<&str> = planned.checks.iter().map(|check| check.name).collect();
        return Err(Error::Invalid(match known.is_empty() {
            true => format!("--accept {unknown}: a test zone has no go-live check"),
            false => format!("--accept {unknown}: the checks are {}", known.join(", ")),
        }));
    }
    let failed: Vec<&str> = planned
        .checks
        .iter()
        .filter(|check| !check.passed)
        .map(|check| check.name)
        .collect();
    let blocking: Vec<&str> = failed
        .iter()
        .copied()
        .filter(|name| !accept.iter().any(|accepted| accepted == name))
        .collect();
    if !blocking.is_empty() {
        return Err(Error::Invalid(format!(
            "the go-live check failed: {} (fix it, or apply anyway with --accept {})",
            blocking.join(", "),
            blocking.join(" --accept ")
        )));
    }
    Ok(failed.into_iter().map(String::from).collect())
}

/// An error about the part of the configuration at `path`.
fn within(path: &str, error: Error) -> Error {
    match error {
        Error::Invalid(why) => Error::Invalid(format!("{path}: {why}")),
        other => other,
    }
}

fn alg(name: &str, path: &str) -> Result<SigningAlg, Error> {
    SigningAlg::parse(name)
        .ok_or_else(|| Error::Invalid(format!("{path}: unknown signing algorithm {name}")))
}

/// `api` with the settings `wanted` gives it, checked.
fn configured_api(mut api: Api, wanted: &ApiConfig, path: &str) -> Result<Api, Error> {
    api.scopes = wanted.scopes.clone();
    api.access_token_ttl = wanted.access_token_ttl;
    api.signing_alg = alg(&wanted.signing_alg, path)?;
    check_api(&api).map_err(|e| within(path, e))?;
    Ok(api)
}

/// The registration `wanted` describes.
fn new_client(wanted: &ClientConfig, path: &str) -> Result<NewClient, Error> {
    let method = TokenAuthMethod::parse(&wanted.token_endpoint_auth_method).ok_or_else(|| {
        Error::Invalid(format!(
            "{path}: unknown token_endpoint_auth_method {}",
            wanted.token_endpoint_auth_method
        ))
    })?;
    Ok(NewClient {
        name: wanted.name.clone(),
        redirect_uris: wanted.redirect_uris.clone(),
        post_logout_redirect_uris: wanted.post_logout_redirect_uris.clone(),
        public: wanted.public,
        first_party: wanted.first_party,
        id_token_signed_response_alg: alg(&wanted.id_token_signed_response_alg, path)?,
        token_endpoint_auth_method: Some(method),
        jwks: wanted.jwks.clone(),
        jwks_uri: wanted.jwks_uri.clone(),
    })
}

/// `client` with the settings of `request` (its id, secret and kind stay).
fn configured_client(mut client: Client, request: NewClient) -> Client {
    client.redirect_uris = request.redirect_uris;
    client.post_logout_redirect_uris = request.post_logout_redirect_uris;
    client.first_party = request.first_party;
    client.id_token_signed_response_alg = request.id_token_signed_response_alg;
    client.jwks = request.jwks;
    client.jwks_uri = request.jwks_uri;
    client
}

/// An endpoint's URL, events and description as they would be stored, checked.
fn checked_endpoint(
    admin: &WebhookAdmin<'_>,
    target: &Environment,
    wanted: &WebhookConfig,
) -> Result<(String, Vec<String>, String), Error> {
    let url = admin.checked_url(target, &wanted.url)?;
    let events = checked_events(Some(&wanted.events.join(",")))?;
    let description = checked_description(wanted.description.clone())?;
    Ok((url, events, description))
}
