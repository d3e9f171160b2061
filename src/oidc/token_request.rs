//! The token request (RFC 6749 §4.1.3, §6, §4.4): one variant per grant with exactly its parameters.

use super::params::ParamBag;
use super::{ErrorCode, OAuthError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRequest {
    AuthorizationCode {
        code: String,
        redirect_uri: Option<String>,
        code_verifier: Option<String>,
    },
    RefreshToken {
        refresh_token: String,
        scope: Option<String>,
    },
    ClientCredentials {
        scope: Option<String>,
    },
}

impl TokenRequest {
    /// The `grant_type` this request was made with.
    pub fn grant_type(&self) -> &'static str {
        match self {
            TokenRequest::AuthorizationCode { .. } => "authorization_code",
            TokenRequest::RefreshToken { .. } => "refresh_token",
            TokenRequest::ClientCredentials { .. } => "client_credentials",
        }
    }

    pub fn parse(params: &ParamBag) -> Result<Self, OAuthError> {
        let owned = |name: &str| -> Result<Option<String>, OAuthError> {
            Ok(params.get(name)?.map(str::to_string))
        };
        match params.require("grant_type")? {
            "authorization_code" => Ok(TokenRequest::AuthorizationCode {
                code: params.require("code")?.to_string(),
                redirect_uri: owned("redirect_uri")?,
                code_verifier: owned("code_verifier")?,
            }),
            "refresh_token" => Ok(TokenRequest::RefreshToken {
                refresh_token: params.require("refresh_token")?.to_string(),
                scope: owned("scope")?,
            }),
            "client_credentials" => Ok(TokenRequest::ClientCredentials {
                scope: owned("scope")?,
            }),
            _ => Err(OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                "unsupported grant_type",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_grant() {
        let bag = ParamBag::parse(b"grant_type=authorization_code&code=x&redirect_uri=r").unwrap();
        assert!(matches!(
            TokenRequest::parse(&bag).unwrap(),
            TokenRequest::AuthorizationCode { .. }
        ));
        let bag = ParamBag::parse(b"grant_type=password&username=a").unwrap();
        assert_eq!(
            TokenRequest::parse(&bag).unwrap_err().code,
            ErrorCode::UnsupportedGrantType
        );
        let bag = ParamBag::parse(b"grant_type=authorization_code").unwrap();
        assert_eq!(
            TokenRequest::parse(&bag).unwrap_err().code,
            ErrorCode::InvalidRequest
        );
        let bag =
            ParamBag::parse(b"grant_type=refresh_token&grant_type=client_credentials").unwrap();
        assert_eq!(
            TokenRequest::parse(&bag).unwrap_err().code,
            ErrorCode::InvalidRequest
        );
    }
}
