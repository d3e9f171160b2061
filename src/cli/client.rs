//! `airlock client …`

use clap::{Args, Subcommand};
use serde_json::json;

use super::Context;
use super::output::{SHOWN_ONCE, lines, print};
use crate::model::{ApiGrant, ClientId, Secret, SigningAlg, TokenAuthMethod};
use crate::service::admin::clients::{ClientChanges, NewClient};

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client; its secret is printed once.
    Create(ClientCreate),
    /// Issue a new client secret; the old one stops working at once.
    RotateSecret { slug: String, client_id: String },
    /// The clients of an environment.
    List { slug: String },
    /// One client's registration.
    Show { slug: String, client_id: String },
    /// Change a client's registration; list options replace the whole list.
    Update(ClientUpdate),
    /// Delete a client and everything issued to it.
    Delete { slug: String, client_id: String },
    /// Let a client ask for scopes of an API (all of them when no --scope is given).
    Grant(ClientApiGrant),
    /// Take scopes of an API back from a client (all of them when no --scope is given).
    Revoke(ClientApiGrant),
    /// The APIs a client may ask for, with their scopes.
    Apis { slug: String, client_id: String },
}

#[derive(Debug, Args)]
pub struct ClientApiGrant {
    slug: String,
    client_id: String,
    /// The API, by identifier or id.
    #[arg(long)]
    api: String,
    #[arg(long = "scope")]
    scopes: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ClientCreate {
    /// PROJECT/ENV
    slug: String,
    #[arg(long)]
    name: String,
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// Where RP-initiated logout may return (exact match; repeatable).
    #[arg(long = "post-logout-redirect-uri")]
    post_logout_redirect_uris: Vec<String>,
    /// A public client (no secret, PKCE required).
    #[arg(long)]
    public: bool,
    /// Skip the consent screen.
    #[arg(long)]
    first_party: bool,
    /// Signing algorithm of this client's ID and access tokens.
    #[arg(long = "id-token-signed-response-alg", default_value = "RS256", value_parser = ["RS256", "ES256"])]
    alg: String,
    /// How it authenticates (default: client_secret_basic, or none for a public client).
    #[arg(long = "token-endpoint-auth-method", value_parser = ["client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"])]
    auth_method: Option<String>,
    #[command(flatten)]
    keys: ClientKeysArgs,
}

/// Where a `private_key_jwt` client's public keys are.
#[derive(Debug, Args)]
pub struct ClientKeysArgs {
    /// A file holding its JWKS (`{"keys": [...]}`, public keys only).
    #[arg(long = "jwks-file", conflicts_with = "jwks_uri")]
    jwks_file: Option<std::path::PathBuf>,
    /// The URL its JWKS is published at.
    #[arg(long = "jwks-uri")]
    jwks_uri: Option<String>,
}

impl ClientKeysArgs {
    /// The inline JWKS (read from its file) and the URL, as given.
    fn read(self) -> anyhow::Result<(Option<serde_json::Value>, Option<String>)> {
        let jwks = match self.jwks_file {
            None => None,
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|error| anyhow::anyhow!("cannot read {}: {error}", path.display()))?;
                Some(
                    serde_json::from_str(&text).map_err(|error| {
                        anyhow::anyhow!("{} is not JSON: {error}", path.display())
                    })?,
                )
            }
        };
        Ok((jwks, self.jwks_uri))
    }
}

#[derive(Debug, Args)]
pub struct ClientUpdate {
    slug: String,
    client_id: String,
    #[arg(long)]
    name: Option<String>,
    #[arg(long = "redirect-uri")]
    redirect_uris: Option<Vec<String>>,
    #[arg(long = "post-logout-redirect-uri")]
    post_logout_redirect_uris: Option<Vec<String>>,
    #[arg(long)]
    first_party: Option<bool>,
    #[arg(long = "id-token-signed-response-alg", value_parser = ["RS256", "ES256"])]
    alg: Option<String>,
    /// New keys for a private_key_jwt client (replacing the other source).
    #[command(flatten)]
    keys: ClientKeysArgs,
}

impl ClientCommand {
    /// The environment every client command acts in.
    fn slug(&self) -> &str {
        match self {
            ClientCommand::Create(args) => &args.slug,
            ClientCommand::Update(args) => &args.slug,
            ClientCommand::Grant(args) | ClientCommand::Revoke(args) => &args.slug,
            ClientCommand::RotateSecret { slug, .. }
            | ClientCommand::Apis { slug, .. }
            | ClientCommand::List { slug }
            | ClientCommand::Show { slug, .. }
            | ClientCommand::Delete { slug, .. } => slug,
        }
    }
}

