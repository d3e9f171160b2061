//! What happened, with typed details: one variant per event type. Details never hold a secret, a
//! token, a code or a password hash; account names that failed to sign in appear only as digests.

use serde::Serialize;
use serde_json::Value;

use super::event_type::EventType;
use crate::model::{AccountPolicy, EnvPolicy, RateLimits};

/// Why a sign-in was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SigninFailure {
    IpRateLimited,
    AccountLocked,
    TooManyParallelAttempts,
    WrongPassword,
    UnknownAccount,
    /// The right password, for an account an admin disabled.
    AccountDisabled,
}

/// Refusals of one kind for one subject that a window folded into one entry: how many, and when
/// the first and the last came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RepeatedRefusals {
    pub repeated: i64,
    pub first_at: i64,
    pub last_at: i64,
}

/// A failure that counted towards the account's lockout.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CountedFailure {
    pub consecutive_failures: i64,
    /// Until when the account name is now locked; `null` when it is not.
    pub locked_until: Option<i64>,
}

/// The token a `token.issued` event reports, by grant.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "grant_type", rename_all = "snake_case")]
pub enum IssuedToken {
    AuthorizationCode {
        grant: String,
        scope: String,
        refresh_token: bool,
    },
    ClientCredentials {
        jti: String,
    },
}

/// The token a `token.revoked` event reports.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "token_type", rename_all = "snake_case")]
pub enum RevokedToken {
    AccessToken { jti: String },
    RefreshToken { grant: String },
}

/// How a custom domain's ownership was established.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VerificationMethod {
    Dns,
    Manual,
}

impl VerificationMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            VerificationMethod::Dns => "dns",
            VerificationMethod::Manual => "manual",
        }
    }
}

