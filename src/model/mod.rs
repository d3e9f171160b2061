//! Plain data shared by all layers; no I/O.

mod account;
mod api;
pub mod audit;
mod client;
mod domain;
mod environment;
mod ids;
mod secret;
mod signing_key;
mod user;
mod webhook;

pub use account::{AccountPolicy, LinkPurpose, MailMessage, MailState};
pub use api::{Api, ApiGrant, GrantedApi};
pub use client::{Client, RegistrationToken, SigningAlg, TokenAuthMethod};
pub use domain::{Domain, DomainState, host_of_authority, normalize_host};
pub use environment::{
    EnvKind, EnvPolicy, Environment, Issuer, OPERATORS_ZONE, Project, ProjectLimits, PublicUrl,
    RateLimits, Zone,
};
pub use ids::{ApiId, ClientId, EnvironmentId, GrantId, Kid, UserId};
pub use secret::Secret;
pub use signing_key::{KeySchedule, KeyState, Rotation, rotation};
pub use user::User;
pub use webhook::{
    AttemptOutcome, ClaimedDelivery, Delivery, DeliveryAttempt, DeliveryQuery, DeliveryState,
    EndpointHealth, Event, WebhookEndpoint,
};

/// Whether `text` is free of control characters (NUL included, which PostgreSQL text cannot
/// hold; terminal escapes) and of bidirectional overrides and isolates (which make text display
/// other than it reads). No identifier, name or protocol parameter needs any of them.
pub fn is_clean_text(text: &str) -> bool {
    // Printable ASCII, the common case, is settled bytewise (without branching, so it vectorises):
    // every control character below 0x80 is one byte, and text with no byte outside 0x20..0x7f
    // has no other character to look at.
    let outside_printable_ascii = text
        .bytes()
        .fold(false, |seen, byte| seen | !(0x20..0x7f).contains(&byte));
    !outside_printable_ascii
        || !text.chars().any(|c| {
            c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
}

/// Names of projects and environments: lowercase letters, digits and dashes, starting with a letter.
pub fn is_valid_slug(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && name.len() <= 63
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '-'))
}

mod grant;
pub use grant::{AuthorizationCode, RefreshToken, Session};
