//! The closed set of event types: each one's wire name and outcome, declared in one table.

use serde::Serialize;

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
    AccountLocked => "account.locked", Failure;
    ConsentGranted => "consent.granted", Success;
    ConsentDenied => "consent.denied", Failure;
    ConsentRevoked => "consent.revoked", Success;
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
    ClientApiGranted => "client.api_granted", Success;
    ClientApiRevoked => "client.api_revoked", Success;
    ApiCreated => "api.created", Success;
    ApiUpdated => "api.updated", Success;
    ApiDeleted => "api.deleted", Success;
    RegistrationTokenCreated => "registration_token.created", Success;
    RegistrationTokenRevoked => "registration_token.revoked", Success;
    UserCreated => "user.created", Success;
    UserUpdated => "user.updated", Success;
    UserPasswordChanged => "user.password_changed", Success;
    UserDeleted => "user.deleted", Success;
    UserDisabled => "user.disabled", Success;
    UserEnabled => "user.enabled", Success;
    UserPasswordReset => "user.password_reset", Success;
    SignupCompleted => "signup.completed", Success;
    EmailVerificationSent => "email.verification_sent", Success;
    EmailVerified => "email.verified", Success;
    PasswordResetRequested => "password_reset.requested", Success;
    PasswordResetCompleted => "password_reset.completed", Success;
    KeyStaged => "key.staged", Success;
    KeyActivated => "key.activated", Success;
    KeyRetired => "key.retired", Success;
    KeyRemoved => "key.removed", Success;
    EnvironmentLimitsChanged => "environment.limits_changed", Success;
    EnvironmentPolicyChanged => "environment.policy_changed", Success;
    EnvironmentPathIssuerChanged => "environment.path_issuer_changed", Success;
    ReleaseApplied => "release.applied", Success;
    ReleaseRolledBack => "release.rolled_back", Success;
    AdminTokenCreated => "admin_token.created", Success;
    AdminTokenUsed => "admin_token.used", Success;
    AdminTokenRevoked => "admin_token.revoked", Success;
    DomainAdded => "domain.added", Success;
    DomainVerificationFailed => "domain.verification_failed", Failure;
    DomainVerified => "domain.verified", Success;
    DomainActivated => "domain.activated", Success;
    DomainRemoved => "domain.removed", Success;
    AuditPruned => "audit.pruned", Success;
    WebhookCreated => "webhook.created", Success;
    WebhookUpdated => "webhook.updated", Success;
    WebhookRemoved => "webhook.removed", Success;
    WebhookSecretRotated => "webhook.secret_rotated", Success;
    WebhookDisabled => "webhook.disabled", Failure;
    WebhookReplayed => "webhook.replayed", Success;
    WebhookTest => "webhook.test", Success;
    EventsPruned => "events.pruned", Success;
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
}
