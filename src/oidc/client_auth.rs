//! How a client presented itself at the token endpoint (RFC 6749 §2.3): parsing only, no lookups.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::percent_decode_str;

use super::OAuthError;
use super::params::ParamBag;
use crate::model::is_clean_text;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    None,
}

/// The claimed client identity and the secret offered for it, if any.
#[derive(Clone, PartialEq, Eq)]
pub struct PresentedClient {
    pub client_id: String,
    pub secret: Option<String>,
    pub method: AuthMethod,
}

impl std::fmt::Debug for PresentedClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresentedClient")
            .field("client_id", &self.client_id)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
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
                method: AuthMethod::ClientSecretBasic,
            })
        }
        (None, secret) => {
            let client_id = body_id.ok_or_else(OAuthError::invalid_client)?;
            Ok(PresentedClient {
                client_id: client_id.to_string(),
                secret: secret.map(str::to_string),
                method: if secret.is_some() {
                    AuthMethod::ClientSecretPost
                } else {
                    AuthMethod::None
                },
            })
        }
    }
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
