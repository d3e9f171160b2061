//! JWS compact serialisation (RFC 7515 §7.1) with RS256 and ES256 (RFC 7518 §3.3, §3.4). Signatures
//! are made by OpenSSL's public-key signing (`EVP_PKEY_sign`, which also builds PKCS#1 v1.5's
//! DigestInfo) over OpenSSL's SHA-256, and checked by OpenSSL's `Verifier`; this module only frames
//! them: base64url parts, and ECDSA's DER signature in the fixed-width `r || s` form JWS requires.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::sync::Mutex;

use openssl::bn::BigNum;
use openssl::ecdsa::EcdsaSig;
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::md::Md;
use openssl::nid::Nid;
use openssl::pkey::{HasPublic, Id, PKey, Private, Public};
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::{Padding, Rsa};
use openssl::sign::Verifier;

use crate::model::SigningAlg;

/// Bytes of each of r and s in an ES256 signature (RFC 7518 §3.4).
const P256_SCALAR: i32 = 32;

#[derive(Debug, thiserror::Error)]
pub enum JwsError {
    #[error("openssl: {0}")]
    OpenSsl(#[from] ErrorStack),
    #[error("the key does not fit {0}")]
    WrongKind(&'static str),
    #[error("the token is not a well-formed compact JWS")]
    Malformed,
}

/// RS256 keys have a modulus of at least 2048 bits (RFC 7518 §3.3) and an odd exponent of at least 3.
fn fits_rs256<T: HasPublic>(rsa: &Rsa<T>) -> bool {
    let exponent = rsa.e();
    rsa.n().num_bits() >= 2048 && exponent.num_bits() >= 2 && exponent.is_bit_set(0)
}

/// Whether `key` is of the kind `alg` signs with.
fn check_kind<T: HasPublic>(alg: SigningAlg, key: &PKey<T>) -> Result<(), JwsError> {
    let fits = match alg {
        SigningAlg::RS256 => key.id() == Id::RSA && fits_rs256(&key.rsa()?),
        SigningAlg::ES256 => {
            key.id() == Id::EC && key.ec_key()?.group().curve_name() == Some(Nid::X9_62_PRIME256V1)
        }
    };
    if fits {
        Ok(())
    } else {
        Err(JwsError::WrongKind(alg.as_str()))
    }
}

/// Signing contexts kept for reuse, at most.
const POOLED_CONTEXTS: usize = 64;

/// A private key checked against its algorithm, parsed once and shared by every request.
pub struct JwsSigner {
    alg: SigningAlg,
    key: PKey<Private>,
    /// Signing contexts, set up once and reused (OpenSSL allows many signatures per context):
    /// setting one up looks the algorithm up in OpenSSL's provider tables, a sixth of the cost of
    /// an ES256 signature. A context in use by one request is out of the pool meanwhile.
    contexts: Mutex<Vec<PkeyCtx<Private>>>,
}

impl std::fmt::Debug for JwsSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwsSigner").field("alg", &self.alg).finish()
    }
}

impl JwsSigner {
    /// A PKCS#8 (or traditional) DER private key, which must be of `alg`'s kind.
    pub fn from_der(alg: SigningAlg, der: &[u8]) -> Result<Self, JwsError> {
        Self::new(alg, PKey::private_key_from_der(der)?)
    }

    pub fn new(alg: SigningAlg, key: PKey<Private>) -> Result<Self, JwsError> {
        check_kind(alg, &key)?;
        let signer = JwsSigner {
            alg,
            key,
            contexts: Mutex::new(Vec::new()),
        };
        let first = signer.new_context()?;
        signer.give_back(first);
        Ok(signer)
    }

    /// A context that signs SHA-256 digests with this key: PKCS#1 v1.5 for RS256, ECDSA for ES256.
    fn new_context(&self) -> Result<PkeyCtx<Private>, ErrorStack> {
        let mut context = PkeyCtx::new(&self.key)?;
        context.sign_init()?;
        if self.alg == SigningAlg::RS256 {
            context.set_rsa_padding(Padding::PKCS1)?;
        }
        context.set_signature_md(Md::sha256())?;
        Ok(context)
    }

