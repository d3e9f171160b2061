//! The sign-in form's POST. Failed attempts are limited per client IP (this node's buckets) and per
//! account name (a lockout shared by all nodes, applied alike to names that exist and names that do
//! not, so a lockout tells nothing about existence).

use super::Error;
use super::flow::{AuthenticatedUser, AuthorizeOutcome, Flow, interaction};
use super::limits::{self, Limited, RateLimiter, SigninGate};
use crate::audit::{AuditEvent, Recorded, SigninFailure};
use crate::crypto::{password, secrets};
use crate::model::audit::Origin;
use crate::model::{Secret, Session, Zone};
use crate::oidc::params::ParamBag;
use crate::store::EnvStore;

pub struct Login<'a> {
    pub(super) flow: Flow<'a>,
    pub(super) limiter: &'a RateLimiter,
    pub(super) gate: &'a SigninGate,
}

/// A sign-in attempt as typed.
pub struct Credentials<'a> {
    pub email: &'a str,
    pub password: &'a str,
}

impl Login<'_> {
    /// On success also returns the new session token, for the cookie.
    pub async fn login(
        &self,
        zone: &Zone,
        params: &ParamBag,
        credentials: Credentials<'_>,
        origin: &Origin,
        now: i64,
    ) -> Result<(AuthorizeOutcome, Option<Secret>), Error> {
        let (client, request) = match self.flow.check_request(zone, params).await? {
            Ok(checked) => checked,
            Err(outcome) => return Ok((outcome, None)),
        };
        let audit = self.flow.audit;
        let store = EnvStore::new(self.flow.db, &zone.id);
        let email = credentials.email.trim().to_ascii_lowercase();
        // The typed name may be a mistyped password: the log names the account by digest only.
        let account = secrets::digest(&email);
        let ip = origin.ip.clone().unwrap_or_default();
        let limits = zone.limits;
        let failed = |reason: SigninFailure, failures: Option<i64>, locked_until: Option<i64>| {
            Recorded::from(AuditEvent::SigninFailed {
                reason,
                account: account.clone(),
                consecutive_failures: failures,
                locked_until,
            })
            .client(client.client_id.as_str())
        };
        let throttled = |retry_after: u64| {
            let notice = Some("Too many sign-in attempts. Please wait and try again.");
            AuthorizeOutcome::Throttled {
                interaction: interaction(&client, &request, params, notice),
                retry_after,
            }
        };
        let env_id = zone.id.as_str();
        let per_ip = limits.signin_failures_per_minute;
        if let Err(retry_after) = self
            .limiter
            .check(env_id, Limited::SigninFailures, &ip, per_ip)
        {
            let event = failed(SigninFailure::IpRateLimited, None, None);
            audit.record(zone, origin, event, now).await?;
            return Ok((throttled(retry_after), None));
        }
        if let Some(record) = store.signin_failures(&account).await?
            && record.locked_until > now
        {
            let event = failed(SigninFailure::AccountLocked, None, None);
            audit.record(zone, origin, event, now).await?;
            return Ok((throttled((record.locked_until - now) as u64), None));
        }
        // Failures count once checked: bound how many attempts are being checked at once, so a burst
        // of parallel guesses cannot all be checked before the first failure locks the account.
        let ip_subject = format!("ip:{ip}");
        let Some(_pass) = self.gate.enter(env_id, &[&ip_subject, &account]) else {
            let event = failed(SigninFailure::TooManyParallelAttempts, None, None);
            audit.record(zone, origin, event, now).await?;
            return Ok((throttled(1), None));
        };
        let user = if email.len() > 254 || credentials.password.len() > 1024 {
            None
        } else {
            store.find_user_by_email(&email).await?
        };
        let verified = password::verify(
            credentials.password.to_string(),
            user.as_ref().map(|u| u.password_hash.expose().to_string()),
        )
        .await;
        let known_account = user.is_some();
        let Some(user) = user.filter(|_| verified) else {
            let _ = self
                .limiter
                .take(env_id, Limited::SigninFailures, &ip, per_ip);
            let failures = store
                .count_signin_failure(&account, now, now - limits::FAILURE_MEMORY_SECONDS)
                .await?;
            let lock = limits::lockout_until(failures, limits.lockout_threshold, now);
            if let Some(until) = lock {
                store.lock_account(&account, until).await?;
            }
            let reason = if known_account {
                SigninFailure::WrongPassword
            } else {
                SigninFailure::UnknownAccount
            };
            audit
                .record(zone, origin, failed(reason, Some(failures), lock), now)
                .await?;
            let notice = Some("Wrong email or password.");
            let page = interaction(&client, &request, params, notice);
            return Ok((AuthorizeOutcome::ShowLogin(page), None));
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
        let event = AuditEvent::SigninSucceeded {}
            .actor(user.user_id.as_str())
            .client(client.client_id.as_str());
        audit.record(zone, origin, event, now).await?;
        let signed_in = AuthenticatedUser {
            user_id: &user.user_id,
            auth_time: now,
        };
        let outcome = self
            .flow
            .after_authentication(zone, &client, &request, params, signed_in, origin, now)
            .await?;
        Ok((outcome, Some(Secret::new(token))))
    }
}
