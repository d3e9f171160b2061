//! Signing in to the console and out of it: with an admin token pasted into a form, or as an
//! operator through the operators zone's OIDC code flow (the console is that zone's relying party,
//! and `/console/signin` its redirect URI).

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::pages::{Chrome, ConsoleError, SIGN_IN_PATH, render};
use super::session::{OperatorForm, csrf_matches, form_fields, secure};
use crate::crypto::secrets;
use crate::http::AppState;
use crate::http::cookies::{self, Cookie};
use crate::http::request_meta::RequestOrigin;
use crate::service::operators::{self, SignInOutcome};

fn with_cookies(mut response: Response, values: &[String]) -> Response {
    for value in values {
        if let Ok(value) = HeaderValue::from_str(value) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

#[derive(Template)]
#[template(path = "console/signin.html")]
struct SignInPage {
    chrome: Chrome,
    notice: Option<&'static str>,
}

/// The sign-in form, with a CSRF token of its own in a cookie (there is no session yet).
fn sign_in_form(state: &AppState, status: StatusCode, notice: Option<&'static str>) -> Response {
    let csrf = secrets::random_token();
    let page = SignInPage {
        chrome: Chrome {
            csrf: csrf.clone(),
            zone: None,
            read_only: true,
            signed_in: false,
            operator: false,
        },
        notice,
    };
    let cookie = cookies::set_console(Cookie::ConsoleSignIn, &csrf, secure(state));
    with_cookies(render(status, &page), &[cookie])
}

/// What the sign-in page is asked: nothing (the form), `with=operator` (start an operator's
/// sign-in), or the operators zone's answer (`code` and `state`, or `error`).
#[derive(Deserialize)]
pub struct SignInQuery {
    with: Option<String>,
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /console/signin`: the form, or a step of an operator's sign-in.
pub async fn sign_in_page(
    State(state): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    query: Result<Query<SignInQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        return sign_in_form(&state, StatusCode::BAD_REQUEST, None);
    };
    let now = crate::clock::now();
    let end_flow = cookies::set_console(Cookie::ConsoleOperator, "", secure(&state));
    if query.with.as_deref() == Some("operator") {
        return match operators::start_sign_in(&state).await {
            Ok(Some(started)) => with_cookies(
                Redirect::to(&started.authorization_url).into_response(),
                &[cookies::set_console(
                    Cookie::ConsoleOperator,
                    &started.flow,
                    secure(&state),
                )],
            ),
            Ok(None) => sign_in_form(&state, StatusCode::NOT_FOUND, Some(NO_OPERATORS)),
            Err(error) => ConsoleError::from(error).into_response(),
        };
    }
    if query.error.is_some() {
        let response = sign_in_form(&state, StatusCode::UNAUTHORIZED, Some(CANCELLED));
        return with_cookies(response, &[end_flow]);
    }
    let (Some(code), Some(returned_state)) = (query.code, query.state) else {
        return sign_in_form(&state, StatusCode::OK, None);
    };
    let Some(flow) = cookies::read_console(&headers, Cookie::ConsoleOperator, secure(&state))
    else {
        return sign_in_form(&state, StatusCode::FORBIDDEN, Some(EXPIRED));
    };
    let returned = (returned_state.as_str(), code.as_str());
    match operators::finish_sign_in(&state, &flow, returned, &origin, now).await {
        Ok(SignInOutcome::Session(session)) => with_cookies(
            Redirect::to("/console").into_response(),
            &[
                cookies::set_console(Cookie::Console, &session, secure(&state)),
                end_flow,
            ],
        ),
        Ok(SignInOutcome::Refused(notice)) => with_cookies(
            sign_in_form(&state, StatusCode::UNAUTHORIZED, Some(notice)),
            &[end_flow],
        ),
        Err(error) => ConsoleError::from(error).into_response(),
    }
}

const NO_OPERATORS: &str = "There is no operator sign-in at this address yet: add an operator with \
     `airlock operator add EMAIL` (run with this server's public URL).";
const CANCELLED: &str = "The operator sign-in was cancelled or refused.";

/// `POST /console/signin`: an admin token for a console session.
pub async fn sign_in(State(state): State<AppState>, request: Request) -> Response {
    let headers: HeaderMap = request.headers().clone();
    let Ok(body) = axum::body::Bytes::from_request(request, &state).await else {
        return sign_in_form(
            &state,
            StatusCode::PAYLOAD_TOO_LARGE,
            Some("The form is too large."),
        );
    };
    let expected = cookies::read_console(&headers, Cookie::ConsoleSignIn, secure(&state));
    let fields = form_fields(&headers, &body);
    let (Some(expected), Some(fields)) = (expected, fields) else {
        return sign_in_form(&state, StatusCode::FORBIDDEN, Some(EXPIRED));
    };
    if !csrf_matches(&fields, &expected) {
        return sign_in_form(&state, StatusCode::FORBIDDEN, Some(EXPIRED));
    }
    let token = fields.get("token").ok().flatten().unwrap_or("").trim();
    match state
        .console_sessions()
        .sign_in(token, crate::clock::now())
        .await
    {
        Ok(Some(session)) => with_cookies(
            Redirect::to("/console").into_response(),
            &[
                cookies::set_console(Cookie::Console, &session, secure(&state)),
                cookies::set_console(Cookie::ConsoleSignIn, "", secure(&state)),
            ],
        ),
        Ok(None) => sign_in_form(
            &state,
            StatusCode::UNAUTHORIZED,
            Some("That admin token is unknown, revoked or expired."),
        ),
        Err(error) => ConsoleError::from(error).into_response(),
    }
}

const EXPIRED: &str = "The sign-in form expired. Try again.";

/// `POST /console/signout`: the session ends here and on every node.
pub async fn sign_out(State(state): State<AppState>, form: OperatorForm) -> Response {
    let ended = state
        .console_sessions()
        .sign_out(&form.operator.cookie)
        .await;
    if let Err(error) = ended {
        return ConsoleError::from(error).into_response();
    }
    with_cookies(
        Redirect::to(SIGN_IN_PATH).into_response(),
        &[cookies::set_console(Cookie::Console, "", secure(&state))],
    )
}