    fn give_back(&self, context: PkeyCtx<Private>) {
        if let Ok(mut pool) = self.contexts.lock()
            && pool.len() < POOLED_CONTEXTS
        {
            pool.push(context);
        }
    }

    /// The JWS Signature of `signing_input`: PKCS#1 v1.5 for RS256, `r || s` for ES256.
    pub fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, JwsError> {
        let digest = openssl::sha::sha256(signing_input);
        let pooled = self.contexts.lock().ok().and_then(|mut pool| pool.pop());
        let mut context = match pooled {
            Some(context) => context,
            None => self.new_context()?,
        };
        let mut signature = Vec::new();
        context.sign_to_vec(&digest, &mut signature)?;
        self.give_back(context);
        match self.alg {
            SigningAlg::RS256 => Ok(signature),
            SigningAlg::ES256 => {
                let signature = EcdsaSig::from_der(&signature)?;
                let mut fixed = signature.r().to_vec_padded(P256_SCALAR)?;
                fixed.extend(signature.s().to_vec_padded(P256_SCALAR)?);
                Ok(fixed)
            }
        }
    }

    /// Compact serialisation: `BASE64URL(header) . BASE64URL(payload) . BASE64URL(signature)`.
    pub fn sign_compact(&self, header: &[u8], payload: &[u8]) -> Result<String, JwsError> {
        let mut token = URL_SAFE_NO_PAD.encode(header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(payload, &mut token);
        let signature = self.sign(token.as_bytes())?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut token);
        Ok(token)
    }
}

/// A public key checked against its algorithm.
#[derive(Debug)]
pub struct JwsVerifier {
    alg: SigningAlg,
    key: PKey<Public>,
}

impl JwsVerifier {
    pub fn new(alg: SigningAlg, key: PKey<Public>) -> Result<Self, JwsError> {
        check_kind(alg, &key)?;
        Ok(JwsVerifier { alg, key })
    }

    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    /// Whether `signature` is this key's signature of `signing_input`. Anything malformed is false.
    pub fn verifies(&self, signing_input: &[u8], signature: &[u8]) -> bool {
        let der;
        let signature = match self.alg {
            SigningAlg::RS256 => signature,
            SigningAlg::ES256 => {
                if signature.len() != 2 * P256_SCALAR as usize {
                    return false;
                }
                let (r, s) = signature.split_at(P256_SCALAR as usize);
                match fixed_to_der(r, s) {
                    Ok(encoded) => {
                        der = encoded;
                        &der
                    }
                    Err(_) => return false,
                }
            }
        };
        let verified =
            Verifier::new(MessageDigest::sha256(), &self.key).and_then(|mut verifier| {
                if self.alg == SigningAlg::RS256 {
                    verifier.set_rsa_padding(Padding::PKCS1)?;
                }
                verifier.verify_oneshot(signature, signing_input)
            });
        verified.unwrap_or(false)
    }
}

fn fixed_to_der(r: &[u8], s: &[u8]) -> Result<Vec<u8>, ErrorStack> {
    EcdsaSig::from_private_components(BigNum::from_slice(r)?, BigNum::from_slice(s)?)?.to_der()
}

/// The three parts of a compact JWS, decoded, before any trust decision.
#[derive(Debug)]
pub struct CompactJws<'a> {
    pub header: Vec<u8>,
    pub payload: Vec<u8>,
    signing_input: &'a str,
    signature: Vec<u8>,
}

