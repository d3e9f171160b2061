//! Resource indicators (RFC 8707) and scopes: which API an access token is for, and which of the
//! requested scopes it may carry.
//!
//! The scopes OIDC defines are the zone's own; every other scope belongs to the API the request
//! names with `resource`, and must be both defined by that API and granted to the client.

use super::params::ParamBag;
use super::scope::{self, Scope};
use super::{ErrorCode, OAuthError};
use crate::model::{GrantedApi, is_clean_text};

/// Longest API identifier accepted.
pub const MAX_IDENTIFIER_LEN: usize = 2048;

fn invalid_target(description: &'static str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidTarget, description)
}

fn invalid_scope(description: &'static str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidScope, description)
}

/// A `resource` this zone has no API for, or not one granted to the client: the same answer for
/// an API of another zone as for one that never existed.
pub fn unknown_resource() -> OAuthError {
    invalid_target("the resource is not an API this client may use")
}

/// Why `identifier` cannot name an API: RFC 8707 §2 wants an absolute URI without a fragment.
pub fn check_identifier(identifier: &str) -> Result<(), &'static str> {
    if identifier.len() > MAX_IDENTIFIER_LEN || !is_clean_text(identifier) {
        return Err("an API identifier is at most 2048 characters, without control characters");
    }
    let url = url::Url::parse(identifier).map_err(|_| "an API identifier is an absolute URI")?;
    if url.fragment().is_some() || identifier.contains('#') {
        return Err("an API identifier has no fragment");
    }
    if identifier.contains(' ') {
        return Err("an API identifier has no spaces");
    }
    Ok(())
}

/// The `resource` of a request, if any. One API per request: its token names one audience.
pub fn requested_resource(params: &ParamBag) -> Result<Option<String>, OAuthError> {
    if params.is_repeated("resource") {
        return Err(invalid_target("one resource per request"));
    }
    match params.get("resource")? {
        None => Ok(None),
        Some(resource) => {
            check_identifier(resource).map_err(|why| {
                invalid_target("the resource is not an absolute URI").with_detail(why)
            })?;
            Ok(Some(resource.to_string()))
        }
    }
}

/// Whether the API grants `token` to the client (defined by the API, and granted).
fn allows(target: &GrantedApi, token: &str) -> bool {
    target.api.scopes.iter().any(|s| s == token) && target.granted.iter().any(|s| s == token)
}

/// The scope a user's authorization may grant: the OIDC scopes this provider supports, the ones
/// it ignores dropped (OIDC Core §3.1.2.1), and every other token granted to the client by the API
/// `target` names. Anything else is `invalid_scope`.
pub fn decide_scope(requested: &Scope, target: Option<&GrantedApi>) -> Result<Scope, OAuthError> {
    let mut kept = Vec::new();
    for token in requested.iter() {
        if scope::SUPPORTED.contains(&token) {
            kept.push(token);
        } else if scope::IGNORED.contains(&token) {
            continue;
        } else {
            match target {
                Some(target) if allows(target, token) => kept.push(token),
                Some(_) => {
                    return Err(invalid_scope(
                        "a scope is not granted to this client for this API",
                    )
                    .with_detail(format!("scope {token}")));
                }
                None => {
                    return Err(invalid_scope("unknown scope; name its API with resource")
                        .with_detail(format!("scope {token}")));
                }
            }
        }
    }
    Ok(Scope::from_tokens(kept))
}

/// The scope of a client's own token (client_credentials) for the API `target` names: the
/// requested scopes, each granted, or without a request every scope granted. No user's scope.
pub fn machine_scope(requested: Option<&Scope>, target: &GrantedApi) -> Result<Scope, OAuthError> {
    match requested {
        None => Ok(Scope::from_tokens(
            target
                .granted
                .iter()
                .map(String::as_str)
                .filter(|token| allows(target, token)),
        )),
        Some(requested) => {
            if requested.iter().any(scope::is_oidc) {
                return Err(invalid_scope(
                    "client_credentials tokens carry no user scopes",
                ));
            }
            decide_scope(requested, Some(target))
        }
    }
}

/// What of a stored grant's `scope` still holds: its OIDC scopes, and the API scopes the API
/// still defines and the client is still granted (an admin may have taken some back since).
pub fn still_granted(scope: &Scope, target: Option<&GrantedApi>) -> Scope {
    Scope::from_tokens(scope.iter().filter(|token| {
        scope::SUPPORTED.contains(token) || target.is_some_and(|target| allows(target, token))
    }))
}

/// The scope as a user consents to it: each API scope qualified by its API
/// (`read:orders@https://api.acme.com`), so consenting to one API's scope is never consenting to
/// another API's scope of the same name. (Identifiers hold no spaces: each stays one token.)
pub fn consented(scope: &Scope, resource: Option<&str>) -> Scope {
    let qualified: Vec<String> = scope
        .iter()
        .map(|token| match scope::is_oidc(token) {
            true => token.to_string(),
            false => format!("{token}@{}", resource.unwrap_or_default()),
        })
        .collect();
    Scope::from_tokens(qualified.iter().map(String::as_str))
}

