//! Idempotent demo seeding: project `demo` with a `sandbox` (test) and a `production` (live)
//! environment, one confidential client and one user in each. Secrets are shown only when created.

use serde::Serialize;

use super::admin::clients::NewClient;
use super::admin::users::NewUser;
use super::{Airlock, Caller, Error};
use crate::crypto::secrets;
use crate::model::{EnvKind, Environment, Secret, SigningAlg};
use crate::oidc::endpoints::Endpoint;

pub const PROJECT: &str = "demo";
const CLIENT_NAME: &str = "demo-app";
const USER_EMAIL: &str = "alice@example.com";
/// Where the demo sandbox client is sent back to: a page of this server that shows the result.
pub const CALLBACK_PATH: &str = "/quickstart/callback";

#[derive(Debug, Clone, Serialize)]
pub struct DemoEnvironment {
    pub environment: String,
    pub kind: EnvKind,
    pub issuer: String,
    pub client_id: String,
    /// Present only on the run that created the client.
    pub client_secret: Option<Secret>,
    pub redirect_uri: String,
    pub user_email: String,
    /// Present only on the run that created the user.
    pub user_password: Option<Secret>,
    pub authorization_url: String,
}

/// Seeds the demo project, creating only what is missing.
pub async fn seed(airlock: &Airlock, now: i64) -> Result<Vec<DemoEnvironment>, Error> {
    let operator = Caller::cli();
    airlock.projects().ensure(PROJECT, &operator, now).await?;
    let sandbox_callback = format!("{}{CALLBACK_PATH}", airlock.public_url());
    let zones = [
        ("sandbox", EnvKind::Test, sandbox_callback),
        (
            "production",
            EnvKind::Live,
            "https://app.example.com/callback".to_string(),
        ),
    ];
    let mut report = Vec::new();
    for (name, kind, redirect_uri) in zones {
        let found = airlock
            .admin_access()
            .environment(&operator, PROJECT, name, now)
            .await;
        let environment = match found {
            Ok(environment) => environment,
            Err(Error::NotFound) => {
                airlock
                    .environments()
                    .create(PROJECT, name, kind, &operator, now)
                    .await?
            }
            Err(other) => return Err(other),
        };
        report.push(seed_environment(airlock, &environment, redirect_uri, now).await?);
    }
    Ok(report)
}

async fn seed_environment(
    airlock: &Airlock,
    environment: &Environment,
    redirect_uri: String,
    now: i64,
) -> Result<DemoEnvironment, Error> {
    let operator = Caller::cli();
    let clients = airlock.clients();
    let registered = clients.list(environment).await?;
    let existing = registered
        .into_iter()
        .find(|client| client.name == CLIENT_NAME);
    let (client_id, client_secret) = match existing {
        Some(client) => (client.client_id, None),
        None => {
            let request = NewClient {
                name: CLIENT_NAME.into(),
                redirect_uris: vec![redirect_uri.clone()],
                post_logout_redirect_uris: Vec::new(),
                public: false,
                first_party: false,
                id_token_signed_response_alg: SigningAlg::RS256,
                token_endpoint_auth_method: None,
                jwks: None,
                jwks_uri: None,
            };
            let issued = clients.create(environment, request, &operator, now).await?;
            (issued.client.client_id, issued.client_secret)
        }
    };
    let users = airlock.users();
    let known = users.list(environment).await?;
    let user_password = match known.iter().find(|user| user.email == USER_EMAIL) {
        Some(_) => None,
        None => {
            let password = Secret::new(&secrets::random_token()[..20]);
            let new = NewUser {
                email: USER_EMAIL.into(),
                password: password.clone(),
                name: Some("Alice Demo".into()),
            };
            users.create(environment, new, &operator, now).await?;
            Some(password)
        }
    };
    let issuer = airlock.zones().path_issuer(environment);
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id.as_str())
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("scope", "openid profile email")
        .append_pair("state", "demo-state")
        .append_pair("nonce", "demo-nonce")
        .finish();
    Ok(DemoEnvironment {
        environment: environment.slug(),
        kind: environment.kind,
        issuer: issuer.as_str().to_string(),
        client_id: client_id.to_string(),
        client_secret,
        redirect_uri,
        user_email: USER_EMAIL.into(),
        user_password,
        authorization_url: format!(
            "{}?{query}",
            issuer.endpoint(Endpoint::Authorization.path())
        ),
    })
}
