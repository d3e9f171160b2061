//! RP-initiated logout: ends this zone's browser session, and only this one.

use super::{Airlock, Error, Event};
use crate::crypto::secrets;
use crate::model::Zone;
use crate::model::audit::Origin;
use crate::oidc::logout::{self, LogoutRejection, LogoutRequest};
use crate::oidc::params::ParamBag;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutOutcome {
    /// Signed out; back to the relying party.
    Redirect(String),
    /// Signed out; show the signed-out page.
    SignedOut,
    /// Nothing done: the request cannot be trusted.
    Rejected(LogoutRejection),
}

impl Airlock {
    pub async fn logout(
        &self,
        zone: &Zone,
        params: &ParamBag,
        session_token: Option<&str>,
        origin: &Origin,
        now: i64,
    ) -> Result<LogoutOutcome, Error> {
        let request = match LogoutRequest::parse(params) {
            Ok(request) => request,
            Err(rejection) => return Ok(LogoutOutcome::Rejected(rejection)),
        };
        let hint = match &request.id_token_hint {
            None => None,
            Some(hint) => match self.verified_id_token_hint(zone, hint, now).await? {
                Some(claims) => Some(claims),
                None => return Ok(LogoutOutcome::Rejected(LogoutRejection::InvalidHint)),
            },
        };
        let client_id = match request.client_id(hint.as_ref().map(|claims| claims.aud.as_str())) {
            Ok(client_id) => client_id,
            Err(rejection) => return Ok(LogoutOutcome::Rejected(rejection)),
        };
        let client = match client_id {
            None => None,
            Some(client_id) => self.client(zone, client_id).await?,
        };
        let target = match logout::post_logout_redirect(&request, hint.is_some(), client.as_ref()) {
            Ok(target) => target,
            Err(rejection) => return Ok(LogoutOutcome::Rejected(rejection)),
        };
        let store = self.env_store(zone);
        let mut user_id = None;
        if let Some(token) = session_token {
            let digest = secrets::digest(token);
            user_id = store.find_session(&digest, now).await?.map(|s| s.user_id);
            store.delete_session(&digest).await?;
        }
        let mut event = Event::success("logout").detail("had_session", user_id.is_some());
        if let Some(user_id) = user_id.or(hint.map(|claims| claims.sub)) {
            event = event.actor(user_id);
        }
        if let Some(client) = &client {
            event = event.client(client.client_id.clone());
        }
        self.record(zone, origin, event, now).await?;
        Ok(match target {
            Some(location) => LogoutOutcome::Redirect(location),
            None => LogoutOutcome::SignedOut,
        })
    }
}
