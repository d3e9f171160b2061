//! askama pages and how they are sent: `no-store`, a strict content security policy, no framing.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use super::headers::no_store;
use crate::oidc::endpoints::Endpoint;

const PAGE_CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'";
/// The form_post page needs its one inline script to submit itself.
const FORM_POST_CSP: &str =
    "default-src 'none'; script-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'";

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    pub zone: &'a str,
    pub kind: &'a str,
    pub client_name: &'a str,
    pub action: &'a str,
    pub fields: &'a [(String, String)],
    pub csrf: &'a str,
    pub login_hint: &'a str,
    pub notice: Option<&'a str>,
    /// "Forgot your password?", where the zone can send mail.
    pub forgot_link: Option<&'a str>,
    /// "Create an account", where the zone offers sign-up.
    pub signup_link: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "forgot_password.html")]
pub struct ForgotPasswordPage<'a> {
    pub zone: &'a str,
    pub kind: &'a str,
    pub action: &'a str,
    pub fields: &'a [(String, String)],
    pub csrf: &'a str,
    pub notice: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "reset_password.html")]
pub struct ResetPasswordPage<'a> {
    pub zone: &'a str,
    pub kind: &'a str,
    pub action: &'a str,
    pub csrf: &'a str,
    pub token: &'a str,
    pub min_length: i64,
    pub notice: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "verify_email.html")]
pub struct VerifyEmailPage<'a> {
    pub zone: &'a str,
    pub kind: &'a str,
    pub action: &'a str,
    pub csrf: &'a str,
    pub token: &'a str,
}

/// A form that sends a verification link again.
pub struct ResendForm<'a> {
    pub action: &'a str,
    pub fields: &'a [(String, String)],
    pub csrf: &'a str,
}

#[derive(Template)]
#[template(path = "account_notice.html")]
pub struct AccountNoticePage<'a> {
    pub zone: &'a str,
    pub kind: &'a str,
    pub title: &'a str,
    pub message: &'a str,
    pub resend: Option<ResendForm<'a>>,
}

#[derive(Template)]
#[template(path = "signup.html")]
pub struct SignupPage<'a> {
    pub zone: &'a str,
    pub kind: &'a str,
    pub client_name: &'a str,
    pub action: &'a str,
    pub fields: &'a [(String, String)],
    pub csrf: &'a str,
    pub min_length: i64,
    pub login_link: &'a str,
    pub notice: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "consent.html")]
pub struct ConsentPage<'a> {
    pub zone: &'a str,
    pub kind: &'a str,
    pub client_name: &'a str,
    pub scope: &'a [String],
    pub action: &'a str,
    pub fields: &'a [(String, String)],
    pub csrf: &'a str,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub message: String,
}

impl ErrorPage {
    pub fn from_description(description: &str) -> Self {
        ErrorPage {
            message: format!("The request was refused: {description}."),
        }
    }

    pub fn plain(message: &str) -> Self {
        ErrorPage {
            message: message.to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "signed_out.html")]
pub struct SignedOutPage<'a> {
    pub zone: &'a str,
    pub kind: &'a str,
}

#[derive(Template)]
#[template(path = "logout_confirm.html")]
pub struct LogoutConfirmPage<'a> {
    pub zone: &'a str,
    pub kind: &'a str,
    pub action: &'a str,
    pub fields: &'a [(String, String)],
}

#[derive(Template)]
#[template(path = "form_post.html")]
pub struct FormPostPage<'a> {
    pub action: &'a str,
    pub fields: &'a [(String, String)],
}

#[derive(Template)]
#[template(path = "quickstart_callback.html")]
struct QuickstartCallbackPage<'a> {
    code: &'a str,
    error: Option<&'a str>,
    issuer: &'a str,
    redirect_uri: &'a str,
    token_endpoint: &'a str,
}

/// Renders a page with `status`, uncached, under the page CSP.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    render_with_csp(status, page, PAGE_CSP)
}

pub fn render_form_post(page: &FormPostPage<'_>) -> Response {
    render_with_csp(StatusCode::OK, page, FORM_POST_CSP)
}

fn render_with_csp(status: StatusCode, page: &impl Template, csp: &'static str) -> Response {
    let mut response = match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(%error, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    };
    no_store(&mut response);
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    response
}

pub fn error_page(status: StatusCode, page: ErrorPage) -> Response {
    render(status, &page)
}

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    error: Option<String>,
    iss: Option<String>,
}

/// The demo app's redirect target for `airlock quickstart`: shows the code and how to redeem it.
pub async fn quickstart_callback(
    State(state): State<AppState>,
    query: Result<Query<CallbackQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        return error_page(
            StatusCode::BAD_REQUEST,
            ErrorPage::plain("malformed callback"),
        );
    };
    // Only the demo's own issuers are echoed as places to send a code to.
    let issuer = query
        .iss
        .filter(|iss| state.demo_issuers.contains(iss))
        .unwrap_or_default();
    let redirect_uri = format!(
        "{}{}",
        state.config.public_url,
        crate::service::quickstart::CALLBACK_PATH
    );
    let token_endpoint = format!("{issuer}{}", Endpoint::Token.path());
    render(
        StatusCode::OK,
        &QuickstartCallbackPage {
            code: query.code.as_deref().unwrap_or(""),
            error: query.error.as_deref(),
            issuer: &issuer,
            redirect_uri: &redirect_uri,
            token_endpoint: &token_endpoint,
        },
    )
}
