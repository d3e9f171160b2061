//! Projects and environments: creation, settings, rate limits.

use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Admin, AdminJson, AdminResult, AdminZone, created, ok};
use crate::http::AppState;
use crate::model::{EnvKind, Project, RateLimits};
use crate::service::Error;
use crate::service::admin::environments::{LimitChanges, PolicyChanges, PolicyView};

/// Projects and environments themselves.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_project))
        .routes(routes!(create_environment))
}

/// One environment's settings, below its path.
pub fn zone_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(
            show_environment,
            update_environment,
            super::lifecycle::delete_environment
        ))
        .routes(routes!(show_limits, set_limits))
        .routes(routes!(show_policy, set_policy))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ProjectBody {
    name: String,
}

#[derive(Serialize, utoipa::ToSchema)]
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
#[utoipa::path(
    post,
    path = "/projects",
    tag = "environments",
    request_body = ProjectBody,
    responses((status = 201, description = "Created", body = ProjectResponse))
)]
pub async fn create_project(
    State(state): State<AppState>,
    Admin(caller): Admin,
    AdminJson(body): AdminJson<ProjectBody>,
) -> AdminResult {
    let now = crate::clock::now();
    let project = state.projects().create(&body.name, &caller, now).await?;
    created(ProjectResponse::from(project))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct EnvironmentBody {
    name: String,
    kind: String,
}

/// `POST /admin/v1/projects/{project}/environments`
#[utoipa::path(
    post,
    path = "/projects/{project}/environments",
    tag = "environments",
    request_body = EnvironmentBody,
    responses((status = 201, description = "Created", body = Value))
)]
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
#[utoipa::path(
    get,
    path = "",
    tag = "environments",
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn show_environment(zone: AdminZone) -> AdminResult {
    ok(zone.airlock.environments().view(&zone.environment))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentPatch {
    path_issuer_enabled: Option<bool>,
}

/// `PATCH …/environments/{environment}`
#[utoipa::path(
    patch,
    path = "",
    tag = "environments",
    request_body = EnvironmentPatch,
    responses((status = 200, description = "OK", body = Value))
)]
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
#[utoipa::path(
    get,
    path = "/policy",
    tag = "environments",
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn show_policy(zone: AdminZone) -> AdminResult {
    ok(PolicyView::of(&zone.environment))
}

#[derive(Deserialize, utoipa::ToSchema)]
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
#[utoipa::path(
    put,
    path = "/policy",
    tag = "environments",
    request_body = PolicyBody,
    responses((status = 200, description = "OK", body = Value))
)]
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
#[utoipa::path(
    get,
    path = "/limits",
    tag = "environments",
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn show_limits(zone: AdminZone) -> AdminResult {
    ok(zone.environment.limits)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LimitsBody {
    token_requests_per_minute: Option<i64>,
    signin_failures_per_minute: Option<i64>,
    lockout_threshold: Option<i64>,
}

/// `PUT …/limits`
#[utoipa::path(
    put,
    path = "/limits",
    tag = "environments",
    request_body = LimitsBody,
    responses((status = 200, description = "OK", body = Value))
)]
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
