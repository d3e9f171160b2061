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
    alg: Option<String>,
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
    /// A private member: never accepted in a JWKS given to us.
    d: Option<String>,
}

fn big_number(member: &str) -> Result<BigNum, JoseError> {
    let bytes = URL_SAFE_NO_PAD.decode(member).map_err(key_error)?;
    BigNum::from_slice(&bytes).map_err(key_error)
}

/// The algorithm a public JWK's key type fits (RSA: RS256, EC P-256: ES256), if it is one we
/// verify, and if its `alg` and `use`, when present, agree.
fn jwk_alg(jwk: &PublicJwk) -> Option<SigningAlg> {
    let alg = match (jwk.kty.as_str(), jwk.crv.as_deref()) {
        ("RSA", _) => SigningAlg::RS256,
        ("EC", Some("P-256")) => SigningAlg::ES256,
        _ => return None,
    };
    let agrees = jwk.alg.as_deref().is_none_or(|named| named == alg.as_str())
        && jwk.key_use.as_deref().is_none_or(|used| used == "sig");
    agrees.then_some(alg)
}

fn public_key(jwk: &PublicJwk, alg: SigningAlg) -> Result<PKey<openssl::pkey::Public>, JoseError> {
    Ok(match alg {
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
    })
}

impl VerifyingKey {
    /// A signing key's public JWK: it must name its `kid` and an `alg` its `kty` (and for EC
    /// `crv`) fits, and `use`, if present, must be `sig`.
    pub fn from_public_jwk(public_jwk: &str) -> Result<Self, JoseError> {
        let jwk: PublicJwk = serde_json::from_str(public_jwk).map_err(key_error)?;
        let alg = jwk_alg(&jwk).ok_or(JoseError::UntrustedKey)?;
        let (Some(kid), Some(_)) = (jwk.kid.clone(), &jwk.alg) else {
            return Err(JoseError::UntrustedKey);
        };
        let verifier = JwsVerifier::new(alg, public_key(&jwk, alg)?)?;
        Ok(VerifyingKey { kid, verifier })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }
}

/// A public key of a JWKS document (a client's, or an issuer's seen by a relying party).
#[derive(Debug)]
pub struct JwksKey {
    kid: Option<String>,
    verifier: JwsVerifier,
}

/// The most keys a JWKS document may hold.
const MAX_JWKS_KEYS: usize = 20;

