//! Scope values (RFC 6749 §3.3) and the ones this provider understands.

use super::{ErrorCode, OAuthError};

pub const OPENID: &str = "openid";
pub const PROFILE: &str = "profile";
pub const EMAIL: &str = "email";
pub const OFFLINE_ACCESS: &str = "offline_access";
pub const SUPPORTED: [&str; 4] = [OPENID, PROFILE, EMAIL, OFFLINE_ACCESS];
/// Scopes OIDC Core §5.4 defines that this provider has no claims for: ignored when requested, as
/// §3.1.2.1 allows, and never the name of an API's scope.
pub const IGNORED: [&str; 2] = ["address", "phone"];

/// Whether `token` is one of the scopes OIDC defines (granted or ignored), not an API's.
pub fn is_oidc(token: &str) -> bool {
    SUPPORTED.contains(&token) || IGNORED.contains(&token)
}

/// RFC 6749 §3.3 `scope-token`: printable ASCII except space, `"` and `\`.
pub fn is_scope_token(token: &str) -> bool {
    !token.is_empty()
        && token
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}

/// The most scope tokens a request may carry (each is compared with the others).
const MAX_TOKENS: usize = 200;

/// A set of scope tokens, kept in request order without duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope(Vec<String>);

impl Scope {
    /// Parses a scope string: every well-formed token, in order, without duplicates. Which of them
    /// may be granted is decided by `resource::decide_scope`.
    pub fn parse(raw: Option<&str>) -> Result<Self, OAuthError> {
        let mut tokens: Vec<String> = Vec::new();
        for token in raw.unwrap_or("").split(' ').filter(|t| !t.is_empty()) {
            if tokens.len() == MAX_TOKENS {
                return Err(OAuthError::new(ErrorCode::InvalidScope, "too many scopes"));
            }
            if !is_scope_token(token) {
                return Err(OAuthError::new(ErrorCode::InvalidScope, "malformed scope"));
            }
            if !tokens.iter().any(|t| t == token) {
                tokens.push(token.to_string());
            }
        }
        Ok(Scope(tokens))
    }

    pub fn from_tokens<'t>(tokens: impl IntoIterator<Item = &'t str>) -> Self {
        let mut scope = Scope::default();
        for token in tokens {
            if !scope.contains(token) {
                scope.0.push(token.to_string());
            }
        }
        scope
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
    fn keeps_order_and_drops_duplicates() {
        let scope = Scope::parse(Some("email openid  foo openid")).unwrap();
        assert_eq!(scope.to_string(), "email openid foo");
    }

    #[test]
    fn a_flood_of_scopes_is_refused() {
        let many: Vec<String> = (0..500).map(|n| format!("s{n}")).collect();
        assert!(Scope::parse(Some(&many.join(" "))).is_err());
        assert!(Scope::parse(Some(&many[..200].join(" "))).is_ok());
    }

    #[test]
    fn refuses_quotes() {
        assert!(Scope::parse(Some("open\"id")).is_err());
    }
}
