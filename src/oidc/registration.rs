//! Client metadata of dynamic registration (RFC 7591 §2, OIDC Dynamic Client Registration §2):
//! what a client may ask to be, checked before anything is stored.

use serde::Deserialize;
use serde_json::Value;

use super::redirect;
use crate::model::{EnvKind, SigningAlg, TokenAuthMethod, is_clean_text};

/// RFC 7591 §3.2.2 error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationErrorCode {
    InvalidRedirectUri,
    InvalidClientMetadata,
}

/// A refused registration: its code and a description for the developer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationError {
    pub code: RegistrationErrorCode,
    pub description: String,
}

impl RegistrationError {
    pub fn metadata(description: impl Into<String>) -> Self {
        RegistrationError {
            code: RegistrationErrorCode::InvalidClientMetadata,
            description: description.into(),
        }
    }

    fn redirect_uri(description: impl Into<String>) -> Self {
        RegistrationError {
            code: RegistrationErrorCode::InvalidRedirectUri,
            description: description.into(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self.code {
            RegistrationErrorCode::InvalidRedirectUri => "invalid_redirect_uri",
            RegistrationErrorCode::InvalidClientMetadata => "invalid_client_metadata",
        }
    }
}

/// The metadata a registration request may carry; members we do not understand are ignored, as
/// RFC 7591 §2 requires.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ClientMetadata {
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    pub client_name: Option<String>,
    pub token_endpoint_auth_method: Option<String>,
    pub grant_types: Option<Vec<String>>,
    pub response_types: Option<Vec<String>>,
    pub id_token_signed_response_alg: Option<String>,
    pub jwks: Option<Value>,
    pub jwks_uri: Option<String>,
}

impl ClientMetadata {
    /// Parses a request body: a JSON object of metadata.
    pub fn parse(body: &[u8]) -> Result<Self, RegistrationError> {
        serde_json::from_slice(body).map_err(|error| {
            RegistrationError::metadata(format!("not valid client metadata: {error}"))
        })
    }
}

/// Metadata that passed every check, as a client of this provider.
#[derive(Debug, Clone)]
pub struct Registration {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub method: TokenAuthMethod,
    pub id_token_signed_response_alg: SigningAlg,
    pub jwks: Option<Value>,
    pub jwks_uri: Option<String>,
}

const GRANT_TYPES: [&str; 3] = ["authorization_code", "refresh_token", "client_credentials"];

/// The grant types a client of `method` can use here, as registration answers report them.
pub fn grant_types(method: TokenAuthMethod) -> Vec<&'static str> {
    match method {
        TokenAuthMethod::None => vec!["authorization_code", "refresh_token"],
        _ => GRANT_TYPES.to_vec(),
    }
}

