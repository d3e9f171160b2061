//! What the three browser steps (authorization request, sign-in form, consent form) share: checking
//! the request again from the form's hidden fields, reading the session, and issuing the code.
//!
//! The login and consent forms carry the original request as hidden fields and every POST re-validates
//! it from scratch, so no half-finished interaction is stored server-side.

use std::sync::Arc;

use super::Error;
use super::audit_log::AuditLog;
use super::clients::ClientDirectory;
use super::tokens::TokenVerifier;
use crate::audit::AuditEvent;
use crate::crypto::secrets;
use crate::model::audit::Origin;
use crate::model::{AuthorizationCode, Client, ClientId, GrantId, Session, UserId, Zone};
use crate::oidc::authorize::{self, ConsentStep, PageError, ValidatedAuthorization};
use crate::oidc::params::ParamBag;
use crate::oidc::redirect::AuthorizationResponse;
use crate::oidc::scope::Scope;
use crate::store::{Db, EnvStore, NewCode};

/// Form fields of our own pages; never re-emitted from a client's request.
pub const OWN_FIELD_PREFIX: &str = "airlock_";

/// What the person is asked, and the request it continues.
#[derive(Debug, Clone)]
pub struct Interaction {
    pub client_name: String,
    pub scope: Vec<String>,
    pub login_hint: Option<String>,
    /// The authorization request, to be carried through the form as hidden fields.
    pub request_fields: Vec<(String, String)>,
    pub notice: Option<&'static str>,
}

#[derive(Debug, Clone)]
pub enum AuthorizeOutcome {
    /// No trustworthy redirect: show a page.
    ErrorPage(PageError),
    /// Back to the client, with a code or an error.
    Respond(AuthorizationResponse),
    ShowLogin(Interaction),
    ShowConsent(Interaction),
    /// Too many failed sign-ins: the login page again, after `retry_after` seconds.
    Throttled {
        interaction: Interaction,
        retry_after: u64,
    },
}

/// The person a code is issued for, and when they signed in.
#[derive(Debug, Clone, Copy)]
pub(super) struct AuthenticatedUser<'a> {
    pub user_id: &'a UserId,
    pub auth_time: i64,
}

/// A request that passed steps 1 and 2, or what to show instead.
pub(super) type Checked = Result<(Arc<Client>, ValidatedAuthorization), AuthorizeOutcome>;

/// The components every browser step uses.
#[derive(Debug, Clone, Copy)]
pub(super) struct Flow<'a> {
    pub db: &'a Db,
    pub clients: &'a ClientDirectory,
    pub tokens: TokenVerifier<'a>,
    pub audit: &'a AuditLog,
}

impl Flow<'_> {
    /// Steps 1 and 2 of the request checks.
    pub async fn check_request(&self, zone: &Zone, params: &ParamBag) -> Result<Checked, Error> {
        let client_id = match authorize::client_id(params) {
            Ok(id) => ClientId::from(id),
            Err(page) => return Ok(Err(AuthorizeOutcome::ErrorPage(page))),
        };
        let Some(client) = self.clients.find(zone, &client_id).await? else {
            return Ok(Err(AuthorizeOutcome::ErrorPage(PageError::UnknownClient)));
        };
        let redirect = match authorize::verify_redirect(params, &client, zone.issuer.as_str()) {
            Ok(redirect) => redirect,
            Err(page) => return Ok(Err(AuthorizeOutcome::ErrorPage(page))),
        };
        match authorize::validate(params, &client, redirect) {
            Ok(request) => Ok(Ok((client, request))),
            Err(rejected) => {
                let (redirect, error) = *rejected;
                Ok(Err(AuthorizeOutcome::Respond(redirect.error(&error))))
            }
        }
    }

    pub async fn session(
        &self,
        zone: &Zone,
        token: Option<&str>,
        now: i64,
    ) -> Result<Option<Session>, Error> {
        match token {
            None => Ok(None),
            Some(token) => Ok(EnvStore::new(self.db, &zone.id)
                .find_session(&secrets::digest(token), now)
                .await?),
        }
    }

    /// Step 3b, once the person is known: issue a code, or ask for consent first.
    #[allow(clippy::too_many_arguments)]
    pub async fn after_authentication(
        &self,
        zone: &Zone,
        client: &Client,
        request: &ValidatedAuthorization,
        params: &ParamBag,
        user: AuthenticatedUser<'_>,
        origin: &Origin,
        now: i64,
    ) -> Result<AuthorizeOutcome, Error> {
        let remembered = EnvStore::new(self.db, &zone.id)
            .find_consent(user.user_id, &client.client_id)
            .await?
            .map(|scope| Scope::parse_supported(Some(&scope)).unwrap_or_default());
        match authorize::consent(request, client, remembered.as_ref()) {
            Err(error) => Ok(AuthorizeOutcome::Respond(request.redirect.error(&error))),
            Ok(ConsentStep::ShowConsent) => Ok(AuthorizeOutcome::ShowConsent(interaction(
                client, request, params, None,
            ))),
            Ok(ConsentStep::Issue) => self
                .issue_code(zone, request, user, origin, now)
                .await
                .map(AuthorizeOutcome::Respond),
        }
    }

    pub async fn issue_code(
        &self,
        zone: &Zone,
        request: &ValidatedAuthorization,
        user: AuthenticatedUser<'_>,
        origin: &Origin,
        now: i64,
    ) -> Result<AuthorizationResponse, Error> {
        let code = secrets::random_token();
        let new = NewCode {
            digest: secrets::digest(&code),
            code: AuthorizationCode {
                grant_id: GrantId::new(secrets::random_id()),
                client_id: request.client_id.clone(),
                user_id: user.user_id.clone(),
                redirect_uri: request.redirect.uri().to_string(),
                scope: request.scope.to_string(),
                nonce: request.nonce.clone(),
                code_challenge: request.code_challenge.clone(),
                auth_time: user.auth_time,
                expires_at: now + zone.policy.code_ttl,
                consumed: false,
            },
        };
        EnvStore::new(self.db, &zone.id).insert_code(&new).await?;
        let event = AuditEvent::CodeIssued {
            grant: new.code.grant_id.to_string(),
            scope: new.code.scope.clone(),
        }
        .actor(user.user_id.as_str())
        .client(request.client_id.as_str());
        self.audit.record(zone, origin, event, now).await?;
        Ok(request.redirect.success(&code))
    }
}

pub(super) fn interaction(
    client: &Client,
    request: &ValidatedAuthorization,
    params: &ParamBag,
    notice: Option<&'static str>,
) -> Interaction {
    Interaction {
        client_name: client.name.clone(),
        scope: request.scope.iter().map(str::to_string).collect(),
        login_hint: request.login_hint.clone(),
        request_fields: params
            .pairs()
            .filter(|(name, _)| !name.starts_with(OWN_FIELD_PREFIX))
            // The id_token_hint was checked when the flow started; do not ask for the same user twice.
            .filter(|(name, _)| *name != "id_token_hint")
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect(),
        notice,
    }
}
