//! `airlock project …`

use clap::Subcommand;

use super::Context;
use super::output::{lines, print};

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project.
    Create { name: String },
    /// The projects of this installation.
    List,
    /// Delete a project that has no environment left.
    Delete { name: String },
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