/// The keys of a JWKS document (`{"keys": [...]}`) that verify RS256 or ES256; keys of
/// other types are skipped. Refused: a document that is not a JWKS, one with a private member (a
/// leaked private key), one with too many keys, or one without any usable key.
pub fn jwks_keys(jwks: &str) -> Result<Vec<JwksKey>, JoseError> {
    #[derive(Deserialize)]
    struct Document {
        keys: Vec<PublicJwk>,
    }
    let document: Document = serde_json::from_str(jwks).map_err(|_| JoseError::Malformed)?;
    if document.keys.len() > MAX_JWKS_KEYS {
        return Err(JoseError::Key(format!("at most {MAX_JWKS_KEYS} keys")));
    }
    if document.keys.iter().any(|jwk| jwk.d.is_some()) {
        return Err(JoseError::Key("a JWKS publishes public keys only".into()));
    }
    let mut keys = Vec::new();
    for jwk in &document.keys {
        let Some(alg) = jwk_alg(jwk) else { continue };
        let verifier = JwsVerifier::new(alg, public_key(jwk, alg)?)?;
        keys.push(JwksKey {
            kid: jwk.kid.clone(),
            verifier,
        });
    }
    if keys.is_empty() {
        return Err(JoseError::Key(
            "no RSA (2048 bits or more) or P-256 signing key".into(),
        ));
    }
    Ok(keys)
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

impl UnverifiedJws<'_> {
    /// Verifies a JWT (RS256 or ES256) with one of a JWKS's keys of the header's algorithm: the
    /// one its `kid` names, or any without a `kid` (on either side).
    pub fn verify_with_jwks<T: DeserializeOwned>(&self, keys: &[JwksKey]) -> Result<T, JoseError> {
        let alg = SigningAlg::parse(&self.alg).ok_or(JoseError::UntrustedKey)?;
        let mut candidates = keys.iter().filter(|key| {
            key.verifier.alg() == alg
                && (self.kid.is_none()
                    || key.kid.is_none()
                    || key.kid.as_deref() == self.kid.as_deref())
        });
        let first = candidates.next().ok_or(JoseError::UntrustedKey)?;
        let verified = std::iter::once(first)
            .chain(candidates)
            .any(|key| self.jws.verifies_with(&key.verifier));
        if !verified {
            return Err(JoseError::BadSignature);
        }
        serde_json::from_slice(&self.jws.payload).map_err(|_| JoseError::Malformed)
    }

    /// Verifies an HS256 JWT made with a shared `secret` (`client_secret_jwt`); any other `alg`
    /// is refused.
    pub fn verify_hs256<T: DeserializeOwned>(&self, secret: &[u8]) -> Result<T, JoseError> {
        if self.alg != "HS256" {
            return Err(JoseError::UntrustedKey);
        }
        if !self.jws.verifies_hs256(secret) {
            return Err(JoseError::BadSignature);
        }
        serde_json::from_slice(&self.jws.payload).map_err(|_| JoseError::Malformed)
    }

    /// The payload's members, unverified: only to find out who claims to have signed it.
    pub fn unverified_claims(&self) -> Option<serde_json::Map<String, Value>> {
        serde_json::from_slice(&self.jws.payload).ok()
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

    /// A client's own keys, made and used by another JOSE library: its ES256 and RS256 JWTs
    /// verify, with or without `kid`; HS256 and `none` never do against keys.
    #[test]
    fn client_keys_verify_another_librarys_jwts() {
        let ec = ES256.generate_key_pair().unwrap();
        let rsa = RS256.generate_key_pair(2048).unwrap();
        let mut ec_public = ec.to_jwk_public_key();
        ec_public.set_key_id("e1");
        let document = json!({ "keys": [ec_public.as_ref(), rsa.to_jwk_public_key().as_ref()] });
        let keys = jwks_keys(&document.to_string()).unwrap();
        let mut payload = josekit::jwt::JwtPayload::new();
        payload.set_subject("c1");
        let mut header = JwsHeader::new();
        header.set_key_id("e1");
        let signer = ES256.signer_from_der(ec.to_der_private_key()).unwrap();
        let token = josekit::jwt::encode_with_signer(&payload, &header, &signer).unwrap();
        let claims: Value = parse_compact(&token)
            .unwrap()
            .verify_with_jwks(&keys)
            .unwrap();
        assert_eq!(claims["sub"], "c1");
        let signer = RS256.signer_from_der(rsa.to_der_private_key()).unwrap();
        let token = josekit::jwt::encode_with_signer(&payload, &JwsHeader::new(), &signer).unwrap();
        assert!(
            parse_compact(&token)
                .unwrap()
                .verify_with_jwks::<Value>(&keys)
                .is_ok()
        );
        let hmac = josekit::jws::HS256
            .signer_from_bytes(b"0123456789abcdef0123456789abcdef")
            .unwrap();
        let token = josekit::jwt::encode_with_signer(&payload, &JwsHeader::new(), &hmac).unwrap();
        let parsed = parse_compact(&token).unwrap();
        assert!(parsed.verify_with_jwks::<Value>(&keys).is_err());
        let claims: Value = parsed
            .verify_hs256(b"0123456789abcdef0123456789abcdef")
            .unwrap();
        assert_eq!(claims["sub"], "c1");
        assert!(parsed.verify_hs256::<Value>(b"another key").is_err());
        // A JWKS key without a `kid` verifies a JWT that names one.
        let unnamed = json!({ "keys": [ec.to_jwk_public_key().as_ref()] });
        let unnamed = jwks_keys(&unnamed.to_string()).unwrap();
        let signer = ES256.signer_from_der(ec.to_der_private_key()).unwrap();
        let token = josekit::jwt::encode_with_signer(&payload, &header, &signer).unwrap();
        assert!(
            parse_compact(&token)
                .unwrap()
                .verify_with_jwks::<Value>(&unnamed)
                .is_ok()
        );
        let private = json!({ "keys": [ec.to_jwk_key_pair().as_ref()] });
        assert!(
            jwks_keys(&private.to_string()).is_err(),
            "private members refused"
        );
    }
}
