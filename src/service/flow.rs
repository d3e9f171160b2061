//! What the browser steps (authorization request, sign-in form, consent form) and the other
//! protocol use cases share: the components they borrow, checking the request again from the form's
//! hidden fields, reading the session, and issuing the code.
//!
//! The login and consent forms carry the original request as hidden fields and every POST re-validates
//! it from scratch, so no half-finished interaction is stored server-side.

use std::sync::Arc;

use super::audit_log::AuditLog;
use super::clients::ClientDirectory;
use super::tokens::TokenVerifier;
use super::{Call, Error};
use crate::audit::AuditEvent;
use crate::crypto::secrets;
use crate::model::{AuthorizationCode, Client, ClientId, GrantId, Session, UserId, Zone};
use crate::oidc::OAuthError;
use crate::oidc::authorize::{self, PageError, ValidatedAuthorization};
use crate::oidc::params::ParamBag;
use crate::oidc::redirect::AuthorizationResponse;
use crate::oidc::resource;
use crate::oidc::scope::Scope;
use crate::oidc::session_policy::{self, ConsentStep};
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
    /// The sign-up form (`prompt=create`, where the zone offers sign-up).
    ShowSignup(Interaction),
    /// Signed in, but the zone wants a verified address first: "check your inbox", with a form
    /// (these fields) that sends the link again.
    CheckInbox(Vec<(String, String)>),
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

/// An authorization request that passed steps 1 and 2, with its client and parameters.
pub(super) struct Checked {
    pub client: Arc<Client>,
    pub request: ValidatedAuthorization,
    pub params: ParamBag,
}

impl Checked {
    /// What to ask the person, with `notice` shown above the form.
    pub fn interaction(&self, notice: Option<&'static str>) -> Interaction {
        interaction(&self.client, &self.request, &self.params, notice)
    }
}

/// The protocol endpoints' use cases (authorize, consent, logout, introspection, revocation,
/// UserInfo; one file each) and the components they share: storage, clients, token checks and the
/// audit log.
#[derive(Debug, Clone, Copy)]
pub struct Protocol<'a> {
    pub(super) db: &'a Db,
    pub(super) clients: &'a ClientDirectory,
    pub(super) tokens: TokenVerifier<'a>,
    pub(super) audit: &'a AuditLog,
}

impl Protocol<'_> {
    pub(super) fn store<'s>(&'s self, zone: &'s Zone) -> EnvStore<'s> {
        EnvStore::new(self.db, &zone.id)
    }

    /// Steps 1 and 2 of the request checks; `Err` holds what to show instead.
    pub(super) async fn check_request(
        &self,
        zone: &Zone,
        params: ParamBag,
    ) -> Result<Result<Checked, AuthorizeOutcome>, Error> {
        let client_id = match authorize::client_id(&params) {
            Ok(id) => ClientId::from(id),
            Err(page) => return Ok(Err(AuthorizeOutcome::ErrorPage(page))),
        };
        let Some(client) = self.clients.find(zone, &client_id).await? else {
            return Ok(Err(AuthorizeOutcome::ErrorPage(PageError::UnknownClient)));
        };
        let redirect = match authorize::verify_redirect(&params, &client, zone.issuer.as_str()) {
            Ok(redirect) => redirect,
            Err(page) => return Ok(Err(AuthorizeOutcome::ErrorPage(page))),
        };
        match authorize::validate(&params, &client, redirect) {
            Ok(mut request) => match self.granted_scope(zone, &client, &request).await? {
                Ok(scope) => {
                    request.scope = scope;
                    Ok(Ok(Checked {
                        client,
                        request,
                        params,
                    }))
                }
                Err(error) => Ok(Err(AuthorizeOutcome::Respond(
                    request.redirect.error(&error),
                ))),
            },
            Err(rejected) => {
                let (redirect, error) = *rejected;
                Ok(Err(AuthorizeOutcome::Respond(redirect.error(&error))))
            }
        }
    }

    /// What of the requested scope may be granted, given the API the request names (RFC 8707);
    /// `Err` is the refusal to send back.
    async fn granted_scope(
        &self,
        zone: &Zone,
        client: &Client,
        request: &ValidatedAuthorization,
    ) -> Result<Result<Scope, OAuthError>, Error> {
        let api = match &request.resource {
            None => None,
            Some(identifier) => {
                let store = self.store(zone);
                match store
                    .find_granted_api(identifier, &client.client_id)
                    .await?
                {
                    Some(api) => Some(api),
                    None => return Ok(Err(resource::unknown_resource())),
                }
            }
        };
        Ok(resource::decide_scope(&request.scope, api.as_ref()))
    }

    pub(super) async fn session(
        &self,
        call: &Call<'_>,
        token: Option<&str>,
    ) -> Result<Option<Session>, Error> {
        match token {
            None => Ok(None),
            Some(token) => Ok(self
                .store(call.zone)
                .find_session(&secrets::digest(token), call.now)
                .await?),
        }
    }

    /// Step 3b, once the person is known: issue a code, or ask for consent first.
    pub(super) async fn after_authentication(
        &self,
        call: &Call<'_>,
        checked: &Checked,
        user: AuthenticatedUser<'_>,
    ) -> Result<AuthorizeOutcome, Error> {
        // A session may predate the zone's wish for verified addresses: it is held here too.
        if call.zone.accounts.require_verified_email
            && let Some(found) = self.store(call.zone).find_user(user.user_id).await?
            && !found.email_verified
        {
            let resend = super::accounts::resend_fields(checked, &found.email);
            return Ok(AuthorizeOutcome::CheckInbox(resend));
        }
        let remembered = self
            .store(call.zone)
            .find_consent(user.user_id, &checked.client.client_id)
            .await?
            .map(|scope| Scope::parse(Some(&scope)).unwrap_or_default());
        let request = &checked.request;
        // Consent is to scopes of one API: compare them qualified by it.
        let mut asked = request.clone();
        asked.scope = resource::consented(&request.scope, request.resource.as_deref());
        match session_policy::consent(&asked, &checked.client, remembered.as_ref()) {
            Err(error) => Ok(AuthorizeOutcome::Respond(request.redirect.error(&error))),
            Ok(ConsentStep::ShowConsent) => {
                Ok(AuthorizeOutcome::ShowConsent(checked.interaction(None)))
            }
            Ok(ConsentStep::Issue) => self
                .issue_code(call, request, user)
                .await
                .map(AuthorizeOutcome::Respond),
        }
    }

    pub(super) async fn issue_code(
        &self,
        call: &Call<'_>,
        request: &ValidatedAuthorization,
        user: AuthenticatedUser<'_>,
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
                expires_at: call.now + call.zone.policy.code_ttl,
                consumed: false,
                issuer: call.zone.issuer.as_str().to_string(),
                resource: request.resource.clone(),
            },
        };
        self.store(call.zone).insert_code(&new).await?;
        let event = AuditEvent::CodeIssued {
            grant: new.code.grant_id.to_string(),
            scope: new.code.scope.clone(),
        }
        .actor(user.user_id.as_str())
        .client(request.client_id.as_str());
        self.audit.record_call(call, event).await?;
        Ok(request.redirect.success(&code))
    }
}

fn interaction(
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
