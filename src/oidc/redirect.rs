//! Redirect URIs: registration policy per environment kind, exact matching, and building the
//! authorization response (query or form_post) once the URI is verified.

use url::Url;

use super::OAuthError;
use crate::model::{Client, EnvKind};

/// Why a redirect URI cannot be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectUriRejection {
    #[error("not an absolute URI")]
    NotAbsolute,
    #[error("a redirect URI must not carry a fragment")]
    Fragment,
    #[error(
        "a redirect URI is https (http too in test environments), or a native app's private-use scheme in reverse-domain form (com.example.app:/cb)"
    )]
    ForbiddenScheme,
    #[error("live environments only accept https redirect URIs")]
    InsecureForLive,
    #[error("live environments refuse loopback and localhost redirect URIs")]
    LoopbackForLive,
}

/// Checks a redirect URI before it is registered in an environment of `kind`.
///
/// Web clients are sent back over https (and, in test environments only, plain http). Native apps
/// may use a private-use scheme, which RFC 8252 §7.1 requires to be a reverse domain name the app
/// owns: a scheme without a dot (`ws`, `ftp`, `javascript`, `myapp`) is refused.
pub fn check_registrable(uri: &str, kind: EnvKind) -> Result<(), RedirectUriRejection> {
    let parsed = Url::parse(uri).map_err(|_| RedirectUriRejection::NotAbsolute)?;
    if parsed.fragment().is_some() || uri.contains('#') {
        return Err(RedirectUriRejection::Fragment);
    }
    match parsed.scheme() {
        "https" | "http" if parsed.host().is_none() => Err(RedirectUriRejection::NotAbsolute),
        "http" if kind == EnvKind::Live => Err(RedirectUriRejection::InsecureForLive),
        "https" | "http" if kind == EnvKind::Live && is_loopback(&parsed) => {
            Err(RedirectUriRejection::LoopbackForLive)
        }
        "https" | "http" => Ok(()),
        private if is_reverse_domain(private) => Ok(()),
        _ => Err(RedirectUriRejection::ForbiddenScheme),
    }
}

/// The web origin (`scheme://host[:port]`, as browsers send it in `Origin`) of an http(s) redirect
/// URI; None for a native app's scheme.
pub fn web_origin(uri: &str) -> Option<String> {
    let parsed = Url::parse(uri).ok()?;
    matches!(parsed.scheme(), "https" | "http").then(|| parsed.origin().ascii_serialization())
}

/// `com.example.app`: at least two non-empty labels.
fn is_reverse_domain(scheme: &str) -> bool {
    let labels: Vec<&str> = scheme.split('.').collect();
    labels.len() >= 2 && labels.iter().all(|label| !label.is_empty())
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback() || ip.is_unspecified(),
        // `[::ffff:127.0.0.1]` is the IPv4 loopback too.
        Some(url::Host::Ipv6(ip)) => {
            ip.is_loopback()
                || ip.is_unspecified()
                || ip
                    .to_ipv4_mapped()
                    .is_some_and(|v4| v4.is_loopback() || v4.is_unspecified())
        }
        None => false,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    Query,
    FormPost,
}

/// A redirect URI that exactly matches one registered for the client. Only this type can build an
/// authorization response, so nothing redirects before client and redirect URI are verified.
#[derive(Debug, Clone)]
pub struct VerifiedRedirect {
    uri: String,
    mode: ResponseMode,
    state: Option<String>,
    issuer: String,
}

/// What the browser receives: a 303 to `Location`, or an auto-submitting form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizationResponse {
    Redirect(String),
    FormPost {
        action: String,
        fields: Vec<(String, String)>,
    },
}

impl VerifiedRedirect {
    /// Exact string comparison against the client's registered URIs (no prefix, no normalisation).
    pub fn verify(
        client: &Client,
        requested: &str,
        mode: ResponseMode,
        state: Option<&str>,
        issuer: &str,
    ) -> Option<Self> {
        client
            .redirect_uris
            .iter()
            .any(|registered| registered == requested)
            .then(|| VerifiedRedirect {
                uri: requested.to_string(),
                mode,
                state: state.map(str::to_string),
                issuer: issuer.to_string(),
            })
    }

    pub fn uri(&self) -> &str {
        &self.uri
    }

    pub fn mode(&self) -> ResponseMode {
        self.mode
    }

    pub fn state(&self) -> Option<&str> {
        self.state.as_deref()
    }

    pub fn success(&self, code: &str) -> AuthorizationResponse {
        self.respond(vec![("code".into(), code.into())])
    }

    pub fn error(&self, error: &OAuthError) -> AuthorizationResponse {
        self.respond(vec![
            ("error".into(), error.code.as_str().into()),
            ("error_description".into(), error.description.into()),
        ])
    }

