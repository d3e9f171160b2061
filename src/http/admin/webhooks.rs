//! Webhook endpoints of one environment, their delivery log, and the event inspector.

use axum::extract::{Path, Query, rejection::QueryRejection};
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{
    AdminError, AdminJson, AdminResult, AdminZone, created, no_content, ok, uncached,
};
use crate::http::AppState;
use crate::model::{DeliveryQuery, DeliveryState};
use crate::service::Error;
use crate::service::admin::webhooks::{CreatedEndpoint, EndpointSettings};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_endpoint, list_endpoints))
        .routes(routes!(show_endpoint, update_endpoint, remove_endpoint))
        .routes(routes!(enable_endpoint))
        .routes(routes!(disable_endpoint))
        .routes(routes!(rotate_secret))
        .routes(routes!(send_test))
        .routes(routes!(list_deliveries))
        .routes(routes!(show_delivery))
        .routes(routes!(replay_delivery))
        .routes(routes!(list_events))
        .routes(routes!(show_event))
}

#[derive(Deserialize)]
pub struct EndpointPath {
    endpoint_id: String,
}

#[derive(Deserialize)]
pub struct DeliveryPath {
    delivery_id: String,
}

#[derive(Deserialize)]
pub struct EventPath {
    event_id: String,
}

/// An endpoint's settings; `events` is a list of types and families (`user.*`), or `["*"]`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointBody {
    url: Option<String>,
    events: Option<Vec<String>>,
    description: Option<String>,
}

impl From<EndpointBody> for EndpointSettings {
    fn from(body: EndpointBody) -> Self {
        EndpointSettings {
            url: body.url,
            events: body.events.map(|events| events.join(",")),
            description: body.description,
        }
    }
}

fn with_secret(issued: CreatedEndpoint) -> serde_json::Value {
    let mut body = json!(issued.endpoint);
    body["secret"] = json!(issued.secret);
    body
}

/// `POST …/webhooks`
#[utoipa::path(
    post,
    path = "/webhooks",
    tag = "webhooks",
    request_body = EndpointBody,
    responses((status = 201, description = "Created", body = Value))
)]
pub async fn add_endpoint(
    zone: AdminZone,
    AdminJson(body): AdminJson<EndpointBody>,
) -> AdminResult {
    let issued = zone
        .airlock
        .webhooks()
        .add(&zone.environment, body.into(), &zone.caller, zone.now)
        .await?;
    uncached(created(with_secret(issued)))
}

/// `GET …/webhooks`
#[utoipa::path(
    get,
    path = "/webhooks",
    tag = "webhooks",
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn list_endpoints(zone: AdminZone) -> AdminResult {
    let endpoints = zone
        .airlock
        .webhooks()
        .list(&zone.environment, zone.now)
        .await?;
    ok(json!({ "webhooks": endpoints }))
}

/// `GET …/webhooks/{endpoint_id}`
#[utoipa::path(
    get,
    path = "/webhooks/{endpoint_id}",
    tag = "webhooks",
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn show_endpoint(zone: AdminZone, Path(path): Path<EndpointPath>) -> AdminResult {
    let endpoint = zone
        .airlock
        .webhooks()
        .show(&zone.environment, &path.endpoint_id, zone.now)
        .await?;
    ok(endpoint)
}

/// `PATCH …/webhooks/{endpoint_id}`
#[utoipa::path(
    patch,
    path = "/webhooks/{endpoint_id}",
    tag = "webhooks",
    request_body = EndpointBody,
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn update_endpoint(
    zone: AdminZone,
    Path(path): Path<EndpointPath>,
    AdminJson(body): AdminJson<EndpointBody>,
) -> AdminResult {
    let endpoint = zone
        .airlock
        .webhooks()
        .update(
            &zone.environment,
            &path.endpoint_id,
            body.into(),
            &zone.caller,
            zone.now,
        )
        .await?;
    ok(endpoint)
}

/// `DELETE …/webhooks/{endpoint_id}`
#[utoipa::path(
    delete,
    path = "/webhooks/{endpoint_id}",
    tag = "webhooks",
    responses((status = 204, description = "Done"))
)]
pub async fn remove_endpoint(zone: AdminZone, Path(path): Path<EndpointPath>) -> AdminResult {
    zone.airlock
        .webhooks()
        .remove(&zone.environment, &path.endpoint_id, &zone.caller, zone.now)
        .await?;
    no_content()
}

async fn set_enabled(zone: AdminZone, endpoint_id: &str, enabled: bool) -> AdminResult {
    let endpoint = zone
        .airlock
        .webhooks()
        .set_enabled(
            &zone.environment,
            endpoint_id,
            enabled,
            &zone.caller,
            zone.now,
        )
        .await?;
    ok(endpoint)
}

