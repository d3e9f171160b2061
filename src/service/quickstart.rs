//! Idempotent demo seeding: project `demo` with a `sandbox` (test) and a `production` (live)
//! environment, one confidential client and one user in each. Secrets are shown only when created.

use serde::Serialize;

use super::admin::NewClient;
use super::{Airlock, Caller, Error};
use crate::crypto::secrets;
use crate::model::{EnvKind, Environment, SigningAlg};
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
    pub client_secret: Option<String>,
    pub redirect_uri: String,
    pub user_email: String,
    /// Present only on the run that created the user.
    pub user_password: Option<String>,
    pub authorization_url: String,
}

impl Airlock {
    pub async fn quickstart(&self, now: i64) -> Result<Vec<DemoEnvironment>, Error> {
        if self.db.find_project(PROJECT).await?.is_none() {
            self.create_project(PROJECT, now).await?;
        }
        let sandbox_callback = format!("{}{CALLBACK_PATH}", self.config.public_url);
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
            let environment = match self.db.find_environment(PROJECT, name).await? {
                Some(environment) => environment,
                None => self.create_environment(PROJECT, name, kind, now).await?,
            };
            report.push(self.seed(&environment, redirect_uri, now).await?);
        }
        Ok(report)
    }

    async fn seed(
        &self,
        environment: &Environment,
        redirect_uri: String,
        now: i64,
    ) -> Result<DemoEnvironment, Error> {
        let store = self.env_store(environment);
        let (client_id, client_secret) = match store.find_client_by_name(CLIENT_NAME).await? {
            Some(client) => (client.client_id, None),
            None => {
                let issued = self
                    .create_client(
                        environment,
                        NewClient {
                            name: CLIENT_NAME.into(),
                            redirect_uris: vec![redirect_uri.clone()],
                            post_logout_redirect_uris: Vec::new(),
                            public: false,
                            first_party: false,
                            id_token_signed_response_alg: SigningAlg::RS256,
                        },
                        &Caller::cli(),
                        now,
                    )
                    .await?;
                (issued.client.client_id, issued.client_secret)
            }
        };
        let user_password = match store.find_user_by_email(USER_EMAIL).await? {
            Some(_) => None,
            None => {
                let password = secrets::random_token()[..20].to_string();
                self.create_user(
                    environment,
                    USER_EMAIL,
                    password.clone(),
                    Some("Alice Demo".into()),
                    &Caller::cli(),
                    now,
                )
                .await?;
                Some(password)
            }
        };
        let issuer = self.path_issuer(environment);
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", &client_id)
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("scope", "openid profile email")
            .append_pair("state", "demo-state")
            .append_pair("nonce", "demo-nonce")
            .finish();
        Ok(DemoEnvironment {
            environment: environment.slug(),
            kind: environment.kind,
            issuer: issuer.as_str().to_string(),
            client_id,
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
}
