//! RS256 and ES256 signatures with OpenSSL's RSA and EC key objects, parsed once per key and shared
//! by every request. josekit's signers and verifiers set up a new EVP context for each call, which
//! cost about a fifth of a whole ES256 token request; these call RSA and ECDSA directly.

use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::ecdsa::EcdsaSig;
use openssl::error::ErrorStack;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private, Public};
use openssl::rsa::{Padding, Rsa};
use sha2::{Digest, Sha256};

use crate::model::SigningAlg;

/// The DER prefix of a SHA-256 `DigestInfo` (RFC 8017 §9.2, note 1): RSASSA-PKCS1-v1_5 signs this
/// prefix followed by the 32-byte digest.
const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// Bytes of each of r and s in an ES256 signature (RFC 7518 §3.4).
const P256_SCALAR: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("openssl: {0}")]
    OpenSsl(#[from] ErrorStack),
    #[error("the key does not fit {0}")]
    WrongKind(&'static str),
}

fn p256() -> Result<EcGroup, ErrorStack> {
    EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)
}

/// RS256 keys: a modulus of at least 2048 bits (RFC 7518 §3.3) and an odd exponent of at least 3.
fn fits_rs256<T: openssl::pkey::HasPublic>(rsa: &Rsa<T>) -> bool {
    let exponent = rsa.e();
    rsa.n().num_bits() >= 2048 && exponent.num_bits() >= 2 && exponent.is_bit_set(0)
}

fn rs256_encoding(message: &[u8]) -> Vec<u8> {
    let mut encoded = Vec::with_capacity(SHA256_DIGEST_INFO.len() + 32);
    encoded.extend_from_slice(&SHA256_DIGEST_INFO);
    encoded.extend_from_slice(&Sha256::digest(message));
    encoded
}

#[derive(Debug)]
pub enum PrivateKey {
    Rsa(Rsa<Private>),
    P256(EcKey<Private>),
}

impl PrivateKey {
    /// A PKCS#8 (or traditional) DER private key, which must be of `alg`'s kind.
    pub fn from_der(alg: SigningAlg, der: &[u8]) -> Result<Self, KeyError> {
        let key = PKey::private_key_from_der(der)?;
        match alg {
            SigningAlg::RS256 => {
                let rsa = key.rsa().map_err(|_| KeyError::WrongKind("RS256"))?;
                if !fits_rs256(&rsa) {
                    return Err(KeyError::WrongKind("RS256"));
                }
                Ok(PrivateKey::Rsa(rsa))
            }
            SigningAlg::ES256 => {
                let ec = key.ec_key().map_err(|_| KeyError::WrongKind("ES256"))?;
                if ec.group().curve_name() != Some(Nid::X9_62_PRIME256V1) {
                    return Err(KeyError::WrongKind("ES256"));
                }
                Ok(PrivateKey::P256(ec))
            }
        }
    }

    /// The JWS signature of `message`: PKCS#1 v1.5 over SHA-256 for RSA, `r || s` for P-256.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        match self {
            PrivateKey::Rsa(rsa) => {
                let mut signature = vec![0; rsa.size() as usize];
                let written =
                    rsa.private_encrypt(&rs256_encoding(message), &mut signature, Padding::PKCS1)?;
                signature.truncate(written);
                Ok(signature)
            }
            PrivateKey::P256(ec) => {
                let signature = EcdsaSig::sign(&Sha256::digest(message), ec)?;
                let mut joined = signature.r().to_vec_padded(P256_SCALAR as i32)?;
                joined.extend(signature.s().to_vec_padded(P256_SCALAR as i32)?);
                Ok(joined)
            }
        }
    }
}

#[derive(Debug)]
pub enum PublicKey {
    Rsa(Rsa<Public>),
    P256(EcKey<Public>),
}

impl PublicKey {
    /// From a JWK's big-endian modulus and exponent.
    pub fn rsa(modulus: &[u8], exponent: &[u8]) -> Result<Self, KeyError> {
        let rsa = Rsa::from_public_components(
            BigNum::from_slice(modulus)?,
            BigNum::from_slice(exponent)?,
        )?;
        if !fits_rs256(&rsa) {
            return Err(KeyError::WrongKind("RS256"));
        }
        Ok(PublicKey::Rsa(rsa))
    }

    /// From a JWK's affine coordinates; a point off the curve is refused.
    pub fn p256(x: &[u8], y: &[u8]) -> Result<Self, KeyError> {
        let (group, x, y) = (p256()?, BigNum::from_slice(x)?, BigNum::from_slice(y)?);
        let key = EcKey::from_public_key_affine_coordinates(&group, &x, &y)?;
        Ok(PublicKey::P256(key))
    }

