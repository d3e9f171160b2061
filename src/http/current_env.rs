//! The one place where a request's environment is resolved, never from a default: from the
//! `/{project}/{environment}` prefix of the path on the public host, or from the custom domain the
//! request was addressed to. Unknown zones are 404, and so is a path issuer on a custom domain.

use axum::extract::{FromRequestParts, OriginalUri, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use super::AppState;
use super::error::{self, HttpError};
use super::host::Addressed;
use crate::model::{Issuer, Zone};

/// The zone a request is addressed to: its environment, and the issuer it answers as.
pub type CurrentEnvironment = Zone;

/// Middleware of the path-issuer routes: resolves `/{project}/{environment}` on the public host.
pub async fn resolve(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !matches!(
        request.extensions().get::<Addressed>(),
        Some(Addressed::PublicHost)
    ) {
        return error::not_found().await;
    }
    let path = request
        .extensions()
        .get::<OriginalUri>()
        .map(|uri| uri.path().to_string())
        .unwrap_or_else(|| request.uri().path().to_string());
    let mut segments = path.trim_start_matches('/').split('/');
    let (Some(project), Some(name)) = (segments.next(), segments.next()) else {
        return error::not_found().await;
    };
    let environment = match state.environment(project, name).await {
        Ok(Some(environment)) if environment.path_issuer_enabled => environment,
        Ok(_) => return error::not_found().await,
        Err(e) => return HttpError::json(e).into_response(),
    };
    let issuer = Issuer::for_path(&state.public_url, &environment);
    enter(
        Zone {
            environment,
            issuer,
        },
        request,
        next,
    )
    .await
}

/// Middleware of the root routes: the environment of the custom domain the request came in on.
pub async fn resolve_domain(request: Request, next: Next) -> Response {
    match request.extensions().get::<Addressed>() {
        Some(Addressed::Domain(zone)) => {
            let zone = (**zone).clone();
            enter(zone, request, next).await
        }
        _ => error::not_found().await,
    }
}

/// Stores the zone in request extensions and runs the rest of the request inside a span naming
/// project, environment and kind.
async fn enter(zone: Zone, mut request: Request, next: Next) -> Response {
    let span = tracing::info_span!(
        "environment",
        project = %zone.environment.project,
        environment = %zone.environment.name,
        kind = zone.environment.kind.as_str(),
        issuer = %zone.issuer.as_str(),
    );
    request.extensions_mut().insert(zone);
    next.run(request).instrument(span).await
}

impl<S: Send + Sync> FromRequestParts<S> for Zone {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Zone>() {
            Some(current) => Ok(current.clone()),
            None => Err(error::not_found().await.into_response()),
        }
    }
}
