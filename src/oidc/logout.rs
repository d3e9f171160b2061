//! RP-Initiated Logout 1.0: which parameters a logout request carries, and whether it may send the
//! browser back to the relying party. Nothing redirects unless an ID token this issuer signed names
//! the client, and the post-logout redirect URI is registered for it, byte for byte.

use super::params::ParamBag;
use crate::model::{Client, UserId};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogoutRequest {
    pub id_token_hint: Option<String>,
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
}

/// Why a logout request is refused (shown on a page, never redirected).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoutRejection {
    Malformed,
    InvalidHint,
    ClientMismatch,
    UnknownClient,
    UnregisteredRedirect,
}

impl LogoutRejection {
    pub fn message(self) -> &'static str {
        match self {
            LogoutRejection::Malformed => "The sign-out request is malformed.",
            LogoutRejection::InvalidHint => {
                "The id_token_hint is not valid: it was not issued by this environment."
            }
            LogoutRejection::ClientMismatch => {
                "The client_id does not match the audience of the id_token_hint."
            }
            LogoutRejection::UnknownClient => "The client is not registered in this environment.",
            LogoutRejection::UnregisteredRedirect => {
                "The post_logout_redirect_uri is not a registered one for this client."
            }
        }
    }
}

impl LogoutRequest {
    pub fn parse(params: &ParamBag) -> Result<Self, LogoutRejection> {
        let get = |name: &str| {
            params
                .get(name)
                .map(|value| value.map(str::to_string))
                .map_err(|_| LogoutRejection::Malformed)
        };
        Ok(LogoutRequest {
            id_token_hint: get("id_token_hint")?,
            client_id: get("client_id")?,
            post_logout_redirect_uri: get("post_logout_redirect_uri")?,
            state: get("state")?,
        })
    }

    /// The request's own parameters, to be carried through a confirmation form.
    pub fn fields(&self) -> Vec<(String, String)> {
        [
            ("id_token_hint", &self.id_token_hint),
            ("client_id", &self.client_id),
            ("post_logout_redirect_uri", &self.post_logout_redirect_uri),
            ("state", &self.state),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.clone().map(|value| (name.to_string(), value)))
        .collect()
    }

    /// The client the request is about: the hint's audience, which `client_id` must agree with.
    pub fn client_id<'a>(
        &'a self,
        hint_audience: Option<&'a str>,
    ) -> Result<Option<&'a str>, LogoutRejection> {
        match (self.client_id.as_deref(), hint_audience) {
            (Some(named), Some(audience)) if named != audience => {
                Err(LogoutRejection::ClientMismatch)
            }
            (named, audience) => Ok(audience.or(named)),
        }
    }
}

/// Whether to ask the person before ending their session: unless a valid ID token of this issuer
/// names the session's own user, the request may come from anyone (a link, an image, another site),
/// and one click on a confirmation form proves it does not.
pub fn needs_confirmation(
    hint_subject: Option<&str>,
    session_user: &UserId,
    confirmed: bool,
) -> bool {
    !confirmed && hint_subject != Some(session_user.as_str())
}

