//! `airlock env registration-token …`: initial access tokens for dynamic client registration.

use clap::Subcommand;
use serde_json::json;

use super::Context;
use super::output::{SHOWN_ONCE, lines, print, utc_timestamp};
use crate::model::RegistrationToken;

#[derive(Debug, Subcommand)]
pub enum RegistrationTokenCommand {
    /// Mint a token that lets its holder register clients in this environment; printed once.
    Create {
        /// PROJECT/ENV
        slug: String,
        /// Seconds until it expires (default: never).
        #[arg(long)]
        expires: Option<i64>,
        /// How many clients it may register (default: any number).
        #[arg(long = "max-uses")]
        max_uses: Option<i64>,
    },
    /// The environment's tokens, with their uses.
    List { slug: String },
    /// Revoke a token: it registers nothing more.
    Revoke { slug: String, token_id: String },
}

impl RegistrationTokenCommand {
    fn slug(&self) -> &str {
        match self {
            RegistrationTokenCommand::Create { slug, .. }
            | RegistrationTokenCommand::List { slug }
            | RegistrationTokenCommand::Revoke { slug, .. } => slug,
        }
    }
}

fn describe(token: &RegistrationToken) -> String {
    let state = match (token.revoked_at, token.expires_at) {
        (Some(at), _) => format!("revoked {}", utc_timestamp(at)),
        (None, Some(at)) => format!("expires {}", utc_timestamp(at)),
        (None, None) => "no expiry".to_string(),
    };
    let uses = match token.max_uses {
        Some(max) => format!("{}/{max} uses", token.uses),
        None => format!("{} uses", token.uses),
    };
    format!("{}  {state}  {uses}", token.token_id)
}

pub async fn run(command: RegistrationTokenCommand, context: &Context) -> anyhow::Result<()> {
    let registrar = context.airlock.registrar();
    let environment = context.environment(command.slug()).await?;
    let (operator, now, json) = (&context.operator, context.now, context.json);
    match command {
        RegistrationTokenCommand::Create {
            expires, max_uses, ..
        } => {
            let (token, secret) = registrar
                .create_token(&environment, (expires, max_uses), operator, now)
                .await?;
            let value = json!({ "token": token, "initial_access_token": secret });
            print(json, &value, || {
                format!(
                    "{}\ninitial_access_token: {}\n{SHOWN_ONCE}",
                    describe(&token),
                    secret.expose()
                )
            });
        }
        RegistrationTokenCommand::List { .. } => {
            let tokens = registrar.list_tokens(&environment).await?;
            print(json, &tokens, || lines(&tokens, describe));
        }
        RegistrationTokenCommand::Revoke { token_id, .. } => {
            registrar
                .revoke_token(&environment, &token_id, operator, now)
                .await?;
            print(json, &json!({ "revoked": token_id }), || {
                format!("registration token {token_id} revoked")
            });
        }
    }
    Ok(())
}
