//! The authorization-code flow with PKCE, end to end through a certified relying-party library.

use airlock::model::{EnvKind, SigningAlg};
use openidconnect::core::{CoreAuthenticationFlow, CoreJwsSigningAlgorithm};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, CsrfToken, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    Scope, TokenResponse,
};

use crate::backend_test;
use crate::harness::server::http;
use crate::harness::{Browser, TestServer, rp};

async fn code_flow_with_pkce(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let client = rp::for_issuer(
        &zone.issuer,
        &zone.client_id,
        Some(&zone.client_secret),
        &zone.redirect_uri,
    )
    .await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();

    let browser = Browser::new();
    let login = browser.get(url.as_str()).await;
    assert!(
        login.html().contains("SANDBOX"),
        "test environments show the sandbox badge"
    );
    let wrong = browser.login(&login, &zone.email, "not the password").await;
    assert!(wrong.html().contains("Wrong email or password"));
    let consent = browser.login(&wrong, &zone.email, &zone.password).await;
    assert!(
        consent.html().contains("Allow access"),
        "third-party clients ask for consent"
    );
    let back = browser.consent(&consent, true).await;
    let params = back.redirect_params();
    assert!(back.location().starts_with(&zone.redirect_uri));
    assert_eq!(params["state"], *state.secret());
    assert_eq!(params["iss"], zone.issuer);
    let code = params["code"].clone();
    assert!(code.len() >= 43, "codes carry 256 bits");

    let http = http();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .expect("token endpoint known")
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    let id_token = tokens.id_token().expect("id token");
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &nonce)
        .expect("ID token verifies");
    assert_eq!(claims.issuer().as_str(), zone.issuer);
    assert_eq!(claims.subject().as_str(), zone.sub);
    assert_eq!(
        claims.authorized_party().map(|a| a.as_str()),
        Some(zone.client_id.as_str())
    );
    assert!(claims.auth_time().is_some());
    assert_eq!(
        claims.email().map(|e| e.as_str()),
        Some(zone.email.as_str())
    );
    assert_eq!(
        *id_token.signing_alg().expect("alg"),
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256
    );
    let expected_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().expect("alg"),
        id_token.signing_key(&verifier).expect("key"),
    )
    .expect("hash");
    assert_eq!(claims.access_token_hash(), Some(&expected_hash));
    assert!(
        tokens.refresh_token().is_none(),
        "no offline_access, no refresh token"
    );

    let userinfo: openidconnect::core::CoreUserInfoClaims = client
        .user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .expect("userinfo known")
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(
        userinfo.email().map(|e| e.as_str()),
        Some(zone.email.as_str())
    );
    assert_eq!(userinfo.email_verified(), Some(false));

    // The access token is an RFC 9068 JWT.
    let header = tokens
        .access_token()
        .secret()
        .split('.')
        .next()
        .expect("jwt")
        .to_string();
    let header: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header)
            .expect("b64"),
    )
    .expect("json");
    assert_eq!(header["typ"], "at+jwt");

    // A second authorization reuses the session and the remembered consent: straight back with a code.
    let (url, _, _) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .url();
    let again = browser.get(url.as_str()).await;
    assert!(again.redirect_params().contains_key("code"));
}
backend_test!(code_flow_with_pkce);

