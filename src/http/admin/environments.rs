//! Projects and environments: creation, settings, rate limits.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};

use super::extract::{Admin, AdminJson, AdminResult, AdminZone, created};
use crate::http::AppState;
use crate::model::{EnvKind, Project, RateLimits};
use crate::service::Error;
use crate::service::admin::environments::LimitChanges;

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
    Ok(created(ProjectResponse::from(project)))
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
    Ok(created(environments.view(&environment)))
}

/// `GET …/environments/{environment}`
pub async fn show_environment(State(state): State<AppState>, zone: AdminZone) -> AdminResult {
    Ok(Json(state.environments().view(&zone.environment)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentPatch {
    path_issuer_enabled: Option<bool>,
}

/// `PATCH …/environments/{environment}`
pub async fn update_environment(
    State(state): State<AppState>,
    zone: AdminZone,
    AdminJson(patch): AdminJson<EnvironmentPatch>,
) -> AdminResult {
    let environments = state.environments();
    let mut environment = zone.environment;
    if let Some(enabled) = patch.path_issuer_enabled {
        let now = crate::clock::now();
        environment = environments
            .set_path_issuer(&environment, enabled, &zone.caller, now)
            .await?;
    }
    Ok(Json(environments.view(&environment)).into_response())
}

/// `GET …/limits`
pub async fn show_limits(zone: AdminZone) -> AdminResult {
    Ok(Json(zone.environment.limits).into_response())
}

#[derive(Deserialize)]
pub struct LimitsBody {
    token_requests_per_minute: Option<i64>,
    signin_failures_per_minute: Option<i64>,
    lockout_threshold: Option<i64>,
}

/// `PUT …/limits`
pub async fn set_limits(
    State(state): State<AppState>,
    zone: AdminZone,
    AdminJson(body): AdminJson<LimitsBody>,
) -> AdminResult {
    let changes = LimitChanges {
        token_requests_per_minute: body.token_requests_per_minute,
        signin_failures_per_minute: body.signin_failures_per_minute,
        lockout_threshold: body.lockout_threshold,
    };
    let now = crate::clock::now();
    let limits: RateLimits = state
        .environments()
        .set_limits(&zone.environment, changes, &zone.caller, now)
        .await?;
    Ok(Json(limits).into_response())
}