/// Where to send the browser after signing out, if anywhere. `hint_verified` says whether a valid
/// ID token of this issuer came with the request; `client` is the client it names.
pub fn post_logout_redirect(
    request: &LogoutRequest,
    hint_verified: bool,
    client: Option<&Client>,
) -> Result<Option<String>, LogoutRejection> {
    let Some(uri) = &request.post_logout_redirect_uri else {
        return Ok(None);
    };
    let client = client.ok_or(LogoutRejection::UnknownClient)?;
    if !client
        .post_logout_redirect_uris
        .iter()
        .any(|registered| registered == uri)
    {
        return Err(LogoutRejection::UnregisteredRedirect);
    }
    if !hint_verified {
        // Without proof that the client's own user is leaving, sign out but stay here.
        return Ok(None);
    }
    let mut location = uri.clone();
    if let Some(state) = &request.state {
        let encoded: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("state", state)
            .finish();
        location.push(if location.contains('?') { '&' } else { '?' });
        location.push_str(&encoded);
    }
    Ok(Some(location))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SigningAlg;

    #[test]
    fn only_a_hint_for_the_session_user_or_a_confirmation_skips_the_question() {
        assert!(!needs_confirmation(Some("u1"), &"u1".into(), false));
        assert!(needs_confirmation(Some("u2"), &"u1".into(), false));
        assert!(needs_confirmation(None, &"u1".into(), false));
        assert!(!needs_confirmation(None, &"u1".into(), true));
    }

    #[test]
    fn a_request_is_carried_through_the_form_as_it_came() {
        let request = LogoutRequest {
            id_token_hint: None,
            client_id: Some("c".into()),
            post_logout_redirect_uri: None,
            state: Some("s p".into()),
        };
        assert_eq!(
            request.fields(),
            vec![
                ("client_id".to_string(), "c".to_string()),
                ("state".to_string(), "s p".to_string())
            ]
        );
    }

    fn client() -> Client {
        Client {
            env_id: "e".into(),
            client_id: "c".into(),
            name: "n".into(),
            secret_digest: None,
            public: false,
            first_party: false,
            redirect_uris: vec![],
            post_logout_redirect_uris: vec!["https://rp.example/bye".into()],
            id_token_signed_response_alg: SigningAlg::RS256,
            token_endpoint_auth_method: crate::model::TokenAuthMethod::ClientSecretBasic,
            jwks: None,
            jwks_uri: None,
            secret_sealed: None,
            dynamically_registered: false,
            created_at: 0,
        }
    }

    fn request(uri: Option<&str>, state: Option<&str>) -> LogoutRequest {
        LogoutRequest {
            id_token_hint: Some("h".into()),
            client_id: None,
            post_logout_redirect_uri: uri.map(str::to_string),
            state: state.map(str::to_string),
        }
    }

    #[test]
    fn redirects_only_to_a_registered_uri_with_a_verified_hint() {
        let c = client();
        let state = "a!\"#$%&'()*,-./:<=>?@[\\]^_`{|}~z";
        let target = post_logout_redirect(
            &request(Some("https://rp.example/bye"), Some(state)),
            true,
            Some(&c),
        )
        .unwrap()
        .unwrap();
        let parsed = url::Url::parse(&target).unwrap();
        let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
        assert_eq!(pairs, vec![("state".to_string(), state.to_string())]);
        assert_eq!(
            post_logout_redirect(
                &request(Some("https://rp.example/bye"), None),
                true,
                Some(&c)
            ),
            Ok(Some("https://rp.example/bye".into()))
        );
        assert_eq!(
            post_logout_redirect(
                &request(Some("https://rp.example/bye?foo=bar"), None),
                true,
                Some(&c)
            ),
            Err(LogoutRejection::UnregisteredRedirect)
        );
        assert_eq!(
            post_logout_redirect(
                &request(Some("https://rp.example/bye"), None),
                false,
                Some(&c)
            ),
            Ok(None)
        );
        assert_eq!(
            post_logout_redirect(&request(Some("https://rp.example/bye"), None), true, None),
            Err(LogoutRejection::UnknownClient)
        );
        assert_eq!(
            post_logout_redirect(&request(None, Some("s")), true, Some(&c)),
            Ok(None)
        );
    }

    #[test]
    fn client_id_must_match_the_hint() {
        let mut r = request(None, None);
        r.client_id = Some("other".into());
        assert_eq!(r.client_id(Some("c")), Err(LogoutRejection::ClientMismatch));
        assert_eq!(r.client_id(None), Ok(Some("other")));
        r.client_id = Some("c".into());
        assert_eq!(r.client_id(Some("c")), Ok(Some("c")));
    }

    #[test]
    fn repeated_parameters_are_malformed() {
        let bag = ParamBag::parse(b"state=a&state=b").unwrap();
        assert_eq!(LogoutRequest::parse(&bag), Err(LogoutRejection::Malformed));
    }
}