impl<'a> CompactJws<'a> {
    pub fn parse(token: &'a str) -> Result<Self, JwsError> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwsError::Malformed);
        };
        let decode = |part: &str| {
            URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| JwsError::Malformed)
        };
        Ok(CompactJws {
            header: decode(header)?,
            payload: decode(payload)?,
            signing_input: &token[..header.len() + 1 + payload.len()],
            signature: decode(signature)?,
        })
    }

    pub fn verifies_with(&self, verifier: &JwsVerifier) -> bool {
        verifier.verifies(self.signing_input.as_bytes(), &self.signature)
    }

    /// Whether the signature is HMAC-SHA256 of the signing input under `key` (HS256, RFC 7518
    /// §3.2), compared in constant time.
    pub fn verifies_hs256(&self, key: &[u8]) -> bool {
        use hmac::{Hmac, Mac};
        let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(key) else {
            return false;
        };
        mac.update(self.signing_input.as_bytes());
        mac.verify_slice(&self.signature).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use openssl::bn::BigNum;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::rsa::RsaPrivateKeyBuilder;

    use super::*;

    fn b64(value: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(value).expect("base64url")
    }

    fn bn(value: &str) -> BigNum {
        BigNum::from_slice(&b64(value)).expect("bignum")
    }

    /// RFC 7515 Appendix A.2: RSASSA-PKCS1-v1_5 is deterministic, so our signature must be the
    /// RFC's to the byte, and the RFC's must verify.
    #[test]
    fn rfc7515_a2_rs256() {
        let expected = concat!(
            "eyJhbGciOiJSUzI1NiJ9",
            ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt",
            "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ",
            ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7",
            "AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4",
            "BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K",
            "0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv",
            "hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrB",
            "p0igcN_IoypGlUPQGe77Rw",
        );
        let n = concat!(
            "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt",
            "0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSX",
            "ndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5",
            "IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ",
        );
        let d = concat!(
            "Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMgvfTeXZx9SE-7YwVol",
            "2NXOoAJe46sui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn43",
            "9X0M_V51gfpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8",
            "bGUl_x_jTj3ccPDVZFD9pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ",
        );
        let p = concat!(
            "4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw_",
            "Py5PJdTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc",
        );
        let q = concat!(
            "uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6ul7Tje",
            "LQeZD_YwD66t62wDmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc",
        );
        let dp = concat!(
            "BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLdhrqE2e9YkxvuxdBfpT_PI7Yz-FOK",
            "nu1R6HsJeDCjn12Sk3vmAktV2zb34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0",
        );
        let dq = concat!(
            "h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9xXDoRwbKgB719rrmI2oKr6N3Do9U",
            "0ajaHF-NKJnwgjMd2w9cjz3_-kyNlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU",
        );
        let qi = concat!(
            "IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd_QJQ3ydy5",
            "cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U",
        );
        let rsa = RsaPrivateKeyBuilder::new(bn(n), bn("AQAB"), bn(d))
            .and_then(|b| b.set_factors(bn(p), bn(q)))
            .and_then(|b| b.set_crt_params(bn(dp), bn(dq), bn(qi)))
            .expect("rsa key")
            .build();
        let signer =
            JwsSigner::new(SigningAlg::RS256, PKey::from_rsa(rsa).expect("pkey")).expect("signer");
        let parsed = CompactJws::parse(expected).expect("parse");
        assert_eq!(
            signer
                .sign_compact(&parsed.header, &parsed.payload)
                .expect("sign"),
            expected
        );
        let public = Rsa::from_public_components(bn(n), bn("AQAB")).expect("public");
        let verifier = JwsVerifier::new(SigningAlg::RS256, PKey::from_rsa(public).expect("pkey"))
            .expect("verifier");
        assert!(parsed.verifies_with(&verifier));
        let tampered = expected.replace("eyJpc3MiOiJqb2Ui", "eyJpc3MiOiJqb2Ki");
        assert!(
            !CompactJws::parse(&tampered)
                .unwrap()
                .verifies_with(&verifier)
        );
    }

    fn rfc7515_a3_key() -> EcKey<Private> {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("p-256");
        let public = EcKey::from_public_key_affine_coordinates(
            &group,
            &bn("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"),
            &bn("x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"),
        )
        .expect("point");
        EcKey::from_private_components(
            &group,
            &bn("jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"),
            public.public_key(),
        )
        .expect("ec key")
    }

    /// RFC 7515 Appendix A.3: ECDSA is randomised, so the RFC's token must verify, and ours must
    /// verify under the same key while never equalling it.
    #[test]
    fn rfc7515_a3_es256() {
        let expected = concat!(
            "eyJhbGciOiJFUzI1NiJ9",
            ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt",
            "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ",
            ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSA",
            "pmWQxfKTUJqPP3-Kg6NU1Q",
        );
        let private = rfc7515_a3_key();
        let public = EcKey::from_public_key(private.group(), private.public_key()).expect("public");
        let verifier = JwsVerifier::new(SigningAlg::ES256, PKey::from_ec_key(public).unwrap())
            .expect("verifier");
        let parsed = CompactJws::parse(expected).expect("parse");
        assert!(parsed.verifies_with(&verifier));
        let signer =
            JwsSigner::new(SigningAlg::ES256, PKey::from_ec_key(private).unwrap()).expect("signer");
        let ours = signer
            .sign_compact(&parsed.header, &parsed.payload)
            .expect("sign");
        assert_ne!(ours, expected);
        assert!(CompactJws::parse(&ours).unwrap().verifies_with(&verifier));
        let mut signature = b64(expected.rsplit('.').next().unwrap());
        signature[5] ^= 1;
        let flipped = format!(
            "{}.{}",
            &expected[..expected.rfind('.').unwrap()],
            URL_SAFE_NO_PAD.encode(&signature)
        );
        assert!(
            !CompactJws::parse(&flipped)
                .unwrap()
                .verifies_with(&verifier)
        );
        let short = format!(
            "{}.{}",
            &expected[..expected.rfind('.').unwrap()],
            URL_SAFE_NO_PAD.encode(&signature[1..])
        );
        assert!(!CompactJws::parse(&short).unwrap().verifies_with(&verifier));
    }

    /// Signing contexts are pooled and shared: signatures made at once on several threads, more
    /// than the pool holds, all verify.
    #[test]
    fn concurrent_signatures_all_verify() {
        let private = rfc7515_a3_key();
        let public = EcKey::from_public_key(private.group(), private.public_key()).expect("public");
        let verifier = JwsVerifier::new(SigningAlg::ES256, PKey::from_ec_key(public).unwrap())
            .expect("verifier");
        let signer =
            JwsSigner::new(SigningAlg::ES256, PKey::from_ec_key(private).unwrap()).expect("signer");
        std::thread::scope(|scope| {
            for thread in 0..(2 * POOLED_CONTEXTS) {
                let (signer, verifier) = (&signer, &verifier);
                scope.spawn(move || {
                    let input = format!("header.payload-{thread}");
                    let signature = signer.sign(input.as_bytes()).expect("sign");
                    assert!(verifier.verifies(input.as_bytes(), &signature));
                });
            }
        });
        assert!(signer.contexts.lock().unwrap().len() <= POOLED_CONTEXTS);
    }

    #[test]
    fn keys_of_the_wrong_kind_or_size_are_refused() {
        let ec = PKey::from_ec_key(rfc7515_a3_key()).unwrap();
        let rsa = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let short = PKey::from_rsa(Rsa::generate(1024).unwrap()).unwrap();
        assert!(JwsSigner::new(SigningAlg::RS256, ec.clone()).is_err());
        assert!(JwsSigner::new(SigningAlg::ES256, rsa.clone()).is_err());
        assert!(JwsSigner::new(SigningAlg::RS256, short).is_err());
        assert!(JwsSigner::from_der(SigningAlg::RS256, b"not der").is_err());
        assert!(JwsSigner::new(SigningAlg::RS256, rsa).is_ok());
        let even_exponent = Rsa::from_public_components(
            BigNum::from_slice(&[0xff; 256]).unwrap(),
            BigNum::from_u32(4).unwrap(),
        )
        .unwrap();
        assert!(
            JwsVerifier::new(SigningAlg::RS256, PKey::from_rsa(even_exponent).unwrap()).is_err()
        );
    }

    #[test]
    fn malformed_compact_tokens_are_refused() {
        for token in ["a.b", "a.b.c.d", "!!.??.##", "e30.e30"] {
            assert!(CompactJws::parse(token).is_err(), "{token}");
        }
    }
}
