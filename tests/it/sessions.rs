//! Browser sessions: single sign-on, prompt=none/login, max_age, id_token_hint, cookie scope.

use airlock::model::EnvKind;
use openidconnect::core::{CoreAuthenticationFlow, CoreIdTokenClaims};
use openidconnect::{AuthorizationCode, CsrfToken, Nonce, Scope, TokenResponse};

use crate::backend_test;
use crate::harness::rp::{self, Rp};
use crate::harness::server::{Seeded, http};
use crate::harness::{Browser, Step, TestServer};

async fn redeem(client: &Rp, step: &Step) -> (CoreIdTokenClaims, String) {
    let code = step.redirect_params()["code"].clone();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .expect("token url")
        .request_async(&http())
        .await
        .expect("exchange");
    let id_token = tokens.id_token().expect("id token");
    let claims = id_token
        .claims(&client.id_token_verifier(), |_: Option<&Nonce>| Ok(()))
        .expect("verifies")
        .clone();
    (claims, id_token.to_string())
}

fn url(client: &Rp, extra: &[(&str, &str)]) -> String {
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()));
    for (name, value) in extra {
        request = request.add_extra_param(*name, *value);
    }
    request.url().0.to_string()
}

async fn first_party(server: &TestServer, name: &str) -> (Seeded, Rp) {
    let zone = server
        .seed_with(
            "acme",
            name,
            EnvKind::Test,
            airlock::model::SigningAlg::RS256,
            true,
        )
        .await;
    let client = rp::for_issuer(
        &zone.issuer,
        &zone.client_id,
        Some(&zone.client_secret),
        &zone.redirect_uri,
    )
    .await;
    (zone, client)
}

async fn single_sign_on_and_prompts(server: &TestServer) {
    let (zone, client) = first_party(server, "sandbox").await;
    let browser = Browser::new();
    let first = browser
        .sign_in(&url(&client, &[]), &zone.email, &zone.password)
        .await;
    let (first_claims, first_id_token) = redeem(&client, &first).await;

    // prompt=none with a session: silent success, same subject and auth_time.
    let silent = browser.get(&url(&client, &[("prompt", "none")])).await;
    let (claims, _) = redeem(&client, &silent).await;
    assert_eq!(claims.subject(), first_claims.subject());
    assert_eq!(claims.auth_time(), first_claims.auth_time());

    // id_token_hint naming the signed-in user: silent success.
    let hinted = browser
        .get(&url(
            &client,
            &[("prompt", "none"), ("id_token_hint", &first_id_token)],
        ))
        .await;
    let (claims, _) = redeem(&client, &hinted).await;
    assert_eq!(claims.subject(), first_claims.subject());
    // A garbage hint is refused through the redirect.
    let garbage = browser
        .get(&url(
            &client,
            &[("prompt", "none"), ("id_token_hint", "e30.e30.sig")],
        ))
        .await;
    assert_eq!(garbage.redirect_params()["error"], "invalid_request");

    // max_age=10000 keeps the session and makes auth_time present and equal.
    let kept = browser.get(&url(&client, &[("max_age", "10000")])).await;
    let (claims, _) = redeem(&client, &kept).await;
    assert_eq!(claims.auth_time(), first_claims.auth_time());

    // prompt=login and max_age=0 always show the login page again.
    let again = browser.get(&url(&client, &[("prompt", "login")])).await;
    assert!(again.html().contains("airlock_password"));
    let forced = browser.get(&url(&client, &[("max_age", "0")])).await;
    assert!(forced.html().contains("airlock_password"));
    let relogin = browser.login(&forced, &zone.email, &zone.password).await;
    let (claims, _) = redeem(&client, &relogin).await;
    assert!(claims.auth_time() >= first_claims.auth_time());

    // A fresh browser gets login_required for prompt=none.
    let stranger = Browser::new()
        .get(&url(&client, &[("prompt", "none")]))
        .await;
    assert_eq!(stranger.redirect_params()["error"], "login_required");
}
backend_test!(single_sign_on_and_prompts);

async fn consent_is_remembered_and_can_be_denied(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let client = rp::for_issuer(
        &zone.issuer,
        &zone.client_id,
        Some(&zone.client_secret),
        &zone.redirect_uri,
    )
    .await;
    let browser = Browser::new();
    let login = browser.get(&url(&client, &[])).await;
    let consent = browser.login(&login, &zone.email, &zone.password).await;
    let denied = browser.consent(&consent, false).await;
    assert_eq!(denied.redirect_params()["error"], "access_denied");
    // Without consent, prompt=none answers consent_required.
    let silent = browser.get(&url(&client, &[("prompt", "none")])).await;
    assert_eq!(silent.redirect_params()["error"], "consent_required");
    let consent = browser.get(&url(&client, &[])).await;
    let allowed = browser.consent(&consent, true).await;
    assert!(allowed.redirect_params().contains_key("code"));
    let silent = browser.get(&url(&client, &[("prompt", "none")])).await;
    assert!(
        silent.redirect_params().contains_key("code"),
        "consent is remembered"
    );
    let asked = browser.get(&url(&client, &[("prompt", "consent")])).await;
    assert!(
        asked.html().contains("airlock_decision"),
        "prompt=consent asks again"
    );
}
backend_test!(consent_is_remembered_and_can_be_denied);

async fn forms_need_the_csrf_cookie(server: &TestServer) {
    let (zone, client) = first_party(server, "sandbox").await;
    let browser = Browser::new();
    let Step::Form { action, fields, .. } = browser.get(&url(&client, &[])).await else {
        panic!("login form expected");
    };
    // The same form posted from another browser (no CSRF cookie) is refused.
    let mut forged = fields.clone();
    forged.push(("airlock_email".into(), zone.email.clone()));
    forged.push(("airlock_password".into(), zone.password.clone()));
    let attacker = Browser::new();
    let refused = attacker.post_form(&action, &forged).await;
    assert_eq!(refused.status().as_u16(), 403);
    let mut tampered: Vec<(String, String)> = forged
        .iter()
        .map(|(k, v)| {
            if k == "airlock_csrf" {
                (k.clone(), "x".repeat(43))
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect();
    tampered.dedup();
    assert_eq!(
        browser
            .post_form(&action, &tampered)
            .await
            .status()
            .as_u16(),
        403
    );
    let accepted = browser.post_form(&action, &forged).await;
    assert!(accepted.redirect_params().contains_key("code"));
}
backend_test!(forms_need_the_csrf_cookie);
