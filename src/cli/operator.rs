//! `airlock operator …`: people who sign in to the console with an account of the operators zone.

use clap::Subcommand;
use serde_json::json;

use super::Context;
use super::output::{lines, print, utc_timestamp};
use super::user::PasswordSource;
use crate::service::operators::{self, NewOperator};

#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Add an operator: an account of the operators zone (admin/operators, created with the
    /// console's client when missing) that signs in to the console through that zone.
    Add {
        email: String,
        #[command(flatten)]
        password: PasswordSource,
        /// Reach only this PROJECT/ENV.
        #[arg(long = "env")]
        slug: Option<String>,
        /// May look, never change.
        #[arg(long)]
        read_only: bool,
    },
    /// Every operator, with what they reach.
    List,
    /// Remove an operator: their console sessions end at once and their account is deleted.
    Remove { email: String },
}

pub async fn run(command: OperatorCommand, context: &Context) -> anyhow::Result<()> {
    let airlock = &context.airlock;
    match command {
        OperatorCommand::Add {
            email,
            password,
            slug,
            read_only,
        } => {
            let reach = match slug {
                Some(slug) => Some(context.environment(&slug).await?),
                None => None,
            };
            let new = NewOperator {
                email,
                password: password.read()?,
                reach,
                read_only,
            };
            let added = operators::add(airlock, new, &context.operator, context.now).await?;
            print(context.json, &added, || {
                format!(
                    "operator {} added ({}); they sign in at {}/console",
                    added.email, added.operator_id, context.config.public_url
                )
            });
        }
        OperatorCommand::List => {
            let listed = operators::list(airlock, &context.operator).await?;
            print(context.json, &listed, || {
                lines(&listed, |operator| {
                    let reach = operator
                        .environment
                        .as_deref()
                        .unwrap_or("all environments");
                    let access = if operator.read_only { "read" } else { "write" };
                    let state = match operator.revoked_at {
                        Some(at) => format!("removed {}", utc_timestamp(at)),
                        None => "active".into(),
                    };
                    format!("{}  {reach}  {access}  {state}", operator.email)
                })
            });
        }
        OperatorCommand::Remove { email } => {
            operators::remove(airlock, &email, &context.operator, context.now).await?;
            print(context.json, &json!({ "removed": email }), || {
                format!("operator {email} removed")
            });
        }
    }
    Ok(())
}
