//! `airlock usage PROJECT`: a month's usage per zone; only live zones are billable.

use clap::Args;

use super::Context;
use super::output::print;

#[derive(Debug, Args)]
pub struct UsageArgs {
    project: String,
    /// One environment of the project.
    #[arg(long)]
    env: Option<String>,
    /// `YYYY-MM`; this month by default.
    #[arg(long)]
    month: Option<String>,
}

pub async fn run(args: UsageArgs, context: &Context) -> anyhow::Result<()> {
    let report = context
        .airlock
        .usage(
            &args.project,
            args.env.as_deref(),
            args.month.as_deref(),
            context.now,
        )
        .await?;
    print(context.json, &report, || {
        let mut text = format!("{} in {}", report.project, report.month);
        for zone in &report.zones {
            let label = if zone.kind == "test" {
                "SANDBOX"
            } else {
                "LIVE"
            };
            text.push_str(&format!(
                "\n{} [{label}]: {} monthly active users (peak {} a day)",
                zone.environment, zone.monthly_active_users, zone.peak_daily_active_users
            ));
            let mut counts: Vec<_> = zone.counts.iter().collect();
            counts.sort();
            for (metric, count) in counts {
                text.push_str(&format!("\n  {metric}: {count}"));
            }
        }
        let mut billable: Vec<_> = report.billable.iter().collect();
        billable.sort();
        text.push_str("\nbillable (live zones only):");
        for (metric, count) in billable {
            text.push_str(&format!("\n  {metric}: {count}"));
        }
        text
    });
    Ok(())
}
