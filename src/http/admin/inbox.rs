//! An environment's mail: the captured inbox of test environments.

use axum::Router;
use axum::extract::{Path, Query, rejection::QueryRejection};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

use super::extract::{AdminError, AdminResult, AdminZone, ok};
use crate::http::AppState;
use crate::service::Error;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/inbox", get(list_mail))
        .route("/inbox/{message_id}", get(show_mail))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboxParams {
    to: Option<String>,
    limit: Option<i64>,
}

#[derive(Deserialize)]
pub struct MessagePath {
    message_id: String,
}

/// `GET …/inbox?to=&limit=`
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
pub async fn show_mail(zone: AdminZone, Path(path): Path<MessagePath>) -> AdminResult {
    let message = zone
        .airlock
        .inbox()
        .show(&zone.environment, &path.message_id)
        .await?;
    ok(message)
}