async fn public_client_and_es256(server: &TestServer) {
    let zone = server
        .seed_with("acme", "staging", EnvKind::Test, SigningAlg::ES256, true)
        .await;
    // ES256 client: ID token signed ES256, verified from the JWKS.
    let client = rp::for_issuer(
        &zone.issuer,
        &zone.client_id,
        Some(&zone.client_secret),
        &zone.redirect_uri,
    )
    .await;
    let (url, _, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .url();
    let browser = Browser::new();
    let back = browser
        .sign_in(url.as_str(), &zone.email, &zone.password)
        .await;
    let code = back.redirect_params()["code"].clone();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .expect("token url")
        .request_async(&http())
        .await
        .expect("exchange");
    let verifier = client
        .id_token_verifier()
        .set_allowed_algs(vec![CoreJwsSigningAlgorithm::EcdsaP256Sha256]);
    let id_token = tokens.id_token().expect("id token");
    id_token
        .claims(&verifier, &nonce)
        .expect("ES256 ID token verifies");
    assert_eq!(
        *id_token.signing_alg().expect("alg"),
        CoreJwsSigningAlgorithm::EcdsaP256Sha256
    );

    // Public client: no secret, PKCE required, first-party so no consent page.
    let public = rp::for_issuer(
        &zone.issuer,
        &zone.public_client_id,
        None,
        &zone.redirect_uri,
    )
    .await;
    let (url, _, _) = public
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .url();
    let refused = browser.get(url.as_str()).await;
    assert_eq!(
        refused.redirect_params()["error"],
        "invalid_request",
        "public clients need PKCE"
    );
    let (challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _, nonce) = public
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        .url();
    let back = browser.get(url.as_str()).await;
    let code = back.redirect_params()["code"].clone();
    let tokens = public
        .exchange_code(AuthorizationCode::new(code))
        .expect("token url")
        .set_pkce_verifier(pkce_verifier)
        .request_async(&http())
        .await
        .expect("public exchange");
    tokens
        .id_token()
        .expect("id token")
        .claims(&public.id_token_verifier(), &nonce)
        .expect("verifies");
}
backend_test!(public_client_and_es256);

async fn form_post_and_errors_through_redirect(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let base = format!(
        "{}/authorize?client_id={}&redirect_uri={}",
        zone.issuer,
        zone.client_id,
        urlencode(&zone.redirect_uri)
    );
    let browser = Browser::new();
    // prompt=none without a session: back to the client with login_required and the exact state.
    let state = format!("{}-._~", "s".repeat(124));
    let step = browser
        .get(&format!(
            "{base}&response_type=code&scope=openid&prompt=none&state={state}"
        ))
        .await;
    let params = step.redirect_params();
    assert_eq!(params["error"], "login_required");
    assert_eq!(params["state"], state);
    assert!(!params.contains_key("code"));
    // Missing response_type: an error redirect, never a code.
    let step = browser.get(&format!("{base}&scope=openid&state=x")).await;
    assert_eq!(step.redirect_params()["error"], "invalid_request");
    // PKCE plain is refused.
    let step = browser
        .get(&format!(
            "{base}&response_type=code&scope=openid&code_challenge=abcdefghijabcdefghijabcdefghijabcdefghijabc&code_challenge_method=plain"
        ))
        .await;
    assert_eq!(step.redirect_params()["error"], "invalid_request");
    // Request objects are refused explicitly, not ignored.
    let step = browser
        .get(&format!(
            "{base}&response_type=code&scope=openid&request=e30.e30."
        ))
        .await;
    assert_eq!(step.redirect_params()["error"], "request_not_supported");
    // form_post: errors too are POSTed by an auto-submitting form, nothing in a Location.
    let step = browser
        .get(&format!(
            "{base}&response_type=code&scope=openid&prompt=none&response_mode=form_post&state=abc"
        ))
        .await;
    let crate::harness::Step::Form { action, fields, .. } = &step else {
        panic!("form_post answers with a form: {step:?}");
    };
    assert_eq!(action, &zone.redirect_uri);
    assert!(fields.contains(&("error".into(), "login_required".into())));
    assert!(fields.contains(&("state".into(), "abc".into())));
    // A request object asking for form_post (its state inside it only) is refused by form_post.
    // Payload: {"response_mode":"form_post","state":"in-object"}.
    let step = browser
        .get(&format!(
            "{base}&response_type=code&scope=openid&request=eyJhbGciOiJub25lIn0.eyJyZXNwb25zZV9tb2RlIjoiZm9ybV9wb3N0Iiwic3RhdGUiOiJpbi1vYmplY3QifQ."
        ))
        .await;
    let crate::harness::Step::Form { action, fields, .. } = &step else {
        panic!("the refusal is POSTed: {step:?}");
    };
    assert_eq!(action, &zone.redirect_uri);
    assert!(fields.contains(&("error".into(), "request_not_supported".into())));
    assert!(fields.contains(&("state".into(), "in-object".into())));
    // Unknown parameters are ignored; the login page appears.
    let step = browser
        .get(&format!("{base}&response_type=code&scope=openid&extra=foobar&display=page&ui_locales=se&acr_values=1+2&claims_locales=se&login_hint=buffy%40example.com"))
        .await;
    assert!(
        step.html().contains("buffy@example.com"),
        "login_hint pre-fills the email"
    );
    // The authorization endpoint accepts POST.
    let posted = browser
        .post_form(
            &format!("{}/authorize", zone.issuer),
            &[
                ("client_id".to_string(), zone.client_id.clone()),
                ("redirect_uri".to_string(), zone.redirect_uri.clone()),
                ("response_type".to_string(), "code".to_string()),
                ("scope".to_string(), "openid".to_string()),
            ],
        )
        .await;
    assert!(posted.html().contains("airlock_password"));
}
backend_test!(form_post_and_errors_through_redirect);

pub fn urlencode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
