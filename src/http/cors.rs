//! CORS for the endpoints a browser app calls itself (a single-page app redeeming its code). Public
//! documents (discovery, JWKS) are readable from any origin (their handlers send
//! `Access-Control-Allow-Origin: *`); the token, userinfo and revocation endpoints answer the web
//! origins of the zone's public clients' redirect URIs, and nobody else. No credentials (cookies)
//! are ever allowed cross-origin. Handlers add the grant to their answer; nothing runs for a request
//! without `Origin`.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::current_env::CurrentEnvironment;

/// How long a browser may cache a preflight answer, in seconds.
const PREFLIGHT_MAX_AGE: &str = "600";

/// The request's `Origin`, if a browser sent one.
pub struct Origin(Option<HeaderValue>);

impl<S: Send + Sync> FromRequestParts<S> for Origin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Origin(parts.headers.get(header::ORIGIN).cloned()))
    }
}

impl Origin {
    /// Grants `response` to the origin when it is one of the zone's public clients' web origins.
    pub async fn grant(self, state: &AppState, zone: &CurrentEnvironment, response: &mut Response) {
        let Some(origin) = self.0 else {
            return;
        };
        if is_client_origin(state, zone, &origin).await {
            allow(response.headers_mut(), origin);
        }
        vary_on_origin(response.headers_mut());
    }
}

async fn is_client_origin(
    state: &AppState,
    zone: &CurrentEnvironment,
    origin: &HeaderValue,
) -> bool {
    match (
        origin.to_str(),
        state.client_directory().web_origins(zone).await,
    ) {
        (Ok(origin), Ok(origins)) => origins.contains(origin),
        _ => false,
    }
}

/// `OPTIONS` of discovery and JWKS: any origin.
pub async fn preflight_for_anyone(_zone: CurrentEnvironment) -> Response {
    preflight(HeaderValue::from_static("*"), "GET")
}

/// `OPTIONS` of token, userinfo and revocation: the zone's public clients' web origins only.
pub async fn preflight_for_clients(
    State(state): State<AppState>,
    zone: CurrentEnvironment,
    Origin(origin): Origin,
) -> Response {
    match origin {
        Some(origin) if is_client_origin(&state, &zone, &origin).await => {
            preflight(origin, "GET, POST")
        }
        _ => StatusCode::FORBIDDEN.into_response(),
    }
}

fn preflight(origin: HeaderValue, methods: &'static str) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    allow(headers, origin);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(methods),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("authorization, content-type"),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(PREFLIGHT_MAX_AGE),
    );
    vary_on_origin(headers);
    response
}

fn allow(headers: &mut HeaderMap, origin: HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    // A browser app reads the rate-limit wait and the bearer challenge too.
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("retry-after, www-authenticate"),
    );
}

fn vary_on_origin(headers: &mut HeaderMap) {
    headers.append(header::VARY, HeaderValue::from_static("origin"));
}
