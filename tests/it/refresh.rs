//! Refresh-token rotation and reuse detection; authorization-code replay.

use airlock::model::EnvKind;
use openidconnect::core::{CoreAuthenticationFlow, CoreTokenResponse};
use openidconnect::{
    AuthorizationCode, CsrfToken, Nonce, OAuth2TokenResponse, RefreshToken, Scope, TokenResponse,
};
use serde_json::Value;

use crate::backend_test;
use crate::harness::rp::{self, Rp};
use crate::harness::server::{Seeded, http};
use crate::harness::{Browser, TestServer};

/// Signs in with `offline_access` and redeems the code; returns the tokens and the raw code.
async fn offline_tokens(zone: &Seeded, client: &Rp) -> (CoreTokenResponse, String) {
    let (url, _, _) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("offline_access".into()))
        .url();
    let back = Browser::new()
        .sign_in(url.as_str(), &zone.email, &zone.password)
        .await;
    let code = back.redirect_params()["code"].clone();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .expect("token url")
        .request_async(&http())
        .await
        .expect("exchange");
    (tokens, code)
}

async fn token_post(zone: &Seeded, form: &[(&str, &str)]) -> (u16, Value) {
    let response = http()
        .post(format!("{}/token", zone.issuer))
        .basic_auth(&zone.client_id, Some(&zone.client_secret))
        .form(form)
        .send()
        .await
        .expect("token request");
    let status = response.status().as_u16();
    assert_eq!(
        response
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    (status, response.json().await.expect("json body"))
}

async fn userinfo_status(zone: &Seeded, access_token: &str) -> u16 {
    http()
        .get(format!("{}/userinfo", zone.issuer))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("userinfo")
        .status()
        .as_u16()
}

async fn rotation_and_reuse_detection(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let client = rp::for_issuer(
        &zone.issuer,
        &zone.client_id,
        Some(&zone.client_secret),
        &zone.redirect_uri,
    )
    .await;
    let (first, _) = offline_tokens(&zone, &client).await;
    let original_claims = first
        .id_token()
        .expect("id")
        .claims(&client.id_token_verifier(), |_: Option<&Nonce>| Ok(()))
        .expect("verifies")
        .clone();
    let refresh = first
        .refresh_token()
        .expect("offline_access grants a refresh token")
        .clone();
    assert!(refresh.secret().len() >= 43);

    let second = client
        .exchange_refresh_token(&refresh)
        .expect("token url")
        .add_scope(Scope::new("openid".into()))
        .add_scope(Scope::new("offline_access".into()))
        .request_async(&http())
        .await
        .expect("refresh");
    let rotated = second.refresh_token().expect("rotated").clone();
    assert_ne!(rotated.secret(), refresh.secret(), "every use rotates");
    let refreshed = second
        .id_token()
        .expect("refresh re-issues an ID token")
        .claims(&client.id_token_verifier(), |_: Option<&Nonce>| Ok(()))
        .expect("refreshed ID token verifies");
    assert_eq!(refreshed.subject(), original_claims.subject());
    assert_eq!(refreshed.auth_time(), original_claims.auth_time());
    assert!(refreshed.issue_time() >= original_claims.issue_time());
    assert!(refreshed.nonce().is_none());
    assert_eq!(
        userinfo_status(&zone, second.access_token().secret()).await,
        200
    );

    // Reusing the rotated-away token is detected: invalid_grant, and the whole family dies.
    let (status, body) = token_post(
        &zone,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.secret()),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, body) = token_post(
        &zone,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", rotated.secret()),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(
        userinfo_status(&zone, second.access_token().secret()).await,
        401
    );

    // Asking for more scope than granted is invalid_scope; a foreign client's token is invalid_grant.
    let (fresh, _) = offline_tokens(&zone, &client).await;
    let token = fresh.refresh_token().expect("refresh").secret().clone();
    let (status, body) = token_post(
        &zone,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &token),
            ("scope", "openid email"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    let other = server
        .airlock
        .clients()
        .create(
            &zone.environment,
            airlock::service::admin::clients::NewClient {
                name: "Other".into(),
                redirect_uris: vec![zone.redirect_uri.clone()],
                post_logout_redirect_uris: vec![],
                public: false,
                first_party: true,
                id_token_signed_response_alg: airlock::model::SigningAlg::RS256,
                token_endpoint_auth_method: None,
                jwks: None,
                jwks_uri: None,
            },
            &airlock::service::Caller::cli(),
            server.now(),
        )
        .await
        .expect("client");
    let response = http()
        .post(format!("{}/token", zone.issuer))
        .basic_auth(
            other.client.client_id.as_str(),
            other.client_secret.as_ref().map(|s| s.expose()),
        )
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", token.as_str()),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"], "invalid_grant");
    let second_token = RefreshToken::new(token);
    client
        .exchange_refresh_token(&second_token)
        .expect("token url")
        .request_async(&http())
        .await
        .expect("the owner can still use it");
}
backend_test!(rotation_and_reuse_detection);

