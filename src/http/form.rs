//! OAuth parameters from a query string or a form body, refusing duplicates and bad encoding in our
//! own error language rather than axum's plain text.

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri, header};

use crate::oidc::OAuthError;
use crate::oidc::params::ParamBag;

/// Parameters of a request that may come as GET (query) or POST (form body).
pub fn query_or_form(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<ParamBag, OAuthError> {
    if method == Method::POST {
        form(headers, body)
    } else {
        ParamBag::parse(uri.query().unwrap_or("").as_bytes())
    }
}

/// A form body (`application/x-www-form-urlencoded`, as RFC 6749 requires for POSTs).
pub fn form(headers: &HeaderMap, body: &Bytes) -> Result<ParamBag, OAuthError> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| {
            mime.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    ParamBag::parse(body)
}
