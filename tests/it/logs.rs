//! Logs: JSON when asked (the default off a terminal), one access line a request with the route's
//! template, status, latency, zone, client and request id, and never a secret, token or password.

use std::time::Duration;

use airlock::model::EnvKind;
use serde_json::Value;

use crate::harness::flow::client_post;
use crate::harness::{Browser, Node, TestServer, flow};

async fn json_access_logs_name_the_zone_and_leak_nothing(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let settings = [
        ("AIRLOCK_LOG_FORMAT", "json"),
        ("AIRLOCK_ACCESS_LOG", "on"),
        ("RUST_LOG", "info"),
    ];
    let node = Node::start(server, "serve", &settings).await;
    let at_node = crate::harness::server::Seeded {
        issuer: format!("{}/acme/sandbox", node.base),
        ..sandbox.clone()
    };
    let tokens = flow::sign_in(&at_node, &Browser::new()).await;
    let (status, machine) = client_post(
        &format!("{}/token", at_node.issuer),
        &sandbox.client_id,
        &sandbox.client_secret,
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 200);
    let browser = Browser::new();
    let login = browser.get(&flow::authorize_url(&at_node, &[])).await;
    browser
        .login(&login, &sandbox.email, "not the password")
        .await;

    let mut lines = Vec::new();
    for _ in 0..50 {
        lines = node.log();
        if lines
            .iter()
            .filter(|l| l.contains("airlock::access"))
            .count()
            >= 6
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let parsed: Vec<Value> = lines
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let access: Vec<&Value> = parsed
        .iter()
        .filter(|l| l["target"] == "airlock::access")
        .collect();
    let token_line = access
        .iter()
        .find(|l| {
            l["span"]["route"] == "/{project}/{environment}/token"
                && l["span"]["client_id"] == sandbox.client_id.as_str()
        })
        .unwrap_or_else(|| panic!("no access line for the token endpoint: {access:?}"));
    assert_eq!(token_line["status"], 200);
    assert!(token_line["latency_ms"].is_number());
    assert_eq!(token_line["span"]["project"], "acme");
    assert_eq!(token_line["span"]["environment"], "sandbox");
    assert_eq!(token_line["span"]["kind"], "test");
    assert!(token_line["span"]["request_id"].is_string());
    for line in &access {
        let route = line["span"]["route"].as_str().unwrap_or_default();
        assert!(
            !route.contains("acme"),
            "a route template, not a path: {route}"
        );
    }
    let text = lines.join("\n");
    for secret in [
        sandbox.client_secret.as_str(),
        sandbox.password.as_str(),
        "not the password",
        tokens.access_token.as_str(),
        tokens.refresh_token.as_str(),
        tokens.id_token.as_str(),
        machine["access_token"].as_str().expect("token"),
    ] {
        assert!(!text.contains(secret), "the log leaks a secret");
    }
    assert!(!text.contains("\u{1b}["), "no colour codes off a terminal");
}

crate::backend_test!(json_access_logs_name_the_zone_and_leak_nothing);
