//! The lifecycle of projects, environments and admin tokens: listing, deleting, revoking, and
//! the installation's record of deletions.

use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Admin, AdminResult, AdminZone, no_content, ok};
use crate::http::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_projects))
        .routes(routes!(delete_project))
        .routes(routes!(list_environments))
        .routes(routes!(list_admin_tokens))
        .routes(routes!(revoke_admin_token))
        .routes(routes!(list_deletions))
}

/// `GET /admin/v1/projects`
#[utoipa::path(
    get,
    path = "/projects",
    tag = "environments",
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn list_projects(State(state): State<AppState>, Admin(caller): Admin) -> AdminResult {
    let projects = state.projects().list(&caller).await?;
    ok(json!({ "projects": projects }))
}

/// `DELETE /admin/v1/projects/{project}`: only once it has no environment left.
#[utoipa::path(
    delete,
    path = "/projects/{project}",
    tag = "environments",
    responses((status = 204, description = "Done"))
)]
pub async fn delete_project(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(project): Path<String>,
) -> AdminResult {
    let now = crate::clock::now();
    state.projects().delete(&project, &caller, now).await?;
    no_content()
}

/// `GET /admin/v1/projects/{project}/environments`: those the caller reaches.
#[utoipa::path(
    get,
    path = "/projects/{project}/environments",
    tag = "environments",
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn list_environments(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(project): Path<String>,
) -> AdminResult {
    let environments = state.environments();
    let listed = environments.list(Some(&project), &caller).await?;
    let views: Vec<_> = listed.iter().map(|e| environments.view(e)).collect();
    ok(json!({ "environments": views }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Confirmation {
    /// `PROJECT/ENV`, required for a live environment.
    confirm: Option<String>,
}

/// `DELETE …/environments/{environment}?confirm=PROJECT/ENV`
#[utoipa::path(
    delete,
    path = "",
    tag = "environments",
    params(Confirmation),
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn delete_environment(
    zone: AdminZone,
    Query(confirmation): Query<Confirmation>,
) -> AdminResult {
    let deletion = zone
        .airlock
        .environments()
        .delete(
            &zone.environment,
            confirmation.confirm.as_deref(),
            &zone.caller,
            zone.now,
        )
        .await?;
    ok(deletion)
}

/// `GET /admin/v1/admin-tokens`
#[utoipa::path(
    get,
    path = "/admin-tokens",
    tag = "environments",
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn list_admin_tokens(State(state): State<AppState>, Admin(caller): Admin) -> AdminResult {
    let tokens = state.admin_tokens().list(&caller).await?;
    ok(json!({ "admin_tokens": tokens }))
}

/// `DELETE /admin/v1/admin-tokens/{token_id}`: revokes it.
#[utoipa::path(
    delete,
    path = "/admin-tokens/{token_id}",
    tag = "environments",
    responses((status = 204, description = "Done"))
)]
pub async fn revoke_admin_token(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(token_id): Path<String>,
) -> AdminResult {
    let now = crate::clock::now();
    state.admin_tokens().revoke(&token_id, &caller, now).await?;
    no_content()
}

/// `GET /admin/v1/deletions`
#[utoipa::path(
    get,
    path = "/deletions",
    tag = "environments",
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn list_deletions(State(state): State<AppState>, Admin(caller): Admin) -> AdminResult {
    let deletions = state.environments().deletions(&caller).await?;
    ok(json!({ "deletions": deletions }))
}
