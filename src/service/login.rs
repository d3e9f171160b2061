//! The sign-in form's POST. Failed attempts are limited per client IP (this node's buckets) and per
//! account name (a lockout shared by all nodes, applied alike to names that exist and names that do
//! not, so a lockout tells nothing about existence).

use super::flow::{AuthenticatedUser, AuthorizeOutcome, Checked, Protocol};
use super::limits::{self, Budget, Limited, RateLimiter, SigninGate};
use super::refusals::{RefusalContext, RefusalTally};
use super::{Call, Error};
use crate::audit::{AuditEvent, CountedFailure, Recorded, SigninFailure};
use crate::crypto::keyed::DerivedKey;
use crate::crypto::{password, secrets};
use crate::model::{Secret, Session, User};
use crate::oidc::params::ParamBag;
use crate::store::EnvStore;
use crate::telemetry;

pub struct Login<'a> {
    pub(super) usage: &'a super::usage::UsageMeter,
    pub(super) core: Protocol<'a>,
    pub(super) limiter: &'a RateLimiter,
    pub(super) gate: &'a SigninGate,
    pub(super) account_names: &'a DerivedKey,
    pub(super) refusals: &'a RefusalTally,
}

/// A sign-in attempt as typed.
pub struct Credentials {
    pub email: String,
    pub password: Secret,
}

/// One attempt under way: the checked request and the account name it tries, by keyed digest (the
/// typed name may be a mistyped password, so the log never holds it, nor a digest anyone could
/// check a guess against without the KEK).
struct Attempt<'c> {
    call: &'c Call<'c>,
    checked: Checked,
    account: String,
    ip: String,
}

impl Attempt<'_> {
    /// This attempt's address's budget of failed sign-ins.
    fn ip_budget(&self) -> Budget<'_> {
        Budget {
            env_id: self.call.zone.id.as_str(),
            what: Limited::SigninFailures,
            subject: &self.ip,
            per_minute: self.call.zone.limits.signin_failures_per_minute,
        }
    }

    fn failed(&self, reason: SigninFailure, counted: Option<CountedFailure>) -> Recorded {
        let event = AuditEvent::SigninFailed {
            reason,
            account: self.account.clone(),
            counted,
            repeated: None,
        };
        event.client(self.checked.client.client_id.as_str())
    }

    fn page(&self, notice: &'static str) -> AuthorizeOutcome {
        AuthorizeOutcome::ShowLogin(self.checked.interaction(Some(notice)))
    }

    fn throttled(&self, retry_after: u64) -> AuthorizeOutcome {
        let notice = "Too many sign-in attempts. Please wait and try again.";
        AuthorizeOutcome::Throttled {
            interaction: self.checked.interaction(Some(notice)),
            retry_after,
        }
    }
}

/// How often, and how long each time, an attempt waits for the attempts in flight on its name.
const CROWDED_WAITS: u32 = 30;
const CROWDED_WAIT: std::time::Duration = std::time::Duration::from_millis(100);

/// A reserved attempt: its place in the name's count, and the lock it set first (when it is the one
/// attempt allowed after a lock ended).
struct Reservation {
    failures: i64,
    locked_until: Option<i64>,
}

