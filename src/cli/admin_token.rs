//! `airlock admin-token …`

use clap::Subcommand;
use serde_json::json;

use super::Context;
use super::output::{SHOWN_ONCE, print};

#[derive(Debug, Subcommand)]
pub enum AdminTokenCommand {
    /// Create an admin API token, installation-wide or bound to one environment.
    Create {
        /// Bind the token to this PROJECT/ENV.
        #[arg(long = "env")]
        slug: Option<String>,
        #[arg(long, default_value = "admin")]
        name: String,
    },
}

pub async fn run(command: AdminTokenCommand, context: &Context) -> anyhow::Result<()> {
    match command {
        AdminTokenCommand::Create { slug, name } => {
            let environment = match slug {
                Some(slug) => Some(context.environment(&slug).await?),
                None => None,
            };
            let issued = context
                .airlock
                .admin_tokens()
                .create(environment.as_ref(), &name, &context.operator, context.now)
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
