use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use crate::http::AppState;
use crate::http::cookies;
use crate::http::current_env::CurrentEnvironment;
use crate::http::error::HttpError;
use crate::http::form;
use crate::http::headers::no_store;
use crate::http::pages::{self, ErrorPage, LogoutConfirmPage, SignedOutPage};
use crate::http::request_meta::RequestOrigin;
use crate::oidc::endpoints::Endpoint;
use crate::oidc::logout::LogoutRejection;
use crate::service::logout::LogoutOutcome;

/// `GET|POST {issuer}/logout` (RP-Initiated Logout 1.0 `end_session_endpoint`)
pub async fn logout(
    State(state): State<AppState>,
    current: CurrentEnvironment,
    RequestOrigin(origin): RequestOrigin,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(params) = form::query_or_form(&method, &uri, &headers, &body) else {
        return rejected(LogoutRejection::Malformed);
    };
    let session = cookies::read(&headers, cookies::SESSION);
    let outcome = match state
        .logout(
            &current,
            &params,
            session.as_deref(),
            &origin,
            crate::clock::now(),
        )
        .await
    {
        Ok(outcome) => outcome,
        Err(error) => return HttpError::page(error).into_response(),
    };
    let mut response = match outcome {
        LogoutOutcome::Rejected(rejection) => return rejected(rejection),
        LogoutOutcome::Confirm { fields } => {
            let action = format!("{}{}", current.issuer.as_str(), Endpoint::EndSession.path());
            let mut response = pages::render(
                StatusCode::OK,
                &LogoutConfirmPage {
                    zone: &current.environment.slug(),
                    kind: current.environment.kind.as_str(),
                    action: &action,
                    fields: &fields,
                },
            );
            no_store(&mut response);
            // The session lives on until the person confirms.
            return response;
        }
        LogoutOutcome::Redirect(location) => {
            let mut response = StatusCode::SEE_OTHER.into_response();
            if let Ok(value) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            no_store(&mut response);
            response
        }
        LogoutOutcome::SignedOut => pages::render(
            StatusCode::OK,
            &SignedOutPage {
                zone: &current.environment.slug(),
                kind: current.environment.kind.as_str(),
            },
        ),
    };
    if let Ok(value) = HeaderValue::from_str(&cookies::clear(&current.issuer, cookies::SESSION)) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn rejected(rejection: LogoutRejection) -> Response {
    pages::error_page(
        StatusCode::BAD_REQUEST,
        ErrorPage::plain(rejection.message()),
    )
}
