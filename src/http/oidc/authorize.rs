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
use crate::http::pages::{self, ConsentPage, ErrorPage, FormPostPage, LoginPage, SignupPage};
use crate::http::respond::{see_other, set_cookie};
use crate::model::Secret;
use crate::oidc::endpoints::Endpoint;
use crate::oidc::redirect::AuthorizationResponse;
use crate::service::login::Credentials;
use crate::service::{AccountPage, AuthorizeOutcome, Interaction};

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
        Ok(outcome) => {
            let mail = can_mail(&state, &request.zone);
            respond(&request.zone, &headers, (outcome, mail), None)
        }
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
        Ok((outcome, session)) => {
            let mail = can_mail(&state, &request.zone);
            respond(&request.zone, &headers, (outcome, mail), session)
        }
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
        Ok(outcome) => {
            let mail = can_mail(&state, &request.zone);
            respond(&request.zone, &headers, (outcome, mail), None)
        }
        Err(error) => HttpError::page(error).into_response(),
    }
}

/// Whether the zone can send account mail (test zones capture it; live ones need SMTP).
pub(super) fn can_mail(state: &AppState, zone: &CurrentEnvironment) -> bool {
    zone.environment.kind == crate::model::EnvKind::Test || state.airlock.smtp_configured()
}

pub(super) fn respond(
    zone: &CurrentEnvironment,
    headers: &HeaderMap,
    (outcome, mail): (AuthorizeOutcome, bool),
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
            interactive(zone, headers, (&interaction, mail), Page::Login)
        }
        AuthorizeOutcome::ShowConsent(interaction) => {
            interactive(zone, headers, (&interaction, mail), Page::Consent)
        }
        AuthorizeOutcome::ShowSignup(interaction) => {
            interactive(zone, headers, (&interaction, mail), Page::Signup(None))
        }
        AuthorizeOutcome::CheckInbox(fields) => {
            let page = AccountPage::Notice {
                title: "Check your inbox",
                message: "Confirm your email address with the link we sent you, then sign in again.",
                resend: Some(fields),
            };
            super::accounts::account_page(zone, headers, page)
        }
        AuthorizeOutcome::Throttled {
            interaction,
            retry_after,
        } => {
            let mut response = interactive(zone, headers, (&interaction, mail), Page::Login);
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Page {
    Login,
    Consent,
    /// The sign-up form, with why the last attempt was refused.
    Signup(Option<String>),
}

/// Renders a page with a form: `render` gets this browser's CSRF token (issued now, as a cookie,
/// if it has none).
pub(super) fn with_csrf(
    zone: &CurrentEnvironment,
    headers: &HeaderMap,
    render: impl FnOnce(&str) -> Response,
) -> Response {
    let host_only = cookies::is_host_only(&zone.issuer);
    let existing = cookies::read(headers, Cookie::Csrf, host_only);
    let csrf = existing.clone().unwrap_or_else(secrets::random_token);
    let mut response = render(&csrf);
    if existing.is_none() {
        set_cookie(
            &mut response,
            &cookies::set(&zone.issuer, Cookie::Csrf, &csrf),
        );
    }
    response
}

/// `endpoint` of the zone, with the authorization request's fields as its query.
fn with_request(
    zone: &CurrentEnvironment,
    endpoint: Endpoint,
    fields: &[(String, String)],
) -> String {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .finish();
    format!("{}?{query}", zone.issuer.endpoint(endpoint.path()))
}

/// The request's fields without `prompt=create`, for the way from the sign-up page to sign-in.
fn without_create(fields: &[(String, String)]) -> Vec<(String, String)> {
    fields
        .iter()
        .filter_map(|(name, value)| {
            if name != "prompt" {
                return Some((name.clone(), value.clone()));
            }
            let kept: Vec<&str> = value.split(' ').filter(|v| *v != "create").collect();
            (!kept.is_empty()).then(|| (name.clone(), kept.join(" ")))
        })
        .collect()
}

/// The login, consent or sign-up page of an interaction.
pub(super) fn interactive(
    zone: &CurrentEnvironment,
    headers: &HeaderMap,
    (interaction, mail): (&Interaction, bool),
    page: Page,
) -> Response {
    let slug = zone.environment.slug();
    let kind = zone.environment.kind.as_str();
    let accounts = &zone.environment.accounts;
    let fields = &interaction.request_fields;
    with_csrf(zone, headers, |csrf| match page {
        Page::Login => {
            let forgot = mail.then(|| zone.issuer.endpoint(Endpoint::PasswordForgot.path()));
            let signup =
                (mail && accounts.signup).then(|| with_request(zone, Endpoint::Signup, fields));
            pages::render(
                StatusCode::OK,
                &LoginPage {
                    zone: &slug,
                    kind,
                    client_name: &interaction.client_name,
                    action: &zone.issuer.endpoint(Endpoint::Login.path()),
                    fields,
                    csrf,
                    login_hint: interaction.login_hint.as_deref().unwrap_or(""),
                    notice: interaction.notice,
                    forgot_link: forgot.as_deref(),
                    signup_link: signup.as_deref(),
                },
            )
        }
        Page::Consent => pages::render(
            StatusCode::OK,
            &ConsentPage {
                zone: &slug,
                kind,
                client_name: &interaction.client_name,
                scope: &interaction.scope,
                action: &zone.issuer.endpoint(Endpoint::Consent.path()),
                fields,
                csrf,
            },
        ),
        Page::Signup(notice) => {
            let status = if notice.is_some() {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            };
            pages::render(
                status,
                &SignupPage {
                    zone: &slug,
                    kind,
                    client_name: &interaction.client_name,
                    action: &zone.issuer.endpoint(Endpoint::Signup.path()),
                    fields,
                    csrf,
                    min_length: accounts.password_min_length,
                    login_link: &with_request(
                        zone,
                        Endpoint::Authorization,
                        &without_create(fields),
                    ),
                    notice: notice.as_deref(),
                },
            )
        }
    })
}
