//! JWT client authentication (RFC 7523 §2.2, §3; OIDC Core §9): the claims a client assertion
//! must carry, checked once its signature verified.

use serde::Deserialize;

/// `client_assertion_type` of a JWT client assertion.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How far clocks may disagree, in seconds.
const SKEW: i64 = 60;
/// The longest an assertion may stay valid: its `jti` is remembered that long.
const MAX_LIFETIME: i64 = 3600;

/// `aud` as a string or an array of strings.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains_any(&self, accepted: &[String]) -> bool {
        match self {
            Audience::One(aud) => accepted.contains(aud),
            Audience::Many(auds) => auds.iter().any(|aud| accepted.contains(aud)),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct AssertionClaims {
    pub iss: String,
    pub sub: String,
    pub aud: Audience,
    #[serde(deserialize_with = "numeric_date")]
    pub exp: i64,
    pub jti: String,
    #[serde(default, deserialize_with = "optional_numeric_date")]
    pub iat: Option<i64>,
    #[serde(default, deserialize_with = "optional_numeric_date")]
    pub nbf: Option<i64>,
}

/// RFC 7519 §2 NumericDate: seconds since the epoch, which may have a fraction; whole seconds kept.
fn numeric_date<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let seconds = f64::deserialize(deserializer)?;
    if !seconds.is_finite() || seconds.abs() > 1e15 {
        return Err(serde::de::Error::custom("not a NumericDate"));
    }
    Ok(seconds.floor() as i64)
}

fn optional_numeric_date<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    numeric_date(deserializer).map(Some)
}

/// Until when an assertion's `jti` must be remembered: as long as the assertion is accepted.
pub fn remember_until(claims: &AssertionClaims) -> i64 {
    claims.exp.saturating_add(SKEW)
}

/// Why verified claims do not authenticate `client_id`, if they do not. `accepted` are the
/// audiences this zone answers to: its issuer and the endpoints that take client credentials.
pub fn check_claims(
    claims: &AssertionClaims,
    client_id: &str,
    accepted: &[String],
    now: i64,
) -> Result<(), &'static str> {
    if claims.iss != client_id || claims.sub != client_id {
        return Err("iss and sub must be the client_id");
    }
    if !claims.aud.contains_any(accepted) {
        return Err("aud is neither this issuer nor its endpoint");
    }
    if claims.exp <= now - SKEW {
        return Err("expired");
    }
    if claims.exp > now + MAX_LIFETIME {
        return Err("exp is more than an hour away");
    }
    if claims.nbf.is_some_and(|nbf| nbf > now + SKEW)
        || claims.iat.is_some_and(|iat| iat > now + SKEW)
    {
        return Err("not valid yet");
    }
    if claims.jti.is_empty() || claims.jti.len() > 256 {
        return Err("jti missing or longer than 256 characters");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(aud: Audience, exp: i64) -> AssertionClaims {
        AssertionClaims {
            iss: "c1".into(),
            sub: "c1".into(),
            aud,
            exp,
            jti: "j".into(),
            iat: Some(1_000),
            nbf: None,
        }
    }

    #[test]
    fn audience_issuer_or_endpoint() {
        let accepted = [
            "https://op/a/b".to_string(),
            "https://op/a/b/token".to_string(),
        ];
        let token_endpoint = claims(Audience::One("https://op/a/b/token".into()), 1_100);
        assert!(check_claims(&token_endpoint, "c1", &accepted, 1_000).is_ok());
        let listed = claims(
            Audience::Many(vec!["x".into(), "https://op/a/b".into()]),
            1_100,
        );
        assert!(check_claims(&listed, "c1", &accepted, 1_000).is_ok());
        let other_zone = claims(Audience::One("https://op/a/c".into()), 1_100);
        assert!(check_claims(&other_zone, "c1", &accepted, 1_000).is_err());
    }

    #[test]
    fn lifetime_and_identity() {
        let accepted = ["i".to_string()];
        let aud = || Audience::One("i".into());
        assert!(check_claims(&claims(aud(), 900), "c1", &accepted, 1_000).is_err());
        assert!(check_claims(&claims(aud(), 10_000), "c1", &accepted, 1_000).is_err());
        assert!(check_claims(&claims(aud(), 1_100), "c2", &accepted, 1_000).is_err());
        let mut early = claims(aud(), 1_100);
        early.nbf = Some(2_000);
        assert!(check_claims(&early, "c1", &accepted, 1_000).is_err());
    }

    #[test]
    fn aud_forms_parse() {
        let one: AssertionClaims =
            serde_json::from_str(r#"{"iss":"c","sub":"c","aud":"a","exp":1,"jti":"j"}"#).unwrap();
        assert!(matches!(one.aud, Audience::One(_)));
        let many: AssertionClaims =
            serde_json::from_str(r#"{"iss":"c","sub":"c","aud":["a","b"],"exp":1,"jti":"j"}"#)
                .unwrap();
        assert!(matches!(many.aud, Audience::Many(_)));
        let fractional: AssertionClaims = serde_json::from_str(
            r#"{"iss":"c","sub":"c","aud":"a","exp":1796227411.5,"iat":1796227291.18,"jti":"j"}"#,
        )
        .unwrap();
        assert_eq!(
            (fractional.exp, fractional.iat),
            (1796227411, Some(1796227291))
        );
        let missing_jti =
            serde_json::from_str::<AssertionClaims>(r#"{"iss":"c","sub":"c","aud":"a","exp":1}"#);
        assert!(missing_jti.is_err());
    }
}
