//! The consent form's POST: remember what the person granted (consent accumulates) and issue the
//! code, or report the refusal to the client.

use super::flow::{AuthenticatedUser, AuthorizeOutcome, Protocol};
use super::{Call, Error};
use crate::audit::AuditEvent;
use crate::oidc::params::ParamBag;
use crate::oidc::resource;
use crate::oidc::scope::Scope;
use crate::oidc::{ErrorCode, OAuthError};

impl Protocol<'_> {
    pub async fn consent(
        &self,
        call: &Call<'_>,
        params: ParamBag,
        session_token: Option<&str>,
        approved: bool,
    ) -> Result<AuthorizeOutcome, Error> {
        let checked = match self.check_request(call.zone, params).await? {
            Ok(checked) => checked,
            Err(outcome) => return Ok(outcome),
        };
        let Some(session) = self.session(call, session_token).await? else {
            let notice = Some("Your sign-in expired. Please sign in again.");
            return Ok(AuthorizeOutcome::ShowLogin(checked.interaction(notice)));
        };
        let (client, request) = (&checked.client, &checked.request);
        if !approved {
            let event = AuditEvent::ConsentDenied {
                scope: request.scope.to_string(),
            }
            .actor(session.user_id.as_str())
            .client(client.client_id.as_str());
            self.audit.record_call(call, event).await?;
            let error = OAuthError::new(ErrorCode::AccessDenied, "the user denied the request");
            return Ok(AuthorizeOutcome::Respond(request.redirect.error(&error)));
        }
        let store = self.store(call.zone);
        let before = store
            .find_consent(&session.user_id, &client.client_id)
            .await?;
        let consented = resource::consented(&request.scope, request.resource.as_deref());
        let union = format!("{} {consented}", before.unwrap_or_default());
        let granted = Scope::parse(Some(&union))?.to_string();
        let event = AuditEvent::ConsentGranted {
            scope: granted.clone(),
        }
        .actor(session.user_id.as_str())
        .client(client.client_id.as_str());
        let events = self.audit.outbox_of_call(call, &event).await?;
        store
            .emitting(&events)
            .upsert_consent(&session.user_id, &client.client_id, &granted, call.now)
            .await?;
        self.audit.record_call(call, event).await?;
        let user = AuthenticatedUser {
            user_id: &session.user_id,
            auth_time: session.auth_time,
        };
        let response = self.issue_code(call, request, user).await?;
        Ok(AuthorizeOutcome::Respond(response))
    }
}
