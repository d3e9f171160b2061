//! JOSE keys: generation and public JWKs with josekit, signing and verification of JWTs through
//! `jws` (OpenSSL's signer and verifier). Only RS256 and ES256 are ever accepted; `alg: none` and
//! HMAC never are.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jws::{ES256, RS256};
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::jws::{CompactJws, JwsError, JwsSigner, JwsVerifier};
use crate::model::SigningAlg;

#[derive(Debug, thiserror::Error)]
pub enum JoseError {
    #[error("key material error: {0}")]
    Key(String),
    #[error("the token is not a well-formed JWS")]
    Malformed,
    #[error("the token's algorithm or key is not accepted")]
    UntrustedKey,
    #[error("the signature does not verify")]
    BadSignature,
}

fn key_error(error: impl std::fmt::Display) -> JoseError {
    JoseError::Key(error.to_string())
}

impl From<JwsError> for JoseError {
    fn from(error: JwsError) -> Self {
        match error {
            JwsError::Malformed => JoseError::Malformed,
            other => key_error(other),
        }
    }
}

/// A freshly generated key pair: public JWK (with kid, alg, use) and PKCS#8 DER private key.
pub struct GeneratedKey {
    pub kid: String,
    pub alg: SigningAlg,
    pub public_jwk: String,
    pub private_der: Vec<u8>,
}

pub fn generate(alg: SigningAlg, kid: String) -> Result<GeneratedKey, JoseError> {
    let (mut jwk, private_der) = match alg {
        SigningAlg::RS256 => {
            let pair = RS256.generate_key_pair(2048).map_err(key_error)?;
            (pair.to_jwk_public_key(), pair.to_der_private_key())
        }
        SigningAlg::ES256 => {
            let pair = ES256.generate_key_pair().map_err(key_error)?;
            (pair.to_jwk_public_key(), pair.to_der_private_key())
        }
    };
    jwk.set_key_id(kid.clone());
    jwk.set_algorithm(alg.as_str());
    jwk.set_key_use("sig");
    Ok(GeneratedKey {
        kid,
        alg,
        public_jwk: jwk.to_string(),
        private_der,
    })
}

/// The protected header of every JWT Airlock signs.
#[derive(Serialize)]
struct JwtHeader<'a> {
    alg: &'a str,
    kid: &'a str,
    typ: &'a str,
}

/// What a presented token's header says about how to check it.
#[derive(Deserialize)]
struct PresentedHeader {
    alg: String,
    kid: Option<String>,
    typ: Option<String>,
}

/// A private key ready to sign, decrypted once and kept in memory.
#[derive(Debug)]
pub struct SigningKey {
    kid: String,
    alg: SigningAlg,
    signer: JwsSigner,
}

