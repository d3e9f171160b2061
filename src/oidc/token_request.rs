//! The token request (RFC 6749 §4.1.3, §6, §4.4): one variant per grant with exactly its parameters.

use super::params::ParamBag;
use super::resource;
use super::{ErrorCode, OAuthError};

/// A token request: the grant, and the API (RFC 8707 `resource`) the access token is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    pub grant: GrantRequest,
    pub resource: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantRequest {
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
        match self.grant {
            GrantRequest::AuthorizationCode { .. } => "authorization_code",
            GrantRequest::RefreshToken { .. } => "refresh_token",
            GrantRequest::ClientCredentials { .. } => "client_credentials",
        }
    }

    pub fn parse(params: &ParamBag) -> Result<Self, OAuthError> {
        let grant = GrantRequest::parse(params)?;
        let resource = resource::requested_resource(params)?;
        Ok(TokenRequest { grant, resource })
    }
}

impl GrantRequest {
    fn parse(params: &ParamBag) -> Result<Self, OAuthError> {
        let owned = |name: &str| -> Result<Option<String>, OAuthError> {
            Ok(params.get(name)?.map(str::to_string))
        };
        match params.require("grant_type")? {
            "authorization_code" => Ok(GrantRequest::AuthorizationCode {
                code: params.require("code")?.to_string(),
                redirect_uri: owned("redirect_uri")?,
                code_verifier: owned("code_verifier")?,
            }),
            "refresh_token" => Ok(GrantRequest::RefreshToken {
                refresh_token: params.require("refresh_token")?.to_string(),
                scope: owned("scope")?,
            }),
            "client_credentials" => Ok(GrantRequest::ClientCredentials {
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
            TokenRequest::parse(&bag).unwrap().grant,
            GrantRequest::AuthorizationCode { .. }
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
