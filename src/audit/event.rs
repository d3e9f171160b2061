//! The closed vocabulary of what happens in an environment: every event type, its outcome, and its
//! typed details. Details never hold a secret, a token, a code or a password hash; account names that
//! failed to sign in appear only as digests.

use serde::Serialize;
use serde_json::Value;

use crate::model::RateLimits;

/// Whether an event records something that worked or something that was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

/// Declares `EventType` with its wire name and outcome, in one table.
macro_rules! event_types {
    ($($variant:ident => $name:literal, $outcome:ident;)+) => {
        /// Every kind of audit event, by its wire name (`signin.failed`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventType {
            $($variant,)+
        }

        impl EventType {
            pub const ALL: &'static [EventType] = &[$(EventType::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(EventType::$variant => $name,)+
                }
            }

            pub fn outcome(self) -> Outcome {
                match self {
                    $(EventType::$variant => Outcome::$outcome,)+
                }
            }
        }
    };
}

event_types! {
    SigninSucceeded => "signin.succeeded", Success;
    SigninFailed => "signin.failed", Failure;
    ConsentGranted => "consent.granted", Success;
    ConsentDenied => "consent.denied", Failure;
    CodeIssued => "code.issued", Success;
    CodeRedeemed => "code.redeemed", Success;
    CodeReplayed => "code.replayed", Failure;
    TokenIssued => "token.issued", Success;
    TokenRefreshed => "token.refreshed", Success;
    TokenRevoked => "token.revoked", Success;
    RefreshReuseDetected => "refresh.reuse_detected", Failure;
    Logout => "logout", Success;
    ClientCreated => "client.created", Success;
    ClientUpdated => "client.updated", Success;
    ClientSecretRotated => "client.secret_rotated", Success;
    ClientDeleted => "client.deleted", Success;
    UserCreated => "user.created", Success;
    UserUpdated => "user.updated", Success;
    UserPasswordChanged => "user.password_changed", Success;
    UserDeleted => "user.deleted", Success;
    KeyStaged => "key.staged", Success;
    KeyActivated => "key.activated", Success;
    KeyRetired => "key.retired", Success;
    KeyRemoved => "key.removed", Success;
    EnvironmentLimitsChanged => "environment.limits_changed", Success;
    EnvironmentPathIssuerChanged => "environment.path_issuer_changed", Success;
    AdminTokenCreated => "admin_token.created", Success;
    AdminTokenUsed => "admin_token.used", Success;
    DomainAdded => "domain.added", Success;
    DomainVerificationFailed => "domain.verification_failed", Failure;
    DomainVerified => "domain.verified", Success;
    DomainActivated => "domain.activated", Success;
    DomainRemoved => "domain.removed", Success;
}

impl EventType {
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|kind| kind.as_str() == name)
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a sign-in was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SigninFailure {
    IpRateLimited,
    AccountLocked,
    TooManyParallelAttempts,
    WrongPassword,
    UnknownAccount,
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
        /// SHA-256 of the typed account name, which may be a password typed into the wrong field.
        account: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        consecutive_failures: Option<i64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        locked_until: Option<i64>,
    },
    ConsentGranted {
        scope: String,
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
    },
    ClientUpdated {
        changed: Vec<&'static str>,
    },
    ClientSecretRotated {},
    ClientDeleted {},
    UserCreated {
        sub: String,
    },
    UserUpdated {
        sub: String,
        changed: Vec<&'static str>,
    },
    UserPasswordChanged {
        sub: String,
    },
    UserDeleted {
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
            E::ConsentGranted { .. } => EventType::ConsentGranted,
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
            E::UserCreated { .. } => EventType::UserCreated,
            E::UserUpdated { .. } => EventType::UserUpdated,
            E::UserPasswordChanged { .. } => EventType::UserPasswordChanged,
            E::UserDeleted { .. } => EventType::UserDeleted,
            E::KeyStaged { .. } => EventType::KeyStaged,
            E::KeyTransition { to, .. } => match to {
                KeyTransition::Activated => EventType::KeyActivated,
                KeyTransition::Retired => EventType::KeyRetired,
                KeyTransition::Removed => EventType::KeyRemoved,
            },
            E::EnvironmentLimitsChanged { .. } => EventType::EnvironmentLimitsChanged,
            E::EnvironmentPathIssuerChanged { .. } => EventType::EnvironmentPathIssuerChanged,
            E::AdminTokenCreated { .. } => EventType::AdminTokenCreated,
            E::AdminTokenUsed { .. } => EventType::AdminTokenUsed,
            E::DomainAdded { .. } => EventType::DomainAdded,
            E::DomainVerificationFailed { .. } => EventType::DomainVerificationFailed,
            E::DomainVerified { .. } => EventType::DomainVerified,
            E::DomainActivated { .. } => EventType::DomainActivated,
            E::DomainRemoved { .. } => EventType::DomainRemoved,
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
    use std::collections::BTreeSet;

    use super::*;

    /// The README's event table (rows of the form `| \`name\` | … |` under "### Event types").
    fn readme_event_types() -> BTreeSet<String> {
        let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
        let section = readme
            .split("### Event types")
            .nth(1)
            .expect("the README has an \"### Event types\" section");
        section
            .lines()
            .skip_while(|line| !line.starts_with('|'))
            .take_while(|line| line.starts_with('|'))
            .filter_map(|line| {
                let first = line.split('|').nth(1)?.trim();
                first
                    .strip_prefix('`')
                    .and_then(|name| name.strip_suffix('`'))
                    .map(str::to_string)
            })
            .collect()
    }

    #[test]
    fn the_readme_lists_exactly_the_event_types() {
        let ours: BTreeSet<String> = EventType::ALL
            .iter()
            .map(|kind| kind.as_str().to_string())
            .collect();
        assert_eq!(readme_event_types(), ours);
    }

    #[test]
    fn names_round_trip_and_are_unique() {
        let names: BTreeSet<&str> = EventType::ALL.iter().map(|kind| kind.as_str()).collect();
        assert_eq!(names.len(), EventType::ALL.len());
        for kind in EventType::ALL {
            assert_eq!(EventType::parse(kind.as_str()), Some(*kind));
        }
        assert_eq!(EventType::parse("made.up"), None);
    }

    #[test]
    fn details_are_typed_objects() {
        let failed = AuditEvent::SigninFailed {
            reason: SigninFailure::WrongPassword,
            account: "ab".into(),
            consecutive_failures: Some(2),
            locked_until: None,
        };
        assert_eq!(failed.event_type().outcome(), Outcome::Failure);
        assert_eq!(
            failed.details(),
            serde_json::json!({"reason": "wrong_password", "account": "ab", "consecutive_failures": 2})
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