impl Login<'_> {
    /// On success also returns the new session token, for the cookie.
    pub async fn login(
        &self,
        call: &Call<'_>,
        params: ParamBag,
        credentials: Credentials,
    ) -> Result<(AuthorizeOutcome, Option<Secret>), Error> {
        let checked = match self.core.check_request(call.zone, params).await? {
            Ok(checked) => checked,
            Err(outcome) => return Ok((outcome, None)),
        };
        let email = credentials.email.trim().to_ascii_lowercase();
        let attempt = Attempt {
            call,
            checked,
            account: self.account_names.hex_mac(&email),
            ip: call.origin.ip.clone().unwrap_or_default(),
        };
        // The address's budget is spent before the password is checked (and given back on
        // success), so parallel guesses from one address cannot all pass before the first is charged.
        if let Err(retry_after) = self.limiter.take(attempt.ip_budget()) {
            return self
                .refuse(&attempt, SigninFailure::IpRateLimited, retry_after)
                .await;
        }
        // Bound how many attempts this node checks at once (argon2 is the costly part).
        let ip_subject = format!("ip:{}", attempt.ip);
        let subjects = [ip_subject.as_str(), attempt.account.as_str()];
        let Some(_pass) = self.gate.enter(call.zone.id.as_str(), &subjects) else {
            self.limiter.refund(attempt.ip_budget());
            return self
                .refuse(&attempt, SigninFailure::TooManyParallelAttempts, 1)
                .await;
        };
        let store = self.core.store(call.zone);
        let reservation = match self.reserve(&attempt, &store).await? {
            Ok(reservation) => reservation,
            Err(retry_after) => {
                return self
                    .refuse(&attempt, SigninFailure::AccountLocked, retry_after)
                    .await;
            }
        };
        let password = credentials.password.expose();
        let user = if email.len() > 254 || password.len() > 1024 {
            None
        } else {
            store.find_user_by_email(&email).await?
        };
        let stored = user.as_ref().map(|u| u.password_hash.expose().to_string());
        let verified = password::verify(password.to_string(), stored).await;
        let known_account = user.is_some();
        match user.filter(|_| verified) {
            Some(user) => {
                self.limiter.refund(attempt.ip_budget());
                self.signed_in(&attempt, &store, user).await
            }
            None => {
                let checked = (&store, reservation);
                let outcome = self.wrong(&attempt, checked, known_account).await?;
                Ok((outcome, None))
            }
        }
    }

    /// Reserves this attempt in the database before its password is checked, so the lockout bounds
    /// how many passwords are checked per account name and lock period, however many nodes and
    /// parallel requests there are: at most `lockout_threshold` (more attempts in flight wait, here,
    /// for those to finish), then one each time a lock ends. `Err` (seconds to wait) when the name
    /// is locked, or stays crowded.
    async fn reserve(
        &self,
        attempt: &Attempt<'_>,
        store: &EnvStore<'_>,
    ) -> Result<Result<Reservation, u64>, Error> {
        let (now, limits) = (attempt.call.now, attempt.call.zone.limits);
        let threshold = limits.lockout_threshold;
        let stale_before = now - limits::FAILURE_MEMORY_SECONDS;
        let account = attempt.account.as_str();
        for round in 0..=CROWDED_WAITS {
            let reserved = store
                .reserve_signin_attempt(account, now, stale_before)
                .await?;
            if reserved.locked_until > now {
                return Ok(Err((reserved.locked_until - now) as u64));
            }
            if threshold <= 0 || reserved.failures <= threshold {
                return Ok(Ok(Reservation {
                    failures: reserved.failures,
                    locked_until: None,
                }));
            }
            if reserved.locked_until > 0 {
                // A lock has ended: one attempt may be checked, under a new lock it sets first.
                let until = limits::lockout_until(reserved.failures, threshold, now);
                let until = until.unwrap_or(now + 1);
                if !store.claim_lock(account, until, now).await? {
                    return Ok(Err(1));
                }
                return Ok(Ok(Reservation {
                    failures: reserved.failures,
                    locked_until: Some(until),
                }));
            }
            // More attempts in flight than the threshold allows: give the place back and wait for
            // them to end (a success clears the count, a last failure sets the lock).
            store.release_signin_attempt(account).await?;
            if round < CROWDED_WAITS {
                tokio::time::sleep(CROWDED_WAIT).await;
            }
        }
        Ok(Err(1))
    }

    /// A refusal before any password is checked: the login page with a wait, and an audit entry,
    /// or a count folded into the window's entry (see `refusals`).
    async fn refuse(
        &self,
        attempt: &Attempt<'_>,
        reason: SigninFailure,
        retry_after: u64,
    ) -> Result<(AuthorizeOutcome, Option<Secret>), Error> {
        let call = attempt.call;
        // An address over its budget is refused whichever name it tries.
        let subject = match reason {
            SigninFailure::IpRateLimited => format!("ip:{}", attempt.ip),
            _ => attempt.account.clone(),
        };
        let context = RefusalContext {
            account: attempt.account.clone(),
            client_id: attempt.checked.client.client_id.to_string(),
            ip: call.origin.ip.clone(),
        };
        let outcome = match reason {
            SigninFailure::IpRateLimited => "rate_limited",
            SigninFailure::AccountLocked => "locked",
            _ => "refused",
        };
        telemetry::count("airlock_signins_total", call.zone, &[("outcome", outcome)]);
        let key = (call.zone.id.clone(), reason, subject);
        if self.refusals.note(key, context, call.now) {
            let event = attempt.failed(reason, None);
            let events = self.core.audit.outbox_of_call(call, &event).await?;
            let store = self.core.store(call.zone);
            store.emitting(&events).write_events().await?;
            self.core.audit.record_call(call, event).await?;
        }
        Ok((attempt.throttled(retry_after), None))
    }

    /// A wrong password or an unknown name: already counted by its reservation; locks the name
    /// when it reaches the threshold; audited alike.
    async fn wrong(
        &self,
        attempt: &Attempt<'_>,
        (store, reservation): (&EnvStore<'_>, Reservation),
        known_account: bool,
    ) -> Result<AuthorizeOutcome, Error> {
        let (call, threshold) = (attempt.call, attempt.call.zone.limits.lockout_threshold);
        let now = call.now;
        // The lock this failure sets, unless the reservation set it already.
        let new_lock = match reservation.locked_until {
            Some(_) => None,
            None => limits::lockout_until(reservation.failures, threshold, now),
        };
        let locked_until = reservation.locked_until.or(new_lock);
        let counted = CountedFailure {
            consecutive_failures: reservation.failures,
            locked_until,
        };
        let reason = if known_account {
            SigninFailure::WrongPassword
        } else {
            SigninFailure::UnknownAccount
        };
        let outcome = if locked_until.is_some() {
            "locked"
        } else {
            "failed"
        };
        telemetry::count("airlock_signins_total", call.zone, &[("outcome", outcome)]);
        let failed = attempt.failed(reason, Some(counted));
        let mut events = self.core.audit.outbox_of_call(call, &failed).await?;
        let failed_only = events.len();
        let mut locked = None;
        if let Some(until) = locked_until {
            let event = AuditEvent::AccountLocked {
                account: attempt.account.clone(),
                consecutive_failures: reservation.failures,
                locked_until: until,
            };
            let event = event.client(attempt.checked.client.client_id.as_str());
            events.extend(self.core.audit.outbox_of_call(call, &event).await?);
            locked = Some(event);
        }
        let claimed = match new_lock {
            Some(until) => {
                let store = store.emitting(&events);
                store.claim_lock(&attempt.account, until, now).await?
            }
            None => false,
        };
        if !claimed {
            // No lock of this failure's: the failure is written alone, or with the lock the
            // reservation set; a lock another attempt set first is that attempt's event.
            if new_lock.is_some() {
                events.truncate(failed_only);
                locked = None;
            }
            store.emitting(&events).write_events().await?;
        }
        self.core.audit.record_call(call, failed).await?;
        if let Some(locked) = locked {
            self.core.audit.record_call(call, locked).await?;
        }
        Ok(attempt.page("Wrong email or password."))
    }

    async fn signed_in(
        &self,
        attempt: &Attempt<'_>,
        store: &EnvStore<'_>,
        user: User,
    ) -> Result<(AuthorizeOutcome, Option<Secret>), Error> {
        let call = attempt.call;
        store.clear_signin_failures(&attempt.account).await?;
        if user.disabled_at.is_some() {
            let refused = attempt.failed(SigninFailure::AccountDisabled, None);
            self.core.audit.record_call(call, refused).await?;
            return Ok((attempt.page("This account is disabled."), None));
        }
        if call.zone.accounts.require_verified_email && !user.email_verified {
            let resend = super::accounts::resend_fields(&attempt.checked, &user.email);
            return Ok((AuthorizeOutcome::CheckInbox(resend), None));
        }
        let plan = super::plan_limits::PlanLimits { db: self.core.db };
        if !plan
            .allows_sign_in(call.zone, &user.user_id, call.now)
            .await?
        {
            tracing::info!(project = %call.zone.project, "sign-in refused: monthly active user allowance used up");
            return Ok((
                attempt.page("This service has reached its limit of monthly active users."),
                None,
            ));
        }
        let token = secrets::random_token();
        let session = Session {
            user_id: user.user_id.clone(),
            auth_time: call.now,
            expires_at: call.now + call.zone.policy.session_ttl,
        };
        let client_id = attempt.checked.client.client_id.as_str();
        let event = AuditEvent::SigninSucceeded {}
            .actor(user.user_id.as_str())
            .client(client_id);
        let events = self.core.audit.outbox_of_call(call, &event).await?;
        store
            .emitting(&events)
            .insert_session(&secrets::digest(&token), &session)
            .await?;
        telemetry::count(
            "airlock_signins_total",
            call.zone,
            &[("outcome", "succeeded")],
        );
        self.usage.count(&call.zone.id, call.now, "signins");
        self.usage
            .active(&call.zone.id, call.now, user.user_id.as_str());
        self.core.audit.record_call(call, event).await?;
        let signed_in = AuthenticatedUser {
            user_id: &user.user_id,
            auth_time: call.now,
        };
        let outcome = self
            .core
            .after_authentication(call, &attempt.checked, signed_in)
            .await?;
        Ok((outcome, Some(Secret::new(token))))
    }
}
