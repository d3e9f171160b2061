//! The one place where a request's environment is resolved, never from a default: from the
//! `/{project}/{environment}` prefix of the path on the public host, or from the custom domain the
//! request was addressed to. Unknown zones are 404, and so is a path issuer on a custom domain or a
//! root route on the public host.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::{self, HttpError};
use super::host::Addressed;
use super::request_meta::RequestOrigin;
use crate::model::Zone;
use crate::model::audit::Origin;
use crate::service::Call;

/// The zone a request is addressed to: its environment, and the issuer it answers as.
pub type CurrentEnvironment = Zone;

/// A request to one zone: the zone, where the request came from (for the audit log) and when it
/// arrived; `call` hands all three to a use case.
pub struct ZoneRequest {
    pub zone: Zone,
    origin: Origin,
    now: i64,
}

impl ZoneRequest {
    pub fn call(&self) -> Call<'_> {
        Call {
            zone: &self.zone,
            origin: &self.origin,
            now: self.now,
        }
    }
}

impl FromRequestParts<AppState> for ZoneRequest {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let zone = Zone::from_request_parts(parts, state).await?;
        let Ok(RequestOrigin(origin)) = RequestOrigin::from_request_parts(parts, state).await;
        Ok(ZoneRequest {
            zone,
            origin,
            now: crate::clock::now(),
        })
    }
}

/// Where the zone a request addresses is left for the edge, once resolved (present only while
/// metrics are recorded).
#[derive(Debug, Clone, Default)]
pub struct ResolvedZone(pub std::sync::Arc<std::sync::OnceLock<Zone>>);

/// The path parameters that name a path issuer's zone.
pub const PROJECT: &str = "project";
pub const ENVIRONMENT: &str = "environment";

impl FromRequestParts<AppState> for Zone {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state).await.ok();
        let param = |wanted: &str| {
            params
                .iter()
                .flat_map(|params| params.iter())
                .find_map(|(key, value)| (key == wanted).then_some(value))
        };
        let zone = match (
            parts.extensions.get::<Addressed>(),
            param(PROJECT),
            param(ENVIRONMENT),
        ) {
            (Some(Addressed::PublicHost), Some(project), Some(name)) => {
                match state.zones().path_zone(project, name).await {
                    Ok(Some(zone)) => zone,
                    Ok(None) => return Err(error::not_found().await),
                    Err(e) => return Err(HttpError::json(e).into_response()),
                }
            }
            (Some(Addressed::Domain(zone)), None, None) => (**zone).clone(),
            _ => return Err(error::not_found().await),
        };
        if let Some(ResolvedZone(slot)) = parts.extensions.get::<ResolvedZone>() {
            let _ = slot.set(zone.clone());
        }
        let span = tracing::Span::current();
        span.record("project", zone.environment.project.as_str());
        span.record("environment", zone.environment.name.as_str());
        span.record("kind", zone.environment.kind.as_str());
        Ok(zone)
    }
}
