//! An environment's mail: the captured inbox of test environments.

use axum::extract::{Path, Query, rejection::QueryRejection};
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{AdminError, AdminResult, AdminZone, ok};
use crate::http::AppState;
use crate::service::Error;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_mail))
        .routes(routes!(show_mail))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InboxParams {
    to: Option<String>,
    limit: Option<i64>,
}

#[derive(Deserialize)]
pub struct MessagePath {
    message_id: String,
}

/// `GET …/inbox?to=&limit=`
#[utoipa::path(
    get,
    path = "/inbox",
    tag = "inbox",
    params(InboxParams),
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn list_mail(
    zone: AdminZone,
    query: Result<Query<InboxParams>, QueryRejection>,
) -> AdminResult {
    let Query(params) =
        query.map_err(|rejection| AdminError::from(Error::Invalid(rejection.body_text())))?;
    let messages = zone
        .airlock
        .inbox()
        .list(
            &zone.environment,
            params.to.as_deref(),
            params.limit.unwrap_or(100),
        )
        .await?;
    ok(json!({ "messages": messages }))
}

/// `GET …/inbox/{message_id}`
#[utoipa::path(
    get,
    path = "/inbox/{message_id}",
    tag = "inbox",
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn show_mail(zone: AdminZone, Path(path): Path<MessagePath>) -> AdminResult {
    let message = zone
        .airlock
        .inbox()
        .show(&zone.environment, &path.message_id)
        .await?;
    ok(message)
}
