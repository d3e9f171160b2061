//! CORS for the endpoints a browser app calls itself (a single-page app redeeming its code). Public
//! documents (discovery, JWKS) are readable from any origin; the token, userinfo and revocation
//! endpoints answer the web origins of the zone's public clients' redirect URIs, and nobody else.
//! No credentials (cookies) are ever allowed cross-origin. At the client-origin endpoints, a request
//! without `Origin` passes untouched, at no cost.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::current_env::CurrentEnvironment;

/// How long a browser may cache a preflight answer, in seconds.
const PREFLIGHT_MAX_AGE: &str = "600";

/// Discovery and JWKS: any origin may read them. The header is sent whether or not the request
/// names an origin, so a cache on the way never keeps a copy without it.
pub async fn for_anyone(request: Request, next: Next) -> Response {
    if request.method() == Method::OPTIONS && request.headers().contains_key(header::ORIGIN) {
        return preflight(HeaderValue::from_static("*"), "GET");
    }
    let mut response = next.run(request).await;
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

/// Token, userinfo, revocation: the zone's public clients' web origins only.
pub async fn for_client_origins(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(origin) = request.headers().get(header::ORIGIN).cloned() else {
        return next.run(request).await;
    };
    let (mut parts, body) = request.into_parts();
    let zone = match CurrentEnvironment::from_request_parts(&mut parts, &state).await {
        Ok(zone) => zone,
        Err(refused) => return refused,
    };
    let allowed = match (
        origin.to_str(),
        state.client_directory().web_origins(&zone).await,
    ) {
        (Ok(origin), Ok(origins)) => origins.contains(origin),
        _ => false,
    };
    let request = Request::from_parts(parts, body);
    if request.method() == Method::OPTIONS {
        if !allowed {
            return StatusCode::FORBIDDEN.into_response();
        }
        return preflight(origin, "GET, POST");
    }
    let mut response = next.run(request).await;
    if allowed {
        allow(response.headers_mut(), origin);
    }
    vary_on_origin(response.headers_mut());
    response
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
