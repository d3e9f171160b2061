//! Keys derived from the KEK, one per purpose, and the HMAC-SHA256 digests made with them: a digest
//! of a guessable value (an account name, which may be a mistyped password) that nobody without the
//! KEK can check a guess against.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// A 256-bit key for one purpose. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct DerivedKey([u8; 32]);

impl std::fmt::Debug for DerivedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DerivedKey(<redacted>)")
    }
}

impl DerivedKey {
    /// HMAC-SHA256(root, "airlock/" + purpose).
    pub(super) fn from_root(root: &[u8], purpose: &str) -> Self {
        DerivedKey(mac(root, format!("airlock/{purpose}").as_bytes()))
    }

    /// HMAC-SHA256 of `message` under this key.
    pub fn mac(&self, message: &[u8]) -> [u8; 32] {
        mac(&self.0, message)
    }

    /// The key itself, to key a MAC kept elsewhere (the audit chain's, in the pure audit layer).
    pub fn secret(&self) -> &[u8] {
        &self.0
    }

    /// `mac` as lowercase hex.
    pub fn hex_mac(&self, message: &str) -> String {
        hex::encode(self.mac(message.as_bytes()))
    }
}

fn mac(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha256_matches_rfc_4231_case_2() {
        let key = DerivedKey(*b"Jefe\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
        // Zero padding to the block size leaves an HMAC key unchanged (RFC 2104 §2).
        assert_eq!(
            key.hex_mac("what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn purposes_get_different_keys() {
        let root = [7u8; 32];
        let accounts = DerivedKey::from_root(&root, "account-names");
        let audit = DerivedKey::from_root(&root, "audit-chain");
        assert_ne!(accounts.hex_mac("a"), audit.hex_mac("a"));
        assert_ne!(
            accounts.hex_mac("a"),
            DerivedKey::from_root(&[8u8; 32], "account-names").hex_mac("a")
        );
    }
}