/// A `resource` given again at the token endpoint must be the one the grant is for (RFC 8707 §2.2).
pub fn check_token_resource(
    presented: Option<&str>,
    granted: Option<&str>,
) -> Result<(), OAuthError> {
    match presented {
        Some(presented) if Some(presented) != granted => Err(invalid_target(
            "the resource is not the one this grant was issued for",
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Api, ApiId, SigningAlg};

    fn orders(granted: &[&str]) -> GrantedApi {
        GrantedApi {
            api: Api {
                env_id: "e".into(),
                api_id: ApiId::new("api_1"),
                identifier: "https://api.acme.test".into(),
                scopes: vec!["read:orders".into(), "write:orders".into()],
                access_token_ttl: None,
                signing_alg: SigningAlg::ES256,
                created_at: 0,
            },
            granted: granted.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn scope(raw: &str) -> Scope {
        Scope::parse(Some(raw)).unwrap()
    }

    #[test]
    fn identifiers_are_absolute_uris_without_fragments() {
        assert!(check_identifier("https://api.acme.test/v1").is_ok());
        assert!(check_identifier("urn:acme:orders").is_ok());
        assert!(check_identifier("/relative").is_err());
        assert!(check_identifier("https://api.acme.test/#frag").is_err());
        assert!(check_identifier("https://api.acme.test/\u{7}").is_err());
        assert!(check_identifier(&format!("https://a.test/{}", "x".repeat(3000))).is_err());
    }

    #[test]
    fn resource_parameter() {
        let bag = ParamBag::parse(b"resource=https%3A%2F%2Fapi.acme.test").unwrap();
        assert_eq!(
            requested_resource(&bag).unwrap().as_deref(),
            Some("https://api.acme.test")
        );
        let bag = ParamBag::parse(b"resource=a&resource=b").unwrap();
        assert_eq!(
            requested_resource(&bag).unwrap_err().code,
            ErrorCode::InvalidTarget
        );
        let bag = ParamBag::parse(b"resource=not-a-uri").unwrap();
        assert_eq!(
            requested_resource(&bag).unwrap_err().code,
            ErrorCode::InvalidTarget
        );
        assert_eq!(requested_resource(&ParamBag::default()).unwrap(), None);
    }

    #[test]
    fn user_scopes() {
        let target = orders(&["read:orders"]);
        let decided = decide_scope(&scope("openid phone read:orders"), Some(&target)).unwrap();
        assert_eq!(decided.to_string(), "openid read:orders");
        let refused = decide_scope(&scope("openid write:orders"), Some(&target)).unwrap_err();
        assert_eq!(refused.code, ErrorCode::InvalidScope);
        let unknown = decide_scope(&scope("openid read:orders"), None).unwrap_err();
        assert_eq!(unknown.code, ErrorCode::InvalidScope);
        assert_eq!(
            decide_scope(&scope("openid address email"), None)
                .unwrap()
                .to_string(),
            "openid email"
        );
    }

    #[test]
    fn a_granted_scope_the_api_no_longer_defines_is_not_granted() {
        let mut target = orders(&["read:orders", "delete:orders"]);
        assert!(decide_scope(&scope("delete:orders"), Some(&target)).is_err());
        assert_eq!(
            machine_scope(None, &target).unwrap().to_string(),
            "read:orders"
        );
        target.granted.clear();
        assert_eq!(
            still_granted(&scope("openid read:orders"), Some(&target)).to_string(),
            "openid"
        );
    }

    #[test]
    fn machine_scopes() {
        let target = orders(&["read:orders", "write:orders"]);
        assert_eq!(
            machine_scope(None, &target).unwrap().to_string(),
            "read:orders write:orders"
        );
        assert_eq!(
            machine_scope(Some(&scope("write:orders")), &target)
                .unwrap()
                .to_string(),
            "write:orders"
        );
        let user = machine_scope(Some(&scope("openid read:orders")), &target).unwrap_err();
        assert_eq!(user.code, ErrorCode::InvalidScope);
    }

    #[test]
    fn consent_to_one_api_is_not_consent_to_another() {
        let asked = scope("openid read:orders");
        let given = consented(&asked, Some("https://a.test"));
        assert_eq!(given.to_string(), "openid read:orders@https://a.test");
        assert!(!consented(&asked, Some("https://b.test")).is_subset_of(&given));
    }

    #[test]
    fn token_endpoint_resource_must_match_the_grant() {
        assert!(check_token_resource(None, Some("https://a")).is_ok());
        assert!(check_token_resource(Some("https://a"), Some("https://a")).is_ok());
        let other = check_token_resource(Some("https://b"), Some("https://a")).unwrap_err();
        assert_eq!(other.code, ErrorCode::InvalidTarget);
        assert!(check_token_resource(Some("https://a"), None).is_err());
    }
}
