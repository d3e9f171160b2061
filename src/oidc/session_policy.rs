//! Step 3 of an authorization request: with the browser's session (`prompt`, `max_age`, a hint of
//! who should be signed in) and the consent the person gave before, what happens next.

use super::authorize::ValidatedAuthorization;
use super::scope::Scope;
use super::{ErrorCode, OAuthError};
use crate::model::{Client, Session, UserId};

/// Step 3a: is the browser's session good enough, or must the person sign in?
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authentication {
    /// Continue as this user, authenticated at `auth_time`.
    Authenticated {
        user_id: UserId,
        auth_time: i64,
    },
    ShowLogin,
}

/// `hint_subject` is the `sub` of a verified `id_token_hint`, if one was sent.
pub fn authentication(
    request: &ValidatedAuthorization,
    session: Option<&Session>,
    hint_subject: Option<&str>,
    now: i64,
) -> Result<Authentication, OAuthError> {
    let usable = session.filter(|session| {
        // max_age=0 is prompt=login (OIDC Core §3.1.2.1), whatever the clock's resolution.
        let fresh_enough = request
            .max_age
            .is_none_or(|max_age| max_age > 0 && now - session.auth_time <= max_age);
        let matches_hint = hint_subject.is_none_or(|sub| session.user_id == *sub);
        !request.prompt.login && !request.prompt.create && fresh_enough && matches_hint
    });
    match usable {
        Some(session) => Ok(Authentication::Authenticated {
            user_id: session.user_id.clone(),
            auth_time: session.auth_time,
        }),
        None if request.prompt.none => Err(OAuthError::new(
            ErrorCode::LoginRequired,
            "the user must sign in",
        )),
        None => Ok(Authentication::ShowLogin),
    }
}

/// Step 3b: may a code be issued now, or must the person consent first?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentStep {
    Issue,
    ShowConsent,
}

pub fn consent(
    request: &ValidatedAuthorization,
    client: &Client,
    remembered: Option<&Scope>,
) -> Result<ConsentStep, OAuthError> {
    let covered = client.first_party || remembered.is_some_and(|s| request.scope.is_subset_of(s));
    let must_ask = request.prompt.consent || !covered;
    match (must_ask, request.prompt.none) {
        (false, _) => Ok(ConsentStep::Issue),
        (true, true) => Err(OAuthError::new(
            ErrorCode::ConsentRequired,
            "the user must consent",
        )),
        (true, false) => Ok(ConsentStep::ShowConsent),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::authorize::tests::{BASE, client, request};

    #[test]
    fn prompt_none_without_session_is_login_required() {
        let c = client(false, false);
        let r = request(&format!("{BASE}&prompt=none"), &c).unwrap();
        assert_eq!(
            authentication(&r, None, None, 100).unwrap_err().code,
            ErrorCode::LoginRequired
        );
    }

    #[test]
    fn max_age_and_prompt_login_force_a_new_login() {
        let c = client(false, false);
        let session = Session {
            user_id: "u".into(),
            auth_time: 100,
            expires_at: 1000,
        };
        let r = request(&format!("{BASE}&max_age=1"), &c).unwrap();
        assert_eq!(
            authentication(&r, Some(&session), None, 102).unwrap(),
            Authentication::ShowLogin
        );
        assert!(matches!(
            authentication(&r, Some(&session), None, 101).unwrap(),
            Authentication::Authenticated { auth_time: 100, .. }
        ));
        let r = request(&format!("{BASE}&max_age=0"), &c).unwrap();
        assert_eq!(
            authentication(&r, Some(&session), None, 100).unwrap(),
            Authentication::ShowLogin
        );
        let r = request(&format!("{BASE}&prompt=login"), &c).unwrap();
        assert_eq!(
            authentication(&r, Some(&session), None, 101).unwrap(),
            Authentication::ShowLogin
        );
        let r = request(BASE, &c).unwrap();
        assert_eq!(
            authentication(&r, Some(&session), Some("other"), 101).unwrap(),
            Authentication::ShowLogin
        );
    }

    #[test]
    fn consent_rules() {
        let third = client(false, false);
        let first = client(false, true);
        let r = request(BASE, &third).unwrap();
        assert_eq!(consent(&r, &third, None).unwrap(), ConsentStep::ShowConsent);
        assert_eq!(consent(&r, &first, None).unwrap(), ConsentStep::Issue);
        let remembered = Scope::parse(Some("openid email")).unwrap();
        assert_eq!(
            consent(&r, &third, Some(&remembered)).unwrap(),
            ConsentStep::Issue
        );
        let r = request(&format!("{BASE}&prompt=none"), &third).unwrap();
        assert_eq!(
            consent(&r, &third, None).unwrap_err().code,
            ErrorCode::ConsentRequired
        );
    }
}
