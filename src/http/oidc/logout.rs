use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::http::AppState;
use crate::http::cookies::{self, Cookie};
use crate::http::current_env::ZoneRequest;
use crate::http::error::HttpError;
use crate::http::extract::{BrowserParams, SessionCookie};
use crate::http::headers::no_store;
use crate::http::pages::{self, ErrorPage, LogoutConfirmPage, SignedOutPage};
use crate::http::respond::{see_other, set_cookie};
use crate::oidc::endpoints::Endpoint;
use crate::service::logout::LogoutOutcome;
use axum::response::IntoResponse;

/// `GET|POST {issuer}/logout` (RP-Initiated Logout 1.0 `end_session_endpoint`)
pub async fn logout(
    State(state): State<AppState>,
    request: ZoneRequest,
    SessionCookie(session): SessionCookie,
    BrowserParams(params): BrowserParams,
) -> Response {
    let outcome = match state
        .protocol()
        .logout(&request.call(), &params, session.as_deref())
        .await
    {
        Ok(outcome) => outcome,
        Err(error) => return HttpError::page(error).into_response(),
    };
    let zone = &request.zone;
    let slug = zone.environment.slug();
    let kind = zone.environment.kind.as_str();
    let mut response = match outcome {
        LogoutOutcome::Rejected(rejection) => {
            return pages::error_page(
                StatusCode::BAD_REQUEST,
                ErrorPage::plain(rejection.message()),
            );
        }
        LogoutOutcome::Confirm { fields } => {
            let action = zone.issuer.endpoint(Endpoint::EndSession.path());
            let page = LogoutConfirmPage {
                zone: &slug,
                kind,
                action: &action,
                fields: &fields,
            };
            let mut response = pages::render(StatusCode::OK, &page);
            no_store(&mut response);
            // The session lives on until the person confirms.
            return response;
        }
        LogoutOutcome::Redirect(location) => see_other(&location),
        LogoutOutcome::SignedOut => {
            pages::render(StatusCode::OK, &SignedOutPage { zone: &slug, kind })
        }
    };
    set_cookie(
        &mut response,
        &cookies::clear(&zone.issuer, Cookie::Session),
    );
    response
}
