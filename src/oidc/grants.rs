//! Grant decisions: may this code or refresh token be redeemed by this client now? Checks only; the
//! service consumes atomically afterwards (check first, consume last).

use super::scope::Scope;
use super::{OAuthError, pkce};
use crate::model::{AuthorizationCode, ClientId, RefreshToken};

/// Outcome of presenting an authorization code that exists in this environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeCheck {
    Redeemable,
    /// Already redeemed: the grant it produced must be revoked (RFC 6749 §4.1.2).
    Replayed,
}

pub fn check_code(
    code: &AuthorizationCode,
    (client_id, issuer): (&ClientId, &str),
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
    now: i64,
) -> Result<CodeCheck, OAuthError> {
    let invalid = || OAuthError::invalid_grant("the authorization code is invalid or expired");
    if code.client_id != *client_id {
        return Err(invalid().with_detail("code issued to another client"));
    }
    if !is_same_issuer(&code.issuer, issuer) {
        return Err(invalid().with_detail("code issued under another issuer"));
    }
    if code.consumed {
        return Ok(CodeCheck::Replayed);
    }
    if now >= code.expires_at {
        return Err(invalid().with_detail("code expired"));
    }
    if redirect_uri != Some(code.redirect_uri.as_str()) {
        return Err(invalid().with_detail("redirect_uri differs from the authorization request"));
    }
    match (&code.code_challenge, code_verifier) {
        (Some(challenge), Some(verifier)) if pkce::verify(challenge, verifier) => {}
        (None, None) => {}
        _ => return Err(invalid().with_detail("PKCE verification failed")),
    }
    Ok(CodeCheck::Redeemable)
}

/// A code or grant is redeemed under the issuer it was minted under; '' marks one minted before
/// codes and grants were bound to an issuer, valid under either of its zone's issuers.
fn is_same_issuer(minted_under: &str, presented_at: &str) -> bool {
    minted_under.is_empty() || minted_under == presented_at
}

/// Outcome of presenting a refresh token that exists in this environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshCheck {
    /// Rotate, granting this scope.
    Rotate(Scope),
    /// A rotated token came back: the whole family must be revoked.
    Reused,
}

