//! Extractors that turn raw requests into protocol inputs, rejecting malformed ones in our own
//! language (OAuth JSON errors, pages for browsers), never axum's plain text.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::cookies::{self, Cookie};
use super::error::HttpError;
use super::host::Addressed;
use super::pages::{self, ErrorPage};
use crate::oidc::OAuthError;
use crate::oidc::client_auth::{self, PresentedClient};
use crate::oidc::params::ParamBag;

/// The form field of our own pages that carries the CSRF token.
pub const CSRF_FIELD: &str = "airlock_csrf";

/// The headers and the body, within the configured size limit (over it: 413).
async fn headers_and_body<S: Send + Sync>(
    request: Request,
    state: &S,
) -> Result<(HeaderMap, Bytes), Response> {
    let headers = request.headers().clone();
    let body = Bytes::from_request(request, state).await;
    let body = body.map_err(|rejection| {
        let status = rejection.status();
        let error = OAuthError::invalid_request("the request body could not be read");
        let mut response = HttpError::json(error).into_response();
        *response.status_mut() = status;
        response
    })?;
    Ok((headers, body))
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| {
            mime.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// A form body (`application/x-www-form-urlencoded`, as RFC 6749 requires for POSTs).
fn form(headers: &HeaderMap, body: &[u8]) -> Result<ParamBag, OAuthError> {
    if !is_form(headers) {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    ParamBag::parse(body)
}

/// The form of a back-channel OAuth endpoint (token, introspection, revocation) and the client
/// credentials presented with it (Basic header or form fields). Duplicated parameters, another
/// encoding, or ambiguous credentials are refused as RFC 6749 §5.2 errors.
pub struct ClientForm {
    pub params: ParamBag,
    pub client: PresentedClient,
}

impl<S: Send + Sync> FromRequest<S> for ClientForm {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let (headers, body) = headers_and_body(request, state).await?;
        let parsed = form(&headers, &body).and_then(|params| {
            let authorization = match headers.get(header::AUTHORIZATION) {
                None => None,
                Some(value) => Some(value.to_str().map_err(|_| OAuthError::invalid_client())?),
            };
            let client = client_auth::presented_client(authorization, &params)?;
            Ok(ClientForm { params, client })
        });
        parsed.map_err(|error| HttpError::json(error).into_response())
    }
}

/// The form of introspection (RFC 7662 §2.1) and revocation (RFC 7009 §2.1): the client's
/// credentials and the `token` they ask about. `token_type_hint` must not repeat but is otherwise
/// only a hint.
pub struct TokenForm {
    pub client: PresentedClient,
    pub token: String,
}

impl<S: Send + Sync> FromRequest<S> for TokenForm {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let ClientForm { params, client } = ClientForm::from_request(request, state).await?;
        let token = params.get("token_type_hint").and_then(|_| {
            params
                .get("token")?
                .ok_or_else(|| OAuthError::invalid_request("the token parameter is required"))
        });
        match token {
            Ok(token) => Ok(TokenForm {
                client,
                token: token.to_string(),
            }),
            Err(error) => Err(HttpError::json(error).into_response()),
        }
    }
}

/// The parameters of a browser endpoint that takes GET (query) or POST (form body). Bad encoding
/// or a repeated parameter is answered with an error page, as nothing can be sent back to a client
/// before its redirect URI is verified.
pub struct BrowserParams(pub ParamBag);

impl<S: Send + Sync> FromRequest<S> for BrowserParams {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let malformed =
            |status| pages::error_page(status, ErrorPage::plain("The request is malformed."));
        let parsed = if request.method() == Method::POST {
            let (headers, body) = headers_and_body(request, state)
                .await
                .map_err(|refused| malformed(refused.status()))?;
            form(&headers, &body)
        } else {
            ParamBag::parse(request.uri().query().unwrap_or("").as_bytes())
        };
        parsed
            .map(BrowserParams)
            .map_err(|_| malformed(StatusCode::BAD_REQUEST))
    }
}

/// A form POSTed by one of our own pages: well-encoded, and carrying the CSRF token of this
/// browser's cookie. Anything else is answered with a page asking to start again.
pub struct OwnForm(pub ParamBag);

impl<S: Send + Sync> FromRequest<S> for OwnForm {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let host_only = is_host_only(request.extensions());
        let (headers, body) = headers_and_body(request, state).await?;
        let checked = form(&headers, &body).ok().filter(|params| {
            let cookie = cookies::read(&headers, Cookie::Csrf, host_only);
            let field = params.get(CSRF_FIELD).ok().flatten();
            match (cookie, field) {
                (Some(cookie), Some(field)) => cookie.as_bytes().ct_eq(field.as_bytes()).into(),
                _ => false,
            }
        });
        checked.map(OwnForm).ok_or_else(|| {
            pages::error_page(
                StatusCode::FORBIDDEN,
                ErrorPage::plain(
                    "This form expired or did not come from this sign-in page. Start again from the application.",
                ),
            )
        })
    }
}

/// This issuer's browser session cookie, if the request carries one.
pub struct SessionCookie(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for SessionCookie {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let host_only = is_host_only(&parts.extensions);
        let session = cookies::read(&parts.headers, Cookie::Session, host_only);
        Ok(SessionCookie(session))
    }
}

/// Whether the request's cookies are `__Host-` cookies: it came in through an https custom domain.
fn is_host_only(extensions: &Extensions) -> bool {
    match extensions.get::<Addressed>() {
        Some(Addressed::Domain(zone)) => cookies::is_host_only(&zone.issuer),
        _ => false,
    }
}

/// The access token of a protected-resource request, from the `Authorization` header (RFC 6750
/// §2.1) or a form body (§2.2), never both. None presented: 401 with a bare challenge.
pub struct BearerToken(pub String);

impl<S: Send + Sync> FromRequest<S> for BearerToken {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let method = request.method().clone();
        let (headers, body) = headers_and_body(request, state).await?;
        match bearer_token(&method, &headers, &body) {
            Ok(Some(token)) => Ok(BearerToken(token)),
            Ok(None) => {
                let mut response = StatusCode::UNAUTHORIZED.into_response();
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"airlock\""),
                );
                Err(response)
            }
            Err(error) => Err(HttpError::bearer(error).into_response()),
        }
    }
}

fn bearer_token(
    method: &Method,
    headers: &HeaderMap,
    body: &[u8],
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
    let from_body = if method == Method::POST && is_form(headers) {
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
