//! The operator's projects and zones, one zone's overview, and deleting a zone.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};

use super::clients::{ListQuery, list_query};
use super::pages::{Chrome, ConsoleResult, Paging, refused_if, render, timestamp};
use super::session::{ConsoleZone, Operator, OperatorForm, ZoneForm};
use super::{confirm_notice, confirmed, zone_chrome};
use crate::http::AppState;
use crate::model::{AccountPolicy, EnvKind, Environment};
use crate::service::Error;
use crate::service::admin::environments::EnvironmentView;

/// A zone as the projects page lists it.
struct ZoneRow {
    view: EnvironmentView,
    test: bool,
    href: String,
    domains: Vec<String>,
}

struct ProjectRow {
    name: String,
    zones: Vec<ZoneRow>,
}

#[derive(Template)]
#[template(path = "console/home.html")]
struct HomePage {
    chrome: Chrome,
    projects: Vec<ProjectRow>,
    paging: Paging,
}

/// `GET /console?q=&page=`: the projects and zones the operator reaches.
pub async fn home(
    State(state): State<AppState>,
    operator: Operator,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> ConsoleResult {
    let (q, page) = list_query(query)?;
    let caller = operator.caller();
    let zones = state.environments().list(None, caller).await?;
    let matches = |zone: &Environment, needle: &str| zone.slug().contains(needle);
    let (zones, paging) = Paging::of(zones, &q, matches, page, "/console");
    let now = crate::clock::now();
    let mut projects: Vec<ProjectRow> = Vec::new();
    for environment in zones {
        let domains = state
            .domains()
            .list(Some(&environment), now)
            .await?
            .into_iter()
            .map(|bound| bound.domain.host)
            .collect();
        let row = ZoneRow {
            view: state.environments().view(&environment),
            test: environment.kind == EnvKind::Test,
            href: format!("/console/{}/{}", environment.project, environment.name),
            domains,
        };
        match projects.last_mut() {
            Some(project) if project.name == environment.project => project.zones.push(row),
            _ => projects.push(ProjectRow {
                name: environment.project.clone(),
                zones: vec![row],
            }),
        }
    }
    let page = HomePage {
        chrome: Chrome {
            csrf: operator.session.csrf.clone(),
            zone: None,
            read_only: caller.read_only,
            signed_in: true,
            operator: caller.require_installation().is_ok(),
        },
        projects,
        paging,
    };
    Ok(render(StatusCode::OK, &page))
}

/// `POST /console/environments` (`project`, `name`, `kind`): a new zone, in a project created
/// with it when missing; then its overview.
pub async fn create(State(state): State<AppState>, form: OperatorForm) -> ConsoleResult {
    let OperatorForm { operator, fields } = form;
    let caller = operator.caller();
    if caller.read_only {
        return Err(Error::Forbidden("this admin token may only read".into()).into());
    }
    let text = |name: &str| {
        fields
            .get(name)
            .ok()
            .flatten()
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let Some(kind) = EnvKind::parse(&text("kind")) else {
        return Err(Error::Invalid("choose the kind: test or live".into()).into());
    };
    let (project, name) = (text("project"), text("name"));
    let now = crate::clock::now();
    state.projects().ensure(&project, caller, now).await?;
    let environment = state
        .environments()
        .create(&project, &name, kind, caller, now)
        .await?;
    Ok(Redirect::to(&format!("/console/{}", environment.slug())).into_response())
}

struct DomainRow {
    host: String,
    state: String,
    record: String,
    challenge: String,
    href: String,
}

#[derive(Template)]
#[template(path = "console/overview.html")]
struct OverviewPage {
    chrome: Chrome,
    view: EnvironmentView,
    accounts: AccountPolicy,
    created: String,
    domains: Vec<DomainRow>,
    base: String,
    live: bool,
    slug: String,
    notice: Option<String>,
}

/// The overview, with a refused change's reason when there is one.
pub(super) async fn overview_page(
    state: &AppState,
    zone: &ConsoleZone,
    notice: Option<String>,
) -> ConsoleResult {
    let chrome = zone_chrome(state, zone, "").await?;
    let base = format!("/console/{}", zone.environment.slug());
    let domains = state
        .domains()
        .list(Some(&zone.environment), zone.now)
        .await?
        .into_iter()
        .map(|bound| DomainRow {
            record: bound.domain.challenge_name(),
            challenge: bound.domain.challenge_value(),
            state: bound.domain.state.as_str().to_string(),
            href: format!("{base}/domains/{}", bound.domain.host),
            host: bound.domain.host,
        })
        .collect();
    let status = refused_if(&notice);
    let page = OverviewPage {
        chrome,
        view: state.environments().view(&zone.environment),
        accounts: zone.environment.accounts.clone(),
        created: timestamp(zone.environment.created_at),
        domains,
        base,
        live: zone.environment.kind == EnvKind::Live,
        slug: zone.environment.slug(),
        notice,
    };
    Ok(render(status, &page))
}

/// `GET /console/{project}/{environment}`: issuer, discovery, policy, limits and domains.
pub async fn overview(State(state): State<AppState>, zone: ConsoleZone) -> ConsoleResult {
    overview_page(&state, &zone, None).await
}

#[derive(Template)]
#[template(path = "console/confirm.html")]
pub(super) struct ConfirmPage {
    pub chrome: Chrome,
    pub title: String,
    pub message: String,
    pub action: String,
    pub live: bool,
    pub slug: String,
    pub notice: Option<String>,
}

impl ConfirmPage {
    pub fn new(chrome: Chrome, environment: &Environment, title: String, action: String) -> Self {
        let slug = environment.slug();
        ConfirmPage {
            chrome,
            message: format!("{title}? This cannot be undone."),
            title,
            action,
            live: environment.kind == EnvKind::Live,
            slug,
            notice: None,
        }
    }
}

/// `GET …/delete`: what deleting the zone means, and the confirmation it needs.
pub async fn delete_page(State(state): State<AppState>, zone: ConsoleZone) -> ConsoleResult {
    let chrome = zone_chrome(&state, &zone, "").await?;
    let slug = zone.environment.slug();
    let mut page = ConfirmPage::new(
        chrome,
        &zone.environment,
        format!("Delete the environment {slug}"),
        format!("/console/{slug}/delete"),
    );
    page.message = format!(
        "Deleting {slug} removes its clients, users, sessions, keys, webhooks and audit log, and \
         nothing of any other zone. This cannot be undone."
    );
    Ok(render(StatusCode::OK, &page))
}

/// `POST …/delete`
pub async fn delete(State(state): State<AppState>, form: ZoneForm) -> ConsoleResult {
    let ZoneForm { zone, fields } = form;
    let slug = zone.environment.slug();
    if !confirmed(&zone, &fields) {
        let chrome = zone_chrome(&state, &zone, "").await?;
        let mut page = ConfirmPage::new(
            chrome,
            &zone.environment,
            format!("Delete the environment {slug}"),
            format!("/console/{slug}/delete"),
        );
        page.notice = Some(confirm_notice(&zone));
        return Ok(render(StatusCode::BAD_REQUEST, &page));
    }
    state
        .environments()
        .delete(&zone.environment, Some(&slug), zone.caller(), zone.now)
        .await?;
    Ok(Redirect::to("/console").into_response())
}

/// Service errors a handler turns into its own page keep their message.
pub(super) fn message_of(error: &Error) -> String {
    crate::http::error::describe(error).1
}
