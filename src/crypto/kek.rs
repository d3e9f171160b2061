//! The key-encryption key: AES-256-GCM envelope for private signing keys at rest.
//!
//! The KEK is 32 random bytes in a file (`keys/kek` by default), created with mode 0600 on first start.

use std::fs;
use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use rand::rngs::OsRng;

use super::keyed::DerivedKey;

const KEK_LEN: usize = 32;
const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum KekError {
    #[error("cannot read or create the key-encryption key at {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("the key-encryption key at {0} is not {KEK_LEN} bytes")]
    BadLength(String),
    #[error("a sealed private key could not be opened (wrong KEK or corrupted row)")]
    Unseal,
}

/// The key-encryption key. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct Kek {
    cipher: Aes256Gcm,
    /// The root of the keys derived for other purposes (`derive`).
    root: [u8; KEK_LEN],
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Kek(<redacted>)")
    }
}

impl Kek {
    /// Loads the KEK from `path`, creating it (mode 0600, parent directories included) if missing.
    pub fn load_or_create(path: &Path) -> Result<Self, KekError> {
        let io = |source| KekError::Io {
            path: path.display().to_string(),
            source,
        };
        if !path.exists() {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                fs::create_dir_all(parent).map_err(io)?;
            }
            let mut key = [0u8; KEK_LEN];
            OsRng.fill_bytes(&mut key);
            let mut options = fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            match options.open(path) {
                Ok(mut file) => file.write_all(&key).map_err(io)?,
                // Another process created it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io(e)),
            }
        }
        let bytes = fs::read(path).map_err(io)?;
        Self::from_bytes(&bytes).ok_or_else(|| KekError::BadLength(path.display().to_string()))
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let root: [u8; KEK_LEN] = bytes.try_into().ok()?;
        Some(Kek {
            cipher: Aes256Gcm::new_from_slice(&root).ok()?,
            root,
        })
    }

    /// A key for one `purpose`, derived from the KEK: whoever holds the database without the KEK
    /// can neither recompute nor check what it keys.
    pub fn derive(&self, purpose: &str) -> DerivedKey {
        DerivedKey::from_root(&self.root, purpose)
    }

    /// Seals `plaintext`, binding it to `context` (the key id) so rows cannot be swapped.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        STANDARD.encode(out)
    }

    pub fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, KekError> {
        let raw = STANDARD.decode(sealed).map_err(|_| KekError::Unseal)?;
        if raw.len() <= NONCE_LEN {
            return Err(KekError::Unseal);
        }
        let (nonce, ciphertext) = raw.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| KekError::Unseal)?;
        self.cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| KekError::Unseal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trip_is_bound_to_context() {
        let kek = Kek::from_bytes(&[7u8; 32]).unwrap();
        let sealed = kek.seal(b"private", "kid-1");
        assert_eq!(kek.open(&sealed, "kid-1").unwrap(), b"private");
        assert!(kek.open(&sealed, "kid-2").is_err());
        let other = Kek::from_bytes(&[8u8; 32]).unwrap();
        assert!(other.open(&sealed, "kid-1").is_err());
    }

    #[test]
    fn creates_file_with_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/kek");
        let first = Kek::load_or_create(&path).unwrap();
        let sealed = first.seal(b"x", "k");
        let again = Kek::load_or_create(&path).unwrap();
        assert_eq!(again.open(&sealed, "k").unwrap(), b"x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
