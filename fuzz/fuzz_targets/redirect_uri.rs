//! Redirect URIs: registration rules per zone kind, and the authorization request's match against
//! the registered ones (with `response_mode` and `state`, possibly inside a request object).
#![no_main]

use airlock::model::{Client, EnvKind, SigningAlg, TokenAuthMethod};
use airlock::oidc::authorize::verify_redirect;
use airlock::oidc::params::ParamBag;
use airlock::oidc::redirect::{AuthorizationResponse, check_registrable, web_origin};
use libfuzzer_sys::fuzz_target;

fn client(redirect_uris: Vec<String>) -> Client {
    Client {
        env_id: "env_fuzz".to_string().into(),
        client_id: "client_fuzz".to_string().into(),
        name: "fuzz".into(),
        secret_digest: None,
        public: true,
        first_party: false,
        redirect_uris,
        post_logout_redirect_uris: Vec::new(),
        id_token_signed_response_alg: SigningAlg::RS256,
        token_endpoint_auth_method: TokenAuthMethod::None,
        jwks: None,
        jwks_uri: None,
        secret_sealed: None,
        dynamically_registered: false,
        created_at: 0,
    }
}

fuzz_target!(|input: (Vec<&str>, &[u8])| {
    let (registered, query) = input;
    for uri in &registered {
        let live = check_registrable(uri, EnvKind::Live);
        let test = check_registrable(uri, EnvKind::Test);
        // Whatever a live zone accepts, a test zone accepts too.
        assert!(live.is_err() || test.is_ok(), "{uri:?}");
        let _ = web_origin(uri);
    }
    let Ok(params) = ParamBag::parse(query) else {
        return;
    };
    let client = client(registered.iter().map(|uri| uri.to_string()).collect());
    let Ok(verified) = verify_redirect(&params, &client, "https://issuer.example") else {
        return;
    };
    // Only an exact match is ever redirected to, and the answer goes nowhere else.
    assert!(registered.contains(&verified.uri()));
    match verified.success("a-code") {
        AuthorizationResponse::Redirect(location) => {
            assert!(location.starts_with(verified.uri()));
        }
        AuthorizationResponse::FormPost { action, .. } => assert_eq!(action, verified.uri()),
    }
});
