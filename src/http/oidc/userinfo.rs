use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::http::AppState;
use crate::http::current_env::CurrentEnvironment;
use crate::http::error::HttpError;
use crate::http::headers::no_store;
use crate::oidc::OAuthError;
use crate::oidc::params::ParamBag;

/// Where the bearer token came from (RFC 6750 §2.1 header, §2.2 form body).
fn bearer_token(
    method: &Method,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Option<String>, OAuthError> {
    let from_header = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(value) => {
            let value = value.to_str().map_err(|_| OAuthError::invalid_token())?;
            let (scheme, token) = value
                .split_once(' ')
                .ok_or_else(OAuthError::invalid_token)?;
            if !scheme.eq_ignore_ascii_case("bearer") {
                return Err(OAuthError::invalid_token());
            }
            Some(token.trim().to_string())
        }
    };
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let from_body = if method == Method::POST && is_form {
        ParamBag::parse(body)?
            .get("access_token")?
            .map(str::to_string)
    } else {
        None
    };
    match (from_header, from_body) {
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "send the access token in one place only",
        )),
        (header, body) => Ok(header.or(body)),
    }
}

/// `GET|POST {issuer}/userinfo`
pub async fn userinfo(
    State(state): State<AppState>,
    current: CurrentEnvironment,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token = match bearer_token(&method, &headers, &body) {
        Ok(Some(token)) => token,
        Ok(None) => {
            let mut response = StatusCode::UNAUTHORIZED.into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"airlock\""),
            );
            return response;
        }
        Err(error) => return HttpError::bearer(error).into_response(),
    };
    match state.userinfo(&current, &token, crate::clock::now()).await {
        Ok(claims) => {
            let mut response = Json(claims).into_response();
            no_store(&mut response);
            response
        }
        Err(error) => HttpError::bearer(error).into_response(),
    }
}