/// One event with its typed details; serialised, the details object of the audit entry.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum AuditEvent {
    SigninSucceeded {},
    SigninFailed {
        reason: SigninFailure,
        /// HMAC-SHA256, under a key derived from the KEK, of the typed account name, which may be a
        /// password typed into the wrong field.
        account: String,
        /// For a password that was checked and was wrong (not for attempts refused before).
        #[serde(flatten)]
        counted: Option<CountedFailure>,
        /// For refusals folded into one entry per window.
        #[serde(flatten)]
        repeated: Option<RepeatedRefusals>,
    },
    /// The failure that reached the lockout threshold locked the account name.
    AccountLocked {
        account: String,
        consecutive_failures: i64,
        locked_until: i64,
    },
    ConsentGranted {
        scope: String,
    },
    /// An admin withdrew a user's consent to a client; the grants it backed were revoked.
    ConsentRevoked {
        sub: String,
        revoked_grants: u64,
    },
    ConsentDenied {
        scope: String,
    },
    CodeIssued {
        grant: String,
        scope: String,
    },
    CodeRedeemed {
        grant: String,
    },
    CodeReplayed {
        grant: String,
        grant_revoked: bool,
    },
    TokenIssued(IssuedToken),
    TokenRefreshed {
        grant: String,
        scope: String,
    },
    TokenRevoked(RevokedToken),
    RefreshReuseDetected {
        grant: String,
        grant_revoked: bool,
    },
    Logout {
        had_session: bool,
    },
    ClientCreated {
        name: String,
        public: bool,
        redirect_uris: Vec<String>,
        post_logout_redirect_uris: Vec<String>,
        token_endpoint_auth_method: &'static str,
        /// Registered by the client itself (RFC 7591) rather than by an admin.
        dynamically_registered: bool,
    },
    ClientUpdated {
        changed: Vec<&'static str>,
    },
    ClientSecretRotated {},
    ClientDeleted {},
    /// The client may now ask for these scopes of the API (all it holds of it after the change).
    ClientApiGranted {
        api: String,
        scopes: Vec<String>,
    },
    /// Scopes of the API taken back from the client; `remaining` empty: no grant of it is left.
    ClientApiRevoked {
        api: String,
        revoked: Vec<String>,
        remaining: Vec<String>,
    },
    ApiCreated {
        api_id: String,
        identifier: String,
        scopes: Vec<String>,
    },
    ApiUpdated {
        api_id: String,
        changed: Vec<&'static str>,
    },
    ApiDeleted {
        api_id: String,
        identifier: String,
    },
    /// An initial access token for dynamic client registration was minted.
    RegistrationTokenCreated {
        token_id: String,
        expires_at: Option<i64>,
        max_uses: Option<i64>,
    },
    RegistrationTokenRevoked {
        token_id: String,
    },
    UserCreated {
        sub: String,
    },
    UserUpdated {
        sub: String,
        changed: Vec<&'static str>,
    },
    UserPasswordChanged {
        sub: String,
        /// Grants revoked with the change (0 when the admin kept them).
        revoked_grants: u64,
    },
    UserDeleted {
        sub: String,
    },
    /// An admin disabled the account: its sessions ended and its grants were revoked.
    UserDisabled {
        sub: String,
        revoked_grants: u64,
    },
    UserEnabled {
        sub: String,
    },
    /// The user chose a new password through a reset link; their sessions and grants ended.
    UserPasswordReset {
        sub: String,
    },
    SignupCompleted {
        sub: String,
    },
    EmailVerificationSent {
        sub: String,
    },
    EmailVerified {
        sub: String,
    },
    PasswordResetRequested {
        sub: String,
    },
    PasswordResetCompleted {
        sub: String,
    },
    KeyStaged {
        kid: String,
        alg: &'static str,
        activates_at: i64,
        replaces: Vec<String>,
        replaced_keys_unpublish_at: i64,
    },
    /// A scheduled key transition (activated, retired or removed), from the state it left.
    KeyTransition {
        #[serde(skip)]
        to: KeyTransition,
        kid: String,
        alg: String,
        from: String,
    },
    EnvironmentLimitsChanged {
        limits: RateLimits,
    },
    /// A configuration was applied (a file or a promotion) as release `number`.
    ReleaseApplied {
        number: i64,
        source: String,
        /// One line per change: `+ client web`, `~ policy.session_ttl`, `- api https://…`.
        changes: Vec<String>,
    },
    /// The configuration of release `to` was restored as release `number`.
    ReleaseRolledBack {
        number: i64,
        to: i64,
        changes: Vec<String>,
    },
    EnvironmentPolicyChanged {
        policy: EnvPolicy,
        accounts: AccountPolicy,
    },
    EnvironmentPathIssuerChanged {
        enabled: bool,
    },
    AdminTokenCreated {
        token_id: String,
        name: String,
    },
    AdminTokenUsed {
        token_id: String,
    },
    AdminTokenRevoked {
        token_id: String,
    },
    DomainAdded {
        host: String,
        tls: bool,
    },
    DomainVerificationFailed {
        host: String,
        records_found: usize,
    },
    DomainVerified {
        host: String,
        method: VerificationMethod,
    },
    DomainActivated {
        host: String,
        method: VerificationMethod,
    },
    DomainRemoved {
        host: String,
    },
    /// Entries older than the retention period were deleted; the chain now starts after
    /// `through_seq`, whose hash was `through_hash`.
    AuditPruned {
        through_seq: i64,
        through_hash: String,
        entries: i64,
        before: i64,
    },
    WebhookCreated {
        endpoint_id: String,
        url: String,
        events: Vec<String>,
    },
    WebhookUpdated {
        endpoint_id: String,
        changed: Vec<&'static str>,
    },
    WebhookRemoved {
        endpoint_id: String,
    },
    WebhookSecretRotated {
        endpoint_id: String,
        /// Until when the previous secret still signs beside the new one.
        previous_signs_until: i64,
    },
    /// The receiver answered `410 Gone`.
    WebhookDisabled {
        endpoint_id: String,
        reason: String,
    },
    WebhookReplayed {
        delivery_id: String,
        replayed_as: String,
        event_id: String,
    },
    WebhookTest {
        endpoint_id: String,
    },
    /// Events older than the retention period were deleted, with their deliveries.
    EventsPruned {
        events: i64,
        before: i64,
    },
}

