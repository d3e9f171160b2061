//! The browser endpoints: authorization request, login form and consent form.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::crypto::secrets;
use crate::http::AppState;
use crate::http::cookies::{self, Cookie};
use crate::http::current_env::{CurrentEnvironment, ZoneRequest};
use crate::http::error::HttpError;
use crate::http::extract::{BrowserParams, OwnForm, SessionCookie};
use crate::http::pages::{self, ConsentPage, ErrorPage, FormPostPage, LoginPage};
use crate::http::respond::{see_other, set_cookie};
use crate::model::Secret;
use crate::oidc::endpoints::Endpoint;
use crate::oidc::redirect::AuthorizationResponse;
use crate::service::login::Credentials;
use crate::service::{AuthorizeOutcome, Interaction};

/// `GET|POST {issuer}/authorize`
pub async fn authorize(
    State(state): State<AppState>,
    request: ZoneRequest,
    SessionCookie(session): SessionCookie,
    headers: HeaderMap,
    BrowserParams(params): BrowserParams,
) -> Response {
    match state
        .protocol()
        .authorize(&request.call(), params, session.as_deref())
        .await
    {
        Ok(outcome) => respond(&request.zone, &headers, outcome, None),
        Err(error) => HttpError::page(error).into_response(),
    }
}

/// `POST {issuer}/login`
pub async fn login(
    State(state): State<AppState>,
    request: ZoneRequest,
    headers: HeaderMap,
    OwnForm(params): OwnForm,
) -> Response {
    let field = |name| params.get(name).ok().flatten().unwrap_or("").to_string();
    let credentials = Credentials {
        email: field("airlock_email"),
        password: Secret::new(field("airlock_password")),
    };
    match state
        .login()
        .login(&request.call(), params, credentials)
        .await
    {
        Ok((outcome, session)) => respond(&request.zone, &headers, outcome, session),
        Err(error) => HttpError::page(error).into_response(),
    }
}

/// `POST {issuer}/consent`
pub async fn consent(
    State(state): State<AppState>,
    request: ZoneRequest,
    SessionCookie(session): SessionCookie,
    headers: HeaderMap,
    OwnForm(params): OwnForm,
) -> Response {
    let approved = params.get("airlock_decision").ok().flatten() == Some("allow");
    match state
        .protocol()
        .consent(&request.call(), params, session.as_deref(), approved)
        .await
    {
        Ok(outcome) => respond(&request.zone, &headers, outcome, None),
        Err(error) => HttpError::page(error).into_response(),
    }
}

fn respond(
    zone: &CurrentEnvironment,
    headers: &HeaderMap,
    outcome: AuthorizeOutcome,
    new_session: Option<Secret>,
) -> Response {
    let mut response = match outcome {
        AuthorizeOutcome::ErrorPage(error) => {
            pages::error_page(StatusCode::BAD_REQUEST, ErrorPage::plain(error.message()))
        }
        AuthorizeOutcome::Respond(AuthorizationResponse::Redirect(location)) => {
            see_other(&location)
        }
        AuthorizeOutcome::Respond(AuthorizationResponse::FormPost { action, fields }) => {
            pages::render_form_post(&FormPostPage {
                action: &action,
                fields: &fields,
            })
        }
        AuthorizeOutcome::ShowLogin(interaction) => {
            interactive(zone, headers, &interaction, Page::Login)
        }
        AuthorizeOutcome::ShowConsent(interaction) => {
            interactive(zone, headers, &interaction, Page::Consent)
        }
        AuthorizeOutcome::Throttled {
            interaction,
            retry_after,
        } => {
            let mut response = interactive(zone, headers, &interaction, Page::Login);
            *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            response
        }
    };
    if let Some(token) = new_session {
        let cookie = cookies::set(&zone.issuer, Cookie::Session, token.expose());
        set_cookie(&mut response, &cookie);
    }
    response
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    Login,
    Consent,
}

/// The login or consent page, with this browser's CSRF token (issued now if it has none).
fn interactive(
    zone: &CurrentEnvironment,
    headers: &HeaderMap,
    interaction: &Interaction,
    page: Page,
) -> Response {
    let host_only = cookies::is_host_only(&zone.issuer);
    let existing = cookies::read(headers, Cookie::Csrf, host_only);
    let csrf = existing.clone().unwrap_or_else(secrets::random_token);
    let slug = zone.environment.slug();
    let kind = zone.environment.kind.as_str();
    let mut response = match page {
        Page::Login => pages::render(
            StatusCode::OK,
            &LoginPage {
                zone: &slug,
                kind,
                client_name: &interaction.client_name,
                action: &zone.issuer.endpoint(Endpoint::Login.path()),
                fields: &interaction.request_fields,
                csrf: &csrf,
                login_hint: interaction.login_hint.as_deref().unwrap_or(""),
                notice: interaction.notice,
            },
        ),
        Page::Consent => pages::render(
            StatusCode::OK,
            &ConsentPage {
                zone: &slug,
                kind,
                client_name: &interaction.client_name,
                scope: &interaction.scope,
                action: &zone.issuer.endpoint(Endpoint::Consent.path()),
                fields: &interaction.request_fields,
                csrf: &csrf,
            },
        ),
    };
    if existing.is_none() {
        set_cookie(
            &mut response,
            &cookies::set(&zone.issuer, Cookie::Csrf, &csrf),
        );
    }
    response
}