    /// Whether `signature` is this key's signature of `message`. Anything malformed is simply false.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            PublicKey::Rsa(rsa) => {
                let size = rsa.size() as usize;
                if signature.len() != size {
                    return false;
                }
                let mut recovered = vec![0; size];
                // The whole expected encoding is compared, never parsed, as RFC 8017 §8.2.2 advises.
                rsa.public_decrypt(signature, &mut recovered, Padding::PKCS1)
                    .is_ok_and(|len| recovered[..len] == rs256_encoding(message)[..])
            }
            PublicKey::P256(ec) => {
                if signature.len() != 2 * P256_SCALAR {
                    return false;
                }
                let (r, s) = signature.split_at(P256_SCALAR);
                let (Ok(r), Ok(s)) = (BigNum::from_slice(r), BigNum::from_slice(s)) else {
                    return false;
                };
                EcdsaSig::from_private_components(r, s)
                    .and_then(|sig| sig.verify(&Sha256::digest(message), ec))
                    .unwrap_or(false)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use josekit::jwk::Jwk;
    use josekit::jws::{ES256, JwsSigner, JwsVerifier, RS256};

    use super::*;

    fn member(jwk: &Jwk, name: &str) -> Vec<u8> {
        let text = jwk.parameter(name).and_then(|v| v.as_str()).unwrap();
        URL_SAFE_NO_PAD.decode(text).unwrap()
    }

    /// One key pair as seen by both implementations.
    struct Pair {
        private: PrivateKey,
        public: PublicKey,
        their_signer: Box<dyn JwsSigner>,
        their_verifier: Box<dyn JwsVerifier>,
    }

    /// Both directions against josekit, an independent JWS implementation.
    #[test]
    fn signatures_interoperate_with_josekit() {
        let message = b"header.payload";
        let rsa = RS256.generate_key_pair(2048).unwrap();
        let ec = ES256.generate_key_pair().unwrap();
        let pairs = [
            Pair {
                private: PrivateKey::from_der(SigningAlg::RS256, &rsa.to_der_private_key())
                    .unwrap(),
                public: PublicKey::rsa(
                    &member(&rsa.to_jwk_public_key(), "n"),
                    &member(&rsa.to_jwk_public_key(), "e"),
                )
                .unwrap(),
                their_signer: Box::new(RS256.signer_from_der(rsa.to_der_private_key()).unwrap()),
                their_verifier: Box::new(RS256.verifier_from_der(rsa.to_der_public_key()).unwrap()),
            },
            Pair {
                private: PrivateKey::from_der(SigningAlg::ES256, &ec.to_der_private_key()).unwrap(),
                public: PublicKey::p256(
                    &member(&ec.to_jwk_public_key(), "x"),
                    &member(&ec.to_jwk_public_key(), "y"),
                )
                .unwrap(),
                their_signer: Box::new(ES256.signer_from_der(ec.to_der_private_key()).unwrap()),
                their_verifier: Box::new(ES256.verifier_from_der(ec.to_der_public_key()).unwrap()),
            },
        ];
        for Pair {
            private,
            public,
            their_signer,
            their_verifier,
        } in &pairs
        {
            let ours = private.sign(message).unwrap();
            their_verifier.verify(message, &ours).unwrap();
            assert!(public.verifies(message, &ours));
            let theirs = their_signer.sign(message).unwrap();
            assert!(public.verifies(message, &theirs));
            assert!(!public.verifies(b"header.other", &theirs));
            let mut flipped = theirs.clone();
            flipped[5] ^= 1;
            assert!(!public.verifies(message, &flipped));
            assert!(!public.verifies(message, &theirs[1..]));
            assert!(!public.verifies(message, &[]));
        }
    }

    #[test]
    fn a_key_of_the_other_kind_is_refused() {
        let rsa = RS256.generate_key_pair(2048).unwrap().to_der_private_key();
        let ec = ES256.generate_key_pair().unwrap().to_der_private_key();
        assert!(PrivateKey::from_der(SigningAlg::ES256, &rsa).is_err());
        assert!(PrivateKey::from_der(SigningAlg::RS256, &ec).is_err());
        assert!(PrivateKey::from_der(SigningAlg::RS256, b"not der").is_err());
        assert!(PublicKey::p256(&[1; 32], &[2; 32]).is_err());
        let modulus = member(
            &RS256.generate_key_pair(2048).unwrap().to_jwk_public_key(),
            "n",
        );
        assert!(PublicKey::rsa(&modulus, &[1, 0, 1]).is_ok());
        assert!(PublicKey::rsa(&modulus, &[1]).is_err());
        assert!(PublicKey::rsa(&modulus[1..], &[1, 0, 1]).is_err());
        let short = PKey::from_rsa(Rsa::generate(1024).unwrap()).unwrap();
        let short = short.private_key_to_der().unwrap();
        assert!(PrivateKey::from_der(SigningAlg::RS256, &short).is_err());
    }
}