async fn code_replay_revokes_the_grant(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let client = rp::for_issuer(
        &zone.issuer,
        &zone.client_id,
        Some(&zone.client_secret),
        &zone.redirect_uri,
    )
    .await;
    let (tokens, code) = offline_tokens(&zone, &client).await;
    assert_eq!(
        userinfo_status(&zone, tokens.access_token().secret()).await,
        200
    );
    let (status, body) = token_post(
        &zone,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &zone.redirect_uri),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(
        userinfo_status(&zone, tokens.access_token().secret()).await,
        401
    );
    let refresh = tokens.refresh_token().expect("refresh").secret().clone();
    let (status, body) = token_post(
        &zone,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}
backend_test!(code_replay_revokes_the_grant);

async fn code_binding(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let browser = Browser::new();
    let verifier = "a".repeat(64);
    let challenge = {
        use sha2::Digest;
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            sha2::Sha256::digest(verifier.as_bytes()),
        )
    };
    let url = format!(
        "{}/authorize?response_type=code&scope=openid&client_id={}&redirect_uri={}&code_challenge={challenge}&code_challenge_method=S256",
        zone.issuer,
        zone.client_id,
        crate::code_flow::urlencode(&zone.redirect_uri)
    );
    let back = browser.sign_in(&url, &zone.email, &zone.password).await;
    let code = back.redirect_params()["code"].clone();
    let exchange = |verifier: Option<String>, redirect: &str| {
        let mut form = vec![
            ("grant_type".to_string(), "authorization_code".to_string()),
            ("code".to_string(), code.clone()),
            ("redirect_uri".to_string(), redirect.to_string()),
        ];
        if let Some(v) = verifier {
            form.push(("code_verifier".into(), v));
        }
        let zone = zone.clone();
        async move {
            let response = http()
                .post(format!("{}/token", zone.issuer))
                .basic_auth(&zone.client_id, Some(&zone.client_secret))
                .form(&form)
                .send()
                .await
                .expect("post");
            let status = response.status().as_u16();
            let body: Value = response.json().await.expect("json");
            (status, body["error"].as_str().map(str::to_string))
        }
    };
    let invalid = (400, Some("invalid_grant".to_string()));
    assert_eq!(
        exchange(None, &zone.redirect_uri).await,
        invalid,
        "verifier required"
    );
    assert_eq!(
        exchange(Some("b".repeat(64)), &zone.redirect_uri).await,
        invalid,
        "wrong verifier"
    );
    assert_eq!(
        exchange(Some(verifier.clone()), "https://rp.example/other").await,
        invalid,
        "redirect_uri bound"
    );
    let (status, error) = exchange(Some(verifier), &zone.redirect_uri).await;
    assert_eq!(
        (status, error),
        (200, None),
        "failed checks do not burn the code"
    );
}
backend_test!(code_binding);
