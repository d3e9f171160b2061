//! Fixtures of a test environment: users in known states, each with the documented password, and
//! a confidential and a public client for `http://localhost:3000/callback`. Idempotent: seeding
//! again changes nothing and reports the same ids; secrets are shown when made (or when
//! `reset_secrets` makes new ones).

use serde::Serialize;

use super::admin::clients::NewClient;
use super::admin::users::{NewUser, UserChanges};
use super::{Airlock, Call, Caller, Error};
use crate::model::{EnvKind, Environment, Secret, SigningAlg, User, Zone};

/// The password of every fixture user.
pub const FIXTURE_PASSWORD: &str = "fixture-password";
/// The fixture clients, by name, and whether each is public.
pub(super) const FIXTURE_CLIENTS: [(&str, bool); 2] =
    [("fixture-web", false), ("fixture-spa", true)];
/// Where the fixture clients send people back.
pub const FIXTURE_REDIRECT_URI: &str = "http://localhost:3000/callback";
const LOCKED_FOR: i64 = 10 * 365 * 24 * 3600;

/// The fixture users: address and state.
const USERS: [(&str, &str); 4] = [
    ("verified@fixtures.test", "verified"),
    ("unverified@fixtures.test", "unverified"),
    ("locked@fixtures.test", "locked"),
    ("reset-pending@fixtures.test", "reset_pending"),
];

#[derive(Debug, Clone, Serialize)]
pub struct FixtureUser {
    pub email: &'static str,
    pub sub: String,
    pub state: &'static str,
    pub password: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct FixtureClient {
    pub name: &'static str,
    pub client_id: String,
    pub public: bool,
    pub redirect_uri: &'static str,
    /// Only when it was made by this seeding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Secret>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FixtureSet {
    pub users: Vec<FixtureUser>,
    pub clients: Vec<FixtureClient>,
}

impl Airlock {
    /// Seeds `environment` (a test environment) with the fixture set.
    pub async fn seed_fixtures(
        &self,
        environment: &Environment,
        reset_secrets: bool,
        caller: &Caller,
        now: i64,
    ) -> Result<FixtureSet, Error> {
        if environment.kind != EnvKind::Test {
            return Err(Error::Invalid(
                "fixtures are for test environments only; a live environment holds real people"
                    .into(),
            ));
        }
        let mut users = Vec::new();
        for (email, state) in USERS {
            let user = self
                .fixture_user(environment, (email, state), caller, now)
                .await?;
            users.push(FixtureUser {
                email,
                sub: user.user_id.to_string(),
                state,
                password: FIXTURE_PASSWORD,
            });
        }
        let mut clients = Vec::new();
        for (name, public) in FIXTURE_CLIENTS {
            clients.push(
                self.fixture_client(environment, (name, public), reset_secrets, caller, now)
                    .await?,
            );
        }
        Ok(FixtureSet { users, clients })
    }

    async fn fixture_user(
        &self,
        environment: &Environment,
        (email, state): (&'static str, &'static str),
        caller: &Caller,
        now: i64,
    ) -> Result<User, Error> {
        let users = self.users();
        if let Some(user) = users
            .list(environment)
            .await?
            .into_iter()
            .find(|user| user.email == email)
        {
            return Ok(user);
        }
        let new = NewUser {
            email: email.to_string(),
            password: Secret::new(FIXTURE_PASSWORD),
            name: Some(format!("Fixture ({state})")),
        };
        let user = users
            .create_marked(environment, (new, true), caller, now)
            .await?;
        let store = crate::store::EnvStore::new(&self.db, &environment.id);
        match state {
            "verified" => {
                let verified = UserChanges {
                    email_verified: Some(true),
                    ..UserChanges::default()
                };
                return users
                    .update(environment, &user.user_id, verified, caller, now)
                    .await;
            }
            "locked" => {
                let digest = self.account_names.hex_mac(email);
                let threshold = environment.limits.lockout_threshold.max(1);
                store
                    .lock_account_name(&digest, (threshold, now + LOCKED_FOR), now)
                    .await?;
            }
            "reset_pending" => {
                let zone = Zone {
                    issuer: std::sync::Arc::new(self.zones.path_issuer(environment)),
                    environment: std::sync::Arc::new(environment.clone()),
                };
                let call = Call {
                    zone: &zone,
                    origin: &caller.origin,
                    now,
                };
                self.accounts().send_reset(&call, email).await?;
            }
            _ => {}
        }
        Ok(user)
    }

    async fn fixture_client(
        &self,
        environment: &Environment,
        (name, public): (&'static str, bool),
        reset_secrets: bool,
        caller: &Caller,
        now: i64,
    ) -> Result<FixtureClient, Error> {
        let clients = self.clients();
        let existing = clients
            .list(environment)
            .await?
            .into_iter()
            .find(|client| client.name == name);
        let (client_id, client_secret) = match existing {
            Some(client) if reset_secrets && !public => {
                let secret = clients
                    .rotate_secret(environment, &client.client_id, caller, now)
                    .await?;
                (client.client_id, Some(secret))
            }
            Some(client) => (client.client_id, None),
            None => {
                let new = NewClient {
                    name: name.to_string(),
                    redirect_uris: vec![FIXTURE_REDIRECT_URI.to_string()],
                    post_logout_redirect_uris: vec!["http://localhost:3000/".to_string()],
                    public,
                    first_party: true,
                    id_token_signed_response_alg: SigningAlg::RS256,
                    token_endpoint_auth_method: None,
                    jwks: None,
                    jwks_uri: None,
                };
                let issued = clients.create(environment, new, caller, now).await?;
                (issued.client.client_id, issued.client_secret)
            }
        };
        Ok(FixtureClient {
            name,
            client_id: client_id.to_string(),
            public,
            redirect_uri: FIXTURE_REDIRECT_URI,
            client_secret,
        })
    }
}