impl SigningKey {
    pub fn from_der(kid: String, alg: SigningAlg, der: &[u8]) -> Result<Self, JoseError> {
        let signer = JwsSigner::from_der(alg, der)?;
        Ok(SigningKey { kid, alg, signer })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    /// Compact JWS of `claims` with header `{alg, kid, typ}`.
    pub fn sign(&self, typ: &str, claims: &impl Serialize) -> Result<String, JoseError> {
        let header = JwtHeader {
            alg: self.alg.as_str(),
            kid: &self.kid,
            typ,
        };
        let header = serde_json::to_vec(&header).map_err(key_error)?;
        let payload = serde_json::to_vec(claims).map_err(key_error)?;
        Ok(self.signer.sign_compact(&header, &payload)?)
    }
}

/// A published public key able to verify.
#[derive(Debug)]
pub struct VerifyingKey {
    kid: String,
    verifier: JwsVerifier,
}

/// The members of a public JWK that name and rebuild the key.
#[derive(Deserialize)]
struct PublicJwk {
    kty: String,
    kid: Option<String>,
    alg: String,
    #[serde(rename = "use")]
    key_use: Option<String>,
    crv: Option<String>,
    #[serde(default)]
    n: String,
    #[serde(default)]
    e: String,
    #[serde(default)]
    x: String,
    #[serde(default)]
    y: String,
}

fn big_number(member: &str) -> Result<BigNum, JoseError> {
    let bytes = URL_SAFE_NO_PAD.decode(member).map_err(key_error)?;
    BigNum::from_slice(&bytes).map_err(key_error)
}

impl VerifyingKey {
    /// A signing key's public JWK: `kty` (and for EC `crv`) must fit its `alg`, and `use`, if
    /// present, must be `sig`.
    pub fn from_public_jwk(public_jwk: &str) -> Result<Self, JoseError> {
        let jwk: PublicJwk = serde_json::from_str(public_jwk).map_err(key_error)?;
        let alg = SigningAlg::parse(&jwk.alg).ok_or(JoseError::UntrustedKey)?;
        let kid = jwk.kid.ok_or(JoseError::UntrustedKey)?;
        let fits = match alg {
            SigningAlg::RS256 => jwk.kty == "RSA",
            SigningAlg::ES256 => jwk.kty == "EC" && jwk.crv.as_deref() == Some("P-256"),
        };
        if !fits || jwk.key_use.as_deref().is_some_and(|used| used != "sig") {
            return Err(JoseError::UntrustedKey);
        }
        let key = match alg {
            SigningAlg::RS256 => {
                let rsa = Rsa::from_public_components(big_number(&jwk.n)?, big_number(&jwk.e)?)
                    .map_err(key_error)?;
                PKey::from_rsa(rsa).map_err(key_error)?
            }
            SigningAlg::ES256 => {
                let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).map_err(key_error)?;
                // A point off the curve is refused here.
                let (x, y) = (big_number(&jwk.x)?, big_number(&jwk.y)?);
                let ec =
                    EcKey::from_public_key_affine_coordinates(&group, &x, &y).map_err(key_error)?;
                PKey::from_ec_key(ec).map_err(key_error)?
            }
        };
        let verifier = JwsVerifier::new(alg, key)?;
        Ok(VerifyingKey { kid, verifier })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }
}

/// A compact JWS parsed, before any trust decision: what its header claims.
pub struct UnverifiedJws<'a> {
    pub alg: String,
    pub kid: Option<String>,
    pub typ: Option<String>,
    jws: CompactJws<'a>,
}

pub fn parse_compact(token: &str) -> Result<UnverifiedJws<'_>, JoseError> {
    let jws = CompactJws::parse(token)?;
    let header: PresentedHeader =
        serde_json::from_slice(&jws.header).map_err(|_| JoseError::Malformed)?;
    Ok(UnverifiedJws {
        alg: header.alg,
        kid: header.kid,
        typ: header.typ,
        jws,
    })
}

impl UnverifiedJws<'_> {
    /// Verifies with the key named by `kid` among `keys`; the header's `alg` must be the key's own.
    pub fn verify<T: DeserializeOwned>(&self, keys: &[VerifyingKey]) -> Result<T, JoseError> {
        let alg = SigningAlg::parse(&self.alg).ok_or(JoseError::UntrustedKey)?;
        let kid = self.kid.as_deref().ok_or(JoseError::UntrustedKey)?;
        let key = keys
            .iter()
            .find(|key| key.kid == kid && key.verifier.alg() == alg)
            .ok_or(JoseError::UntrustedKey)?;
        if !self.jws.verifies_with(&key.verifier) {
            return Err(JoseError::BadSignature);
        }
        serde_json::from_slice(&self.jws.payload).map_err(|_| JoseError::Malformed)
    }
}

/// `{"keys": [...]}` from public JWKs as stored.
pub fn jwks_document(public_jwks: &[String]) -> Value {
    let keys: Vec<Value> = public_jwks
        .iter()
        .filter_map(|jwk| serde_json::from_str(jwk).ok())
        .collect();
    json!({ "keys": keys })
}

#[cfg(test)]
mod tests {
    use josekit::jwk::Jwk;
    use josekit::jws::JwsHeader;

    use super::*;

    #[test]
    fn sign_and_verify_both_algorithms() {
        for alg in SigningAlg::ALL {
            let generated = generate(alg, format!("kid-{}", alg.as_str())).unwrap();
            let signer =
                SigningKey::from_der(generated.kid.clone(), alg, &generated.private_der).unwrap();
            let token = signer.sign("JWT", &json!({"sub": "u"})).unwrap();
            let keys = vec![VerifyingKey::from_public_jwk(&generated.public_jwk).unwrap()];
            let claims: Value = parse_compact(&token).unwrap().verify(&keys).unwrap();
            assert_eq!(claims["sub"], "u");
            let jwk: Value = serde_json::from_str(&generated.public_jwk).unwrap();
            for private in ["d", "p", "q", "dp", "dq", "qi"] {
                assert!(jwk.get(private).is_none());
            }
        }
    }

