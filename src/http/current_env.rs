//! The one place where a request's environment is resolved: from the `/{project}/{environment}`
//! prefix of the path, never from a default. Unknown zones are 404.

use axum::extract::{FromRequestParts, OriginalUri, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use super::AppState;
use super::error::{self, HttpError};
use crate::model::{Issuer, Zone};

/// The zone a request is addressed to: its environment, and the issuer it answers as.
pub type CurrentEnvironment = Zone;

/// Middleware on the per-environment router: resolves once, stores the result in request extensions
/// and runs the rest of the request inside a span naming project, environment and kind.
pub async fn resolve(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let path = request
        .extensions()
        .get::<OriginalUri>()
        .map(|uri| uri.path().to_string())
        .unwrap_or_else(|| request.uri().path().to_string());
    let mut segments = path.trim_start_matches('/').split('/');
    let (Some(project), Some(name)) = (segments.next(), segments.next()) else {
        return error::not_found().await.into_response();
    };
    let environment = match state.environment(project, name).await {
        Ok(Some(environment)) => environment,
        Ok(None) => return error::not_found().await.into_response(),
        Err(e) => return HttpError::json(e).into_response(),
    };
    let span = tracing::info_span!(
        "environment",
        project = %environment.project,
        environment = %environment.name,
        kind = environment.kind.as_str(),
    );
    let issuer = Issuer::for_path(&state.config.public_url, &environment);
    request.extensions_mut().insert(CurrentEnvironment {
        environment,
        issuer,
    });
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
