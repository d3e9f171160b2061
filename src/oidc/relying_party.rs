//! What a relying party or resource server checks of a token it was handed, once its signature
//! verified (RFC 7519 §4.1, RFC 9068 §4): the issuer, the lifetime, the audience.

use serde_json::Value;

/// How far clocks may disagree, in seconds.
const SKEW: i64 = 60;

/// Why the claims do not hold for `issuer` (and `audience`, when one is required) at `now`.
pub fn check_claims(
    claims: &Value,
    issuer: &str,
    audience: Option<&str>,
    now: i64,
) -> Result<(), String> {
    match claims["iss"].as_str() {
        Some(iss) if iss == issuer => {}
        Some(iss) => return Err(format!("issued by {iss}, not {issuer}")),
        None => return Err("the token names no issuer".into()),
    }
    let exp = claims["exp"].as_f64().ok_or("the token has no expiry")?;
    if exp as i64 <= now {
        return Err(format!("expired {} seconds ago", now - exp as i64));
    }
    if claims["nbf"]
        .as_f64()
        .is_some_and(|nbf| nbf as i64 > now + SKEW)
    {
        return Err("not valid yet (nbf)".into());
    }
    if let Some(audience) = audience {
        let named = match &claims["aud"] {
            Value::String(aud) => aud == audience,
            Value::Array(auds) => auds.iter().any(|aud| aud.as_str() == Some(audience)),
            _ => false,
        };
        if !named {
            return Err(format!("the audience is {}, not {audience}", claims["aud"]));
        }
    }
    Ok(())
}

/// `PROJECT/ENV` of a path issuer (`https://host/base/PROJECT/ENV`) as the URL reads; `None`
/// for a custom domain's issuer, which names no path.
pub fn path_zone(issuer: &str) -> Option<(String, String)> {
    let url = url::Url::parse(issuer).ok()?;
    let mut segments: Vec<&str> = url.path_segments()?.filter(|s| !s.is_empty()).collect();
    let name = segments.pop()?;
    let project = segments.pop()?;
    Some((project.to_string(), name.to_string()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn issuer_lifetime_audience() {
        let claims = json!({ "iss": "https://op/acme/sandbox", "exp": 2_000, "aud": ["a", "b"] });
        assert!(check_claims(&claims, "https://op/acme/sandbox", Some("b"), 1_000).is_ok());
        assert!(check_claims(&claims, "https://op/acme/production", None, 1_000).is_err());
        assert!(check_claims(&claims, "https://op/acme/sandbox", None, 2_000).is_err());
        assert!(check_claims(&claims, "https://op/acme/sandbox", Some("c"), 1_000).is_err());
        assert!(check_claims(&json!({ "iss": "i" }), "i", None, 0).is_err());
    }

    #[test]
    fn zones_of_issuers() {
        assert_eq!(
            path_zone("http://localhost:8080/acme/sandbox"),
            Some(("acme".into(), "sandbox".into()))
        );
        assert_eq!(path_zone("https://login.acme.com"), None);
    }
}