/// The state a key's schedule moved it into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyTransition {
    Activated,
    Retired,
    Removed,
}

impl AuditEvent {
    pub fn event_type(&self) -> EventType {
        use AuditEvent as E;
        match self {
            E::SigninSucceeded {} => EventType::SigninSucceeded,
            E::SigninFailed { .. } => EventType::SigninFailed,
            E::AccountLocked { .. } => EventType::AccountLocked,
            E::ConsentGranted { .. } => EventType::ConsentGranted,
            E::ConsentRevoked { .. } => EventType::ConsentRevoked,
            E::ConsentDenied { .. } => EventType::ConsentDenied,
            E::CodeIssued { .. } => EventType::CodeIssued,
            E::CodeRedeemed { .. } => EventType::CodeRedeemed,
            E::CodeReplayed { .. } => EventType::CodeReplayed,
            E::TokenIssued(_) => EventType::TokenIssued,
            E::TokenRefreshed { .. } => EventType::TokenRefreshed,
            E::TokenRevoked(_) => EventType::TokenRevoked,
            E::RefreshReuseDetected { .. } => EventType::RefreshReuseDetected,
            E::Logout { .. } => EventType::Logout,
            E::ClientCreated { .. } => EventType::ClientCreated,
            E::ClientUpdated { .. } => EventType::ClientUpdated,
            E::ClientSecretRotated {} => EventType::ClientSecretRotated,
            E::ClientDeleted {} => EventType::ClientDeleted,
            E::ClientApiGranted { .. } => EventType::ClientApiGranted,
            E::ClientApiRevoked { .. } => EventType::ClientApiRevoked,
            E::ApiCreated { .. } => EventType::ApiCreated,
            E::ApiUpdated { .. } => EventType::ApiUpdated,
            E::ApiDeleted { .. } => EventType::ApiDeleted,
            E::RegistrationTokenCreated { .. } => EventType::RegistrationTokenCreated,
            E::RegistrationTokenRevoked { .. } => EventType::RegistrationTokenRevoked,
            E::UserCreated { .. } => EventType::UserCreated,
            E::UserUpdated { .. } => EventType::UserUpdated,
            E::UserPasswordChanged { .. } => EventType::UserPasswordChanged,
            E::UserDeleted { .. } => EventType::UserDeleted,
            E::UserDisabled { .. } => EventType::UserDisabled,
            E::UserEnabled { .. } => EventType::UserEnabled,
            E::UserPasswordReset { .. } => EventType::UserPasswordReset,
            E::SignupCompleted { .. } => EventType::SignupCompleted,
            E::EmailVerificationSent { .. } => EventType::EmailVerificationSent,
            E::EmailVerified { .. } => EventType::EmailVerified,
            E::PasswordResetRequested { .. } => EventType::PasswordResetRequested,
            E::PasswordResetCompleted { .. } => EventType::PasswordResetCompleted,
            E::KeyStaged { .. } => EventType::KeyStaged,
            E::KeyTransition { to, .. } => match to {
                KeyTransition::Activated => EventType::KeyActivated,
                KeyTransition::Retired => EventType::KeyRetired,
                KeyTransition::Removed => EventType::KeyRemoved,
            },
            E::EnvironmentLimitsChanged { .. } => EventType::EnvironmentLimitsChanged,
            E::ReleaseApplied { .. } => EventType::ReleaseApplied,
            E::ReleaseRolledBack { .. } => EventType::ReleaseRolledBack,
            E::EnvironmentPolicyChanged { .. } => EventType::EnvironmentPolicyChanged,
            E::EnvironmentPathIssuerChanged { .. } => EventType::EnvironmentPathIssuerChanged,
            E::AdminTokenCreated { .. } => EventType::AdminTokenCreated,
            E::AdminTokenUsed { .. } => EventType::AdminTokenUsed,
            E::AdminTokenRevoked { .. } => EventType::AdminTokenRevoked,
            E::DomainAdded { .. } => EventType::DomainAdded,
            E::DomainVerificationFailed { .. } => EventType::DomainVerificationFailed,
            E::DomainVerified { .. } => EventType::DomainVerified,
            E::DomainActivated { .. } => EventType::DomainActivated,
            E::DomainRemoved { .. } => EventType::DomainRemoved,
            E::AuditPruned { .. } => EventType::AuditPruned,
            E::WebhookCreated { .. } => EventType::WebhookCreated,
            E::WebhookUpdated { .. } => EventType::WebhookUpdated,
            E::WebhookRemoved { .. } => EventType::WebhookRemoved,
            E::WebhookSecretRotated { .. } => EventType::WebhookSecretRotated,
            E::WebhookDisabled { .. } => EventType::WebhookDisabled,
            E::WebhookReplayed { .. } => EventType::WebhookReplayed,
            E::WebhookTest { .. } => EventType::WebhookTest,
            E::EventsPruned { .. } => EventType::EventsPruned,
        }
    }

