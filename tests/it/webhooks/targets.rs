//! Where events may go: live zones reach public HTTPS hosts only, test zones this machine too; a
//! refused target is a clear error when it is added, and is refused again at delivery.

use std::time::Duration;

use airlock::model::EnvKind;
use serde_json::json;

use super::{add_endpoint, create_user, zone_api};
use crate::backend_test;
use crate::harness::{Receiver, TestServer};

async fn refused_targets_are_clear_errors(server: &TestServer) {
    let production = server.seed("acme", "production", EnvKind::Live).await;
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let live_token = server.admin_token(&production.environment).await;
    let test_token = server.admin_token(&sandbox.environment).await;
    let add = |zone, token, url: &str, events: serde_json::Value| {
        let body = json!({ "url": url, "events": events });
        zone_api(server, zone, token, ("POST", "/webhooks"), Some(body))
    };
    for (url, says) in [
        ("http://hooks.example.com/airlock", "https"),
        ("https://127.0.0.1/hooks", "not a public address"),
        ("https://10.1.2.3/hooks", "not a public address"),
        (
            "https://169.254.169.254/latest/meta-data",
            "not a public address",
        ),
        ("https://[::1]/hooks", "not a public address"),
        ("https://[::ffff:10.0.0.1]/hooks", "not a public address"),
        ("https://localhost:8443/hooks", "this machine"),
        ("https://user:pw@hooks.example.com/", "credentials"),
        ("ftp://hooks.example.com/", "scheme"),
        ("not a url", "not a URL"),
    ] {
        let (status, body) = add(&production, &live_token, url, json!(["user.*"])).await;
        assert_eq!(status, 400, "{url}: {body}");
        let error = body.to_string();
        assert!(error.contains(says), "{url}: {error}");
    }
    let (status, body) = add(
        &production,
        &live_token,
        "https://hooks.example.com/",
        json!(["user.*", "user.exploded"]),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.to_string().contains("user.exploded"), "{body}");
    let (status, _) = add(
        &production,
        &live_token,
        "https://hooks.example.com/",
        json!(["user.*"]),
    )
    .await;
    assert_eq!(status, 201);

    // Test zones may reach this machine, not the private network.
    let (status, body) = add(
        &sandbox,
        &test_token,
        "http://localhost:3000/hooks",
        json!(["*"]),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, _) = add(&sandbox, &test_token, "http://10.0.0.8/hooks", json!(["*"])).await;
    assert_eq!(status, 400);

    // The CLI says the same.
    let (ok, _, err) = server.cli(&[
        "webhook",
        "add",
        "acme/production",
        "--url",
        "http://hooks.example.com/",
    ]);
    assert!(!ok);
    assert!(err.contains("https"), "{err}");
    let (ok, _, err) = server.cli(&[
        "webhook",
        "add",
        "acme/sandbox",
        "--url",
        "http://localhost:1/",
        "--events",
        "user.*,nope.*",
    ]);
    assert!(!ok);
    assert!(err.contains("nope.*"), "{err}");

    // A target that became internal behind the API's back is refused at delivery, and the log
    // says why.
    let hooks = Receiver::start().await;
    let (endpoint_id, _) =
        add_endpoint(server, &sandbox, &test_token, &hooks.url, &["user.*"]).await;
    server
        .write_directly(&[format!(
            "UPDATE webhook_endpoints SET url = 'http://10.0.0.8/hooks' WHERE endpoint_id = '{endpoint_id}'"
        )])
        .await;
    create_user(server, &sandbox, &test_token, "internal@example.com").await;
    let path = format!("/webhook-deliveries?endpoint={endpoint_id}");
    let mut error = String::new();
    for _ in 0..100 {
        let (_, log) = zone_api(server, &sandbox, &test_token, ("GET", &path), None).await;
        if let Some(id) = log["deliveries"][0]["delivery_id"].as_str() {
            let (_, delivery) = zone_api(
                server,
                &sandbox,
                &test_token,
                ("GET", &format!("/webhook-deliveries/{id}")),
                None,
            )
            .await;
            if let Some(message) = delivery["attempts"][0]["error"].as_str() {
                error = message.to_string();
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(error.contains("not a public address"), "{error:?}");
    assert!(hooks.received().is_empty());
}

backend_test!(refused_targets_are_clear_errors);
