//! `airlock audit …`

use clap::Subcommand;

use super::Context;
use super::output::{lines, print, utc_timestamp};
use crate::service::admin::audit::{AuditFilter, AuditView};

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Entries of one environment's audit log, oldest first.
    List {
        /// PROJECT/ENV
        slug: String,
        /// Epoch seconds, or an age such as 30m, 12h, 7d.
        #[arg(long)]
        since: Option<String>,
        /// Only this event type (for example signin.failed).
        #[arg(long = "type")]
        event: Option<String>,
        #[arg(long, default_value_t = 1000)]
        limit: i64,
    },
    /// Check the environment's hash chain; exits non-zero and says where if it was tampered with.
    Verify { slug: String },
}

pub async fn run(command: AuditCommand, context: &Context) -> anyhow::Result<()> {
    let trail = context.airlock.audit_trail();
    let slug = match &command {
        AuditCommand::List { slug, .. } | AuditCommand::Verify { slug } => slug.clone(),
    };
    let environment = context.environment(&slug).await?;
    match command {
        AuditCommand::List {
            since,
            event,
            limit,
            ..
        } => {
            let filter = AuditFilter {
                since: since
                    .as_deref()
                    .map(|s| parse_since(s, context.now))
                    .transpose()?,
                event,
                limit: Some(limit),
                ..AuditFilter::default()
            };
            let entries = trail.list(&environment, filter).await?;
            print(context.json, &entries, || lines(&entries, entry_line));
        }
        AuditCommand::Verify { .. } => {
            let report = trail.verify(&environment).await?;
            print(context.json, &report, || {
                let zone = format!(
                    "{}/{} · {}",
                    report.zone.project, report.zone.environment, report.zone.label
                );
                match &report.problem {
                    None => format!("{zone}: audit chain intact ({} entries)", report.entries),
                    Some(problem) => format!("{zone}: audit chain BROKEN: {problem}"),
                }
            });
            if !report.intact {
                anyhow::bail!("the audit log of {slug} has been tampered with");
            }
        }
    }
    Ok(())
}

/// `--since`: epoch seconds, or an age (`90s`, `30m`, `12h`, `7d`) before `now`.
fn parse_since(value: &str, now: i64) -> anyhow::Result<i64> {
    if let Ok(epoch) = value.parse::<i64>() {
        return Ok(epoch);
    }
    let usage = || anyhow::anyhow!("--since takes epoch seconds or an age such as 30m, 12h, 7d");
    let (number, unit) = value.split_at(value.len().saturating_sub(1));
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(usage()),
    };
    let number: i64 = number.parse().map_err(|_| usage())?;
    Ok(now - number.saturating_mul(seconds))
}

fn entry_line(view: &AuditView) -> String {
    let (zone, e) = (&view.zone, &view.entry);
    format!(
        "[{}] #{} {} {}/{} {} {} actor={} client={} ip={} request={} {}",
        zone.label,
        view.seq,
        utc_timestamp(e.at),
        zone.project,
        zone.environment,
        e.event,
        e.outcome,
        e.actor.as_deref().unwrap_or("-"),
        e.client_id.as_deref().unwrap_or("-"),
        e.ip.as_deref().unwrap_or("-"),
        e.request_id.as_deref().unwrap_or("-"),
        view.details
    )
}
