//! Sign-up (`prompt=create`), address verification, and sign-in held until the address is
//! verified.

use airlock::model::EnvKind;
use reqwest::StatusCode;
use serde_json::json;

use super::{captured, link};
use crate::backend_test;
use crate::harness::server::http;
use crate::harness::{Browser, Step, TestServer, flow};

async fn sign_up_then_verify_the_address(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let token = server.admin_token(&sandbox.environment).await;
    let policy = format!(
        "{}/admin/v1/projects/acme/environments/sandbox/policy",
        server.base
    );
    let browser = Browser::new();

    // Off by default: prompt=create is a plain sign-in, and /signup is not there.
    let plain = browser
        .get(&flow::authorize_url(&sandbox, &[("prompt", "create")]))
        .await;
    assert!(plain.html().contains("Sign in"));
    assert!(link(plain.html(), "Create an account").is_none());

    let body = json!({ "signup": true, "require_verified_email": true, "password_min_length": 10 });
    let response = http()
        .put(&policy)
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status().as_u16(), 200);
    let shown: serde_json::Value = response.json().await.expect("json");
    assert_eq!(shown["signup"], true);
    assert_eq!(shown["password_min_length"], 10);
    // The zone is cached by the node for a moment: give it a fresh look.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;

    let form = browser
        .get(&flow::authorize_url(&sandbox, &[("prompt", "create")]))
        .await;
    let Step::Form {
        action,
        mut fields,
        html,
        ..
    } = form
    else {
        panic!("no sign-up form: {form:?}");
    };
    assert!(html.contains("Create an account"), "{html}");
    let email = format!(
        "new-{}@sandbox.example",
        airlock::crypto::secrets::random_id()
    );
    fields.push(("airlock_email".into(), email.clone()));
    fields.push(("airlock_name".into(), "New Person".into()));
    fields.push(("airlock_password".into(), "password123".into()));
    let refused = browser.post_form(&action, &fields).await;
    assert_eq!(
        refused.status(),
        StatusCode::BAD_REQUEST,
        "a common password"
    );
    let Step::Form {
        action, mut fields, ..
    } = refused
    else {
        panic!("the form again");
    };
    fields.push(("airlock_email".into(), email.clone()));
    fields.push(("airlock_password".into(), "my own long passphrase".into()));
    let created = browser.post_form(&action, &fields).await;
    assert!(
        created.html().contains("Check your inbox"),
        "{}",
        created.html()
    );

    // Signing in waits for the address.
    let login = browser
        .get(&flow::authorize_url(&sandbox, &[("prompt", "login")]))
        .await;
    let held = browser
        .login(&login, &email, "my own long passphrase")
        .await;
    assert!(held.html().contains("Check your inbox"), "{}", held.html());

    let message = captured(server, &sandbox, &email).await;
    let url = message["links"][0].as_str().expect("link").to_string();
    assert!(url.contains("/email/verify?token="), "{url}");
    // Opening the link (as a mail scanner would) uses nothing up; the button does.
    let scanned = browser.get(&url).await;
    assert_eq!(scanned.status(), StatusCode::OK);
    let Step::Form { action, fields, .. } = browser.get(&url).await else {
        panic!("no confirmation button");
    };
    let verified = browser.post_form(&action, &fields).await;
    assert_eq!(verified.status(), StatusCode::OK);
    assert!(verified.html().contains("Address confirmed"));
    assert_eq!(
        browser.get(&url).await.status(),
        StatusCode::NOT_FOUND,
        "single use"
    );

    let login = browser
        .get(&flow::authorize_url(&sandbox, &[("prompt", "login")]))
        .await;
    let signed_in = browser
        .login(&login, &email, "my own long passphrase")
        .await;
    let signed_in = match &signed_in {
        Step::Form { html, .. } if html.contains("airlock_decision") => {
            browser.consent(&signed_in, true).await
        }
        _ => signed_in,
    };
    assert!(signed_in.redirect_params().contains_key("code"));
}

backend_test!(sign_up_then_verify_the_address);
