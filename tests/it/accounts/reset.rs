//! Forgotten passwords: a single-use link by mail (captured in test zones, sent in live ones),
//! answers that never tell whether an address has an account, and a reset that ends every session.

use airlock::model::EnvKind;
use reqwest::StatusCode;

use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{AuthorizationCode, CsrfToken, Nonce, Scope, TokenResponse};

use super::{captured, inbox, link, smtp, user};
use crate::backend_test;
use crate::harness::flow::client_post;
use crate::harness::server::{Seeded, http};
use crate::harness::smtp::SmtpSink;
use crate::harness::{Browser, Step, TestServer, flow, rp};

/// Asks for a reset link for `email` from `zone`'s login page, as a person would.
pub(crate) async fn ask_for_reset(zone: &Seeded, browser: &Browser, email: &str) -> Step {
    let login = browser.get(&flow::authorize_url(zone, &[])).await;
    let forgot = link(login.html(), "Forgot your password?").expect("a forgot-password link");
    let form = browser.get(&forgot).await;
    let Step::Form {
        action, mut fields, ..
    } = form
    else {
        panic!("no forgot-password form: {form:?}");
    };
    fields.push(("airlock_email".into(), email.into()));
    browser.post_form(&action, &fields).await
}

/// Follows a reset link and sets `password`.
async fn reset_with(browser: &Browser, url: &str, password: &str) -> Step {
    let form = browser.get(url).await;
    let Step::Form {
        action, mut fields, ..
    } = form
    else {
        panic!("no reset form at {url}: {form:?}");
    };
    fields.push(("airlock_password".into(), password.into()));
    browser.post_form(&action, &fields).await
}

