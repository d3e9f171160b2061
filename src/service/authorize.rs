//! The authorization endpoint (GET or POST): check the request, then, with the browser's session,
//! decide between signing in, asking for consent, and issuing a code.

use super::Error;
use super::flow::{AuthenticatedUser, AuthorizeOutcome, Flow, interaction};
use crate::model::Zone;
use crate::model::audit::Origin;
use crate::oidc::OAuthError;
use crate::oidc::authorize::{self, Authentication};
use crate::oidc::params::ParamBag;

pub struct Authorize<'a> {
    pub(super) flow: Flow<'a>,
}

impl Authorize<'_> {
    pub async fn authorize(
        &self,
        zone: &Zone,
        params: &ParamBag,
        session_token: Option<&str>,
        origin: &Origin,
        now: i64,
    ) -> Result<AuthorizeOutcome, Error> {
        let (client, request) = match self.flow.check_request(zone, params).await? {
            Ok(checked) => checked,
            Err(outcome) => return Ok(outcome),
        };
        let session = self.flow.session(zone, session_token, now).await?;
        let hint_subject = match &request.id_token_hint {
            None => None,
            Some(hint) => match self.flow.tokens.id_token_hint(zone, hint, now).await? {
                Some(claims) => Some(claims.sub),
                None => {
                    let error = OAuthError::invalid_request("id_token_hint is not valid here");
                    return Ok(AuthorizeOutcome::Respond(request.redirect.error(&error)));
                }
            },
        };
        match authorize::authentication(&request, session.as_ref(), hint_subject.as_deref(), now) {
            Err(error) => Ok(AuthorizeOutcome::Respond(request.redirect.error(&error))),
            Ok(Authentication::ShowLogin) => Ok(AuthorizeOutcome::ShowLogin(interaction(
                &client, &request, params, None,
            ))),
            Ok(Authentication::Authenticated { user_id, auth_time }) => {
                let user = AuthenticatedUser {
                    user_id: &user_id,
                    auth_time,
                };
                self.flow
                    .after_authentication(zone, &client, &request, params, user, origin, now)
                    .await
            }
        }
    }
}
