//! Retries with back-off until the receiver is back, replay with the same webhook-id, test events,
//! the inspector, `410 Gone`, secret rotation, on-demand `token.issued`, and events that exist
//! exactly when their change does.

use std::time::Duration;

use airlock::model::EnvKind;
use serde_json::{Value, json};

use super::{add_endpoint, create_user, zone_api};
use crate::backend_test;
use crate::harness::flow::client_post;
use crate::harness::receiver::Received;
use crate::harness::{Receiver, Reply, TestServer};

/// The delivery log of `endpoint_id`, newest first.
async fn deliveries(
    server: &TestServer,
    zone: &crate::harness::server::Seeded,
    token: &str,
    endpoint_id: &str,
) -> Vec<Value> {
    let path = format!("/webhook-deliveries?endpoint={endpoint_id}");
    let (status, log) = zone_api(server, zone, token, ("GET", &path), None).await;
    assert_eq!(status, 200, "{log}");
    log["deliveries"].as_array().expect("deliveries").clone()
}

async fn retried_until_delivered_then_replayed(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let token = server.admin_token(&sandbox.environment).await;
    let hooks = Receiver::start().await;
    // Down (500), then hanging past the 1 s timeout, then back.
    hooks.script(&[
        Reply::Status(500),
        Reply::Hang(Duration::from_secs(3)),
        Reply::Status(200),
    ]);
    let (endpoint_id, secret) =
        add_endpoint(server, &sandbox, &token, &hooks.url, &["user.*"]).await;
    create_user(server, &sandbox, &token, "retried@example.com").await;

    // The hanging request is recorded when it ends, after the retry that succeeded.
    let received = hooks
        .wait_for(30, |r| Receiver::of_type(r, "user.created") >= 3)
        .await;
    let received: Vec<&Received> = received
        .iter()
        .filter(|r| r.json()["type"] == "user.created")
        .collect();
    assert!(received.len() >= 3, "{} requests", received.len());
    let webhook_id = received[0].webhook_id();
    for request in &received {
        assert_eq!(request.webhook_id(), webhook_id, "one id over every retry");
        assert!(request.verifies_with(&secret));
    }

    // The log: three attempts, one success, the failures with what went wrong.
    let mut log = Value::Null;
    for _ in 0..50 {
        let listed = deliveries(server, &sandbox, &token, &endpoint_id).await;
        if listed.first().is_some_and(|d| d["state"] == "succeeded") {
            let path = format!(
                "/webhook-deliveries/{}",
                listed[0]["delivery_id"].as_str().expect("id")
            );
            log = zone_api(server, &sandbox, &token, ("GET", &path), None)
                .await
                .1;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(log["state"], "succeeded", "{log}");
    assert_eq!(log["attempts"].as_array().map(Vec::len), Some(3), "{log}");
    let attempts = log["attempts"].as_array().expect("attempts");
    assert_eq!(attempts[0]["status_code"], 500);
    assert_eq!(attempts[0]["succeeded"], false);
    assert!(attempts[1]["status_code"].is_null(), "{log}");
    assert!(
        attempts[1]["error"]
            .as_str()
            .is_some_and(|e| e.contains("timed out")),
        "{log}"
    );
    assert_eq!(attempts[2]["status_code"], 200);
    assert_eq!(attempts[2]["succeeded"], true);
    let successes = server
        .count_directly("SELECT COUNT(*) FROM webhook_attempts WHERE succeeded = 1")
        .await;
    assert_eq!(successes, 1, "one success recorded");
    let (_, endpoint) = zone_api(
        server,
        &sandbox,
        &token,
        ("GET", &format!("/webhooks/{endpoint_id}")),
        None,
    )
    .await;
    assert_eq!(endpoint["health"]["consecutive_failures"], 0, "{endpoint}");
    assert!(endpoint["health"]["last_success_at"].is_i64());
    assert!(endpoint["health"]["last_failure_at"].is_i64());

    // Replay: the same event, the same webhook-id, a new delivery marked as a replay.
    let delivery_id = log["delivery_id"].as_str().expect("id").to_string();
    // Counted before the replay is queued: the worker may send it before the command returns.
    let before = hooks.received().len();
    let (ok, out, err) = server.cli(&["webhook", "replay", "acme/sandbox", &delivery_id, "--json"]);
    assert!(ok, "{err}");
    let replay: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(replay["replay_of"], delivery_id.as_str());
    let again = hooks
        .wait_for(20, |r| {
            r.len() > before && r.last().is_some_and(|r| r.status == 200)
        })
        .await;
    let last = again.last().expect("replayed");
    assert_eq!(last.webhook_id(), webhook_id);
    assert!(last.verifies_with(&secret));

    // A test event goes to the one endpoint, whatever it subscribes to.
    let (ok, out, err) = server.cli(&["webhook", "test", "acme/sandbox", &endpoint_id, "--json"]);
    assert!(ok, "{err}");
    let test: Value = serde_json::from_str(&out).expect("json");
    let tested = hooks
        .wait_for(20, |r| Receiver::of_type(r, "webhook.test") == 1)
        .await;
    let test_request = tested
        .iter()
        .find(|r| r.json()["type"] == "webhook.test")
        .expect("test");
    assert_eq!(
        test_request.webhook_id(),
        test["event_id"].as_str().expect("id")
    );
    assert!(test_request.verifies_with(&secret));

    // The inspector shows the exact bytes that were sent.
    let (ok, shown, err) = server.cli(&["events", "show", "acme/sandbox", &webhook_id]);
    assert!(ok, "{err}");
    assert_eq!(shown.trim_end().as_bytes(), &received[0].body[..]);
    let (ok, listed, err) = server.cli(&[
        "events",
        "list",
        "acme/sandbox",
        "--type",
        "user.created",
        "--json",
    ]);
    assert!(ok, "{err}");
    let listed: Value = serde_json::from_str(&listed).expect("json");
    // The seeded user's and this one's: events are kept whether or not anyone subscribes.
    assert_eq!(listed.as_array().map(Vec::len), Some(2), "{listed}");
    let (ok, failed, _) = server.cli(&[
        "webhook",
        "deliveries",
        "acme/sandbox",
        "--status",
        "failed",
        "--json",
    ]);
    assert!(ok);
    assert_eq!(failed.trim(), "[]");
}

backend_test!(
    retried_until_delivered_then_replayed,
    crate::webhooks::fast()
);

async fn gone_disables_the_endpoint(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let token = server.admin_token(&sandbox.environment).await;
    let hooks = Receiver::start().await;
    hooks.answer_by_default(Reply::Status(410));
    let (endpoint_id, _) =
        add_endpoint(server, &sandbox, &token, &hooks.url, &["user.created"]).await;
    create_user(server, &sandbox, &token, "gone@example.com").await;
    hooks.wait_for(20, |r| r.len() == 1).await;
    let path = format!("/webhooks/{endpoint_id}");
    let mut endpoint = Value::Null;
    for _ in 0..50 {
        endpoint = zone_api(server, &sandbox, &token, ("GET", &path), None)
            .await
            .1;
        if endpoint["enabled"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(endpoint["enabled"], false, "{endpoint}");
    assert!(
        endpoint["disabled_reason"]
            .as_str()
            .is_some_and(|r| r.contains("410")),
        "{endpoint}"
    );
    // Disabled, it gets no new deliveries; enabled again, it does.
    create_user(server, &sandbox, &token, "after@example.com").await;
    assert_eq!(
        deliveries(server, &sandbox, &token, &endpoint_id)
            .await
            .len(),
        1
    );
    let (status, _) = zone_api(
        server,
        &sandbox,
        &token,
        ("POST", &format!("{path}/enable")),
        None,
    )
    .await;
    assert_eq!(status, 200);
    hooks.answer_by_default(Reply::Status(204));
    create_user(server, &sandbox, &token, "back@example.com").await;
    hooks
        .wait_for(20, |r| r.iter().any(|r| r.status == 204))
        .await;
    let (_, audit) = zone_api(
        server,
        &sandbox,
        &token,
        ("GET", "/audit?type=webhook.disabled"),
        None,
    )
    .await;
    assert_eq!(
        audit["entries"].as_array().map(Vec::len),
        Some(1),
        "{audit}"
    );
}

backend_test!(gone_disables_the_endpoint, crate::webhooks::fast());

async fn rotated_secrets_sign_side_by_side(server: &TestServer) {
    let production = server.seed("acme", "production", EnvKind::Live).await;
    let token = server.admin_token(&production.environment).await;
    let hooks = Receiver::start_tls().await;
    let (endpoint_id, old_secret) =
        add_endpoint(server, &production, &token, &hooks.url, &["user.*"]).await;
    let path = format!("/webhooks/{endpoint_id}/rotate-secret");
    let (status, rotated) = zone_api(server, &production, &token, ("POST", &path), None).await;
    assert_eq!(status, 200, "{rotated}");
    let new_secret = rotated["secret"].as_str().expect("secret").to_string();
    assert_ne!(new_secret, old_secret);
    assert!(rotated["previous_secret_signs_until"].as_i64().unwrap_or(0) >= server.now() + 86_000);
    create_user(server, &production, &token, "rotated@example.com").await;
    let received = hooks.wait_for(20, |r| r.len() == 1).await;
    let signatures = received[0].header("webhook-signature");
    assert_eq!(
        signatures
            .split(' ')
            .filter(|s| s.starts_with("v1,"))
            .count(),
        2,
        "{signatures}"
    );
    assert!(received[0].verifies_with(&new_secret));
    assert!(received[0].verifies_with(&old_secret));
    assert!(!received[0].verifies_with("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
}

backend_test!(rotated_secrets_sign_side_by_side, crate::webhooks::fast());

async fn token_issued_is_written_only_when_subscribed(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let token = server.admin_token(&sandbox.environment).await;
    let hooks = Receiver::start().await;
    add_endpoint(server, &sandbox, &token, &hooks.url, &["user.*"]).await;
    let token_url = format!("{}/token", sandbox.issuer);
    let issue = || {
        client_post(
            &token_url,
            &sandbox.client_id,
            &sandbox.client_secret,
            &[("grant_type", "client_credentials")],
        )
    };
    assert_eq!(issue().await.0, 200);
    let issued_events = "SELECT COUNT(*) FROM events WHERE event_type = 'token.issued'";
    assert_eq!(server.count_directly(issued_events).await, 0);
    add_endpoint(server, &sandbox, &token, &hooks.url, &["token.issued"]).await;
    assert_eq!(issue().await.0, 200);
    assert_eq!(server.count_directly(issued_events).await, 1);
    let received = hooks
        .wait_for(20, |r| Receiver::of_type(r, "token.issued") == 1)
        .await;
    let event = received
        .iter()
        .map(|r| r.json())
        .find(|e| e["type"] == "token.issued")
        .expect("event");
    assert_eq!(event["data"]["grant_type"], "client_credentials");
    assert_eq!(event["data"]["client_id"], sandbox.client_id.as_str());
}

backend_test!(
    token_issued_is_written_only_when_subscribed,
    crate::webhooks::fast()
);

async fn events_exist_exactly_when_their_change_does(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let token = server.admin_token(&sandbox.environment).await;
    create_user(server, &sandbox, &token, "once@example.com").await;
    // The same address again is refused, and so is its event.
    let body = json!({ "email": "once@example.com", "password": "correct horse battery" });
    let (status, _) = zone_api(server, &sandbox, &token, ("POST", "/users"), Some(body)).await;
    assert_eq!(status, 409);
    let (status, _) = zone_api(
        server,
        &sandbox,
        &token,
        ("PATCH", "/users/usr_missing"),
        Some(json!({"name": "x"})),
    )
    .await;
    assert_eq!(status, 404);
    let users = server.count_directly("SELECT COUNT(*) FROM users").await;
    let created = server
        .count_directly("SELECT COUNT(*) FROM events WHERE event_type = 'user.created'")
        .await;
    assert_eq!(created, users);
    let updated = server
        .count_directly("SELECT COUNT(*) FROM events WHERE event_type = 'user.updated'")
        .await;
    assert_eq!(updated, 0);
    // Internal bookkeeping is not published.
    let internal = server
        .count_directly("SELECT COUNT(*) FROM events WHERE event_type LIKE 'admin_token.%'")
        .await;
    assert_eq!(internal, 0);
}

backend_test!(events_exist_exactly_when_their_change_does);

async fn consent_granted_and_revoked(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let token = server.admin_token(&sandbox.environment).await;
    let hooks = Receiver::start().await;
    add_endpoint(server, &sandbox, &token, &hooks.url, &["consent.*"]).await;
    let tokens = crate::harness::flow::sign_in(&sandbox, &crate::harness::Browser::new()).await;
    hooks
        .wait_for(20, |r| Receiver::of_type(r, "consent.granted") == 1)
        .await;

    let path = format!("/users/{}/consents/{}", sandbox.sub, sandbox.client_id);
    let (status, revoked) = zone_api(server, &sandbox, &token, ("DELETE", &path), None).await;
    assert_eq!(status, 200, "{revoked}");
    assert_eq!(revoked["revoked_grants"], 1);
    let (status, _) = zone_api(server, &sandbox, &token, ("DELETE", &path), None).await;
    assert_eq!(status, 404, "nothing left to withdraw");
    let received = hooks
        .wait_for(20, |r| Receiver::of_type(r, "consent.revoked") == 1)
        .await;
    let event = received
        .iter()
        .map(|r| r.json())
        .find(|e| e["type"] == "consent.revoked")
        .expect("event");
    assert_eq!(event["data"]["sub"], sandbox.sub.as_str());
    assert_eq!(event["data"]["client_id"], sandbox.client_id.as_str());
    assert_eq!(event["data"]["revoked_grants"], 1);
    // The grant it backed is gone with its refresh token.
    let (status, body) = client_post(
        &format!("{}/token", sandbox.issuer),
        &sandbox.client_id,
        &sandbox.client_secret,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &tokens.refresh_token),
        ],
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_grant");
}

backend_test!(consent_granted_and_revoked, crate::webhooks::fast());
