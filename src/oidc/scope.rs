//! Scope values (RFC 6749 §3.3) and the ones this provider understands.

use super::{ErrorCode, OAuthError};

pub const OPENID: &str = "openid";
pub const PROFILE: &str = "profile";
pub const EMAIL: &str = "email";
pub const OFFLINE_ACCESS: &str = "offline_access";
pub const SUPPORTED: [&str; 4] = [OPENID, PROFILE, EMAIL, OFFLINE_ACCESS];

/// A set of scope tokens, kept in request order without duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope(Vec<String>);

impl Scope {
    /// Parses a scope string; unknown but well-formed values are dropped, as OIDC Core §3.1.2.1 allows.
    pub fn parse_supported(raw: Option<&str>) -> Result<Self, OAuthError> {
        let mut tokens: Vec<String> = Vec::new();
        for token in raw.unwrap_or("").split(' ').filter(|t| !t.is_empty()) {
            let well_formed = token
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b));
            if !well_formed {
                return Err(OAuthError::new(ErrorCode::InvalidScope, "malformed scope"));
            }
            if SUPPORTED.contains(&token) && !tokens.iter().any(|t| t == token) {
                tokens.push(token.to_string());
            }
        }
        Ok(Scope(tokens))
    }

    pub fn contains(&self, token: &str) -> bool {
        self.0.iter().any(|t| t == token)
    }

    pub fn is_subset_of(&self, other: &Scope) -> bool {
        self.0.iter().all(|t| other.contains(t))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_unknown_and_duplicates() {
        let scope = Scope::parse_supported(Some("email openid  foo openid")).unwrap();
        assert_eq!(scope.to_string(), "email openid");
    }

    #[test]
    fn refuses_quotes() {
        assert!(Scope::parse_supported(Some("open\"id")).is_err());
    }
}