impl ClientCreate {
    fn into_request(self) -> anyhow::Result<NewClient> {
        let (jwks, jwks_uri) = self.keys.read()?;
        Ok(NewClient {
            name: self.name,
            redirect_uris: self.redirect_uris,
            post_logout_redirect_uris: self.post_logout_redirect_uris,
            public: self.public,
            first_party: self.first_party,
            id_token_signed_response_alg: SigningAlg::parse(&self.alg).unwrap_or(SigningAlg::RS256),
            token_endpoint_auth_method: self
                .auth_method
                .as_deref()
                .and_then(TokenAuthMethod::parse),
            jwks,
            jwks_uri,
        })
    }
}

/// A client's scopes of one API, as printed.
fn held_text(held: &ApiGrant) -> String {
    match held.scopes.is_empty() {
        true => format!("{}: no scopes (no grant)", held.identifier),
        false => format!("{}: {}", held.identifier, held.scopes.join(" ")),
    }
}

/// The client as printed, with its secret when one was just issued.
fn issued_text(client_id: &ClientId, secret: Option<&Secret>) -> String {
    let mut text = format!("client_id: {client_id}");
    if let Some(secret) = secret {
        text.push_str(&format!(
            "\nclient_secret: {}\n{SHOWN_ONCE}",
            secret.expose()
        ));
    }
    text
}

pub async fn run(command: ClientCommand, context: &Context) -> anyhow::Result<()> {
    let (clients, apis) = (context.airlock.clients(), context.airlock.apis());
    let environment = context.environment(command.slug()).await?;
    let (environment, operator, now, json) =
        (&environment, &context.operator, context.now, context.json);
    match command {
        ClientCommand::Create(args) => {
            let issued = clients
                .create(environment, args.into_request()?, operator, now)
                .await?;
            let mut shown = serde_json::to_value(&issued.client)?;
            if let Some(secret) = &issued.client_secret {
                shown["client_secret"] = json!(secret);
            }
            let secret = issued.client_secret.as_ref();
            print(json, &shown, || {
                issued_text(&issued.client.client_id, secret)
            });
        }
        ClientCommand::RotateSecret { client_id, .. } => {
            let client_id = ClientId::from(client_id);
            let secret = clients
                .rotate_secret(environment, &client_id, operator, now)
                .await?;
            let value = json!({ "client_id": client_id, "client_secret": secret });
            print(json, &value, || issued_text(&client_id, Some(&secret)));
        }
        ClientCommand::List { .. } => {
            let registered = clients.list(environment).await?;
            print(json, &registered, || {
                lines(&registered, |c| format!("{}  {}", c.client_id, c.name))
            });
        }
        ClientCommand::Show { client_id, .. } => {
            let client = clients.find(environment, &client_id.into()).await?;
            let text = serde_json::to_string_pretty(&client)?;
            print(json, &client, || text);
        }
        ClientCommand::Update(args) => {
            let (jwks, jwks_uri) = args.keys.read()?;
            // A new source of keys replaces the other one.
            let (jwks, jwks_uri) = match (jwks, jwks_uri) {
                (Some(jwks), _) => (Some(Some(jwks)), Some(None)),
                (None, Some(uri)) => (Some(None), Some(Some(uri))),
                (None, None) => (None, None),
            };
            let changes = ClientChanges {
                jwks,
                jwks_uri,
                name: args.name,
                redirect_uris: args.redirect_uris,
                post_logout_redirect_uris: args.post_logout_redirect_uris,
                first_party: args.first_party,
                id_token_signed_response_alg: args.alg.as_deref().and_then(SigningAlg::parse),
            };
            let client_id = ClientId::from(args.client_id);
            let client = clients
                .update(environment, &client_id, changes, operator, now)
                .await?;
            print(json, &client, || {
                format!("client {} updated", client.client_id)
            });
        }
        ClientCommand::Grant(args) => {
            let client_id = ClientId::from(args.client_id);
            let held = apis
                .grant(
                    environment,
                    &client_id,
                    (&args.api, args.scopes),
                    operator,
                    now,
                )
                .await?;
            print(json, &held, || held_text(&held));
        }
        ClientCommand::Revoke(args) => {
            let client_id = ClientId::from(args.client_id);
            let held = apis
                .revoke(
                    environment,
                    &client_id,
                    (&args.api, args.scopes),
                    operator,
                    now,
                )
                .await?;
            print(json, &held, || held_text(&held));
        }
        ClientCommand::Apis { client_id, .. } => {
            let grants = apis.grants_of(environment, &client_id.into()).await?;
            print(json, &grants, || lines(&grants, held_text));
        }
        ClientCommand::Delete { client_id, .. } => {
            let client_id = ClientId::from(client_id);
            clients
                .delete(environment, &client_id, operator, now)
                .await?;
            print(json, &json!({ "deleted": client_id }), || {
                format!("client {client_id} deleted")
            });
        }
    }
    Ok(())
}
