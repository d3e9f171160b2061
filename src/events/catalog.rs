//! Which audit event types are also published as events, and when.

use crate::audit::EventType;

/// Whether, and when, an audit event is also an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publication {
    /// Written for every occurrence, delivered where subscribed and kept for the inspector.
    Always,
    /// Written only while some endpoint of the environment subscribes to it (`token.issued`: the
    /// token path pays nothing otherwise).
    WhenSubscribed,
    /// Only sent to the endpoint it is addressed to (`webhook.test`).
    Addressed,
    /// An audit entry only: internal bookkeeping no relying party acts on.
    Never,
}

pub fn publication(kind: EventType) -> Publication {
    use EventType as T;
    match kind {
        T::SigninSucceeded
        | T::SigninFailed
        | T::AccountLocked
        | T::ConsentGranted
        | T::ConsentRevoked
        | T::TokenRevoked
        | T::RefreshReuseDetected
        | T::Logout
        | T::ClientCreated
        | T::ClientUpdated
        | T::ClientSecretRotated
        | T::ClientDeleted
        | T::ClientApiGranted
        | T::ClientApiRevoked
        | T::ApiCreated
        | T::ApiUpdated
        | T::ApiDeleted
        | T::UserCreated
        | T::UserUpdated
        | T::UserPasswordChanged
        | T::UserDeleted
        | T::UserDisabled
        | T::UserEnabled
        | T::UserPasswordReset
        | T::SignupCompleted
        | T::EmailVerified
        | T::KeyStaged
        | T::KeyActivated
        | T::KeyRetired
        | T::KeyRemoved
        | T::DomainAdded
        | T::DomainVerificationFailed
        | T::DomainVerified
        | T::DomainActivated
        | T::DomainRemoved
        | T::ReleaseApplied
        | T::ReleaseRolledBack => Publication::Always,
        T::TokenIssued => Publication::WhenSubscribed,
        T::WebhookTest => Publication::Addressed,
        T::ConsentDenied
        | T::CodeIssued
        | T::CodeRedeemed
        | T::CodeReplayed
        | T::TokenRefreshed
        | T::EnvironmentLimitsChanged
        | T::EnvironmentPolicyChanged
        | T::EnvironmentPathIssuerChanged
        | T::AdminTokenCreated
        | T::AdminTokenUsed
        | T::AdminTokenRevoked
        | T::AuditPruned
        | T::WebhookCreated
        | T::WebhookUpdated
        | T::WebhookRemoved
        | T::WebhookSecretRotated
        | T::WebhookReplayed
        | T::WebhookDisabled
        | T::EventsPruned
        | T::RegistrationTokenCreated
        | T::RegistrationTokenRevoked
        | T::EmailVerificationSent
        | T::PasswordResetRequested
        | T::PasswordResetCompleted => Publication::Never,
    }
}

/// The types an endpoint can subscribe to, in table order.
pub fn subscribable() -> impl Iterator<Item = EventType> {
    EventType::ALL.iter().copied().filter(|kind| {
        matches!(
            publication(*kind),
            Publication::Always | Publication::WhenSubscribed
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_s_vocabulary_is_published() {
        let published: Vec<&str> = subscribable().map(EventType::as_str).collect();
        for name in [
            "user.created",
            "user.updated",
            "user.deleted",
            "user.password_changed",
            "signin.succeeded",
            "signin.failed",
            "account.locked",
            "consent.granted",
            "consent.revoked",
            "token.revoked",
            "refresh.reuse_detected",
            "logout",
            "token.issued",
            "client.created",
            "key.activated",
            "domain.verified",
        ] {
            assert!(published.contains(&name), "{name} is not published");
        }
        assert!(!published.contains(&"admin_token.used"));
        assert!(!published.contains(&"webhook.test"));
    }
}
