//! The lifecycle of projects, environments and admin tokens: listing, deleting, revoking, and
//! the installation's record of deletions.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::{delete, get};
use serde::Deserialize;
use serde_json::json;

use super::extract::{Admin, AdminResult, AdminZone, no_content, ok};
use crate::http::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects", get(list_projects))
        .route("/projects/{project}", delete(delete_project))
        .route("/projects/{project}/environments", get(list_environments))
        .route("/admin-tokens", get(list_admin_tokens))
        .route("/admin-tokens/{token_id}", delete(revoke_admin_token))
        .route("/deletions", get(list_deletions))
}

/// `GET /admin/v1/projects`
pub async fn list_projects(State(state): State<AppState>, Admin(caller): Admin) -> AdminResult {
    let projects = state.projects().list(&caller).await?;
    ok(json!({ "projects": projects }))
}

/// `DELETE /admin/v1/projects/{project}`: only once it has no environment left.
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

#[derive(Deserialize)]
pub struct Confirmation {
    /// `PROJECT/ENV`, required for a live environment.
    confirm: Option<String>,
}

/// `DELETE …/environments/{environment}?confirm=PROJECT/ENV`
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
pub async fn list_admin_tokens(State(state): State<AppState>, Admin(caller): Admin) -> AdminResult {
    let tokens = state.admin_tokens().list(&caller).await?;
    ok(json!({ "admin_tokens": tokens }))
}

/// `DELETE /admin/v1/admin-tokens/{token_id}`: revokes it.
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
pub async fn list_deletions(State(state): State<AppState>, Admin(caller): Admin) -> AdminResult {
    let deletions = state.environments().deletions(&caller).await?;
    ok(json!({ "deletions": deletions }))
}