/// `POST …/webhooks/{endpoint_id}/enable`
#[utoipa::path(
    post,
    path = "/webhooks/{endpoint_id}/enable",
    tag = "webhooks",
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn enable_endpoint(zone: AdminZone, Path(path): Path<EndpointPath>) -> AdminResult {
    set_enabled(zone, &path.endpoint_id, true).await
}

/// `POST …/webhooks/{endpoint_id}/disable`
#[utoipa::path(
    post,
    path = "/webhooks/{endpoint_id}/disable",
    tag = "webhooks",
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn disable_endpoint(zone: AdminZone, Path(path): Path<EndpointPath>) -> AdminResult {
    set_enabled(zone, &path.endpoint_id, false).await
}

/// `POST …/webhooks/{endpoint_id}/rotate-secret`
#[utoipa::path(
    post,
    path = "/webhooks/{endpoint_id}/rotate-secret",
    tag = "webhooks",
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn rotate_secret(zone: AdminZone, Path(path): Path<EndpointPath>) -> AdminResult {
    let issued = zone
        .airlock
        .webhooks()
        .rotate_secret(&zone.environment, &path.endpoint_id, &zone.caller, zone.now)
        .await?;
    uncached(ok(with_secret(issued)))
}

/// `POST …/webhooks/{endpoint_id}/test`
#[utoipa::path(
    post,
    path = "/webhooks/{endpoint_id}/test",
    tag = "webhooks",
    responses((status = 201, description = "Created", body = Value))
)]
pub async fn send_test(zone: AdminZone, Path(path): Path<EndpointPath>) -> AdminResult {
    let delivery = zone
        .airlock
        .webhooks()
        .test(&zone.environment, &path.endpoint_id, &zone.caller, zone.now)
        .await?;
    created(delivery)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryParams {
    endpoint: Option<String>,
    status: Option<String>,
    limit: Option<i64>,
}

fn params<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, AdminError> {
    query
        .map(|Query(params)| params)
        .map_err(|rejection| Error::Invalid(rejection.body_text()).into())
}

/// `GET …/webhook-deliveries?endpoint=&status=&limit=`
#[utoipa::path(
    get,
    path = "/webhook-deliveries",
    tag = "webhooks",
    params(DeliveryParams),
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn list_deliveries(
    zone: AdminZone,
    query: Result<Query<DeliveryParams>, QueryRejection>,
) -> AdminResult {
    let params = params(query)?;
    let state = params
        .status
        .map(|status| {
            DeliveryState::parse(&status)
                .ok_or_else(|| Error::Invalid("status is pending, succeeded or failed".into()))
        })
        .transpose()?;
    let query = DeliveryQuery {
        endpoint_id: params.endpoint,
        state,
        limit: params.limit.unwrap_or(100),
    };
    let deliveries = zone
        .airlock
        .webhooks()
        .deliveries(&zone.environment, query)
        .await?;
    ok(json!({ "deliveries": deliveries }))
}

/// `GET …/webhook-deliveries/{delivery_id}`: the delivery with its attempts.
#[utoipa::path(
    get,
    path = "/webhook-deliveries/{delivery_id}",
    tag = "webhooks",
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn show_delivery(zone: AdminZone, Path(path): Path<DeliveryPath>) -> AdminResult {
    let log = zone
        .airlock
        .webhooks()
        .delivery(&zone.environment, &path.delivery_id)
        .await?;
    ok(log)
}

/// `POST …/webhook-deliveries/{delivery_id}/replay`
#[utoipa::path(
    post,
    path = "/webhook-deliveries/{delivery_id}/replay",
    tag = "webhooks",
    responses((status = 201, description = "Created", body = Value))
)]
pub async fn replay_delivery(zone: AdminZone, Path(path): Path<DeliveryPath>) -> AdminResult {
    let replay = zone
        .airlock
        .webhooks()
        .replay(&zone.environment, &path.delivery_id, &zone.caller, zone.now)
        .await?;
    created(replay)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventParams {
    #[serde(rename = "type")]
    event_type: Option<String>,
    limit: Option<i64>,
}

/// `GET …/events?type=&limit=`
#[utoipa::path(
    get,
    path = "/events",
    tag = "webhooks",
    params(EventParams),
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn list_events(
    zone: AdminZone,
    query: Result<Query<EventParams>, QueryRejection>,
) -> AdminResult {
    let params = params(query)?;
    let events = zone
        .airlock
        .webhooks()
        .events(
            &zone.environment,
            params.event_type,
            params.limit.unwrap_or(100),
        )
        .await?;
    ok(json!({ "events": events }))
}

/// `GET …/events/{event_id}`
#[utoipa::path(
    get,
    path = "/events/{event_id}",
    tag = "webhooks",
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn show_event(zone: AdminZone, Path(path): Path<EventPath>) -> AdminResult {
    let event = zone
        .airlock
        .webhooks()
        .event(&zone.environment, &path.event_id)
        .await?;
    ok(event)
}
