//! Webhook endpoints of one environment, their delivery log, and the event inspector.

use axum::Router;
use axum::extract::{Path, Query, rejection::QueryRejection};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::extract::{
    AdminError, AdminJson, AdminResult, AdminZone, created, no_content, ok, uncached,
};
use crate::http::AppState;
use crate::model::{DeliveryQuery, DeliveryState};
use crate::service::Error;
use crate::service::admin::webhooks::{CreatedEndpoint, EndpointSettings};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/webhooks", post(add_endpoint).get(list_endpoints))
        .route(
            "/webhooks/{endpoint_id}",
            get(show_endpoint)
                .patch(update_endpoint)
                .delete(remove_endpoint),
        )
        .route("/webhooks/{endpoint_id}/enable", post(enable_endpoint))
        .route("/webhooks/{endpoint_id}/disable", post(disable_endpoint))
        .route("/webhooks/{endpoint_id}/rotate-secret", post(rotate_secret))
        .route("/webhooks/{endpoint_id}/test", post(send_test))
        .route("/webhook-deliveries", get(list_deliveries))
        .route("/webhook-deliveries/{delivery_id}", get(show_delivery))
        .route(
            "/webhook-deliveries/{delivery_id}/replay",
            post(replay_delivery),
        )
        .route("/events", get(list_events))
        .route("/events/{event_id}", get(show_event))
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
#[derive(Deserialize)]
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
pub async fn list_endpoints(zone: AdminZone) -> AdminResult {
    let endpoints = zone
        .airlock
        .webhooks()
        .list(&zone.environment, zone.now)
        .await?;
    ok(json!({ "webhooks": endpoints }))
}

/// `GET …/webhooks/{endpoint_id}`
pub async fn show_endpoint(zone: AdminZone, Path(path): Path<EndpointPath>) -> AdminResult {
    let endpoint = zone
        .airlock
        .webhooks()
        .show(&zone.environment, &path.endpoint_id, zone.now)
        .await?;
    ok(endpoint)
}

/// `PATCH …/webhooks/{endpoint_id}`
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
pub async fn enable_endpoint(zone: AdminZone, Path(path): Path<EndpointPath>) -> AdminResult {
    set_enabled(zone, &path.endpoint_id, true).await
}

/// `POST …/webhooks/{endpoint_id}/disable`
pub async fn disable_endpoint(zone: AdminZone, Path(path): Path<EndpointPath>) -> AdminResult {
    set_enabled(zone, &path.endpoint_id, false).await
}

/// `POST …/webhooks/{endpoint_id}/rotate-secret`
pub async fn rotate_secret(zone: AdminZone, Path(path): Path<EndpointPath>) -> AdminResult {
    let issued = zone
        .airlock
        .webhooks()
        .rotate_secret(&zone.environment, &path.endpoint_id, &zone.caller, zone.now)
        .await?;
    uncached(ok(with_secret(issued)))
}

/// `POST …/webhooks/{endpoint_id}/test`
pub async fn send_test(zone: AdminZone, Path(path): Path<EndpointPath>) -> AdminResult {
    let delivery = zone
        .airlock
        .webhooks()
        .test(&zone.environment, &path.endpoint_id, &zone.caller, zone.now)
        .await?;
    created(delivery)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
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
pub async fn show_delivery(zone: AdminZone, Path(path): Path<DeliveryPath>) -> AdminResult {
    let log = zone
        .airlock
        .webhooks()
        .delivery(&zone.environment, &path.delivery_id)
        .await?;
    ok(log)
}

/// `POST …/webhook-deliveries/{delivery_id}/replay`
pub async fn replay_delivery(zone: AdminZone, Path(path): Path<DeliveryPath>) -> AdminResult {
    let replay = zone
        .airlock
        .webhooks()
        .replay(&zone.environment, &path.delivery_id, &zone.caller, zone.now)
        .await?;
    created(replay)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventParams {
    #[serde(rename = "type")]
    event_type: Option<String>,
    limit: Option<i64>,
}

/// `GET …/events?type=&limit=`
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
pub async fn show_event(zone: AdminZone, Path(path): Path<EventPath>) -> AdminResult {
    let event = zone
        .airlock
        .webhooks()
        .event(&zone.environment, &path.event_id)
        .await?;
    ok(event)
}
