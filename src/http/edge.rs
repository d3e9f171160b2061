//! The one middleware every request passes: it names the request (`x-request-id`), opens the log
//! span that carries that name (and, once the zone is resolved, its project and environment), finds
//! out which host the request addresses and from whom it comes, and stamps the response headers
//! every answer carries. One layer rather than four: each layer costs a boxed service per request.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;
use tracing::field::Empty;

use super::AppState;
use super::current_env::ResolvedZone;
use super::error::HttpError;
use super::headers::security_headers;
use super::host;
use super::pages::{self, ErrorPage};
use super::request_meta::{self, REQUEST_ID, RequestId};
use crate::model::is_clean_text;
use crate::oidc::OAuthError;
use crate::telemetry;

pub async fn edge(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let id = request_meta::request_id(request.headers());
    let started = Instant::now();
    // The route's template, never the raw path (which names zones and may carry anything).
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|matched| matched.as_str().to_string())
        .unwrap_or_else(|| "(no route)".to_string());
    let method = request.method().clone();
    let resolved = telemetry::enabled().then(ResolvedZone::default);
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        route = %route,
        project = Empty,
        environment = Empty,
        kind = Empty,
        client_id = Empty,
    );
    let mut response = async {
        if !has_clean_target(&request) {
            return unclean_target(&request);
        }
        if let Err(refused) = host::address(&state, &mut request).await {
            return refused;
        }
        request.extensions_mut().insert(RequestId(id.clone()));
        if let Some(resolved) = &resolved {
            request.extensions_mut().insert(resolved.clone());
        }
        next.run(request).await
    }
    .instrument(span.clone())
    .await;
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(resolved) = &resolved {
        let status = response.status();
        let labels = [("route", route.as_str()), ("status", status.as_str())];
        match resolved.0.get() {
            Some(zone) => {
                telemetry::count("airlock_http_requests_total", zone, &labels);
                telemetry::observe("airlock_http_request_seconds", zone, &labels[..1], elapsed);
            }
            None => telemetry::count_unzoned("airlock_http_requests_total", &labels),
        }
    }
    if state.config.access_log {
        // One line a request, in the request's span (id, zone, client).
        let _entered = span.enter();
        tracing::info!(
            target: "airlock::access",
            status = response.status().as_u16(),
            latency_ms = elapsed * 1000.0,
            "request"
        );
    }
    security_headers(&mut response);
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    response
}

/// Whether the path and query, once percent-decoded, are free of control characters: no path
/// segment or query value may smuggle a NUL (PostgreSQL refuses it in text, as a 500) or a
/// terminal escape into a lookup, a log line or the audit log. (Bytes that are not UTF-8 are left
/// to the parsers, which refuse them in their own words.)
fn has_clean_target(request: &Request) -> bool {
    let uri = request.uri();
    let clean =
        |raw: &str| is_clean_text(&percent_encoding::percent_decode_str(raw).decode_utf8_lossy());
    clean(uri.path()) && uri.query().is_none_or(clean)
}

/// 400 for a target with control characters: a page for a browser, an OAuth error otherwise.
fn unclean_target(request: &Request) -> Response {
    let for_browser = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if for_browser {
        let page = ErrorPage::plain("The request is malformed.");
        pages::error_page(StatusCode::BAD_REQUEST, page)
    } else {
        let error = OAuthError::invalid_request("the request target contains control characters");
        HttpError::json(error).into_response()
    }
}
