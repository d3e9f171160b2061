//! `airlock admin-token …`

use clap::Subcommand;
use serde_json::json;

use super::Context;
use super::output::{SHOWN_ONCE, lines, print, utc_timestamp};
use crate::service::admin::admin_tokens::TokenOptions;

#[derive(Debug, Subcommand)]
pub enum AdminTokenCommand {
    /// Create an admin API token, installation-wide or bound to one environment.
    Create {
        /// Bind the token to this PROJECT/ENV.
        #[arg(long = "env")]
        slug: Option<String>,
        #[arg(long, default_value = "admin")]
        name: String,
        /// A token that may only read (GET) through the admin API.
        #[arg(long)]
        read_only: bool,
        /// Seconds until it stops working (default: until revoked).
        #[arg(long)]
        expires: Option<i64>,
    },
    /// Every admin token (never the tokens themselves), with its state.
    List,
    /// Revoke a token: it fails at once, on every node.
    Revoke { token_id: String },
}

pub async fn run(command: AdminTokenCommand, context: &Context) -> anyhow::Result<()> {
    match command {
        AdminTokenCommand::List => {
            let tokens = context
                .airlock
                .admin_tokens()
                .list(&context.operator)
                .await?;
            print(context.json, &tokens, || {
                lines(&tokens, |token| {
                    let state = match (token.revoked_at, token.expires_at) {
                        (Some(at), _) => format!("revoked {}", utc_timestamp(at)),
                        (None, Some(at)) => format!("expires {}", utc_timestamp(at)),
                        (None, None) => "no expiry".into(),
                    };
                    let access = if token.read_only { "read" } else { "write" };
                    format!("{}  {}  {access}  {state}", token.token_id, token.name)
                })
            });
        }
        AdminTokenCommand::Revoke { token_id } => {
            context
                .airlock
                .admin_tokens()
                .revoke(&token_id, &context.operator, context.now)
                .await?;
            print(context.json, &json!({ "revoked": token_id }), || {
                format!("admin token {token_id} revoked")
            });
        }
        AdminTokenCommand::Create {
            slug,
            name,
            read_only,
            expires,
        } => {
            let environment = match slug {
                Some(slug) => Some(context.environment(&slug).await?),
                None => None,
            };
            let issued = context
                .airlock
                .admin_tokens()
                .create_with(
                    environment.as_ref(),
                    &name,
                    TokenOptions {
                        read_only,
                        expires_in: expires,
                    },
                    &context.operator,
                    context.now,
                )
                .await?;
            let value = json!({
                "token_id": issued.token_id,
                "environment": issued.environment,
                "admin_token": issued.admin_token,
            });
            print(context.json, &value, || {
                format!("admin_token: {}\n{SHOWN_ONCE}", issued.admin_token.expose())
            });
        }
    }
    Ok(())
}