pub fn check_refresh(
    token: &RefreshToken,
    (client_id, issuer): (&ClientId, &str),
    requested_scope: Option<&str>,
    now: i64,
) -> Result<RefreshCheck, OAuthError> {
    let invalid = || OAuthError::invalid_grant("the refresh token is invalid, expired or revoked");
    if token.client_id != *client_id {
        return Err(invalid().with_detail("refresh token of another client"));
    }
    if !is_same_issuer(&token.issuer, issuer) {
        return Err(invalid().with_detail("refresh token issued under another issuer"));
    }
    if token.grant_revoked {
        return Err(invalid().with_detail("grant revoked"));
    }
    if token.rotated {
        return Ok(RefreshCheck::Reused);
    }
    if now >= token.expires_at.min(token.family_expires_at) {
        return Err(invalid().with_detail("refresh token expired"));
    }
    let granted = Scope::parse(Some(&token.scope))?;
    let scope = match requested_scope {
        None => granted,
        Some(raw) => {
            // The OIDC scopes this provider ignores were never granted; asking again is no excess.
            let requested = Scope::parse(Some(raw))?;
            let requested = Scope::from_tokens(
                requested
                    .iter()
                    .filter(|token| !super::scope::IGNORED.contains(token)),
            );
            if !requested.is_subset_of(&granted) || requested.is_empty() {
                return Err(OAuthError::new(
                    super::ErrorCode::InvalidScope,
                    "the requested scope exceeds the original grant",
                ));
            }
            requested
        }
    };
    Ok(RefreshCheck::Rotate(scope))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code() -> AuthorizationCode {
        AuthorizationCode {
            grant_id: "g".into(),
            client_id: "c".into(),
            user_id: "u".into(),
            redirect_uri: "https://app/cb".into(),
            scope: "openid".into(),
            nonce: None,
            code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
            auth_time: 0,
            expires_at: 60,
            consumed: false,
            issuer: ISSUER.into(),
            resource: None,
        }
    }

    const ISSUER: &str = "https://login.acme.com";
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    #[test]
    fn code_binding() {
        let c = code();
        let ok = check_code(
            &c,
            (&"c".into(), ISSUER),
            Some("https://app/cb"),
            Some(VERIFIER),
            10,
        );
        assert_eq!(ok.unwrap(), CodeCheck::Redeemable);
        assert!(
            check_code(
                &c,
                (&"other".into(), ISSUER),
                Some("https://app/cb"),
                Some(VERIFIER),
                10
            )
            .is_err()
        );
        assert!(
            check_code(
                &c,
                (&"c".into(), ISSUER),
                Some("https://app/cb2"),
                Some(VERIFIER),
                10
            )
            .is_err()
        );
        assert!(check_code(&c, (&"c".into(), ISSUER), None, Some(VERIFIER), 10).is_err());
        assert!(check_code(&c, (&"c".into(), ISSUER), Some("https://app/cb"), None, 10).is_err());
        assert!(
            check_code(
                &c,
                (&"c".into(), ISSUER),
                Some("https://app/cb"),
                Some(VERIFIER),
                60
            )
            .is_err()
        );
        let mut consumed = code();
        consumed.consumed = true;
        assert_eq!(
            check_code(
                &consumed,
                (&"c".into(), ISSUER),
                Some("https://app/cb"),
                Some(VERIFIER),
                10
            )
            .unwrap(),
            CodeCheck::Replayed
        );
    }

    #[test]
    fn codes_are_redeemed_under_their_own_issuer() {
        let c = code();
        let elsewhere = (&"c".into(), "https://op.example/acme/production");
        let redeem = |c: &AuthorizationCode, at| {
            check_code(c, at, Some("https://app/cb"), Some(VERIFIER), 10)
        };
        assert!(redeem(&c, elsewhere).is_err());
        let unbound = AuthorizationCode {
            issuer: String::new(),
            ..code()
        };
        assert!(redeem(&unbound, elsewhere).is_ok());
    }

    #[test]
    fn verifier_without_challenge_is_refused() {
        let mut c = code();
        c.code_challenge = None;
        assert!(
            check_code(
                &c,
                (&"c".into(), ISSUER),
                Some("https://app/cb"),
                Some(VERIFIER),
                10
            )
            .is_err()
        );
    }

    #[test]
    fn refresh_rules() {
        let token = RefreshToken {
            grant_id: "g".into(),
            client_id: "c".into(),
            user_id: "u".into(),
            scope: "openid offline_access".into(),
            auth_time: 0,
            expires_at: 100,
            rotated: false,
            grant_revoked: false,
            issuer: ISSUER.into(),
            family_expires_at: 1_000,
            resource: None,
        };
        assert!(matches!(
            check_refresh(
                &token,
                (&"c".into(), ISSUER),
                Some("openid offline_access"),
                1
            )
            .unwrap(),
            RefreshCheck::Rotate(_)
        ));
        assert!(check_refresh(&token, (&"c".into(), ISSUER), Some("openid email"), 1).is_err());
        assert!(check_refresh(&token, (&"x".into(), ISSUER), None, 1).is_err());
        assert!(check_refresh(&token, (&"c".into(), ISSUER), None, 100).is_err());
        assert!(check_refresh(&token, (&"c".into(), "https://other"), None, 1).is_err());
        let family_ended = RefreshToken {
            family_expires_at: 50,
            ..token.clone()
        };
        assert!(check_refresh(&family_ended, (&"c".into(), ISSUER), None, 50).is_err());
        let rotated = RefreshToken {
            rotated: true,
            ..token
        };
        assert_eq!(
            check_refresh(&rotated, (&"c".into(), ISSUER), None, 1).unwrap(),
            RefreshCheck::Reused
        );
    }
}
