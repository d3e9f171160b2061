//! Fixtures: a test environment seeded with users in known states and two clients, the same on
//! every run; live environments refuse.

use reqwest::StatusCode;
use serde_json::Value;

use super::captured;
use crate::backend_test;
use crate::harness::server::http;
use crate::harness::{Browser, TestServer};

async fn seeding_is_idempotent(server: &TestServer) {
    let (ok, out, err) = server.cli(&["project", "create", "acme"]);
    assert!(ok, "{out}{err}");
    let (ok, first, err) = server.cli(&[
        "env",
        "create",
        "acme/sandbox",
        "--kind",
        "test",
        "--seed",
        "--json",
    ]);
    assert!(ok, "{err}");
    let first: Value = serde_json::from_str(&first).expect("json");
    let fixtures = &first["fixtures"];
    let web = fixtures["clients"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "fixture-web"))
        .expect("web client");
    assert!(
        web["client_secret"].is_string(),
        "the secret is printed when made"
    );

    let (ok, second, err) = server.cli(&["env", "seed", "acme/sandbox", "--json"]);
    assert!(ok, "{err}");
    let second: Value = serde_json::from_str(&second).expect("json");
    let ids = |set: &Value, kind: &str, key: &str| -> Vec<String> {
        set[kind]
            .as_array()
            .expect("list")
            .iter()
            .map(|item| item[key].as_str().expect("id").to_string())
            .collect()
    };
    assert_eq!(ids(fixtures, "users", "sub"), ids(&second, "users", "sub"));
    assert_eq!(
        ids(fixtures, "clients", "client_id"),
        ids(&second, "clients", "client_id")
    );
    assert!(
        second["clients"][0]["client_secret"].is_null(),
        "not shown again"
    );
    let (ok, rotated, _) =
        server.cli(&["env", "seed", "acme/sandbox", "--reset-secrets", "--json"]);
    assert!(ok);
    let rotated: Value = serde_json::from_str(&rotated).expect("json");
    let new_secret = rotated["clients"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "fixture-web"))
        .and_then(|c| c["client_secret"].as_str())
        .expect("a new secret");
    assert_ne!(Some(new_secret), web["client_secret"].as_str());

    // Marked, in their states.
    let sandbox = server.environment("acme/sandbox").await;
    let token = server.admin_token(&sandbox).await;
    let users: Value = http()
        .get(format!(
            "{}/admin/v1/projects/acme/environments/sandbox/users",
            server.base
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let by_email = |email: &str| {
        users["users"]
            .as_array()
            .and_then(|u| u.iter().find(|u| u["email"] == email).cloned())
            .expect("fixture user")
    };
    assert_eq!(by_email("verified@fixtures.test")["fixture"], true);
    assert_eq!(by_email("verified@fixtures.test")["email_verified"], true);
    assert_eq!(
        by_email("unverified@fixtures.test")["email_verified"],
        false
    );
    let seeded = crate::harness::server::Seeded {
        environment: sandbox.clone(),
        issuer: format!("{}/acme/sandbox", server.base),
        client_id: web["client_id"].as_str().expect("id").into(),
        client_secret: new_secret.into(),
        public_client_id: String::new(),
        redirect_uri: "http://localhost:3000/callback".into(),
        email: String::new(),
        password: String::new(),
        sub: String::new(),
    };
    let reset = captured(server, &seeded, "reset-pending@fixtures.test").await;
    assert!(
        reset["links"][0]
            .as_str()
            .is_some_and(|l| l.contains("/password/reset"))
    );
    assert_eq!(
        super::inbox(server, &seeded, "reset-pending@fixtures.test")
            .await
            .len(),
        1,
        "seeding again sends nothing"
    );

    // The locked user is locked; the verified one signs in.
    let browser = Browser::new();
    let authorize = crate::harness::flow::authorize_url(&seeded, &[]);
    let login = browser.get(&authorize).await;
    let locked = browser
        .login(&login, "locked@fixtures.test", "fixture-password")
        .await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    let login = browser.get(&authorize).await;
    let signed_in = browser
        .login(&login, "verified@fixtures.test", "fixture-password")
        .await;
    assert!(signed_in.redirect_params().contains_key("code"));

    let (ok, _, err) = server.cli(&[
        "env",
        "create",
        "acme/production",
        "--kind",
        "live",
        "--seed",
    ]);
    assert!(!ok);
    assert!(err.contains("test environments"), "{err}");
    let (ok, _, _) = server.cli(&["env", "create", "acme/production", "--kind", "live"]);
    assert!(ok);
    let (ok, _, err) = server.cli(&["env", "seed", "acme/production"]);
    assert!(!ok);
    assert!(err.contains("test environments"), "{err}");
}

backend_test!(seeding_is_idempotent);
