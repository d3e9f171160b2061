//! A zone's webhooks: endpoints with their health (add, edit, rotate the signing secret, test,
//! disable or enable, remove), the
//! delivery log filtered by state and endpoint, and one delivery whole (the payload as sent, each
//! attempt's status and response) with its replay button.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

use super::pages::{Chrome, ConsoleError, ConsoleResult, refused_if, render, timestamp};
use super::session::{ConsoleZone, ZoneForm};
use super::zones::message_of;
use super::{confirm_notice, confirmed, zone_chrome};
use crate::http::AppState;
use crate::model::{Delivery, DeliveryAttempt, DeliveryQuery, DeliveryState, EnvKind};
use crate::oidc::params::ParamBag;
use crate::service::Error;
use crate::service::admin::webhooks::{EndpointSettings, EndpointView};

/// Deliveries listed at most.
const SHOWN: i64 = 100;

struct EndpointRow {
    endpoint: EndpointView,
    /// Its event patterns as the edit form shows them.
    events: String,
    href: String,
    last_success: String,
    last_failure: String,
}

struct DeliveryRow {
    delivery: Delivery,
    href: String,
    created: String,
}

#[derive(Deserialize, Default)]
pub struct DeliveryFilter {
    state: Option<String>,
    endpoint: Option<String>,
}

#[derive(Template)]
#[template(path = "console/webhooks.html")]
struct WebhooksPage {
    chrome: Chrome,
    base: String,
    endpoints: Vec<EndpointRow>,
    deliveries: Vec<DeliveryRow>,
    filter: DeliveryFilter,
    notice: Option<String>,
    live: bool,
    slug: String,
    /// A new endpoint's signing secret, shown once.
    created: Option<NewSecret>,
}

struct NewSecret {
    endpoint_id: String,
    secret: String,
    /// Until when the previous secret keeps signing beside it, after a rotation.
    previous_signs_until: Option<String>,
}

fn base(zone: &ConsoleZone) -> String {
    format!("/console/{}/webhooks", zone.environment.slug())
}

async fn webhooks_page(
    state: &AppState,
    zone: &ConsoleZone,
    filter: DeliveryFilter,
    notice: Option<String>,
    created: Option<NewSecret>,
) -> ConsoleResult {
    let chrome = zone_chrome(state, zone, "webhooks").await?;
    let base = base(zone);
    let optional = |at: Option<i64>| at.map(timestamp).unwrap_or_default();
    let endpoints = state
        .webhooks()
        .list(&zone.environment, zone.now)
        .await?
        .into_iter()
        .map(|endpoint| EndpointRow {
            href: format!("{base}/endpoints/{}", endpoint.endpoint_id),
            last_success: optional(endpoint.health.last_success_at),
            last_failure: optional(endpoint.health.last_failure_at),
            events: endpoint.events.join(", "),
            endpoint,
        })
        .collect();
    let wanted_state = match filter.state.as_deref().unwrap_or("") {
        "" => None,
        state => match DeliveryState::parse(state) {
            Some(state) => Some(state),
            None => return Err(ConsoleError::status(StatusCode::BAD_REQUEST)),
        },
    };
    let query = DeliveryQuery {
        endpoint_id: filter.endpoint.clone().filter(|id| !id.is_empty()),
        state: wanted_state,
        limit: SHOWN,
    };
    let deliveries = state
        .webhooks()
        .deliveries(&zone.environment, query)
        .await?
        .into_iter()
        .map(|delivery| DeliveryRow {
            href: format!("{base}/deliveries/{}", delivery.delivery_id),
            created: timestamp(delivery.created_at),
            delivery,
        })
        .collect();
    let status = refused_if(&notice);
    let page = WebhooksPage {
        chrome,
        base,
        endpoints,
        deliveries,
        filter,
        notice,
        live: zone.environment.kind == EnvKind::Live,
        slug: zone.environment.slug(),
        created,
    };
    Ok(render(status, &page))
}

/// `GET …/webhooks?state=&endpoint=`
pub async fn list(
    State(state): State<AppState>,
    zone: ConsoleZone,
    query: Result<Query<DeliveryFilter>, QueryRejection>,
) -> ConsoleResult {
    let Query(filter) = query.map_err(|_| ConsoleError::status(StatusCode::BAD_REQUEST))?;
    webhooks_page(&state, &zone, filter, None, None).await
}

/// `POST …/webhooks`: a new endpoint; its signing secret is shown once.
pub async fn add(State(state): State<AppState>, form: ZoneForm) -> ConsoleResult {
    let ZoneForm { zone, fields } = form;
    let settings = endpoint_settings(&fields);
    match state
        .webhooks()
        .add(&zone.environment, settings, zone.caller(), zone.now)
        .await
    {
        Ok(created) => {
            let shown = NewSecret {
                endpoint_id: created.endpoint.endpoint_id.clone(),
                secret: created.secret.expose().to_string(),
                previous_signs_until: None,
            };
            webhooks_page(&state, &zone, DeliveryFilter::default(), None, Some(shown)).await
        }
        Err(error @ (Error::Invalid(_) | Error::Conflict)) => {
            let notice = Some(message_of(&error));
            webhooks_page(&state, &zone, DeliveryFilter::default(), notice, None).await
        }
        Err(error) => Err(error.into()),
    }
}

