//! The only place that turns errors into statuses and bodies: RFC 6749 §5.2 JSON for the token
//! endpoint, RFC 6750 `WWW-Authenticate` for bearer resources, a page for browsers, JSON for admins;
//! 503 when the database is away, and a generic 500 (logged) for anything unexpected.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::headers::no_store;
use super::pages::{self, ErrorPage};
use crate::oidc::{ErrorCode, OAuthError};
use crate::service::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Surface {
    /// Token endpoint: JSON error body, `invalid_client` as 401 with a Basic challenge.
    Json,
    /// Protected resources (UserInfo): `WWW-Authenticate: Bearer …`.
    Bearer,
    /// A person's browser.
    Page,
    /// The admin API.
    Admin,
}

#[derive(Debug)]
pub struct HttpError {
    error: Error,
    surface: Surface,
}

impl HttpError {
    pub fn json(error: impl Into<Error>) -> Self {
        HttpError {
            error: error.into(),
            surface: Surface::Json,
        }
    }

    pub fn bearer(error: impl Into<Error>) -> Self {
        HttpError {
            error: error.into(),
            surface: Surface::Bearer,
        }
    }

    pub fn page(error: impl Into<Error>) -> Self {
        HttpError {
            error: error.into(),
            surface: Surface::Page,
        }
    }

    pub fn admin(error: impl Into<Error>) -> Self {
        HttpError {
            error: error.into(),
            surface: Surface::Admin,
        }
    }
}

fn oauth_status(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidClient | ErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
        ErrorCode::InsufficientScope => StatusCode::FORBIDDEN,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    }
}

fn oauth_response(error: &OAuthError, surface: Surface) -> Response {
    if let Some(detail) = &error.detail {
        tracing::info!(error = error.code.as_str(), detail = %detail, "request refused");
    }
    let status = oauth_status(error.code);
    if surface == Surface::Page {
        return pages::error_page(status, ErrorPage::from_description(error.description));
    }
    let body = json!({ "error": error.code.as_str(), "error_description": error.description });
    let mut response = (status, Json(body)).into_response();
    let challenge = match (surface, error.code) {
        (Surface::Json, ErrorCode::InvalidClient) => Some("Basic realm=\"airlock\"".to_string()),
        (Surface::Bearer, code) => Some(format!(
            "Bearer realm=\"airlock\", error=\"{}\", error_description=\"{}\"",
            code.as_str(),
            error.description
        )),
        _ => None,
    };
    if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    no_store(&mut response);
    response
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        match &self.error {
            Error::OAuth(error) => return oauth_response(error, self.surface),
            Error::RateLimited(retry_after) => return rate_limited(*retry_after, self.surface),
            _ => {}
        }
        let (status, message) = describe(&self.error);
        match self.surface {
            Surface::Page => pages::error_page(status, ErrorPage::plain(&message)),
            Surface::Admin => (status, Json(json!({ "error": message }))).into_response(),
            Surface::Json | Surface::Bearer => {
                let code = match status {
                    StatusCode::SERVICE_UNAVAILABLE => ErrorCode::TemporarilyUnavailable,
                    StatusCode::BAD_REQUEST => ErrorCode::InvalidRequest,
                    _ => ErrorCode::ServerError,
                };
                let mut response = (
                    status,
                    Json(json!({ "error": code.as_str(), "error_description": message })),
                )
                    .into_response();
                no_store(&mut response);
                response
            }
        }
    }
}

/// The status and the message a service error is answered with, once any detail worth keeping is
/// logged (an OAuth error keeps its description, a rate limit its own wording).
pub fn describe(error: &Error) -> (StatusCode, String) {
    match error {
        Error::OAuth(error) => (oauth_status(error.code), error.description.to_string()),
        Error::RateLimited(_) => (
            StatusCode::TOO_MANY_REQUESTS,
            "too many requests; retry later".to_string(),
        ),
        Error::NotFound => (StatusCode::NOT_FOUND, "not found".to_string()),
        Error::Conflict => (StatusCode::CONFLICT, "already exists".to_string()),
        Error::Superseded(message) => (StatusCode::CONFLICT, message.clone()),
        Error::Forbidden(message) => (StatusCode::FORBIDDEN, message.clone()),
        Error::Invalid(message) => (StatusCode::BAD_REQUEST, message.clone()),
        Error::Unavailable(detail) => {
            tracing::warn!(detail = %detail, "database unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily unavailable".to_string(),
            )
        }
        Error::Internal(detail) => {
            tracing::error!(detail = %detail, "internal error");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error".to_string(),
            )
        }
    }
}

/// 429 with `Retry-After`, in the language of the surface.
fn rate_limited(retry_after: u64, surface: Surface) -> Response {
    let description = "too many requests; retry later";
    let mut response = match surface {
        Surface::Page => pages::error_page(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorPage::plain("Too many requests. Please wait and try again."),
        ),
        Surface::Admin => (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({ "error": description })),
        )
            .into_response(),
        Surface::Json | Surface::Bearer => (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({ "error": "rate_limited", "error_description": description })),
        )
            .into_response(),
    };
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    no_store(&mut response);
    response
}

/// Every unknown path, project, environment or resource.
pub async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({ "error": "not_found" }))).into_response()
}
