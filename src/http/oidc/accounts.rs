//! The account pages: forgotten password, reset link, email verification, and sign-up.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::authorize::{Page, can_mail, interactive, respond, with_csrf};
use crate::http::AppState;
use crate::http::current_env::{CurrentEnvironment, ZoneRequest};
use crate::http::error::HttpError;
use crate::http::extract::{BrowserParams, OwnForm};
use crate::http::pages::{
    self, AccountNoticePage, ForgotPasswordPage, ResendForm, ResetPasswordPage, VerifyEmailPage,
};
use crate::model::Secret;
use crate::oidc::endpoints::Endpoint;
use crate::oidc::params::ParamBag;
use crate::service::{AccountPage, AuthorizeOutcome, MailKind, SignupOutcome};

fn field(params: &ParamBag, name: &str) -> String {
    params.get(name).ok().flatten().unwrap_or("").to_string()
}

/// An account page as HTML.
pub(super) fn account_page(
    zone: &CurrentEnvironment,
    headers: &HeaderMap,
    page: AccountPage,
) -> Response {
    let slug = zone.environment.slug();
    let kind = zone.environment.kind.as_str();
    match page {
        AccountPage::Notice {
            title,
            message,
            resend,
        } => with_csrf(zone, headers, |csrf| {
            let action = zone.issuer.endpoint(Endpoint::ResendVerification.path());
            let fields = resend.unwrap_or_default();
            let form = (!fields.is_empty()).then(|| ResendForm {
                action: &action,
                fields: &fields,
                csrf,
            });
            pages::render(
                StatusCode::OK,
                &AccountNoticePage {
                    zone: &slug,
                    kind,
                    title,
                    message,
                    resend: form,
                },
            )
        }),
        AccountPage::ResetForm { token, notice } => with_csrf(zone, headers, |csrf| {
            let status = if notice.is_some() {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            };
            pages::render(
                status,
                &ResetPasswordPage {
                    zone: &slug,
                    kind,
                    action: &zone.issuer.endpoint(Endpoint::PasswordReset.path()),
                    csrf,
                    token: &token,
                    min_length: zone.environment.accounts.password_min_length,
                    notice: notice.as_deref(),
                },
            )
        }),
        AccountPage::VerifyForm { token } => with_csrf(zone, headers, |csrf| {
            pages::render(
                StatusCode::OK,
                &VerifyEmailPage {
                    zone: &slug,
                    kind,
                    action: &zone.issuer.endpoint(Endpoint::VerifyEmail.path()),
                    csrf,
                    token: &token,
                },
            )
        }),
        AccountPage::LinkInvalid => pages::error_page(
            StatusCode::NOT_FOUND,
            pages::ErrorPage::plain(
                "This link is not valid: it was used already, it expired, or it never existed.",
            ),
        ),
        AccountPage::Unavailable => pages::error_page(
            StatusCode::NOT_FOUND,
            pages::ErrorPage::plain("This page is not available here."),
        ),
        AccountPage::Throttled(retry_after) => {
            let mut response = pages::error_page(
                StatusCode::TOO_MANY_REQUESTS,
                pages::ErrorPage::plain("Too many requests. Please wait and try again."),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            response
        }
    }
}

/// An account page, or the error page of a use case that failed.
fn page_or_error(
    zone: &CurrentEnvironment,
    headers: &HeaderMap,
    page: Result<AccountPage, crate::service::Error>,
) -> Response {
    match page {
        Ok(page) => account_page(zone, headers, page),
        Err(error) => HttpError::page(error).into_response(),
    }
}

/// `GET {issuer}/password/forgot`
pub async fn forgot_form(
    State(state): State<AppState>,
    request: ZoneRequest,
    headers: HeaderMap,
) -> Response {
    let zone = &request.zone;
    if !can_mail(&state, zone) {
        return account_page(zone, &headers, AccountPage::Unavailable);
    }
    let slug = zone.environment.slug();
    with_csrf(zone, &headers, |csrf| {
        pages::render(
            StatusCode::OK,
            &ForgotPasswordPage {
                zone: &slug,
                kind: zone.environment.kind.as_str(),
                action: &zone.issuer.endpoint(Endpoint::PasswordForgot.path()),
                fields: &[],
                csrf,
                notice: None,
            },
        )
    })
}

/// `POST {issuer}/password/forgot`: the same answer whether the address has an account or not.
pub async fn forgot(
    State(state): State<AppState>,
    request: ZoneRequest,
    headers: HeaderMap,
    OwnForm(params): OwnForm,
) -> Response {
    let call = request.call();
    let page = state.airlock.request_account_mail(
        MailKind::PasswordReset,
        (request.zone.clone(), call.origin.clone()),
        field(&params, "airlock_email"),
        call.now,
    );
    account_page(&request.zone, &headers, page)
}

/// `GET {issuer}/password/reset?token=…`
pub async fn reset_form(
    State(state): State<AppState>,
    request: ZoneRequest,
    headers: HeaderMap,
    BrowserParams(params): BrowserParams,
) -> Response {
    let token = field(&params, "token");
    let page = state
        .airlock
        .accounts()
        .reset_form(&request.call(), &token)
        .await;
    page_or_error(&request.zone, &headers, page)
}

/// `POST {issuer}/password/reset`
pub async fn reset(
    State(state): State<AppState>,
    request: ZoneRequest,
    headers: HeaderMap,
    OwnForm(params): OwnForm,
) -> Response {
    let token = field(&params, "airlock_token");
    let password = Secret::new(field(&params, "airlock_password"));
    let page = state
        .airlock
        .accounts()
        .reset(&request.call(), &token, password)
        .await;
    page_or_error(&request.zone, &headers, page)
}

/// `GET {issuer}/email/verify?token=…`: a button, so that opening the link uses nothing up.
pub async fn verify_form(
    State(state): State<AppState>,
    request: ZoneRequest,
    headers: HeaderMap,
    BrowserParams(params): BrowserParams,
) -> Response {
    let token = field(&params, "token");
    let page = state
        .airlock
        .accounts()
        .verification_form(&request.call(), &token)
        .await;
    page_or_error(&request.zone, &headers, page)
}

/// `POST {issuer}/email/verify`
pub async fn verify(
    State(state): State<AppState>,
    request: ZoneRequest,
    headers: HeaderMap,
    OwnForm(params): OwnForm,
) -> Response {
    let token = field(&params, "airlock_token");
    let page = state
        .airlock
        .accounts()
        .verify(&request.call(), &token)
        .await;
    page_or_error(&request.zone, &headers, page)
}

/// `POST {issuer}/email/resend`
pub async fn resend(
    State(state): State<AppState>,
    request: ZoneRequest,
    headers: HeaderMap,
    OwnForm(params): OwnForm,
) -> Response {
    let call = request.call();
    let page = state.airlock.request_account_mail(
        MailKind::EmailVerification,
        (request.zone.clone(), call.origin.clone()),
        field(&params, "airlock_email"),
        call.now,
    );
    account_page(&request.zone, &headers, page)
}

fn signup_response(
    state: &AppState,
    zone: &CurrentEnvironment,
    headers: &HeaderMap,
    outcome: SignupOutcome,
) -> Response {
    let mail = can_mail(state, zone);
    match outcome {
        SignupOutcome::Form {
            outcome: AuthorizeOutcome::ShowLogin(interaction),
            notice,
        } => interactive(zone, headers, (&interaction, mail), Page::Signup(notice)),
        SignupOutcome::Form { outcome, .. } => respond(zone, headers, (outcome, mail), None),
        SignupOutcome::Page(page) => account_page(zone, headers, page),
        SignupOutcome::SignedIn(outcome, session) => {
            respond(zone, headers, (outcome, mail), Some(session))
        }
    }
}

/// `GET {issuer}/signup?…` (the authorization request's parameters)
pub async fn signup_form(
    State(state): State<AppState>,
    request: ZoneRequest,
    headers: HeaderMap,
    BrowserParams(params): BrowserParams,
) -> Response {
    match state
        .airlock
        .accounts()
        .signup_form(&request.call(), params)
        .await
    {
        Ok(outcome) => signup_response(&state, &request.zone, &headers, outcome),
        Err(error) => HttpError::page(error).into_response(),
    }
}

/// `POST {issuer}/signup`
pub async fn signup(
    State(state): State<AppState>,
    request: ZoneRequest,
    headers: HeaderMap,
    OwnForm(params): OwnForm,
) -> Response {
    let email = field(&params, "airlock_email");
    let name = Some(field(&params, "airlock_name"));
    let password = Secret::new(field(&params, "airlock_password"));
    match state
        .airlock
        .accounts()
        .signup(&request.call(), params, (email, name, password))
        .await
    {
        Ok(outcome) => signup_response(&state, &request.zone, &headers, outcome),
        Err(error) => HttpError::page(error).into_response(),
    }
}
