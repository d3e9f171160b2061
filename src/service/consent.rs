//! The consent form's POST: remember what the person granted (consent accumulates) and issue the
//! code, or report the refusal to the client.

use super::Error;
use super::flow::{AuthenticatedUser, AuthorizeOutcome, Flow, interaction};
use crate::audit::AuditEvent;
use crate::model::Zone;
use crate::model::audit::Origin;
use crate::oidc::params::ParamBag;
use crate::oidc::scope::Scope;
use crate::oidc::{ErrorCode, OAuthError};
use crate::store::EnvStore;

pub struct Consent<'a> {
    pub(super) flow: Flow<'a>,
}

impl Consent<'_> {
    pub async fn consent(
        &self,
        zone: &Zone,
        params: &ParamBag,
        session_token: Option<&str>,
        approved: bool,
        origin: &Origin,
        now: i64,
    ) -> Result<AuthorizeOutcome, Error> {
        let (client, request) = match self.flow.check_request(zone, params).await? {
            Ok(checked) => checked,
            Err(outcome) => return Ok(outcome),
        };
        let Some(session) = self.flow.session(zone, session_token, now).await? else {
            return Ok(AuthorizeOutcome::ShowLogin(interaction(
                &client,
                &request,
                params,
                Some("Your sign-in expired. Please sign in again."),
            )));
        };
        let audit = self.flow.audit;
        if !approved {
            let event = AuditEvent::ConsentDenied {
                scope: request.scope.to_string(),
            }
            .actor(session.user_id.as_str())
            .client(client.client_id.as_str());
            audit.record(zone, origin, event, now).await?;
            let error = OAuthError::new(ErrorCode::AccessDenied, "the user denied the request");
            return Ok(AuthorizeOutcome::Respond(request.redirect.error(&error)));
        }
        let store = EnvStore::new(self.flow.db, &zone.id);
        let before = store
            .find_consent(&session.user_id, &client.client_id)
            .await?;
        let union = format!("{} {}", before.unwrap_or_default(), request.scope);
        let granted = Scope::parse_supported(Some(&union))?;
        store
            .upsert_consent(
                &session.user_id,
                &client.client_id,
                &granted.to_string(),
                now,
            )
            .await?;
        let event = AuditEvent::ConsentGranted {
            scope: granted.to_string(),
        }
        .actor(session.user_id.as_str())
        .client(client.client_id.as_str());
        audit.record(zone, origin, event, now).await?;
        let user = AuthenticatedUser {
            user_id: &session.user_id,
            auth_time: session.auth_time,
        };
        self.flow
            .issue_code(zone, &request, user, origin, now)
            .await
            .map(AuthorizeOutcome::Respond)
    }
}
