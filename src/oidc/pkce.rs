//! PKCE (RFC 7636), S256 only.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::OAuthError;

fn is_unreserved(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Checks `code_challenge` / `code_challenge_method` of an authorization request.
/// Returns the challenge to bind to the code, if any.
pub fn check_challenge(
    challenge: Option<&str>,
    method: Option<&str>,
) -> Result<Option<String>, OAuthError> {
    match (challenge, method) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(OAuthError::invalid_request(
            "code_challenge_method without code_challenge",
        )),
        (Some(challenge), method) => {
            match method {
                Some("S256") => {}
                None | Some("plain") => {
                    return Err(OAuthError::invalid_request(
                        "code_challenge_method must be S256",
                    ));
                }
                Some(_) => {
                    return Err(OAuthError::invalid_request(
                        "unsupported code_challenge_method",
                    ));
                }
            }
            // An S256 challenge is the base64url of a SHA-256 digest: exactly 43 characters.
            if challenge.len() != 43 || !is_unreserved(challenge) {
                return Err(OAuthError::invalid_request("malformed code_challenge"));
            }
            Ok(Some(challenge.to_string()))
        }
    }
}

/// Verifies a `code_verifier` against the S256 challenge bound to a code.
pub fn verify(challenge: &str, verifier: &str) -> bool {
    if !(43..=128).contains(&verifier.len()) || !is_unreserved(verifier) {
        return false;
    }
    s256_challenge(verifier)
        .as_bytes()
        .ct_eq(challenge.as_bytes())
        .into()
}

/// The S256 `code_challenge` of a verifier, as a client computes it.
pub fn s256_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(verify(challenge, verifier));
        assert!(!verify(
            challenge,
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXx"
        ));
    }

    #[test]
    fn plain_and_missing_method_are_refused() {
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(check_challenge(Some(challenge), Some("plain")).is_err());
        assert!(check_challenge(Some(challenge), None).is_err());
        assert!(check_challenge(Some(challenge), Some("S256")).is_ok());
        assert!(check_challenge(Some("short"), Some("S256")).is_err());
    }

    #[test]
    fn short_or_odd_verifiers_fail() {
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(!verify(challenge, "abc"));
        assert!(!verify(challenge, &"a".repeat(129)));
    }
}
