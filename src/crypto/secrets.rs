//! Random secrets (codes, tokens, client secrets) and their SHA-256 digests.
//!
//! Everything here is high-entropy (256 bits), so a fast digest is the right storage form; argon2 is
//! reserved for human passwords.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::model::EnvKind;

/// 32 random bytes, base64url: 43 characters, 256 bits.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A webhook signing secret: 32 random bytes as `whsec_<base64>` (the Standard Webhooks form).
pub fn webhook_secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// A shorter random identifier (128 bits, hex) for ids that are not secrets.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A secret whose prefix shows the kind of environment it opens, like `acs_test_…` or `acs_live_…`.
pub fn prefixed_secret(prefix: &str, kind: EnvKind) -> String {
    format!("{prefix}_{}_{}", kind.as_str(), random_token())
}

/// SHA-256, hex.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares a presented secret with a stored digest in constant time.
pub fn matches_digest(presented: &str, stored_digest: &str) -> bool {
    constant_time_eq(&digest(presented), stored_digest)
}

/// Equality whose time does not depend on where the two strings first differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_and_distinct() {
        let a = random_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token());
    }

    #[test]
    fn prefix_shows_kind() {
        assert!(prefixed_secret("acs", EnvKind::Test).starts_with("acs_test_"));
        assert!(prefixed_secret("acs", EnvKind::Live).starts_with("acs_live_"));
    }

    #[test]
    fn digest_matching() {
        let secret = random_token();
        let stored = digest(&secret);
        assert!(matches_digest(&secret, &stored));
        assert!(!matches_digest("nope", &stored));
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
