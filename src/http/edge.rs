//! The one middleware every request passes: it names the request (`x-request-id`), opens the log
//! span that carries that name (and, once the zone is resolved, its project and environment), finds
//! out which host the request addresses and from whom it comes, and stamps the response headers
//! every answer carries. One layer rather than four: each layer costs a boxed service per request.

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;
use tracing::field::Empty;

use super::AppState;
use super::headers::security_headers;
use super::host;
use super::request_meta::{self, REQUEST_ID, RequestId};

pub async fn edge(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let id = request_meta::request_id(request.headers());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
        project = Empty,
        environment = Empty,
        kind = Empty,
    );
    let mut response = async {
        if let Err(refused) = host::address(&state, &mut request).await {
            return refused;
        }
        request.extensions_mut().insert(RequestId(id.clone()));
        let response = next.run(request).await;
        tracing::debug!(status = response.status().as_u16(), "answered");
        response
    }
    .instrument(span)
    .await;
    security_headers(&mut response);
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    response
}
