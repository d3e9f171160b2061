//! Console operators (installation tokens only): accounts of the operators zone who sign in to the
//! console through it, with the reach and access they are given here.

use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Admin, AdminJson, AdminResult, created, no_content, ok};
use crate::http::AppState;
use crate::model::Secret;
use crate::service::operators::{self, NewOperator};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_operators, add_operator))
        .routes(routes!(remove_operator))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OperatorBody {
    email: String,
    password: String,
    /// `PROJECT/ENV`: the one environment the operator reaches (every one when absent).
    environment: Option<String>,
    /// May look, never change.
    #[serde(default)]
    read_only: bool,
}

/// `GET /admin/v1/operators`
#[utoipa::path(
    get,
    path = "/operators",
    tag = "environments",
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn list_operators(State(state): State<AppState>, Admin(caller): Admin) -> AdminResult {
    let listed = operators::list(&state, &caller).await?;
    ok(json!({ "operators": listed }))
}

/// `POST /admin/v1/operators`
#[utoipa::path(
    post,
    path = "/operators",
    tag = "environments",
    request_body = OperatorBody,
    responses((status = 201, description = "Created", body = Value))
)]
pub async fn add_operator(
    State(state): State<AppState>,
    Admin(caller): Admin,
    AdminJson(body): AdminJson<OperatorBody>,
) -> AdminResult {
    let now = crate::clock::now();
    caller.require_installation()?;
    let reach = match body.environment.as_deref() {
        Some(slug) => Some(
            state
                .admin_access()
                .environment_by_slug(&caller, slug, now)
                .await?,
        ),
        None => None,
    };
    let new = NewOperator {
        email: body.email,
        password: Secret::new(body.password),
        reach,
        read_only: body.read_only,
    };
    created(operators::add(&state, new, &caller, now).await?)
}

/// `DELETE /admin/v1/operators/{email}`: their console sessions end at once; their account goes.
#[utoipa::path(
    delete,
    path = "/operators/{email}",
    tag = "environments",
    responses((status = 204, description = "Done"))
)]
pub async fn remove_operator(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(email): Path<String>,
) -> AdminResult {
    let now = crate::clock::now();
    operators::remove(&state, &email, &caller, now).await?;
    no_content()
}
