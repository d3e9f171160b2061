//! Self-service account flows of one zone: password reset, email verification and sign-up. Links
//! are single-use secrets stored as digests, each written with the message that carries it. What
//! these pages say never depends on whether an address has an account.

use std::sync::Arc;

use super::flow::{AuthenticatedUser, AuthorizeOutcome, Checked, Protocol};
use super::limits::{Budget, Limited, RateLimiter};
pub use super::mail::MailKind;
use super::mail::{self, Mailer};
use super::{Airlock, Call, Error, password_policy};
use crate::audit::AuditEvent;
use crate::crypto::{password, secrets};
use crate::model::audit::Origin;
use crate::model::{LinkPurpose, Secret, Session, User, UserId, Zone, is_clean_text};
use crate::oidc::endpoints::Endpoint;
use crate::oidc::params::ParamBag;
use crate::store::NewLink;

/// Mails (reset links, verification links) one address may ask for per minute, per node.
const MAILS_PER_MINUTE: i64 = 5;
/// Accounts one address may create per minute, per node.
const SIGNUPS_PER_MINUTE: i64 = 10;

/// A page of the account flows.
#[derive(Debug, Clone)]
pub enum AccountPage {
    /// A message, and optionally a form that sends the verification link again.
    Notice {
        title: &'static str,
        message: &'static str,
        resend: Option<Vec<(String, String)>>,
    },
    /// The form for a new password, for the link `token`.
    ResetForm {
        token: String,
        notice: Option<String>,
    },
    /// The button that confirms the address of the link `token`.
    VerifyForm { token: String },
    /// A link that is unknown here, used or expired (all alike: 404).
    LinkInvalid,
    /// This zone does not offer the flow (404).
    Unavailable,
    /// Too many requests from this address; try after this many seconds.
    Throttled(u64),
}

/// What the sign-up form leads to.
#[derive(Debug)]
pub enum SignupOutcome {
    Form {
        outcome: AuthorizeOutcome,
        notice: Option<String>,
    },
    Page(AccountPage),
    /// Signed up and in: the authorization goes on, with the new session.
    SignedIn(AuthorizeOutcome, Secret),
}

const RESET_SENT: AccountPage = AccountPage::Notice {
    title: "Check your inbox",
    message: "If an account exists for that address, we sent it a link to choose a new password. The link works once, for one hour.",
    resend: None,
};

pub struct Accounts<'a> {
    pub(super) core: Protocol<'a>,
    pub(super) mailer: &'a Mailer,
    pub(super) limiter: &'a RateLimiter,
}

/// A fresh single-use link secret and the URL at `endpoint` that carries it.
fn new_link(zone: &Zone, endpoint: Endpoint) -> (String, String) {
    let token = secrets::random_token();
    let url = format!("{}?token={token}", zone.issuer.endpoint(endpoint.path()));
    (token, url)
}