    /// Both directions against josekit, an independent JWS implementation.
    #[test]
    fn tokens_interoperate_with_josekit() {
        for alg in SigningAlg::ALL {
            let generated = generate(alg, "k1".into()).unwrap();
            let ours = SigningKey::from_der("k1".into(), alg, &generated.private_der).unwrap();
            let token = ours.sign("JWT", &json!({"sub": "u"})).unwrap();
            let jwk = Jwk::from_bytes(generated.public_jwk.as_bytes()).unwrap();
            let (payload, header) = match alg {
                SigningAlg::RS256 => josekit::jws::deserialize_compact(
                    &token,
                    &RS256.verifier_from_jwk(&jwk).unwrap(),
                ),
                SigningAlg::ES256 => josekit::jws::deserialize_compact(
                    &token,
                    &ES256.verifier_from_jwk(&jwk).unwrap(),
                ),
            }
            .unwrap();
            assert_eq!(header.key_id(), Some("k1"));
            assert_eq!(payload, br#"{"sub":"u"}"#);

            let mut header = JwsHeader::new();
            header.set_key_id("k1");
            let theirs = match alg {
                SigningAlg::RS256 => josekit::jws::serialize_compact(
                    br#"{"sub":"them"}"#,
                    &header,
                    &RS256.signer_from_der(&generated.private_der).unwrap(),
                ),
                SigningAlg::ES256 => josekit::jws::serialize_compact(
                    br#"{"sub":"them"}"#,
                    &header,
                    &ES256.signer_from_der(&generated.private_der).unwrap(),
                ),
            }
            .unwrap();
            let keys = vec![VerifyingKey::from_public_jwk(&generated.public_jwk).unwrap()];
            let claims: Value = parse_compact(&theirs).unwrap().verify(&keys).unwrap();
            assert_eq!(claims["sub"], "them");
        }
    }

    #[test]
    fn rejects_none_tampering_wrong_alg_and_unknown_kid() {
        let generated = generate(SigningAlg::ES256, "k1".into()).unwrap();
        let signer =
            SigningKey::from_der("k1".into(), SigningAlg::ES256, &generated.private_der).unwrap();
        let keys = vec![VerifyingKey::from_public_jwk(&generated.public_jwk).unwrap()];
        let token = signer.sign("JWT", &json!({"sub": "u"})).unwrap();
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged_payload = URL_SAFE_NO_PAD.encode(r#"{"sub":"admin"}"#);
        parts[1] = &forged_payload;
        let forged = parts.join(".");
        let refused = |token: &str| {
            parse_compact(token).map_or(true, |jws| jws.verify::<Value>(&keys).is_err())
        };
        assert!(refused(&forged));
        let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"k1"}"#);
        assert!(refused(&format!("{none_header}.{forged_payload}.")));
        let rs_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":"k1"}"#);
        assert!(refused(&format!("{rs_header}.{}.{}", parts[1], parts[2])));
        let other_kid = URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256","kid":"k2"}"#);
        assert!(refused(&format!("{other_kid}.{}.{}", parts[1], parts[2])));
        assert!(parse_compact("a.b").is_err());
        assert!(parse_compact("!!.??.##").is_err());
    }

    #[test]
    fn public_jwks_must_fit_their_alg() {
        let rsa = generate(SigningAlg::RS256, "r".into()).unwrap();
        let ec = generate(SigningAlg::ES256, "e".into()).unwrap();
        let with = |jwk: &str, key: &str, value: Value| {
            let mut jwk: Value = serde_json::from_str(jwk).unwrap();
            jwk[key] = value;
            VerifyingKey::from_public_jwk(&jwk.to_string())
        };
        assert!(with(&rsa.public_jwk, "alg", json!("ES256")).is_err());
        assert!(with(&ec.public_jwk, "alg", json!("RS256")).is_err());
        assert!(with(&ec.public_jwk, "crv", json!("P-384")).is_err());
        assert!(with(&ec.public_jwk, "use", json!("enc")).is_err());
        assert!(with(&ec.public_jwk, "x", json!("AAAA")).is_err());
        assert!(with(&rsa.public_jwk, "e", json!("AQ")).is_err());
        assert!(with(&rsa.public_jwk, "alg", json!("HS256")).is_err());
    }
}
