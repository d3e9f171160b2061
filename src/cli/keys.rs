//! `airlock keys …`

use clap::Subcommand;

use super::Context;
use super::output::{print, utc_timestamp};
use crate::model::SigningAlg;
use crate::service::admin::audit::zone_label;
use crate::service::admin::keys::KeyView;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Stage a new signing key: published now, signing after the publish delay.
    Rotate {
        /// PROJECT/ENV
        slug: String,
        #[arg(long, default_value = "RS256", value_parser = ["RS256", "ES256"])]
        alg: String,
        /// Seconds before the new key signs (default: AIRLOCK_KEY_PUBLISH_DELAY).
        #[arg(long)]
        publish_delay: Option<i64>,
    },
    /// Every key of an environment with its state and dates.
    List { slug: String },
}

fn table(keys: &[KeyView]) -> String {
    let date = |at: Option<i64>| at.map(utc_timestamp).unwrap_or_else(|| "-".into());
    let mut text = String::from(
        "kid                               alg    state    activates_at          retires_at            unpublish_at",
    );
    for key in keys {
        text.push_str(&format!(
            "\n{:<33} {:<6} {:<8} {:<21} {:<21} {}",
            key.kid,
            key.alg,
            key.state.as_str(),
            utc_timestamp(key.schedule.activates_at),
            date(key.schedule.retires_at),
            date(key.schedule.unpublish_at)
        ));
    }
    text
}

pub async fn run(command: KeysCommand, context: &Context) -> anyhow::Result<()> {
    let keys = context.airlock.keys();
    let (now, json) = (context.now, context.json);
    let slug = match &command {
        KeysCommand::Rotate { slug, .. } | KeysCommand::List { slug } => slug,
    };
    let environment = context.environment(slug).await?;
    match command {
        KeysCommand::Rotate {
            alg, publish_delay, ..
        } => {
            let alg = SigningAlg::parse(&alg).unwrap_or(SigningAlg::RS256);
            let key = keys
                .rotate(&environment, alg, publish_delay, &context.operator, now)
                .await?;
            print(json, &key, || {
                format!(
                    "key {} ({}) staged: published now, signing from {}",
                    key.kid, key.alg, key.schedule.activates_at
                )
            });
        }
        KeysCommand::List { .. } => {
            let listed = keys.list(&environment, now).await?;
            print(json, &listed, || {
                let zone = format!("{} · {}", environment.slug(), zone_label(environment.kind));
                format!("{zone}\n{}", table(&listed))
            });
        }
    }
    Ok(())
}