/// Checks metadata for a zone of `kind`: the redirect URIs by the same rules as an admin's
/// registration (live zones refuse `http` and loopback), the grant and response types this
/// provider has, and a known authentication method and algorithm.
pub fn check(metadata: ClientMetadata, kind: EnvKind) -> Result<Registration, RegistrationError> {
    let grant_types = metadata
        .grant_types
        .unwrap_or_else(|| vec!["authorization_code".to_string()]);
    if let Some(unknown) = grant_types
        .iter()
        .find(|g| !GRANT_TYPES.contains(&g.as_str()))
    {
        return Err(RegistrationError::metadata(format!(
            "unsupported grant type {unknown}"
        )));
    }
    let uses_code = grant_types.iter().any(|g| g == "authorization_code");
    let response_types = metadata.response_types.unwrap_or_else(|| match uses_code {
        true => vec!["code".to_string()],
        false => Vec::new(),
    });
    if response_types.iter().any(|r| r != "code") {
        return Err(RegistrationError::metadata(
            "only the code response type is supported",
        ));
    }
    let asks_for_code = !response_types.is_empty();
    if uses_code != asks_for_code {
        return Err(RegistrationError::metadata(
            "the authorization_code grant and the code response type go together",
        ));
    }
    if uses_code && metadata.redirect_uris.is_empty() {
        return Err(RegistrationError::redirect_uri(
            "redirect_uris are required",
        ));
    }
    for (what, uris) in [
        ("redirect URI", &metadata.redirect_uris),
        (
            "post-logout redirect URI",
            &metadata.post_logout_redirect_uris,
        ),
    ] {
        if uris.len() > 50 {
            return Err(RegistrationError::redirect_uri("at most 50 of each kind"));
        }
        for uri in uris {
            redirect::check_registrable(uri, kind)
                .map_err(|why| RegistrationError::redirect_uri(format!("{what} {uri}: {why}")))?;
        }
    }
    let method = match metadata.token_endpoint_auth_method.as_deref() {
        None => TokenAuthMethod::ClientSecretBasic,
        Some(named) => TokenAuthMethod::parse(named).ok_or_else(|| {
            RegistrationError::metadata(format!("unsupported token_endpoint_auth_method {named}"))
        })?,
    };
    if method == TokenAuthMethod::None && grant_types.iter().any(|g| g == "client_credentials") {
        return Err(RegistrationError::metadata(
            "a public client cannot use client_credentials",
        ));
    }
    let id_token_signed_response_alg = match metadata.id_token_signed_response_alg.as_deref() {
        None => SigningAlg::RS256,
        Some(alg) => SigningAlg::parse(alg).ok_or_else(|| {
            RegistrationError::metadata("id_token_signed_response_alg is RS256 or ES256")
        })?,
    };
    let name = metadata
        .client_name
        .unwrap_or_else(|| "dynamically registered client".to_string());
    if name.trim().is_empty() || name.len() > 200 || !is_clean_text(&name) {
        return Err(RegistrationError::metadata(
            "client_name: at most 200 characters, without control characters",
        ));
    }
    Ok(Registration {
        name,
        redirect_uris: metadata.redirect_uris,
        post_logout_redirect_uris: metadata.post_logout_redirect_uris,
        method,
        id_token_signed_response_alg,
        jwks: metadata.jwks,
        jwks_uri: metadata.jwks_uri,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(json: &str) -> ClientMetadata {
        ClientMetadata::parse(json.as_bytes()).unwrap()
    }

    #[test]
    fn a_plain_web_client() {
        let registered = check(
            metadata(r#"{"redirect_uris":["https://rp.test/cb"],"client_name":"rp","extra":1}"#),
            EnvKind::Live,
        )
        .unwrap();
        assert_eq!(registered.method, TokenAuthMethod::ClientSecretBasic);
        assert_eq!(registered.name, "rp");
    }

    #[test]
    fn redirect_uris() {
        let code = |json: &str, kind| check(metadata(json), kind).unwrap_err().code;
        assert_eq!(
            code("{}", EnvKind::Test),
            RegistrationErrorCode::InvalidRedirectUri
        );
        assert_eq!(
            code(
                r#"{"redirect_uris":["https://rp.test/cb#frag"]}"#,
                EnvKind::Test
            ),
            RegistrationErrorCode::InvalidRedirectUri
        );
        assert_eq!(
            code(
                r#"{"redirect_uris":["http://localhost:3000/cb"]}"#,
                EnvKind::Live
            ),
            RegistrationErrorCode::InvalidRedirectUri
        );
        assert!(
            check(
                metadata(r#"{"redirect_uris":["http://localhost:3000/cb"]}"#),
                EnvKind::Test
            )
            .is_ok()
        );
        let machine = r#"{"grant_types":["client_credentials"]}"#;
        assert!(check(metadata(machine), EnvKind::Live).is_ok());
    }

    #[test]
    fn unsupported_metadata() {
        for json in [
            r#"{"redirect_uris":["https://a.test/cb"],"grant_types":["implicit"]}"#,
            r#"{"redirect_uris":["https://a.test/cb"],"response_types":["token"]}"#,
            r#"{"redirect_uris":["https://a.test/cb"],"token_endpoint_auth_method":"tls_client_auth"}"#,
            r#"{"redirect_uris":["https://a.test/cb"],"id_token_signed_response_alg":"none"}"#,
            r#"{"token_endpoint_auth_method":"none","grant_types":["client_credentials"],"response_types":[]}"#,
        ] {
            let refused = check(metadata(json), EnvKind::Test).unwrap_err();
            assert_eq!(
                refused.code,
                RegistrationErrorCode::InvalidClientMetadata,
                "{json}"
            );
        }
        assert!(ClientMetadata::parse(br#"{"redirect_uris":"https://a.test"}"#).is_err());
        assert!(ClientMetadata::parse(b"[]").is_err());
    }
}
