//! The browser endpoints: authorization request, login form and consent form.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::crypto::secrets;
use crate::http::AppState;
use crate::http::cookies;
use crate::http::current_env::CurrentEnvironment;
use crate::http::error::HttpError;
use crate::http::form;
use crate::http::headers::no_store;
use crate::http::pages::{self, ConsentPage, ErrorPage, FormPostPage, LoginPage};
use crate::http::request_meta::RequestOrigin;
use crate::oidc::authorize::PageError;
use crate::oidc::endpoints::Endpoint;
use crate::oidc::params::ParamBag;
use crate::oidc::redirect::AuthorizationResponse;
use crate::service::authorize::{AuthorizeOutcome, Interaction};

const CSRF_FIELD: &str = "airlock_csrf";

/// `GET|POST {issuer}/authorize`
pub async fn authorize(
    State(state): State<AppState>,
    current: CurrentEnvironment,
    RequestOrigin(origin): RequestOrigin,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(params) = form::query_or_form(&method, &uri, &headers, &body) else {
        return page_error(PageError::MalformedRequest);
    };
    let session = cookies::read(&headers, cookies::SESSION);
    match state
        .authorize(
            &current,
            &params,
            session.as_deref(),
            &origin,
            crate::clock::now(),
        )
        .await
    {
        Ok(outcome) => respond(&current, &headers, outcome, None),
        Err(error) => HttpError::page(error).into_response(),
    }
}

/// `POST {issuer}/login`
pub async fn login(
    State(state): State<AppState>,
    current: CurrentEnvironment,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(params) = checked_form(&headers, &body) else {
        return forged_form();
    };
    let email = params.get("airlock_email").ok().flatten().unwrap_or("");
    let password = params.get("airlock_password").ok().flatten().unwrap_or("");
    match state
        .login(
            &current,
            &params,
            email,
            password,
            &origin,
            crate::clock::now(),
        )
        .await
    {
        Ok((outcome, session)) => respond(&current, &headers, outcome, session),
        Err(error) => HttpError::page(error).into_response(),
    }
}

/// `POST {issuer}/consent`
pub async fn consent(
    State(state): State<AppState>,
    current: CurrentEnvironment,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(params) = checked_form(&headers, &body) else {
        return forged_form();
    };
    let approved = params.get("airlock_decision").ok().flatten() == Some("allow");
    let session = cookies::read(&headers, cookies::SESSION);
    match state
        .consent(
            &current,
            &params,
            session.as_deref(),
            approved,
            &origin,
            crate::clock::now(),
        )
        .await
    {
        Ok(outcome) => respond(&current, &headers, outcome, None),
        Err(error) => HttpError::page(error).into_response(),
    }
}

/// A form POST of our own pages: well-encoded, and carrying the CSRF token of this browser's cookie.
fn checked_form(headers: &HeaderMap, body: &Bytes) -> Option<ParamBag> {
    let params = form::form(headers, body).ok()?;
    let cookie = cookies::read(headers, cookies::CSRF)?;
    let field = params.get(CSRF_FIELD).ok().flatten()?;
    bool::from(cookie.as_bytes().ct_eq(field.as_bytes())).then_some(params)
}

fn forged_form() -> Response {
    pages::error_page(
        StatusCode::FORBIDDEN,
        ErrorPage::plain(
            "This form expired or did not come from this sign-in page. Start again from the application.",
        ),
    )
}

fn page_error(error: PageError) -> Response {
    pages::error_page(StatusCode::BAD_REQUEST, ErrorPage::plain(error.message()))
}

fn respond(
    current: &CurrentEnvironment,
    headers: &HeaderMap,
    outcome: AuthorizeOutcome,
    new_session: Option<String>,
) -> Response {
    let mut response = match outcome {
        AuthorizeOutcome::ErrorPage(error) => page_error(error),
        AuthorizeOutcome::Respond(AuthorizationResponse::Redirect(location)) => {
            let mut response = StatusCode::SEE_OTHER.into_response();
            if let Ok(value) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            no_store(&mut response);
            response
        }
        AuthorizeOutcome::Respond(AuthorizationResponse::FormPost { action, fields }) => {
            pages::render_form_post(&FormPostPage {
                action: &action,
                fields: &fields,
            })
        }
        AuthorizeOutcome::ShowLogin(interaction) => {
            return interactive(current, headers, &interaction, new_session, true);
        }
        AuthorizeOutcome::ShowConsent(interaction) => {
            return interactive(current, headers, &interaction, new_session, false);
        }
        AuthorizeOutcome::Throttled {
            interaction,
            retry_after,
        } => {
            let mut response = interactive(current, headers, &interaction, None, true);
            *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            return response;
        }
    };
    if let Some(token) = new_session {
        set_cookie(
            &mut response,
            &cookies::set(&current.issuer, cookies::SESSION, &token),
        );
    }
    response
}

/// The login or consent page, with this browser's CSRF token (issued now if it has none).
fn interactive(
    current: &CurrentEnvironment,
    headers: &HeaderMap,
    interaction: &Interaction,
    new_session: Option<String>,
    login: bool,
) -> Response {
    let existing = cookies::read(headers, cookies::CSRF);
    let csrf = existing.clone().unwrap_or_else(secrets::random_token);
    let zone = current.environment.slug();
    let kind = current.environment.kind.as_str();
    let mut response = if login {
        let action = current.issuer.endpoint(Endpoint::Login.path());
        pages::render(
            StatusCode::OK,
            &LoginPage {
                zone: &zone,
                kind,
                client_name: &interaction.client_name,
                action: &action,
                fields: &interaction.request_fields,
                csrf: &csrf,
                login_hint: interaction.login_hint.as_deref().unwrap_or(""),
                notice: interaction.notice,
            },
        )
    } else {
        let action = current.issuer.endpoint(Endpoint::Consent.path());
        pages::render(
            StatusCode::OK,
            &ConsentPage {
                zone: &zone,
                kind,
                client_name: &interaction.client_name,
                scope: &interaction.scope,
                action: &action,
                fields: &interaction.request_fields,
                csrf: &csrf,
            },
        )
    };
    if existing.is_none() {
        set_cookie(
            &mut response,
            &cookies::set(&current.issuer, cookies::CSRF, &csrf),
        );
    }
    if let Some(token) = new_session {
        set_cookie(
            &mut response,
            &cookies::set(&current.issuer, cookies::SESSION, &token),
        );
    }
    response
}

fn set_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}
