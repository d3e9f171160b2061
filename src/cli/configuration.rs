//! `airlock env export`, `airlock env apply … --plan` and `airlock promote … --plan`:
//! configuration as data.

use clap::Args;

use super::Context;
use super::output::print;
use crate::promotion::{Format, UriMap};
use crate::service::admin::configuration::ConfigurationPlan;

#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// PROJECT/ENV to promote from (usually a test zone).
    source: String,
    /// PROJECT/ENV to promote into.
    target: String,
    /// Rewrite URIs that start with FROM to start with TO instead (repeatable):
    /// 'http://localhost:3000=https://app.acme.com'.
    #[arg(long = "map")]
    maps: Vec<String>,
    /// Print the plan and the go-live check.
    #[arg(long, required = true)]
    plan: bool,
}

/// The plan as people read it: the changes, then each check, then warnings.
pub fn describe(planned: &ConfigurationPlan) -> String {
    let mut text = format!("plan for {}:\n{}", planned.target, planned.plan.render());
    if !planned.checks.is_empty() {
        text.push_str("\n\ngo-live check:");
        for check in &planned.checks {
            let mark = if check.passed { "pass" } else { "FAIL" };
            text.push_str(&format!("\n{mark}  {}: {}", check.name, check.detail));
        }
    }
    for warning in &planned.warnings {
        text.push_str(&format!("\nwarning: {warning}"));
    }
    text
}

pub async fn export(slug: &str, format: Option<&str>, context: &Context) -> anyhow::Result<()> {
    let environment = context.environment(slug).await?;
    let config = context.airlock.configuration().export(&environment).await?;
    let format = match (format, context.json) {
        (Some("json"), _) | (None, true) => Format::Json,
        _ => Format::Toml,
    };
    println!("{}", config.render(format).map_err(anyhow::Error::msg)?);
    Ok(())
}

pub async fn plan_file(
    slug: &str,
    file: &std::path::Path,
    context: &Context,
) -> anyhow::Result<()> {
    let environment = context.environment(slug).await?;
    let text = std::fs::read_to_string(file)
        .map_err(|error| anyhow::anyhow!("cannot read {}: {error}", file.display()))?;
    let format = Format::of_file(&file.to_string_lossy());
    let planned = context
        .airlock
        .configuration()
        .plan_document(&environment, (&text, format), &context.operator)
        .await
        .map_err(|error| anyhow::anyhow!("{}: {error}", file.display()))?;
    print(context.json, &planned, || describe(&planned));
    Ok(())
}

pub async fn promote(args: PromoteArgs, context: &Context) -> anyhow::Result<()> {
    let maps = args
        .maps
        .iter()
        .map(|rule| UriMap::parse(rule))
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    let source = context.environment(&args.source).await?;
    let target = context.environment(&args.target).await?;
    let planned = context
        .airlock
        .configuration()
        .plan_promotion((&source, &target), &maps, &context.operator)
        .await?;
    print(context.json, &planned, || describe(&planned));
    Ok(())
}
