//! JOSE: key generation and JWK rendering with josekit; compact JWS signing and verification against
//! an algorithm allow-list with OpenSSL's key objects (see `signature`). Only RS256 and ES256 are ever
//! accepted; `alg: none` and HMAC never are.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jws::{ES256, RS256};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::signature::{PrivateKey, PublicKey};
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

#[derive(Serialize)]
struct JwsHeader<'a> {
    alg: &'a str,
    kid: &'a str,
    typ: &'a str,
}

/// A private key ready to sign, decrypted once and kept in memory.
#[derive(Debug)]
pub struct SigningKey {
    kid: String,
    alg: SigningAlg,
    key: PrivateKey,
}

impl SigningKey {
    pub fn from_der(kid: String, alg: SigningAlg, der: &[u8]) -> Result<Self, JoseError> {
        let key = PrivateKey::from_der(alg, der).map_err(key_error)?;
        Ok(SigningKey { kid, alg, key })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    /// Compact JWS of `claims` with header `{alg, kid, typ}`.
    pub fn sign(&self, typ: &str, claims: &impl Serialize) -> Result<String, JoseError> {
        let header = JwsHeader {
            alg: self.alg.as_str(),
            kid: &self.kid,
            typ,
        };
        let header = serde_json::to_vec(&header).map_err(key_error)?;
        let payload = serde_json::to_vec(claims).map_err(key_error)?;
        let mut input = URL_SAFE_NO_PAD.encode(header);
        input.push('.');
        input.push_str(&URL_SAFE_NO_PAD.encode(payload));
        let signature = self.key.sign(input.as_bytes()).map_err(key_error)?;
        input.push('.');
        input.push_str(&URL_SAFE_NO_PAD.encode(signature));
        Ok(input)
    }
}

/// A published public key able to verify.
#[derive(Debug)]
pub struct VerifyingKey {
    kid: String,
    alg: SigningAlg,
    key: PublicKey,
}

/// The members of a public JWK that name and rebuild the key.
#[derive(serde::Deserialize)]
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
        if !fits
            || jwk
                .key_use
                .as_deref()
                .is_some_and(|key_use| key_use != "sig")
        {
            return Err(JoseError::UntrustedKey);
        }
        let decode = |member: &str| URL_SAFE_NO_PAD.decode(member).map_err(key_error);
        let key = match alg {
            SigningAlg::RS256 => PublicKey::rsa(&decode(&jwk.n)?, &decode(&jwk.e)?),
            SigningAlg::ES256 => PublicKey::p256(&decode(&jwk.x)?, &decode(&jwk.y)?),
        }
        .map_err(key_error)?;
        Ok(VerifyingKey { kid, alg, key })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }
}

/// The parts of a compact JWS, before any trust decision.
pub struct UnverifiedJws<'a> {
    pub alg: String,
    pub kid: Option<String>,
    pub typ: Option<String>,
    signing_input: &'a str,
    signature: Vec<u8>,
    payload: Vec<u8>,
}

pub fn parse_compact(token: &str) -> Result<UnverifiedJws<'_>, JoseError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JoseError::Malformed);
    };
    let decode = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| JoseError::Malformed)
    };
    let header: Value =
        serde_json::from_slice(&decode(header)?).map_err(|_| JoseError::Malformed)?;
    let field = |name: &str| header.get(name).and_then(Value::as_str).map(str::to_string);
    Ok(UnverifiedJws {
        alg: field("alg").ok_or(JoseError::Malformed)?,
        kid: field("kid"),
        typ: field("typ"),
        signing_input: &token[..token.rfind('.').ok_or(JoseError::Malformed)?],
        signature: decode(signature)?,
        payload: decode(payload)?,
    })
}

impl UnverifiedJws<'_> {
    /// Verifies with the key named by `kid` among `keys`; the header's `alg` must be the key's own.
    pub fn verify<T: DeserializeOwned>(&self, keys: &[VerifyingKey]) -> Result<T, JoseError> {
        let alg = SigningAlg::parse(&self.alg).ok_or(JoseError::UntrustedKey)?;
        let kid = self.kid.as_deref().ok_or(JoseError::UntrustedKey)?;
        let key = keys
            .iter()
            .find(|key| key.kid == kid && key.alg == alg)
            .ok_or(JoseError::UntrustedKey)?;
        if !key
            .key
            .verifies(self.signing_input.as_bytes(), &self.signature)
        {
            return Err(JoseError::BadSignature);
        }
        serde_json::from_slice(&self.payload).map_err(|_| JoseError::Malformed)
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

    #[test]
    fn rejects_none_tampering_and_unknown_kid() {
        let generated = generate(SigningAlg::ES256, "k1".into()).unwrap();
        let signer =
            SigningKey::from_der("k1".into(), SigningAlg::ES256, &generated.private_der).unwrap();
        let keys = vec![VerifyingKey::from_public_jwk(&generated.public_jwk).unwrap()];
        let token = signer.sign("JWT", &json!({"sub": "u"})).unwrap();
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged_payload = URL_SAFE_NO_PAD.encode(r#"{"sub":"admin"}"#);
        parts[1] = &forged_payload;
        let forged = parts.join(".");
        assert!(
            parse_compact(&forged)
                .unwrap()
                .verify::<Value>(&keys)
                .is_err()
        );
        let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"k1"}"#);
        let unsigned = format!("{none_header}.{forged_payload}.");
        assert!(
            parse_compact(&unsigned)
                .unwrap()
                .verify::<Value>(&keys)
                .is_err()
        );
        assert!(parse_compact("a.b").is_err());
        assert!(parse_compact("!!.??.##").is_err());
    }
}
