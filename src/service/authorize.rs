//! The browser side of the code flow: authorization request, sign-in and consent.
//!
//! The login and consent forms carry the original request as hidden fields and every POST re-validates
//! it from scratch, so no half-finished interaction is stored server-side.

use super::limits::{self, Limited};
use super::{Airlock, Error, Event};
use crate::crypto::{password, secrets};
use crate::model::audit::Origin;
use crate::model::{AuthorizationCode, Client, Session, Zone};
use crate::oidc::authorize::{
    self, Authentication, ConsentStep, PageError, ValidatedAuthorization,
};
use crate::oidc::params::ParamBag;
use crate::oidc::redirect::AuthorizationResponse;
use crate::oidc::scope::Scope;
use crate::oidc::{ErrorCode, OAuthError};
use crate::store::NewCode;

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

impl Airlock {
    /// GET or POST to the authorization endpoint.
    pub async fn authorize(
        &self,
        zone: &Zone,
        params: &ParamBag,
        session_token: Option<&str>,
        origin: &Origin,
        now: i64,
    ) -> Result<AuthorizeOutcome, Error> {
        let (client, request) = match self.validate_authorization(zone, params).await? {
            Ok(validated) => validated,
            Err(outcome) => return Ok(outcome),
        };
        let session = self.session(zone, session_token, now).await?;
        let hint_subject = match &request.id_token_hint {
            None => None,
            Some(hint) => match self.id_token_hint_subject(zone, hint, now).await? {
                Some(subject) => Some(subject),
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
                self.after_authentication(zone, &client, &request, params, user, origin, now)
                    .await
            }
        }
    }

