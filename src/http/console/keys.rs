//! A zone's signing keys: their states and schedule, a staged rotation, and the JWKS exactly as
//! relying parties fetch it.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};

use super::pages::{Chrome, ConsoleResult, refused_if, render, timestamp};
use super::session::{ConsoleZone, ZoneForm};
use super::zone_chrome;
use super::zones::message_of;
use crate::http::AppState;
use crate::model::SigningAlg;
use crate::oidc::endpoints::Endpoint;
use crate::service::Error;
use crate::service::admin::keys::KeyView;

struct KeyRow {
    key: KeyView,
    created: String,
    activates: String,
    retires: String,
    unpublished: String,
}

#[derive(Template)]
#[template(path = "console/keys.html")]
struct KeysPage {
    chrome: Chrome,
    rows: Vec<KeyRow>,
    jwks: String,
    jwks_url: String,
    action: String,
    notice: Option<String>,
}

async fn keys_page(state: &AppState, zone: &ConsoleZone, notice: Option<String>) -> ConsoleResult {
    let chrome = zone_chrome(state, zone, "keys").await?;
    let optional = |at: Option<i64>| at.map(timestamp).unwrap_or_default();
    let rows = state
        .keys()
        .list(&zone.environment, zone.now)
        .await?
        .into_iter()
        .map(|key| KeyRow {
            created: timestamp(key.created_at),
            activates: timestamp(key.schedule.activates_at),
            retires: optional(key.schedule.retires_at),
            unpublished: optional(key.schedule.unpublish_at),
            key,
        })
        .collect();
    let published = state
        .key_ring()
        .keys(&zone.environment, zone.now)
        .await?
        .jwks
        .clone();
    let jwks = serde_json::from_slice::<serde_json::Value>(&published)
        .and_then(|document| serde_json::to_string_pretty(&document))
        .map_err(Error::internal)?;
    let view = state.environments().view(&zone.environment);
    let status = refused_if(&notice);
    let page = KeysPage {
        chrome,
        rows,
        jwks,
        jwks_url: format!("{}{}", view.issuer, Endpoint::Jwks.path()),
        action: format!("/console/{}/keys/rotate", zone.environment.slug()),
        notice,
    };
    Ok(render(status, &page))
}

/// `GET …/keys`
pub async fn list(State(state): State<AppState>, zone: ConsoleZone) -> ConsoleResult {
    keys_page(&state, &zone, None).await
}

/// `POST …/keys/rotate`: stages a key of the chosen algorithm, published now and signing after
/// the publish delay.
pub async fn rotate(State(state): State<AppState>, form: ZoneForm) -> ConsoleResult {
    let ZoneForm { zone, fields } = form;
    let alg = fields.get("alg").ok().flatten().unwrap_or("");
    let Some(alg) = SigningAlg::parse(alg) else {
        return keys_page(&state, &zone, Some("Choose RS256 or ES256.".into())).await;
    };
    let delay = match fields.get("publish_delay").ok().flatten().map(str::trim) {
        None | Some("") => None,
        Some(text) => match text.parse::<i64>() {
            Ok(seconds) => Some(seconds),
            Err(_) => {
                let notice = "The publish delay is a number of seconds.".to_string();
                return keys_page(&state, &zone, Some(notice)).await;
            }
        },
    };
    match state
        .keys()
        .rotate(&zone.environment, alg, delay, zone.caller(), zone.now)
        .await
    {
        Ok(_) => {
            Ok(Redirect::to(&format!("/console/{}/keys", zone.environment.slug())).into_response())
        }
        Err(error @ Error::Invalid(_)) => keys_page(&state, &zone, Some(message_of(&error))).await,
        Err(error) => Err(error.into()),
    }
}
