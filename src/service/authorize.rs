//! The authorization endpoint (GET or POST): check the request, then, with the browser's session,
//! decide between signing in, asking for consent, and issuing a code.

use super::flow::{AuthenticatedUser, AuthorizeOutcome, Protocol};
use super::{Call, Error};
use crate::oidc::OAuthError;
use crate::oidc::params::ParamBag;
use crate::oidc::session_policy::{self, Authentication};

impl Protocol<'_> {
    pub async fn authorize(
        &self,
        call: &Call<'_>,
        params: ParamBag,
        session_token: Option<&str>,
    ) -> Result<AuthorizeOutcome, Error> {
        let checked = match self.check_request(call.zone, params).await? {
            Ok(checked) => checked,
            Err(outcome) => return Ok(outcome),
        };
        let request = &checked.request;
        let session = self.session(call, session_token).await?;
        let hint_subject = match &request.id_token_hint {
            None => None,
            Some(hint) => match self.tokens.id_token_hint(call.zone, hint, call.now).await? {
                Some(claims) => Some(claims.sub),
                None => {
                    let error = OAuthError::invalid_request("id_token_hint is not valid here");
                    return Ok(AuthorizeOutcome::Respond(request.redirect.error(&error)));
                }
            },
        };
        let decided = session_policy::authentication(
            request,
            session.as_ref(),
            hint_subject.as_deref(),
            call.now,
        );
        match decided {
            Err(error) => Ok(AuthorizeOutcome::Respond(request.redirect.error(&error))),
            Ok(Authentication::ShowLogin) if request.prompt.create && call.zone.accounts.signup => {
                Ok(AuthorizeOutcome::ShowSignup(checked.interaction(None)))
            }
            Ok(Authentication::ShowLogin) => {
                Ok(AuthorizeOutcome::ShowLogin(checked.interaction(None)))
            }
            Ok(Authentication::Authenticated { user_id, auth_time }) => {
                let user = AuthenticatedUser {
                    user_id: &user_id,
                    auth_time,
                };
                self.after_authentication(call, &checked, user).await
            }
        }
    }
}
