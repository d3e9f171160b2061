//! How a client presented itself at the token endpoint (RFC 6749 §2.3, RFC 7523 §2.2): parsing
//! only, no lookups.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::percent_decode_str;

use super::OAuthError;
use super::client_assertion::JWT_BEARER;
use super::params::ParamBag;
use crate::crypto::jose;
use crate::model::is_clean_text;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    /// A signed JWT (`client_secret_jwt` or `private_key_jwt`; which one is the client's).
    ClientAssertion,
    None,
}

/// The claimed client identity and the secret offered for it, if any.
#[derive(Clone, PartialEq, Eq)]
pub struct PresentedClient {
    pub client_id: String,
    pub secret: Option<String>,
    /// The JWT of a `ClientAssertion`.
    pub assertion: Option<String>,
    pub method: AuthMethod,
}

impl std::fmt::Debug for PresentedClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresentedClient")
            .field("client_id", &self.client_id)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("assertion", &self.assertion.as_ref().map(|_| "<redacted>"))
            .field("method", &self.method)
            .finish()
    }
}

/// `authorization` is the raw `Authorization` header value, if any.
pub fn presented_client(
    authorization: Option<&str>,
    params: &ParamBag,
) -> Result<PresentedClient, OAuthError> {
    let body_id = params.get("client_id")?;
    let body_secret = params.get("client_secret")?;
    let basic = authorization
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, credentials)| credentials.trim());
    if let Some(assertion) = client_assertion(params)? {
        if basic.is_some() || body_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "use one client authentication method",
            ));
        }
        return assertion_client(body_id, assertion);
    }
    match (basic, body_secret) {
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "use one client authentication method",
        )),
        (Some(credentials), None) => {
            let (client_id, secret) = decode_basic(credentials)?;
            if body_id.is_some_and(|id| id != client_id) {
                return Err(OAuthError::invalid_client());
            }
            Ok(PresentedClient {
                client_id,
                secret: Some(secret),
                assertion: None,
                method: AuthMethod::ClientSecretBasic,
            })
        }
        (None, secret) => {
            let client_id = body_id.ok_or_else(OAuthError::invalid_client)?;
            Ok(PresentedClient {
                client_id: client_id.to_string(),
                secret: secret.map(str::to_string),
                assertion: None,
                method: if secret.is_some() {
                    AuthMethod::ClientSecretPost
                } else {
                    AuthMethod::None
                },
            })
        }
    }
}

/// The `client_assertion` of a request, if it carries one (RFC 7521 §4.2: with its type).
fn client_assertion(params: &ParamBag) -> Result<Option<&str>, OAuthError> {
    match (
        params.get("client_assertion_type")?,
        params.get("client_assertion")?,
    ) {
        (None, None) => Ok(None),
        (Some(JWT_BEARER), Some(assertion)) => Ok(Some(assertion)),
        (Some(JWT_BEARER), None) | (None, Some(_)) => Err(OAuthError::invalid_request(
            "client_assertion and client_assertion_type go together",
        )),
        (Some(_), _) => {
            Err(OAuthError::invalid_client().with_detail("unsupported client_assertion_type"))
        }
    }
}

/// The client a JWT assertion names: `client_id` if given, else the JWT's `sub` (RFC 7523 §3),
/// read unverified; which key must have signed it is decided once the client is found.
fn assertion_client(body_id: Option<&str>, assertion: &str) -> Result<PresentedClient, OAuthError> {
    let malformed = || OAuthError::invalid_client().with_detail("malformed client assertion");
    let parsed = jose::parse_compact(assertion).map_err(|_| malformed())?;
    let claims = parsed.unverified_claims().ok_or_else(malformed)?;
    let subject = claims.get("sub").and_then(|sub| sub.as_str());
    let client_id = match (body_id, subject) {
        (Some(id), Some(sub)) if id != sub => return Err(OAuthError::invalid_client()),
        (Some(id), _) => id,
        (None, Some(sub)) => sub,
        (None, None) => return Err(malformed()),
    };
    if client_id.is_empty() || !is_clean_text(client_id) {
        return Err(malformed());
    }
    Ok(PresentedClient {
        client_id: client_id.to_string(),
        secret: None,
        assertion: Some(assertion.to_string()),
        method: AuthMethod::ClientAssertion,
    })
}

/// RFC 6749 §2.3.1: id and secret are form-urlencoded before base64, so `+ / = %` survive.
fn decode_basic(credentials: &str) -> Result<(String, String), OAuthError> {
    let bad = || OAuthError::invalid_client().with_detail("malformed basic credentials");
    let decoded = STANDARD.decode(credentials).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let unescape = |part: &str| {
        percent_decode_str(&part.replace('+', " "))
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(|_| bad())
    };
    let (id, secret) = (unescape(id)?, unescape(secret)?);
    if id.is_empty() {
        return Err(bad());
    }
    if !is_clean_text(&id) || !is_clean_text(&secret) {
        return Err(OAuthError::invalid_request(
            "client credentials must not contain control characters",
        ));
    }
    Ok((id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_is_form_decoded() {
        let header = format!("Basic {}", STANDARD.encode("my%20client:a%2Bb%3D"));
        let presented = presented_client(Some(&header), &ParamBag::default()).unwrap();
        assert_eq!(presented.client_id, "my client");
        assert_eq!(presented.secret.as_deref(), Some("a+b="));
        assert_eq!(presented.method, AuthMethod::ClientSecretBasic);
    }

    #[test]
    fn garbage_basic_is_invalid_client() {
        let error = presented_client(Some("Basic %%%"), &ParamBag::default()).unwrap_err();
        assert_eq!(error.code, super::super::ErrorCode::InvalidClient);
    }

    #[test]
    fn two_methods_are_refused() {
        let header = format!("Basic {}", STANDARD.encode("c:s"));
        let params = ParamBag::parse(b"client_secret=s").unwrap();
        assert!(presented_client(Some(&header), &params).is_err());
    }

    #[test]
    fn post_and_none() {
        let params = ParamBag::parse(b"client_id=c&client_secret=s").unwrap();
        assert_eq!(
            presented_client(None, &params).unwrap().method,
            AuthMethod::ClientSecretPost
        );
        let params = ParamBag::parse(b"client_id=c").unwrap();
        assert_eq!(
            presented_client(None, &params).unwrap().method,
            AuthMethod::None
        );
    }
}
