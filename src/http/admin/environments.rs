//! Projects and environments: creation, settings, rate limits.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::extract::{Admin, AdminJson, AdminResult, AdminZone, created, ok};
use crate::http::AppState;
use crate::model::{EnvKind, Project, RateLimits};
use crate::service::Error;
use crate::service::admin::environments::{LimitChanges, PolicyChanges, PolicyView};

/// Projects and environments themselves.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects", post(create_project))
        .route("/projects/{project}/environments", post(create_environment))
}

/// One environment's settings, below its path.
pub fn zone_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/",
            get(show_environment)
                .patch(update_environment)
                .delete(super::lifecycle::delete_environment),
        )
        .route("/limits", get(show_limits).put(set_limits))
        .route("/policy", get(show_policy).put(set_policy))
}

#[derive(Deserialize)]
pub struct ProjectBody {
    name: String,
}

#[derive(Serialize)]
struct ProjectResponse {
    id: String,
    name: String,
    created_at: i64,
}

impl From<Project> for ProjectResponse {
    fn from(project: Project) -> Self {
        ProjectResponse {
            id: project.id,
            name: project.name,
            created_at: project.created_at,
        }
    }
}

/// `POST /admin/v1/projects`
pub async fn create_project(
    State(state): State<AppState>,
    Admin(caller): Admin,
    AdminJson(body): AdminJson<ProjectBody>,
) -> AdminResult {
    let now = crate::clock::now();
    let project = state.projects().create(&body.name, &caller, now).await?;
    created(ProjectResponse::from(project))
}

#[derive(Deserialize)]
pub struct EnvironmentBody {
    name: String,
    kind: String,
}

/// `POST /admin/v1/projects/{project}/environments`
pub async fn create_environment(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(project): Path<String>,
    AdminJson(body): AdminJson<EnvironmentBody>,
) -> AdminResult {
    let kind =
        EnvKind::parse(&body.kind).ok_or_else(|| Error::Invalid("kind is test or live".into()))?;
    let now = crate::clock::now();
    let environments = state.environments();
    let environment = environments
        .create(&project, &body.name, kind, &caller, now)
        .await?;
    created(environments.view(&environment))
}

/// `GET …/environments/{environment}`
pub async fn show_environment(zone: AdminZone) -> AdminResult {
    ok(zone.airlock.environments().view(&zone.environment))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentPatch {
    path_issuer_enabled: Option<bool>,
}

/// `PATCH …/environments/{environment}`
pub async fn update_environment(
    zone: AdminZone,
    AdminJson(patch): AdminJson<EnvironmentPatch>,
) -> AdminResult {
    let environments = zone.airlock.environments();
    let mut environment = zone.environment;
    if let Some(enabled) = patch.path_issuer_enabled {
        environment = environments
            .set_path_issuer(&environment, enabled, &zone.caller, zone.now)
            .await?;
    }
    ok(environments.view(&environment))
}

/// `GET …/policy`
pub async fn show_policy(zone: AdminZone) -> AdminResult {
    ok(PolicyView::of(&zone.environment))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    access_token_ttl: Option<i64>,
    id_token_ttl: Option<i64>,
    refresh_token_ttl: Option<i64>,
    refresh_family_ttl: Option<i64>,
    session_ttl: Option<i64>,
    signup: Option<bool>,
    require_verified_email: Option<bool>,
    password_min_length: Option<i64>,
    mail_from: Option<String>,
    product_name: Option<String>,
}

/// `PUT …/policy`
pub async fn set_policy(zone: AdminZone, AdminJson(body): AdminJson<PolicyBody>) -> AdminResult {
    let changes = PolicyChanges {
        access_token_ttl: body.access_token_ttl,
        id_token_ttl: body.id_token_ttl,
        refresh_token_ttl: body.refresh_token_ttl,
        refresh_family_ttl: body.refresh_family_ttl,
        session_ttl: body.session_ttl,
        signup: body.signup,
        require_verified_email: body.require_verified_email,
        password_min_length: body.password_min_length,
        mail_from: body.mail_from,
        product_name: body.product_name,
    };
    let policy = zone
        .airlock
        .environments()
        .set_policy(&zone.environment, changes, &zone.caller, zone.now)
        .await?;
    ok(policy)
}

/// `GET …/limits`
pub async fn show_limits(zone: AdminZone) -> AdminResult {
    ok(zone.environment.limits)
}

#[derive(Deserialize)]
pub struct LimitsBody {
    token_requests_per_minute: Option<i64>,
    signin_failures_per_minute: Option<i64>,
    lockout_threshold: Option<i64>,
}

/// `PUT …/limits`
pub async fn set_limits(zone: AdminZone, AdminJson(body): AdminJson<LimitsBody>) -> AdminResult {
    let changes = LimitChanges {
        token_requests_per_minute: body.token_requests_per_minute,
        signin_failures_per_minute: body.signin_failures_per_minute,
        lockout_threshold: body.lockout_threshold,
    };
    let limits: RateLimits = zone
        .airlock
        .environments()
        .set_limits(&zone.environment, changes, &zone.caller, zone.now)
        .await?;
    ok(limits)
}
