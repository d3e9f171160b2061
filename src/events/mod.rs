//! Events as receivers get them, pure: which audit types are published, the payload, endpoint
//! filters, Standard Webhooks signatures, the retry schedule and the rules for target URLs.
//! Storage, delivery and the clock live elsewhere; these only decide and format.

pub mod catalog;
pub mod filter;
pub mod payload;
pub mod retry;
pub mod signature;
pub mod target;