impl Accounts<'_> {
    fn budget<'b>(&self, call: &'b Call<'_>, what: Limited, ip: &'b str) -> Budget<'b> {
        let per_minute = match what {
            Limited::Signups => SIGNUPS_PER_MINUTE,
            _ => MAILS_PER_MINUTE,
        };
        Budget {
            env_id: call.zone.id.as_str(),
            what,
            subject: ip,
            per_minute,
        }
    }

    /// Whether this zone can send its account mail.
    pub fn can_mail(&self, zone: &Zone) -> bool {
        self.mailer.can_mail(zone)
    }

    /// Takes one of the address's mail budget: `Err` with the seconds to wait.
    pub fn take_mail_budget(&self, call: &Call<'_>) -> Result<(), u64> {
        let ip = call.origin.ip.clone().unwrap_or_default();
        self.limiter
            .take(self.budget(call, Limited::AccountMails, &ip))
    }

    /// Takes one of the recipient's budget of mail (however many addresses ask): false when it
    /// is spent, and the message is not written.
    fn recipient_budget(&self, call: &Call<'_>, email: &str) -> bool {
        let subject = format!("to:{email}");
        self.limiter
            .take(self.budget(call, Limited::AccountMails, &subject))
            .is_ok()
    }

    /// Writes a reset link for `email` with the message that carries it, if there is such an
    /// account (and nothing otherwise).
    pub async fn send_reset(&self, call: &Call<'_>, email: &str) -> Result<(), Error> {
        let email = email.trim().to_ascii_lowercase();
        if !self.recipient_budget(call, &email) {
            return Ok(());
        }
        let store = self.core.store(call.zone);
        let Some(user) = store.find_user_by_email(&email).await? else {
            return Ok(());
        };
        self.send_link(call, &user, MailKind::PasswordReset).await?;
        let event = AuditEvent::PasswordResetRequested {
            sub: user.user_id.to_string(),
        }
        .actor(user.user_id.as_str());
        self.core.audit.record_call(call, event).await
    }

    async fn send_link(&self, call: &Call<'_>, user: &User, kind: MailKind) -> Result<(), Error> {
        let (purpose, endpoint, lifetime) = match kind {
            MailKind::PasswordReset => (
                LinkPurpose::PasswordReset,
                Endpoint::PasswordReset,
                mail::RESET_LINK_SECONDS,
            ),
            MailKind::EmailVerification => (
                LinkPurpose::EmailVerification,
                Endpoint::VerifyEmail,
                mail::VERIFICATION_LINK_SECONDS,
            ),
        };
        let (token, url) = new_link(call.zone, endpoint);
        let message = self
            .mailer
            .compose(call.zone, (kind, &user.email, &url), call.now)?;
        let digest = secrets::digest(&token);
        let link = NewLink {
            digest: &digest,
            purpose,
            user_id: &user.user_id,
            email: &user.email,
            created_at: call.now,
            expires_at: call.now + lifetime,
        };
        self.core
            .store(call.zone)
            .insert_link_with_mail(&link, &message)
            .await?;
        Ok(())
    }

    /// The confirmation button of a live verification link (a link opened by a mail scanner's
    /// prefetch is not used up), or why there is none.
    pub async fn verification_form(
        &self,
        call: &Call<'_>,
        token: &str,
    ) -> Result<AccountPage, Error> {
        let digest = secrets::digest(token);
        let store = self.core.store(call.zone);
        let live = store
            .live_link(&digest, LinkPurpose::EmailVerification, call.now)
            .await?;
        Ok(match live {
            Some(_) => AccountPage::VerifyForm {
                token: token.to_string(),
            },
            None => AccountPage::LinkInvalid,
        })
    }

    /// The new-password form for a live reset link, or why there is none.
    pub async fn reset_form(&self, call: &Call<'_>, token: &str) -> Result<AccountPage, Error> {
        let digest = secrets::digest(token);
        let store = self.core.store(call.zone);
        Ok(
            match store
                .live_link(&digest, LinkPurpose::PasswordReset, call.now)
                .await?
            {
                Some(_) => AccountPage::ResetForm {
                    token: token.to_string(),
                    notice: None,
                },
                None => AccountPage::LinkInvalid,
            },
        )
    }

    /// Sets the password a reset link was sent for; the user's sessions end and their grants are
    /// revoked, in the same transaction that uses the link up.
    pub async fn reset(
        &self,
        call: &Call<'_>,
        token: &str,
        new_password: Secret,
    ) -> Result<AccountPage, Error> {
        let digest = secrets::digest(token);
        let store = self.core.store(call.zone);
        let Some(user_id) = store
            .live_link(&digest, LinkPurpose::PasswordReset, call.now)
            .await?
        else {
            return Ok(AccountPage::LinkInvalid);
        };
        let min_length = call.zone.accounts.password_min_length;
        if let Err(Error::Invalid(why)) = password_policy::check(&new_password, min_length) {
            return Ok(AccountPage::ResetForm {
                token: token.to_string(),
                notice: Some(why),
            });
        }
        let hash = password::hash(new_password.expose().to_string()).await;
        let reset = AuditEvent::UserPasswordReset {
            sub: user_id.to_string(),
        }
        .actor(user_id.as_str());
        let events = self.core.audit.outbox_of_call(call, &reset).await?;
        let done = store
            .emitting(&events)
            .reset_password_by_link(&digest, &hash, call.now)
            .await?;
        let Some(user_id) = done else {
            return Ok(AccountPage::LinkInvalid);
        };
        let completed = AuditEvent::PasswordResetCompleted {
            sub: user_id.to_string(),
        }
        .actor(user_id.as_str());
        self.core.audit.record_call(call, completed).await?;
        self.core.audit.record_call(call, reset).await?;
        Ok(AccountPage::Notice {
            title: "Password changed",
            message: "Your password was changed and you were signed out everywhere. Sign in again from the application.",
            resend: None,
        })
    }

    /// Verifies the address a verification link was sent to.
    pub async fn verify(&self, call: &Call<'_>, token: &str) -> Result<AccountPage, Error> {
        let digest = secrets::digest(token);
        let store = self.core.store(call.zone);
        let Some(user_id) = store
            .live_link(&digest, LinkPurpose::EmailVerification, call.now)
            .await?
        else {
            return Ok(AccountPage::LinkInvalid);
        };
        let verified = AuditEvent::EmailVerified {
            sub: user_id.to_string(),
        }
        .actor(user_id.as_str());
        let events = self.core.audit.outbox_of_call(call, &verified).await?;
        if store
            .emitting(&events)
            .verify_email_by_link(&digest, call.now)
            .await?
            .is_none()
        {
            return Ok(AccountPage::LinkInvalid);
        }
        self.core.audit.record_call(call, verified).await?;
        Ok(AccountPage::Notice {
            title: "Address confirmed",
            message: "Your email address is confirmed. Sign in again from the application.",
            resend: None,
        })
    }

    /// Sends the verification link again to `email`, if that account exists and is unverified.
    pub async fn resend_verification(&self, call: &Call<'_>, email: &str) -> Result<(), Error> {
        let email = email.trim().to_ascii_lowercase();
        if !self.recipient_budget(call, &email) {
            return Ok(());
        }
        let store = self.core.store(call.zone);
        if let Some(user) = store.find_user_by_email(&email).await?
            && !user.email_verified
        {
            self.send_verification(call, &user).await?;
        }
        Ok(())
    }

    async fn send_verification(&self, call: &Call<'_>, user: &User) -> Result<(), Error> {
        self.send_link(call, user, MailKind::EmailVerification)
            .await?;
        let event = AuditEvent::EmailVerificationSent {
            sub: user.user_id.to_string(),
        }
        .actor(user.user_id.as_str());
        self.core.audit.record_call(call, event).await
    }

    /// The sign-up form of an authorization request (sign-up must be on).
    pub async fn signup_form(
        &self,
        call: &Call<'_>,
        params: ParamBag,
    ) -> Result<SignupOutcome, Error> {
        if !call.zone.accounts.signup || !self.can_mail(call.zone) {
            return Ok(SignupOutcome::Page(AccountPage::Unavailable));
        }
        let outcome = match self.core.check_request(call.zone, params).await? {
            Ok(checked) => AuthorizeOutcome::ShowLogin(checked.interaction(None)),
            Err(outcome) => outcome,
        };
        Ok(SignupOutcome::Form {
            outcome,
            notice: None,
        })
    }

    /// Creates an account, sends its verification link, and signs the person in (or, where the
    /// zone wants verified addresses, asks them to check their inbox).
    pub async fn signup(
        &self,
        call: &Call<'_>,
        params: ParamBag,
        (email, name, new_password): (String, Option<String>, Secret),
    ) -> Result<SignupOutcome, Error> {
        if !call.zone.accounts.signup || !self.can_mail(call.zone) {
            return Ok(SignupOutcome::Page(AccountPage::Unavailable));
        }
        let checked = match self.core.check_request(call.zone, params).await? {
            Ok(checked) => checked,
            Err(outcome) => {
                return Ok(SignupOutcome::Form {
                    outcome,
                    notice: None,
                });
            }
        };
        let ip = call.origin.ip.clone().unwrap_or_default();
        if let Err(retry_after) = self.limiter.take(self.budget(call, Limited::Signups, &ip)) {
            return Ok(SignupOutcome::Page(AccountPage::Throttled(retry_after)));
        }
        let refuse = |checked: &Checked, why: String| SignupOutcome::Form {
            outcome: AuthorizeOutcome::ShowLogin(checked.interaction(None)),
            notice: Some(why),
        };
        let email = email.trim().to_ascii_lowercase();
        let valid_email =
            email.len() <= 254 && is_clean_text(&email) && email.parse::<lettre::Address>().is_ok();
        if !valid_email {
            return Ok(refuse(&checked, "Enter a valid email address.".into()));
        }
        let name = name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
        if name
            .as_ref()
            .is_some_and(|n| n.len() > 200 || !is_clean_text(n))
        {
            return Ok(refuse(
                &checked,
                "A name has at most 200 characters.".into(),
            ));
        }
        let min_length = call.zone.accounts.password_min_length;
        if let Err(Error::Invalid(why)) = password_policy::check(&new_password, min_length) {
            return Ok(refuse(&checked, why));
        }
        let plan = super::plan_limits::PlanLimits { db: self.core.db };
        if let Err(Error::Forbidden(why)) = plan.check_new_user(call.zone).await {
            return Ok(refuse(&checked, why));
        }
        let user = User {
            env_id: call.zone.id.clone(),
            user_id: UserId::new(format!("usr_{}", secrets::random_id())),
            email,
            email_verified: false,
            name,
            password_hash: Secret::new(password::hash(new_password.expose().to_string()).await),
            created_at: call.now,
            updated_at: call.now,
            fixture: false,
            disabled_at: None,
            signed_up: true,
        };
        let client_id = checked.client.client_id.as_str();
        let created = AuditEvent::UserCreated {
            sub: user.user_id.to_string(),
        }
        .actor(user.user_id.as_str())
        .client(client_id);
        let completed = AuditEvent::SignupCompleted {
            sub: user.user_id.to_string(),
        }
        .actor(user.user_id.as_str())
        .client(client_id);
        let mut events = self.core.audit.outbox_of_call(call, &created).await?;
        events.extend(self.core.audit.outbox_of_call(call, &completed).await?);
        let store = self.core.store(call.zone);
        match store.emitting(&events).insert_user(&user).await {
            Ok(()) => {}
            // Taken. Where addresses must be verified, the page is the one a new account gets
            // (the owner of the address is not told anything new); otherwise the person would be
            // signed in, so the refusal cannot look like success.
            Err(crate::store::StoreError::Conflict)
                if call.zone.accounts.require_verified_email =>
            {
                return Ok(SignupOutcome::Page(check_inbox(None)));
            }
            Err(crate::store::StoreError::Conflict) => {
                return Ok(refuse(
                    &checked,
                    "This account could not be created. If the address is yours, sign in or reset your password.".into(),
                ));
            }
            Err(other) => return Err(other.into()),
        }
        self.core.audit.record_call(call, created).await?;
        self.core.audit.record_call(call, completed).await?;
        self.send_verification(call, &user).await?;
        if call.zone.accounts.require_verified_email {
            return Ok(SignupOutcome::Page(check_inbox(Some(resend_fields(
                &checked,
                &user.email,
            )))));
        }
        let token = secrets::random_token();
        let session = Session {
            user_id: user.user_id.clone(),
            auth_time: call.now,
            expires_at: call.now + call.zone.policy.session_ttl,
        };
        store
            .insert_session(&secrets::digest(&token), &session)
            .await?;
        let signed_in = AuthenticatedUser {
            user_id: &user.user_id,
            auth_time: call.now,
        };
        let outcome = self
            .core
            .after_authentication(call, &checked, signed_in)
            .await?;
        Ok(SignupOutcome::SignedIn(outcome, Secret::new(token)))
    }
}