async fn a_test_zone_captures_the_reset_mail(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let production = server.seed("acme", "production", EnvKind::Live).await;
    let email = format!(
        "reset-{}@sandbox.example",
        airlock::crypto::secrets::random_id()
    );
    let user_id = user(server, &sandbox, &email).await;
    let tokens = flow::sign_in(&sandbox, &Browser::new()).await;
    let as_reset_user = Seeded {
        email: email.clone(),
        ..sandbox.clone()
    };
    let reset_user_tokens = flow::sign_in(&as_reset_user, &Browser::new()).await;
    let browser = Browser::new();

    // Known and unknown addresses get the same page.
    let known = ask_for_reset(&sandbox, &browser, &email).await;
    let unknown = ask_for_reset(&sandbox, &browser, "nobody@sandbox.example").await;
    assert_eq!(known.status(), StatusCode::OK);
    assert_eq!(known.html(), unknown.html());
    assert!(known.html().contains("Check your inbox"));

    // Captured, with its link; the SMTP server sees nothing of a test zone.
    let message = captured(server, &sandbox, &email).await;
    assert_eq!(message["state"], "captured");
    assert!(
        message["subject"]
            .as_str()
            .is_some_and(|s| s.starts_with("[SANDBOX]")),
        "{message}"
    );
    assert!(
        message["text"]
            .as_str()
            .is_some_and(|t| t.contains("SANDBOX"))
    );
    let url = message["links"][0].as_str().expect("a link").to_string();
    assert!(
        inbox(server, &sandbox, "nobody@sandbox.example")
            .await
            .is_empty()
    );
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert!(
        SmtpSink::shared()
            .received()
            .iter()
            .all(|m| !m.to.iter().any(|t| t.contains(&email)))
    );

    // The sandbox's link is an unknown link under production.
    let elsewhere = url.replace("/acme/sandbox/", "/acme/production/");
    assert_eq!(
        browser.get(&elsewhere).await.status(),
        StatusCode::NOT_FOUND
    );
    let _ = production;

    // Too short, then good: the password changes and every session and grant ends.
    let short = reset_with(&browser, &url, "short").await;
    assert_eq!(short.status(), StatusCode::BAD_REQUEST);
    let done = reset_with(&browser, &url, "a brand new passphrase").await;
    assert_eq!(done.status(), StatusCode::OK, "{}", done.html());
    assert!(done.html().contains("Password changed"));
    assert_eq!(
        browser.get(&url).await.status(),
        StatusCode::NOT_FOUND,
        "single use"
    );

    // The reset user's refresh token died with their grants; another user's lives on.
    let token_url = format!("{}/token", sandbox.issuer);
    let (id, secret) = (&sandbox.client_id, &sandbox.client_secret);
    let form = |token| [("grant_type", "refresh_token"), ("refresh_token", token)];
    let revoked = client_post(
        &token_url,
        id,
        secret,
        &form(&reset_user_tokens.refresh_token),
    )
    .await;
    assert_eq!(revoked.0, 400, "{}", revoked.1);
    let kept = client_post(&token_url, id, secret, &form(&tokens.refresh_token)).await;
    assert_eq!(kept.0, 200, "{}", kept.1);

    // An expired link is as good as none.
    let again = ask_for_reset(&sandbox, &browser, &email).await;
    assert_eq!(again.status(), StatusCode::OK);
    let mut second_url = String::new();
    for _ in 0..50 {
        let links: Vec<String> = inbox(server, &sandbox, &email)
            .await
            .iter()
            .filter_map(|m| m["links"][0].as_str().map(str::to_string))
            .collect();
        if let Some(fresh) = links.into_iter().find(|l| *l != url) {
            second_url = fresh;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_ne!(second_url, url);
    server
        .write_directly(&["UPDATE account_links SET expires_at = 0".to_string()])
        .await;
    assert_eq!(
        browser.get(&second_url).await.status(),
        StatusCode::NOT_FOUND
    );

    // A link dies with the address it went to: after an address change it opens nothing.
    ask_for_reset(&sandbox, &browser, &email).await;
    let mut third_url = String::new();
    for _ in 0..50 {
        let links: Vec<String> = inbox(server, &sandbox, &email)
            .await
            .iter()
            .filter_map(|m| m["links"][0].as_str().map(str::to_string))
            .collect();
        if let Some(fresh) = links.into_iter().find(|l| *l != url && *l != second_url) {
            third_url = fresh;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(browser.get(&third_url).await.status(), StatusCode::OK);
    let token = server.admin_token(&sandbox.environment).await;
    let changed = http()
        .patch(format!(
            "{}/admin/v1/projects/acme/environments/sandbox/users/{user_id}",
            server.base
        ))
        .bearer_auth(token)
        .json(&serde_json::json!({ "email": format!("moved-{email}") }))
        .send()
        .await
        .expect("send");
    assert_eq!(changed.status().as_u16(), 200);
    assert_eq!(
        browser.get(&third_url).await.status(),
        StatusCode::NOT_FOUND
    );

    // The address's budget of mail is per zone, and runs out.
    let mut last = StatusCode::OK;
    for _ in 0..6 {
        last = ask_for_reset(&sandbox, &Browser::new(), "flood@sandbox.example")
            .await
            .status();
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

backend_test!(a_test_zone_captures_the_reset_mail, super::smtp());

async fn a_live_zone_sends_the_reset_mail(server: &TestServer) {
    let production = server.seed("acme", "production", EnvKind::Live).await;
    let email = format!(
        "reset-{}@production.example",
        airlock::crypto::secrets::random_id()
    );
    user(server, &production, &email).await;
    let browser = Browser::new();
    let asked = ask_for_reset(&production, &browser, &email).await;
    assert_eq!(asked.status(), StatusCode::OK);
    let mail = SmtpSink::shared().wait_for(&email, 20).await;
    let url = mail
        .link("/password/reset")
        .expect("a reset link in the mail");
    assert!(!mail.data.contains("SANDBOX"));
    assert!(mail.from.contains("no-reply@localhost"), "{}", mail.from);
    let done = reset_with(&browser, &url, "a brand new passphrase").await;
    assert_eq!(done.status(), StatusCode::OK, "{}", done.html());

    // The log keeps the message, never its body (it held the link).
    let messages = inbox(server, &production, &email).await;
    let sent = messages.first().expect("logged");
    assert!(
        sent["text"].is_null() && sent["links"].as_array().is_some_and(Vec::is_empty),
        "{sent}"
    );
    let mut state = sent["state"].clone();
    for _ in 0..30 {
        if state == "sent" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        state = inbox(server, &production, &email).await[0]["state"].clone();
    }
    assert_eq!(state, "sent");

    // A certified relying party signs the person in with the new password.
    let client = rp::for_issuer(
        &production.issuer,
        &production.client_id,
        Some(&production.client_secret),
        &production.redirect_uri,
    )
    .await;
    let (url, _, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .url();
    let back = Browser::new()
        .sign_in(url.as_str(), &email, "a brand new passphrase")
        .await;
    let code = back.redirect_params()["code"].clone();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .expect("token endpoint")
        .request_async(&http())
        .await
        .expect("exchange");
    let id_token = tokens.id_token().expect("an ID token");
    let claims = id_token
        .claims(&client.id_token_verifier(), &nonce)
        .expect("a valid ID token");
    assert_eq!(claims.email().map(|e| e.as_str()), Some(email.as_str()));
}

backend_test!(a_live_zone_sends_the_reset_mail, super::smtp());

async fn no_smtp_means_no_mail_flows_in_live_zones(server: &TestServer) {
    let production = server.seed("acme", "production", EnvKind::Live).await;
    let browser = Browser::new();
    let login = browser.get(&flow::authorize_url(&production, &[])).await;
    assert!(link(login.html(), "Forgot your password?").is_none());
    let forgot = browser
        .get(&format!("{}/password/forgot", production.issuer))
        .await;
    assert_eq!(forgot.status(), StatusCode::NOT_FOUND);
    let (ok, _, err) = server.cli(&["env", "policy", "acme/production", "--signup", "on"]);
    assert!(!ok);
    assert!(err.contains("SMTP"), "{err}");
    let _ = smtp;
}

backend_test!(no_smtp_means_no_mail_flows_in_live_zones);
