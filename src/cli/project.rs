//! `airlock project …`

use clap::Subcommand;

use super::Context;
use super::output::{lines, print};
use crate::model::ProjectLimits;

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project.
    Create { name: String },
    /// The projects of this installation.
    List,
    /// Delete a project that has no environment left.
    Delete { name: String },
    /// Show or set the project's plan limits (`none` lifts one).
    Limits {
        name: String,
        /// Distinct users active in a month across its live environments.
        #[arg(long = "max-live-mau")]
        max_live_mau: Option<String>,
        /// Users across its test environments.
        #[arg(long = "max-test-users")]
        max_test_users: Option<String>,
        #[arg(long = "max-environments")]
        max_environments: Option<String>,
    },
}

/// A limit as typed: a number, or `none`; `Err` for anything else.
fn limit(value: Option<String>, current: Option<i64>) -> anyhow::Result<Option<i64>> {
    match value.as_deref() {
        None => Ok(current),
        Some("none") => Ok(None),
        Some(number) => number
            .parse::<i64>()
            .map(Some)
            .map_err(|_| anyhow::anyhow!("a limit is a number or none, not {number}")),
    }
}

pub async fn run(command: ProjectCommand, context: &Context) -> anyhow::Result<()> {
    match command {
        ProjectCommand::Create { name } => {
            let project = context
                .airlock
                .projects()
                .create(&name, &context.operator, context.now)
                .await?;
            print(context.json, &project, || {
                format!("project {} created", project.name)
            });
        }
        ProjectCommand::Limits {
            name,
            max_live_mau,
            max_test_users,
            max_environments,
        } => {
            let projects = context.airlock.projects();
            let current = projects.limits(&name, &context.operator).await?;
            let changed =
                max_live_mau.is_some() || max_test_users.is_some() || max_environments.is_some();
            let limits = ProjectLimits {
                max_live_mau: limit(max_live_mau, current.max_live_mau)?,
                max_test_users: limit(max_test_users, current.max_test_users)?,
                max_environments: limit(max_environments, current.max_environments)?,
            };
            let limits = match changed {
                true => {
                    projects
                        .set_limits(&name, limits, &context.operator)
                        .await?
                }
                false => current,
            };
            let shown = |value: Option<i64>| value.map_or("none".to_string(), |v| v.to_string());
            print(context.json, &limits, || {
                format!(
                    "max-live-mau: {}\nmax-test-users: {}\nmax-environments: {}",
                    shown(limits.max_live_mau),
                    shown(limits.max_test_users),
                    shown(limits.max_environments)
                )
            });
        }
        ProjectCommand::List => {
            let projects = context.airlock.projects().list(&context.operator).await?;
            print(context.json, &projects, || {
                lines(&projects, |project| project.name.clone())
            });
        }
        ProjectCommand::Delete { name } => {
            let deletion = context
                .airlock
                .projects()
                .delete(&name, &context.operator, context.now)
                .await?;
            print(context.json, &deletion, || {
                format!("project {name} deleted")
            });
        }
    }
    Ok(())
}