    fn respond(&self, mut fields: Vec<(String, String)>) -> AuthorizationResponse {
        if let Some(state) = &self.state {
            fields.push(("state".into(), state.clone()));
        }
        // RFC 9207: the issuer identifies which zone answered, against mix-up attacks.
        fields.push(("iss".into(), self.issuer.clone()));
        match self.mode {
            ResponseMode::FormPost => AuthorizationResponse::FormPost {
                action: self.uri.clone(),
                fields,
            },
            ResponseMode::Query => {
                let mut location = self.uri.clone();
                let encoded: String = form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(fields.iter())
                    .finish();
                location.push(if location.contains('?') { '&' } else { '?' });
                location.push_str(&encoded);
                AuthorizationResponse::Redirect(location)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SigningAlg;

    fn client(uris: &[&str]) -> Client {
        Client {
            env_id: "e".into(),
            client_id: "c".into(),
            name: "n".into(),
            secret_digest: None,
            public: false,
            first_party: false,
            redirect_uris: uris.iter().map(|u| u.to_string()).collect(),
            post_logout_redirect_uris: vec![],
            id_token_signed_response_alg: SigningAlg::RS256,
            token_endpoint_auth_method: crate::model::TokenAuthMethod::ClientSecretBasic,
            jwks: None,
            jwks_uri: None,
            secret_sealed: None,
            dynamically_registered: false,
            created_at: 0,
        }
    }

    #[test]
    fn live_refuses_http_and_loopback() {
        use RedirectUriRejection::*;
        assert_eq!(
            check_registrable("http://app.example/cb", EnvKind::Live),
            Err(InsecureForLive)
        );
        assert_eq!(
            check_registrable("https://localhost/cb", EnvKind::Live),
            Err(LoopbackForLive)
        );
        assert_eq!(
            check_registrable("https://127.0.0.1/cb", EnvKind::Live),
            Err(LoopbackForLive)
        );
        assert_eq!(
            check_registrable("https://[::1]/cb", EnvKind::Live),
            Err(LoopbackForLive)
        );
        assert!(check_registrable("https://app.example/cb", EnvKind::Live).is_ok());
        assert!(check_registrable("http://localhost:3000/cb", EnvKind::Test).is_ok());
        assert_eq!(
            check_registrable("https://app.example/cb#x", EnvKind::Test),
            Err(Fragment)
        );
        assert_eq!(
            check_registrable("javascript:alert(1)", EnvKind::Test),
            Err(ForbiddenScheme)
        );
    }

    #[test]
    fn web_origins_are_serialised_as_browsers_send_them() {
        let origin = |uri| web_origin(uri);
        assert_eq!(
            origin("https://App.Example/cb?x=1").as_deref(),
            Some("https://app.example")
        );
        assert_eq!(
            origin("https://app.example:443/cb").as_deref(),
            Some("https://app.example")
        );
        assert_eq!(
            origin("http://localhost:3000/cb").as_deref(),
            Some("http://localhost:3000")
        );
        assert_eq!(origin("com.example.app:/cb"), None);
    }

    #[test]
    fn mapped_loopback_is_loopback() {
        for uri in [
            "https://[::ffff:127.0.0.1]/cb",
            "https://[::ffff:7f00:1]/cb",
        ] {
            assert_eq!(
                check_registrable(uri, EnvKind::Live),
                Err(RedirectUriRejection::LoopbackForLive),
                "{uri}"
            );
        }
    }

    #[test]
    fn only_web_and_reverse_domain_schemes() {
        use RedirectUriRejection::*;
        for uri in [
            "ws://app.example/cb",
            "wss://app.example/cb",
            "ftp://app.example/cb",
        ] {
            assert_eq!(check_registrable(uri, EnvKind::Live), Err(ForbiddenScheme));
            assert_eq!(check_registrable(uri, EnvKind::Test), Err(ForbiddenScheme));
        }
        assert_eq!(
            check_registrable("myapp:/cb", EnvKind::Live),
            Err(ForbiddenScheme)
        );
        assert_eq!(
            check_registrable("com.:/cb", EnvKind::Live),
            Err(ForbiddenScheme)
        );
        assert!(check_registrable("com.example.app:/oauth2redirect", EnvKind::Live).is_ok());
        assert!(check_registrable("com.example.app:/oauth2redirect", EnvKind::Test).is_ok());
    }

    #[test]
    fn matching_is_exact() {
        let c = client(&["https://app.example/cb"]);
        let verify = |uri| VerifiedRedirect::verify(&c, uri, ResponseMode::Query, None, "i");
        assert!(verify("https://app.example/cb").is_some());
        assert!(verify("https://app.example/cb/x").is_none());
        assert!(verify("https://app.example/cb?x=1").is_none());
        assert!(verify("https://APP.example/cb").is_none());
    }

    #[test]
    fn query_response_keeps_registered_query_and_encodes_state() {
        let c = client(&["https://app.example/cb?a=1"]);
        let redirect = VerifiedRedirect::verify(
            &c,
            "https://app.example/cb?a=1",
            ResponseMode::Query,
            Some("x y&z"),
            "https://op/p/e",
        )
        .unwrap();
        assert_eq!(
            redirect.success("abc"),
            AuthorizationResponse::Redirect(
                "https://app.example/cb?a=1&code=abc&state=x+y%26z&iss=https%3A%2F%2Fop%2Fp%2Fe"
                    .into()
            )
        );
    }
}