    /// The details object, as stored.
    pub fn details(&self) -> Value {
        serde_json::to_value(self).unwrap_or_else(|_| Value::Object(Default::default()))
    }

    /// This event, caused by `actor` (a user, a client, an admin token id, `cli` or `airlock`).
    pub fn actor(self, actor: impl Into<String>) -> Recorded {
        Recorded::from(self).actor(actor)
    }

    /// This event, concerning `client_id`.
    pub fn client(self, client_id: impl Into<String>) -> Recorded {
        Recorded::from(self).client(client_id)
    }
}

/// An event with who caused it and which client it concerns, before it is stamped with time,
/// environment and request.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub event: AuditEvent,
    pub actor: Option<String>,
    pub client_id: Option<String>,
}

impl From<AuditEvent> for Recorded {
    fn from(event: AuditEvent) -> Self {
        Recorded {
            event,
            actor: None,
            client_id: None,
        }
    }
}

impl Recorded {
    pub fn actor(mut self, actor: impl Into<String>) -> Self {
        self.actor = Some(actor.into());
        self
    }

    pub fn client(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Outcome;

    #[test]
    fn details_are_typed_objects() {
        let failed = AuditEvent::SigninFailed {
            reason: SigninFailure::WrongPassword,
            account: "ab".into(),
            counted: Some(CountedFailure {
                consecutive_failures: 2,
                locked_until: None,
            }),
            repeated: None,
        };
        assert_eq!(failed.event_type().outcome(), Outcome::Failure);
        assert_eq!(
            failed.details(),
            serde_json::json!({"reason": "wrong_password", "account": "ab",
                "consecutive_failures": 2, "locked_until": null})
        );
        let refused = AuditEvent::SigninFailed {
            reason: SigninFailure::AccountLocked,
            account: "ab".into(),
            counted: None,
            repeated: None,
        };
        assert_eq!(
            refused.details(),
            serde_json::json!({"reason": "account_locked", "account": "ab"})
        );
        let folded = AuditEvent::SigninFailed {
            reason: SigninFailure::IpRateLimited,
            account: "ab".into(),
            counted: None,
            repeated: Some(RepeatedRefusals {
                repeated: 40,
                first_at: 10,
                last_at: 50,
            }),
        };
        assert_eq!(
            folded.details(),
            serde_json::json!({"reason": "ip_rate_limited", "account": "ab",
                "repeated": 40, "first_at": 10, "last_at": 50})
        );
        assert_eq!(
            AuditEvent::SigninSucceeded {}.details(),
            serde_json::json!({})
        );
        let issued = AuditEvent::TokenIssued(IssuedToken::ClientCredentials { jti: "j".into() });
        assert_eq!(
            issued.details(),
            serde_json::json!({"grant_type": "client_credentials", "jti": "j"})
        );
        let removed = AuditEvent::KeyTransition {
            to: KeyTransition::Removed,
            kid: "k".into(),
            alg: "ES256".into(),
            from: "retired".into(),
        };
        assert_eq!(removed.event_type(), EventType::KeyRemoved);
        assert_eq!(
            removed.details(),
            serde_json::json!({"kid": "k", "alg": "ES256", "from": "retired"})
        );
    }
}
