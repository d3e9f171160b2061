//! Configuration as data: an environment's configuration exported as a document, and the plan of
//! making an environment match a document, or another environment (promotion), with the go-live
//! check a live environment must pass.

use serde::Serialize;

use crate::model::{DomainState, EnvKind, Environment};
use crate::promotion::document::{
    AccountsConfig, ApiConfig, ApiGrantConfig, ClientConfig, DomainConfig, LimitsConfig,
    PolicyConfig, VERSION, WebhookConfig,
};
use crate::promotion::{self, Check, EnvConfig, Plan, TargetFacts, UriMap};
use crate::service::audit_log::AuditLog;
use crate::service::clients::ClientDirectory;
use crate::service::fixtures::FIXTURE_CLIENTS;
use crate::service::webhooks::Sender;
use crate::service::zones::ZoneDirectory;
use crate::service::{Caller, Error};
use crate::store::{Db, EnvStore};

/// What applying a configuration to an environment would do, and whether the target is ready.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigurationPlan {
    pub target: String,
    /// The configuration the target would have.
    pub desired: EnvConfig,
    pub plan: Plan,
    /// The go-live check (live targets), each by name.
    pub checks: Vec<Check>,
    /// Something worth a second look that no check covers (promoting live into test).
    pub warnings: Vec<String>,
    /// The release the target was at when this plan was made: applying it makes the next one,
    /// unless another release got in first.
    pub base_release: i64,
}

pub struct ConfigurationAdmin<'a> {
    pub(in crate::service) db: &'a Db,
    pub(in crate::service) smtp_configured: bool,
    pub(in crate::service) zones: &'a ZoneDirectory,
    pub(in crate::service) clients: &'a ClientDirectory,
    pub(in crate::service) audit: &'a AuditLog,
    pub(in crate::service) sender: &'a Sender,
}

