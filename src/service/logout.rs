//! RP-initiated logout: ends this zone's browser session, and only this one.

use super::flow::Protocol;
use super::{Call, Error};
use crate::audit::{AuditEvent, Recorded};
use crate::crypto::secrets;
use crate::model::ClientId;
use crate::oidc::logout::{self, LogoutRejection, LogoutRequest};
use crate::oidc::params::ParamBag;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutOutcome {
    /// Signed out; back to the relying party.
    Redirect(String),
    /// Signed out; show the signed-out page.
    SignedOut,
    /// Nothing done yet: ask the person, with a form that posts these fields back.
    Confirm { fields: Vec<(String, String)> },
    /// Nothing done: the request cannot be trusted.
    Rejected(LogoutRejection),
}

/// The form field that carries the confirmation.
const CONFIRMATION_FIELD: &str = "airlock_confirm";

/// Proof that a confirmation came from a page shown to the session's holder: derived from the session
/// token (which only that browser holds, in an HttpOnly cookie), and distinct from its stored digest.
fn confirmation_code(session_token: &str) -> String {
    secrets::digest(&format!("logout-confirmation:{session_token}"))
}

impl Protocol<'_> {
    /// Ends this zone's session. A request that does not carry an ID token of the session's own user
    /// is confirmed by the person first.
    pub async fn logout(
        &self,
        call: &Call<'_>,
        params: &ParamBag,
        session_token: Option<&str>,
    ) -> Result<LogoutOutcome, Error> {
        let request = match LogoutRequest::parse(params) {
            Ok(request) => request,
            Err(rejection) => return Ok(LogoutOutcome::Rejected(rejection)),
        };
        let hint = match &request.id_token_hint {
            None => None,
            Some(hint) => match self.tokens.id_token_hint(call.zone, hint, call.now).await? {
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
            Some(id) => self.clients.find(call.zone, &ClientId::from(id)).await?,
        };
        let target = match logout::post_logout_redirect(&request, hint.is_some(), client.as_deref())
        {
            Ok(target) => target,
            Err(rejection) => return Ok(LogoutOutcome::Rejected(rejection)),
        };
        let store = self.store(call.zone);
        let mut user_id = None;
        let mut ended_session = None;
        if let Some(token) = session_token {
            let digest = secrets::digest(token);
            if let Some(session) = store.find_session(&digest, call.now).await? {
                let code = confirmation_code(token);
                let confirmed = params
                    .get(CONFIRMATION_FIELD)
                    .ok()
                    .flatten()
                    .is_some_and(|presented| secrets::constant_time_eq(presented, &code));
                let hint_subject = hint.as_ref().map(|claims| claims.sub.as_str());
                if logout::needs_confirmation(hint_subject, &session.user_id, confirmed) {
                    let mut fields = request.fields();
                    fields.push((CONFIRMATION_FIELD.to_string(), code));
                    return Ok(LogoutOutcome::Confirm { fields });
                }
                user_id = Some(session.user_id.to_string());
            }
            ended_session = Some(digest);
        }
        let mut event = Recorded::from(AuditEvent::Logout {
            had_session: user_id.is_some(),
        });
        if let Some(user_id) = user_id.or(hint.map(|claims| claims.sub)) {
            event = event.actor(user_id);
        }
        if let Some(client) = &client {
            event = event.client(client.client_id.as_str());
        }
        let events = self.audit.outbox_of_call(call, &event).await?;
        let store = store.emitting(&events);
        match ended_session {
            Some(digest) if store.delete_session(&digest).await? => {}
            // No session ended: the logout is an event of its own.
            _ => store.write_events().await?,
        }
        self.audit.record_call(call, event).await?;
        Ok(match target {
            Some(location) => LogoutOutcome::Redirect(location),
            None => LogoutOutcome::SignedOut,
        })
    }
}
