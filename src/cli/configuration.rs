//! `airlock env export|apply|releases|rollback` and `airlock promote`: configuration as data,
//! applied as numbered releases.

use clap::Args;

use super::Context;
use super::output::{lines, print, utc_timestamp};
use crate::promotion::{Format, UriMap};
use crate::service::admin::configuration::ConfigurationPlan;
use crate::service::admin::releases::{AppliedRelease, ReleaseSource};

/// `--plan` or `--apply`, and the failed checks to apply anyway.
#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// Print what would change, and the go-live check of a live environment.
    #[arg(long, conflicts_with = "apply", required_unless_present = "apply")]
    plan: bool,
    /// Make the change as the target's next release, in one transaction.
    #[arg(long)]
    apply: bool,
    /// Apply although the named go-live check fails (repeatable).
    #[arg(long = "accept", value_name = "CHECK", requires = "apply")]
    accept: Vec<String>,
}

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
    #[command(flatten)]
    release: ReleaseArgs,
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

/// What a release did, with the credentials it minted (shown this once).
fn describe_applied(applied: &AppliedRelease) -> String {
    let Some(number) = applied.release else {
        return format!("no changes: {} already matches", applied.target);
    };
    let mut text = format!(
        "release {number} of {}:\n{}",
        applied.target,
        applied.plan.render()
    );
    if !applied.accepted.is_empty() {
        text.push_str(&format!(
            "\naccepted failing checks: {}",
            applied.accepted.join(", ")
        ));
    }
    if !applied.credentials.is_empty() {
        text.push_str("\n\nnew credentials (shown once, store them now):");
        for credential in &applied.credentials {
            text.push_str(&format!(
                "\n{} {}: {} {}",
                credential.kind,
                credential.name,
                credential.id,
                credential.secret.expose()
            ));
        }
    }
    text
}

/// Prints `planned`, or applies it and prints the release.
async fn plan_or_apply(
    target: &crate::model::Environment,
    planned: ConfigurationPlan,
    (source, release): (ReleaseSource, &ReleaseArgs),
    context: &Context,
) -> anyhow::Result<()> {
    if !release.apply {
        print(context.json, &planned, || describe(&planned));
        return Ok(());
    }
    let warnings = planned.warnings.clone();
    let applied = context
        .airlock
        .configuration()
        .apply(
            target,
            planned,
            (source, &release.accept),
            &context.operator,
            context.now,
        )
        .await?;
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
    print(context.json, &applied, || describe_applied(&applied));
    Ok(())
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

pub async fn apply_file(
    slug: &str,
    file: &std::path::Path,
    release: ReleaseArgs,
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
    plan_or_apply(
        &environment,
        planned,
        (ReleaseSource::File, &release),
        context,
    )
    .await
    .map_err(|error| anyhow::anyhow!("{}: {error}", file.display()))
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
    let from = ReleaseSource::Promotion {
        from: source.slug(),
    };
    plan_or_apply(&target, planned, (from, &args.release), context).await
}

pub async fn releases(slug: &str, context: &Context) -> anyhow::Result<()> {
    let environment = context.environment(slug).await?;
    let releases = context
        .airlock
        .configuration()
        .releases(&environment, &context.operator)
        .await?;
    print(context.json, &releases, || {
        if releases.is_empty() {
            return format!("{slug} has no release yet: `airlock env apply {slug} FILE --apply`");
        }
        lines(&releases, |release| {
            let changes = release.changes["changes"]
                .as_array()
                .map_or(0, |changes| changes.len());
            format!(
                "{:>4}  {}  by {}  {}  ({changes} changes)",
                release.number,
                utc_timestamp(release.created_at),
                release.actor,
                release.source
            )
        })
    });
    Ok(())
}

pub async fn rollback(
    slug: &str,
    to: i64,
    (plan, accept): (bool, &[String]),
    context: &Context,
) -> anyhow::Result<()> {
    let environment = context.environment(slug).await?;
    let planned = context
        .airlock
        .configuration()
        .plan_rollback(&environment, to, &context.operator)
        .await?;
    let release = ReleaseArgs {
        plan,
        apply: !plan,
        accept: accept.to_vec(),
    };
    let source = ReleaseSource::Rollback { to };
    plan_or_apply(&environment, planned, (source, &release), context).await
}