/// The form fields that send the verification link again (the address, and the request to go
/// back to).
pub(super) fn resend_fields(checked: &Checked, email: &str) -> Vec<(String, String)> {
    let mut fields = checked.interaction(None).request_fields;
    fields.push(("airlock_email".into(), email.to_string()));
    fields
}

/// "Check your inbox", with a button that sends the link again when `resend` is given.
pub(super) fn check_inbox(resend: Option<Vec<(String, String)>>) -> AccountPage {
    AccountPage::Notice {
        title: "Check your inbox",
        message: "Confirm your email address with the link we sent you, then sign in again.",
        resend,
    }
}

impl Airlock {
    /// Asks for account mail (`kind`) for `email` in `zone`. The address's budget is charged now;
    /// the lookup and the mail happen after the answer, so the page, and the time it takes, are
    /// the same for addresses with and without an account (or a verified one).
    pub fn request_account_mail(
        self: &Arc<Self>,
        kind: MailKind,
        (zone, origin): (Zone, Origin),
        email: String,
        now: i64,
    ) -> AccountPage {
        let accounts = self.accounts();
        if !accounts.can_mail(&zone) {
            return AccountPage::Unavailable;
        }
        let call = Call {
            zone: &zone,
            origin: &origin,
            now,
        };
        if let Err(retry_after) = accounts.take_mail_budget(&call) {
            return AccountPage::Throttled(retry_after);
        }
        let airlock = self.clone();
        tokio::spawn(async move {
            let call = Call {
                zone: &zone,
                origin: &origin,
                now,
            };
            let accounts = airlock.accounts();
            let written = match kind {
                MailKind::PasswordReset => accounts.send_reset(&call, &email).await,
                MailKind::EmailVerification => accounts.resend_verification(&call, &email).await,
            };
            if let Err(error) = written {
                tracing::warn!(%error, ?kind, "account mail not written");
            }
        });
        match kind {
            MailKind::PasswordReset => RESET_SENT,
            MailKind::EmailVerification => check_inbox(None),
        }
    }
}
