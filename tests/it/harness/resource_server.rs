//! A resource server's view of an access token: verified against the issuer's published JWKS
//! (found through discovery), then its issuer, audience, lifetime and scope checked, as RFC 9068
//! §4 asks of an API.

use josekit::jwk::Jwk;
use josekit::jws::{ES256, JwsVerifier, RS256};
use serde_json::Value;

use super::server::http;

async fn get_json(url: &str) -> Value {
    http()
        .get(url)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json")
}

/// The claims of `token` if an API with identifier `audience` that needs `scope` accepts it;
/// otherwise why it refuses.
pub async fn accept(
    issuer: &str,
    audience: &str,
    scope: &str,
    token: &str,
) -> Result<Value, String> {
    let discovery = get_json(&format!("{issuer}/.well-known/openid-configuration")).await;
    let jwks = get_json(discovery["jwks_uri"].as_str().expect("jwks_uri")).await;
    let header = part(token, 0).ok_or("no header")?;
    if header["typ"] != "at+jwt" {
        return Err(format!("typ {}", header["typ"]));
    }
    let kid = header["kid"].as_str().ok_or("no kid")?;
    let key = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|key| key["kid"] == kid)
        .ok_or("unknown kid")?;
    let key = Jwk::from_map(key.as_object().expect("jwk").clone()).map_err(|e| e.to_string())?;
    let verifier: Box<dyn JwsVerifier> = match header["alg"].as_str() {
        Some("RS256") => Box::new(RS256.verifier_from_jwk(&key).map_err(|e| e.to_string())?),
        Some("ES256") => Box::new(ES256.verifier_from_jwk(&key).map_err(|e| e.to_string())?),
        other => return Err(format!("alg {other:?}")),
    };
    let (payload, _) = josekit::jwt::decode_with_verifier(token, verifier.as_ref())
        .map_err(|e| format!("signature: {e}"))?;
    let claims: Value = serde_json::from_str(&payload.to_string()).expect("claims");
    if claims["iss"] != issuer {
        return Err(format!("issuer {}", claims["iss"]));
    }
    if claims["aud"] != audience {
        return Err(format!("audience {}", claims["aud"]));
    }
    let now = airlock::clock::now();
    if claims["exp"].as_i64().unwrap_or(0) <= now {
        return Err("expired".into());
    }
    let scopes = claims["scope"].as_str().unwrap_or("");
    if !scopes.split(' ').any(|s| s == scope) {
        return Err(format!("scope {scopes:?} lacks {scope}"));
    }
    Ok(claims)
}

/// The JSON of a compact JWT's part `index`, unverified.
pub fn part(token: &str, index: usize) -> Option<Value> {
    let encoded = token.split('.').nth(index)?;
    let bytes =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, encoded).ok()?;
    serde_json::from_slice(&bytes).ok()
}
