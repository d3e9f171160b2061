//! Response shapes the endpoints share.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::headers::no_store;

/// A JSON body that carries or concerns credentials: never cached.
pub fn json_no_store(value: impl serde::Serialize) -> Response {
    let mut response = Json(value).into_response();
    no_store(&mut response);
    response
}

/// `303 See Other` to `location`, never cached.
pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    no_store(&mut response);
    response
}

/// Appends a `Set-Cookie` header.
pub fn set_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}
