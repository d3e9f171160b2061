//! The audit vocabulary and the hash chain, pure: a closed set of event types with typed details
//! (which webhooks will publish too), and the functions that link and check a chain. Storage only
//! persists what these produce.

pub mod chain;
mod event;

pub use event::{
    AuditEvent, EventType, IssuedToken, KeyTransition, Outcome, Recorded, RevokedToken,
    SigninFailure, VerificationMethod,
};