/// An endpoint's URL, events and description as a form sent them.
fn endpoint_settings(fields: &ParamBag) -> EndpointSettings {
    let text = |name: &str| {
        fields
            .get(name)
            .ok()
            .flatten()
            .map(|value| value.trim().to_string())
    };
    EndpointSettings {
        url: text("url"),
        events: text("events"),
        description: text("description"),
    }
}

#[derive(Deserialize)]
pub struct EndpointAction {
    endpoint_id: String,
    action: String,
}

/// `POST …/webhooks/endpoints/{id}/{enable|disable|test|edit|rotate|remove}`
pub async fn endpoint_action(
    State(state): State<AppState>,
    Path(EndpointAction {
        endpoint_id,
        action,
    }): Path<EndpointAction>,
    form: ZoneForm,
) -> ConsoleResult {
    let ZoneForm { zone, fields } = form;
    let (environment, caller, now) = (&zone.environment, zone.caller(), zone.now);
    let id = endpoint_id.as_str();
    let webhooks = state.webhooks();
    if action == "rotate" {
        let rotated = webhooks.rotate_secret(environment, id, caller, now).await?;
        let shown = NewSecret {
            endpoint_id: rotated.endpoint.endpoint_id.clone(),
            secret: rotated.secret.expose().to_string(),
            previous_signs_until: rotated.endpoint.previous_secret_signs_until.map(timestamp),
        };
        return webhooks_page(&state, &zone, DeliveryFilter::default(), None, Some(shown)).await;
    }
    let done = match action.as_str() {
        "edit" => webhooks
            .update(environment, id, endpoint_settings(&fields), caller, now)
            .await
            .map(drop),
        "enable" => webhooks
            .set_enabled(environment, id, true, caller, now)
            .await
            .map(drop),
        "disable" => webhooks
            .set_enabled(environment, id, false, caller, now)
            .await
            .map(drop),
        "test" => webhooks.test(environment, id, caller, now).await.map(drop),
        "remove" if !confirmed(&zone, &fields) => Err(Error::Invalid(confirm_notice(&zone))),
        "remove" => webhooks.remove(environment, id, caller, now).await,
        _ => Err(Error::NotFound),
    };
    match done {
        Ok(()) => Ok(Redirect::to(&base(&zone)).into_response()),
        Err(error @ (Error::Invalid(_) | Error::Conflict)) => {
            let notice = Some(message_of(&error));
            webhooks_page(&state, &zone, DeliveryFilter::default(), notice, None).await
        }
        Err(error) => Err(error.into()),
    }
}

struct AttemptRow {
    attempt: DeliveryAttempt,
    at: String,
}

#[derive(Template)]
#[template(path = "console/delivery.html")]
struct DeliveryPage {
    chrome: Chrome,
    delivery: Delivery,
    created: String,
    attempts: Vec<AttemptRow>,
    payload: String,
    replay: String,
    back: String,
}

#[derive(Deserialize)]
pub struct DeliveryPath {
    delivery_id: String,
}

/// `GET …/webhooks/deliveries/{id}`: the payload as sent and every attempt.
pub async fn delivery(
    State(state): State<AppState>,
    zone: ConsoleZone,
    Path(path): Path<DeliveryPath>,
) -> ConsoleResult {
    let chrome = zone_chrome(&state, &zone, "webhooks").await?;
    let log = state
        .webhooks()
        .delivery(&zone.environment, &path.delivery_id)
        .await?;
    let event = state
        .webhooks()
        .event(&zone.environment, &log.delivery.event_id)
        .await?;
    let payload = serde_json::to_string_pretty(&event.payload).map_err(Error::internal)?;
    let page = DeliveryPage {
        chrome,
        created: timestamp(log.delivery.created_at),
        replay: format!("{}/deliveries/{}/replay", base(&zone), path.delivery_id),
        back: base(&zone),
        attempts: log
            .attempts
            .into_iter()
            .map(|attempt| AttemptRow {
                at: timestamp(attempt.at),
                attempt,
            })
            .collect(),
        delivery: log.delivery,
        payload,
    };
    Ok(render(StatusCode::OK, &page))
}

/// `POST …/webhooks/deliveries/{id}/replay`: the same event again, as a new delivery.
pub async fn replay(
    State(state): State<AppState>,
    Path(path): Path<DeliveryPath>,
    form: ZoneForm,
) -> ConsoleResult {
    let ZoneForm { zone, .. } = form;
    let replayed = state
        .webhooks()
        .replay(
            &zone.environment,
            &path.delivery_id,
            zone.caller(),
            zone.now,
        )
        .await?;
    let href = format!("{}/deliveries/{}", base(&zone), replayed.delivery_id);
    Ok(Redirect::to(&href).into_response())
}