    /// POST of the login form. On success also returns the new session token for the cookie.
    ///
    /// Failed attempts are limited per client IP (this node's buckets) and per account name (shared
    /// lockout, applied alike to names that exist and names that do not).
    pub async fn login(
        &self,
        zone: &Zone,
        params: &ParamBag,
        email: &str,
        password_plain: &str,
        origin: &Origin,
        now: i64,
    ) -> Result<(AuthorizeOutcome, Option<String>), Error> {
        let (client, request) = match self.validate_authorization(zone, params).await? {
            Ok(validated) => validated,
            Err(outcome) => return Ok((outcome, None)),
        };
        let store = self.env_store(zone);
        let email = email.trim().to_ascii_lowercase();
        let account = secrets::digest(&email);
        let ip = origin.ip.clone().unwrap_or_default();
        let limits = zone.limits;
        // The typed name may be a mistyped password: the log names the account by digest only.
        let failed = |reason: &'static str| {
            Event::failure("signin.failed")
                .client(client.client_id.clone())
                .detail("reason", reason)
                .detail("account", account.clone())
        };
        let throttled = |retry_after: u64| {
            let notice = Some("Too many sign-in attempts. Please wait and try again.");
            AuthorizeOutcome::Throttled {
                interaction: interaction(&client, &request, params, notice),
                retry_after,
            }
        };
        if let Err(retry_after) = self.limiter.check(
            &zone.id,
            Limited::SigninFailures,
            &ip,
            limits.signin_failures_per_minute,
        ) {
            self.record(zone, origin, failed("ip_rate_limited"), now)
                .await?;
            return Ok((throttled(retry_after), None));
        }
        if let Some(record) = store.signin_failures(&account).await?
            && record.locked_until > now
        {
            self.record(zone, origin, failed("account_locked"), now)
                .await?;
            return Ok((throttled((record.locked_until - now) as u64), None));
        }
        // Failures count once checked: bound how many attempts are being checked at once, so a burst
        // of parallel guesses cannot all be checked before the first failure locks the account.
        let ip_subject = format!("ip:{ip}");
        let Some(_pass) = self.signin_gate.enter(&zone.id, &[&ip_subject, &account]) else {
            self.record(zone, origin, failed("too_many_parallel_attempts"), now)
                .await?;
            return Ok((throttled(1), None));
        };
        let user = if email.len() > 254 || password_plain.len() > 1024 {
            None
        } else {
            store.find_user_by_email(&email).await?
        };
        let verified = password::verify(
            password_plain.to_string(),
            user.as_ref().map(|u| u.password_hash.clone()),
        )
        .await;
        let known_account = user.is_some();
        let Some(user) = user.filter(|_| verified) else {
            let _ = self.limiter.take(
                &zone.id,
                Limited::SigninFailures,
                &ip,
                limits.signin_failures_per_minute,
            );
            let failures = store
                .count_signin_failure(&account, now, now - limits::FAILURE_MEMORY_SECONDS)
                .await?;
            let lock = limits::lockout_until(failures, limits.lockout_threshold, now);
            if let Some(until) = lock {
                store.lock_account(&account, until).await?;
            }
            let reason = if known_account {
                "wrong_password"
            } else {
                "unknown_account"
            };
            let event = failed(reason)
                .detail("consecutive_failures", failures)
                .detail("locked_until", lock);
            self.record(zone, origin, event, now).await?;
            let notice = Some("Wrong email or password.");
            return Ok((
                AuthorizeOutcome::ShowLogin(interaction(&client, &request, params, notice)),
                None,
            ));
        };
        store.clear_signin_failures(&account).await?;
        let token = secrets::random_token();
        let session = Session {
            user_id: user.user_id.clone(),
            auth_time: now,
            expires_at: now + zone.policy.session_ttl,
        };
        store
            .insert_session(&secrets::digest(&token), &session)
            .await?;
        let event = Event::success("signin.succeeded")
            .actor(user.user_id.clone())
            .client(client.client_id.clone());
        self.record(zone, origin, event, now).await?;
        let signed_in = AuthenticatedUser {
            user_id: &user.user_id,
            auth_time: now,
        };
        let outcome = self
            .after_authentication(zone, &client, &request, params, signed_in, origin, now)
            .await?;
        Ok((outcome, Some(token)))
    }

    /// POST of the consent form.
    pub async fn consent(
        &self,
        zone: &Zone,
        params: &ParamBag,
        session_token: Option<&str>,
        approved: bool,
        origin: &Origin,
        now: i64,
    ) -> Result<AuthorizeOutcome, Error> {
        let (client, request) = match self.validate_authorization(zone, params).await? {
            Ok(validated) => validated,
            Err(outcome) => return Ok(outcome),
        };
        let Some(session) = self.session(zone, session_token, now).await? else {
            return Ok(AuthorizeOutcome::ShowLogin(interaction(
                &client,
                &request,
                params,
                Some("Your sign-in expired. Please sign in again."),
            )));
        };
        if !approved {
            let event = Event::failure("consent.denied")
                .actor(session.user_id.clone())
                .client(client.client_id.clone())
                .detail("scope", request.scope.to_string());
            self.record(zone, origin, event, now).await?;
            let error = OAuthError::new(ErrorCode::AccessDenied, "the user denied the request");
            return Ok(AuthorizeOutcome::Respond(request.redirect.error(&error)));
        }
        let store = self.env_store(zone);
        // Consent accumulates: what was granted before stays granted.
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
        let event = Event::success("consent.granted")
            .actor(session.user_id.clone())
            .client(client.client_id.clone())
            .detail("scope", granted.to_string());
        self.record(zone, origin, event, now).await?;
        let user = AuthenticatedUser {
            user_id: &session.user_id,
            auth_time: session.auth_time,
        };
        self.issue_code(zone, &request, user, origin, now)
            .await
            .map(AuthorizeOutcome::Respond)
    }

    /// Steps 1 and 2 of the request checks. `Err` holds what to show instead.
    async fn validate_authorization(
        &self,
        zone: &Zone,
        params: &ParamBag,
    ) -> Result<Result<(Client, ValidatedAuthorization), AuthorizeOutcome>, Error> {
        let client_id = match authorize::client_id(params) {
            Ok(id) => id,
            Err(page) => return Ok(Err(AuthorizeOutcome::ErrorPage(page))),
        };
        let Some(client) = self.client(zone, client_id).await? else {
            return Ok(Err(AuthorizeOutcome::ErrorPage(PageError::UnknownClient)));
        };
        let issuer = &zone.issuer;
        let redirect = match authorize::verify_redirect(params, &client, issuer.as_str()) {
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

    async fn session(
        &self,
        zone: &Zone,
        token: Option<&str>,
        now: i64,
    ) -> Result<Option<Session>, Error> {
        match token {
            None => Ok(None),
            Some(token) => Ok(self
                .env_store(zone)
                .find_session(&secrets::digest(token), now)
                .await?),
        }
    }

    /// The subject of an ID token this zone issued (expired ones included, as a hint).
    async fn id_token_hint_subject(
        &self,
        zone: &Zone,
        hint: &str,
        now: i64,
    ) -> Result<Option<String>, Error> {
        Ok(self
            .verified_id_token_hint(zone, hint, now)
            .await?
            .map(|claims| claims.sub))
    }

    #[allow(clippy::too_many_arguments)]
    async fn after_authentication(
        &self,
        zone: &Zone,
        client: &Client,
        request: &ValidatedAuthorization,
        params: &ParamBag,
        user: AuthenticatedUser<'_>,
        origin: &Origin,
        now: i64,
    ) -> Result<AuthorizeOutcome, Error> {
        let remembered = self
            .env_store(zone)
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

    async fn issue_code(
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
                grant_id: secrets::random_id(),
                client_id: request.client_id.clone(),
                user_id: user.user_id.to_string(),
                redirect_uri: request.redirect.uri().to_string(),
                scope: request.scope.to_string(),
                nonce: request.nonce.clone(),
                code_challenge: request.code_challenge.clone(),
                auth_time: user.auth_time,
                expires_at: now + zone.policy.code_ttl,
                consumed: false,
            },
        };
        self.env_store(zone).insert_code(&new).await?;
        let event = Event::success("code.issued")
            .actor(user.user_id)
            .client(request.client_id.clone())
            .detail("grant", new.code.grant_id.clone())
            .detail("scope", new.code.scope.clone());
        self.record(zone, origin, event, now).await?;
        Ok(request.redirect.success(&code))
    }
}

/// The person a code is issued for, and when they signed in.
#[derive(Debug, Clone, Copy)]
struct AuthenticatedUser<'a> {
    user_id: &'a str,
    auth_time: i64,
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
