//! The audit vocabulary and the hash chain, pure: a closed set of event types with typed details
//! (which webhooks will publish too), and the functions that link and check a chain. Storage only
//! persists what these produce.

pub mod chain;
mod event;
mod event_type;

pub use event::{
    AuditEvent, CountedFailure, IssuedToken, KeyTransition, Recorded, RepeatedRefusals,
    RevokedToken, SigninFailure, VerificationMethod,
};
pub use event_type::{EventType, Outcome};