impl ConfigurationAdmin<'_> {
    pub(super) fn store<'s>(&'s self, environment: &'s Environment) -> EnvStore<'s> {
        EnvStore::new(self.db, &environment.id)
    }

    /// The environment's configuration: no secret, user, session, grant, key or audit entry.
    pub async fn export(&self, environment: &Environment) -> Result<EnvConfig, Error> {
        let store = self.store(environment);
        let apis = store
            .list_apis()
            .await?
            .into_iter()
            .map(|api| ApiConfig {
                identifier: api.identifier,
                scopes: api.scopes,
                access_token_ttl: api.access_token_ttl,
                signing_alg: api.signing_alg.as_str().to_string(),
            })
            .collect();
        let mut clients = Vec::new();
        for client in store.list_clients().await? {
            let api_grants = store
                .api_grants_of_client(&client.client_id)
                .await?
                .into_iter()
                .map(|grant| ApiGrantConfig {
                    api: grant.identifier,
                    scopes: grant.scopes,
                })
                .collect();
            clients.push(ClientConfig {
                name: client.name,
                redirect_uris: client.redirect_uris,
                post_logout_redirect_uris: client.post_logout_redirect_uris,
                public: client.public,
                first_party: client.first_party,
                id_token_signed_response_alg: client.id_token_signed_response_alg.as_str().into(),
                token_endpoint_auth_method: client.token_endpoint_auth_method.as_str().into(),
                jwks: client.jwks,
                jwks_uri: client.jwks_uri,
                api_grants,
            });
        }
        let webhooks = store
            .list_endpoints()
            .await?
            .into_iter()
            .map(|endpoint| WebhookConfig {
                url: endpoint.url,
                events: endpoint.events,
                description: Some(endpoint.description).filter(|d| !d.is_empty()),
            })
            .collect();
        let domains = self
            .db
            .list_domains(Some(&environment.id), 0)
            .await?
            .into_iter()
            .map(|domain| DomainConfig { host: domain.host })
            .collect();
        let (policy, accounts, limits) = (
            &environment.policy,
            &environment.accounts,
            &environment.limits,
        );
        Ok(EnvConfig {
            version: VERSION,
            policy: PolicyConfig {
                access_token_ttl: policy.access_token_ttl,
                id_token_ttl: policy.id_token_ttl,
                refresh_token_ttl: policy.refresh_token_ttl,
                refresh_family_ttl: policy.refresh_family_ttl,
                session_ttl: policy.session_ttl,
            },
            accounts: AccountsConfig {
                signup: accounts.signup,
                require_verified_email: accounts.require_verified_email,
                password_min_length: accounts.password_min_length,
                mail_from: accounts.mail_from.clone(),
                product_name: accounts.product_name.clone(),
            },
            limits: LimitsConfig {
                token_requests_per_minute: limits.token_requests_per_minute,
                signin_failures_per_minute: limits.signin_failures_per_minute,
                lockout_threshold: limits.lockout_threshold,
            },
            apis,
            clients,
            webhooks,
            domains,
        })
    }

    /// What the go-live check needs to know of `target` (and of the `source` of a promotion).
    async fn facts(
        &self,
        target: &Environment,
        source: Option<&EnvConfig>,
    ) -> Result<TargetFacts, Error> {
        let webhook_urls = self
            .store(target)
            .list_endpoints()
            .await?
            .into_iter()
            .filter(|endpoint| endpoint.enabled)
            .map(|endpoint| endpoint.url)
            .collect();
        let active_domains = self
            .db
            .list_domains(Some(&target.id), 0)
            .await?
            .into_iter()
            .filter(|domain| domain.state == DomainState::Active)
            .map(|domain| domain.host)
            .collect();
        Ok(TargetFacts {
            kind: target.kind,
            smtp_configured: self.smtp_configured,
            webhook_urls,
            source_webhook_urls: source
                .map(|source| source.webhooks.iter().map(|w| w.url.clone()).collect())
                .unwrap_or_default(),
            active_domains,
            fixture_clients: FIXTURE_CLIENTS
                .iter()
                .map(|(name, _)| name.to_string())
                .collect(),
        })
    }

    /// The plan of making `target` match `desired`, with the go-live check when it is live.
    pub(super) async fn plan_for(
        &self,
        target: &Environment,
        desired: EnvConfig,
        source: Option<&EnvConfig>,
    ) -> Result<ConfigurationPlan, Error> {
        let base_release = self.store(target).latest_release().await?;
        let current = self.export(target).await?;
        let plan = promotion::plan(&current, &desired);
        let checks = match target.kind {
            EnvKind::Live => {
                promotion::go_live::go_live(&desired, &self.facts(target, source).await?)
            }
            EnvKind::Test => Vec::new(),
        };
        Ok(ConfigurationPlan {
            target: target.slug(),
            desired,
            plan,
            checks,
            warnings: Vec::new(),
            base_release,
        })
    }

    /// What making `target` match the document `text` would change (`env apply --plan`).
    pub async fn plan_document(
        &self,
        target: &Environment,
        (text, format): (&str, promotion::Format),
        caller: &Caller,
    ) -> Result<ConfigurationPlan, Error> {
        caller.require_installation()?;
        let desired = EnvConfig::parse(text, format).map_err(Error::Invalid)?;
        self.plan_for(target, desired, None).await
    }

    /// What promoting `source` into `target` would change (`promote --plan`): the source's
    /// settings, APIs and clients with their URIs mapped; the target's own webhooks and domains.
    pub async fn plan_promotion(
        &self,
        (source, target): (&Environment, &Environment),
        maps: &[UriMap],
        caller: &Caller,
    ) -> Result<ConfigurationPlan, Error> {
        caller.require_installation()?;
        if source.id == target.id {
            return Err(Error::Invalid(
                "promote from one environment into another".into(),
            ));
        }
        let (from, into) = (self.export(source).await?, self.export(target).await?);
        let desired = promotion::promoted(&from, &into, maps);
        let mut planned = self.plan_for(target, desired, Some(&from)).await?;
        if source.kind == EnvKind::Live && target.kind == EnvKind::Test {
            planned.warnings.push(format!(
                "{} is live and {} is test: this copies production's configuration into a test zone",
                source.slug(),
                target.slug()
            ));
        }
        Ok(planned)
    }
}
