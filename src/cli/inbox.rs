//! `airlock inbox …`: an environment's mail (the captured inbox of a test environment).

use clap::Subcommand;

use super::Context;
use super::output::{lines, print, utc_timestamp};

#[derive(Debug, Subcommand)]
pub enum InboxCommand {
    /// Messages, newest first.
    List {
        slug: String,
        #[arg(long)]
        to: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// One message: headers, text and HTML bodies, and the links it carries.
    Show { slug: String, message_id: String },
}

pub async fn run(command: InboxCommand, context: &Context) -> anyhow::Result<()> {
    let inbox = context.airlock.inbox();
    let json = context.json;
    match command {
        InboxCommand::List { slug, to, limit } => {
            let environment = context.environment(&slug).await?;
            let messages = inbox.list(&environment, to.as_deref(), limit).await?;
            print(json, &messages, || {
                lines(&messages, |m| {
                    format!(
                        "{}  {}  {}  {}  {}",
                        m.message_id,
                        utc_timestamp(m.created_at),
                        m.state.as_str(),
                        m.to,
                        m.subject
                    )
                })
            });
        }
        InboxCommand::Show { slug, message_id } => {
            let environment = context.environment(&slug).await?;
            let message = inbox.show(&environment, &message_id).await?;
            print(json, &message, || {
                let mut text = format!(
                    "From: {}\nTo: {}\nSubject: {}\nState: {}\n\n{}",
                    message.from,
                    message.to,
                    message.subject,
                    message.state.as_str(),
                    message.text.as_deref().unwrap_or("(body not kept)")
                );
                for link in &message.links {
                    text.push_str(&format!("\nlink: {link}"));
                }
                text
            });
        }
    }
    Ok(())
}
