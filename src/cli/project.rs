//! `airlock project …`

use clap::Subcommand;

use super::Context;
use super::output::print;

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project.
    Create { name: String },
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
    }
    Ok(())
}
