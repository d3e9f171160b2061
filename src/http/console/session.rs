//! Who is using the console, and in which zone: the session cookie (scoped to `/console`,
//! `SameSite=Strict`), the zone in the path as that operator may see it (the same 404 as a missing
//! one otherwise), and the CSRF token every form must carry.

use axum::RequestPartsExt;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use subtle::ConstantTimeEq;

use super::pages::{ConsoleError, SIGN_IN_PATH};
use crate::http::AppState;
use crate::http::cookies::{self, Cookie};
use crate::http::request_meta::RequestOrigin;
use crate::model::Environment;
use crate::oidc::params::ParamBag;
use crate::service::admin::console::ConsoleSession;
use crate::service::{Caller, Error};

/// Console cookies are `Secure` (and `__Secure-` named) when the public URL is https.
pub fn secure(state: &AppState) -> bool {
    state.config.public_url.starts_with("https://")
}

/// The name of the hidden field that carries a form's CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// A signed-in operator; without a session in force, a GET is sent to the sign-in page.
pub struct Operator {
    pub session: ConsoleSession,
    /// The cookie's value, to end the session with.
    pub cookie: String,
}

impl Operator {
    pub fn caller(&self) -> &Caller {
        &self.session.caller
    }
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let to_sign_in = || Redirect::to(SIGN_IN_PATH).into_response();
        let Some(cookie) = cookies::read_console(&parts.headers, Cookie::Console, secure(state))
        else {
            return Err(to_sign_in());
        };
        let Ok(RequestOrigin(origin)) = parts.extract::<RequestOrigin>().await;
        match state
            .console_sessions()
            .find(&cookie, origin, crate::clock::now())
            .await
        {
            Ok(Some(session)) => Ok(Operator { session, cookie }),
            Ok(None) => Err(to_sign_in()),
            Err(error) => Err(ConsoleError::from(error).into_response()),
        }
    }
}

/// The zone named by `/console/{project}/{environment}`, as the operator may see it.
pub struct ConsoleZone {
    pub operator: Operator,
    pub environment: Environment,
    pub now: i64,
}

impl ConsoleZone {
    pub fn caller(&self) -> &Caller {
        self.operator.caller()
    }
}

impl FromRequestParts<AppState> for ConsoleZone {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let operator = Operator::from_request_parts(parts, state).await?;
        let not_found = || ConsoleError::from(Error::NotFound).into_response();
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| not_found())?;
        let param = |wanted: &str| {
            params
                .iter()
                .find_map(|(key, value)| (key == wanted).then(|| value.to_string()))
        };
        let (Some(project), Some(name)) = (param("project"), param("environment")) else {
            return Err(not_found());
        };
        let now = crate::clock::now();
        let environment = state
            .console_sessions()
            .environment(&operator.session, (&project, &name), now)
            .await
            .map_err(|error| ConsoleError::from(error).into_response())?;
        Ok(ConsoleZone {
            operator,
            environment,
            now,
        })
    }
}

/// A form posted to a zone's page: the zone, and the fields, whose CSRF token is the session's.
/// Every such form changes something, so a read-only token is refused here, before any handler.
pub struct ZoneForm {
    pub zone: ConsoleZone,
    pub fields: ParamBag,
}

impl FromRequest<AppState> for ZoneForm {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let zone = ConsoleZone::from_request_parts(&mut parts, state).await?;
        let fields = checked_fields(&parts, body, &zone.operator.session, state).await?;
        if zone.caller().read_only {
            let refused = Error::Forbidden("this admin token may only read".into());
            return Err(ConsoleError::from(refused).into_response());
        }
        Ok(ZoneForm { zone, fields })
    }
}

/// A form posted outside any zone (signing out, which a read-only token may do; creating an
/// environment, which it may not), checked the same way.
pub struct OperatorForm {
    pub operator: Operator,
    pub fields: ParamBag,
}

impl FromRequest<AppState> for OperatorForm {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let operator = Operator::from_request_parts(&mut parts, state).await?;
        let fields = checked_fields(&parts, body, &operator.session, state).await?;
        Ok(OperatorForm { operator, fields })
    }
}

async fn checked_fields(
    parts: &Parts,
    body: axum::body::Body,
    session: &ConsoleSession,
    state: &AppState,
) -> Result<ParamBag, Response> {
    let request = Request::from_parts(parts.clone(), body);
    let bytes = axum::body::Bytes::from_request(request, state)
        .await
        .map_err(|_| ConsoleError::status(StatusCode::PAYLOAD_TOO_LARGE).into_response())?;
    let fields = form_fields(&parts.headers, &bytes)
        .ok_or_else(|| ConsoleError::status(StatusCode::BAD_REQUEST).into_response())?;
    if !csrf_matches(&fields, &session.csrf) {
        return Err(ConsoleError::forbidden_form().into_response());
    }
    Ok(fields)
}

/// The fields of a urlencoded form body (multi-line text areas included, unlike the protocol's
/// parameters); `None` for another content type.
pub fn form_fields(headers: &HeaderMap, body: &[u8]) -> Option<ParamBag> {
    let urlencoded = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    let pairs: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    urlencoded.then(|| {
        ParamBag::from_pairs(
            pairs
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str())),
        )
    })
}

/// Whether the form carries exactly `expected` as its CSRF token.
pub fn csrf_matches(fields: &ParamBag, expected: &str) -> bool {
    match fields.get(CSRF_FIELD) {
        Ok(Some(presented)) => presented.as_bytes().ct_eq(expected.as_bytes()).into(),
        _ => false,
    }
}
