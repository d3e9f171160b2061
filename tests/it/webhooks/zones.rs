//! Sandbox events reach the sandbox's endpoints only, production's production's; one zone's
//! endpoints, deliveries and events are another zone's 404.

use airlock::model::EnvKind;
use serde_json::Value;

use super::{add_endpoint, zone_api};
use crate::backend_test;
use crate::harness::{Browser, Receiver, TestServer, flow};

async fn each_zone_gets_its_own_events(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let production = server.seed("acme", "production", EnvKind::Live).await;
    let sandbox_admin = server.admin_token(&sandbox.environment).await;
    let production_admin = server.admin_token(&production.environment).await;
    let sandbox_hooks = Receiver::start().await;
    let production_hooks = Receiver::start_tls().await;
    let families = ["signin.*", "user.*"];
    let (sandbox_endpoint, sandbox_secret) = add_endpoint(
        server,
        &sandbox,
        &sandbox_admin,
        &sandbox_hooks.url,
        &families,
    )
    .await;
    let (production_endpoint, production_secret) = add_endpoint(
        server,
        &production,
        &production_admin,
        &production_hooks.url,
        &families,
    )
    .await;

    flow::sign_in(&sandbox, &Browser::new()).await;
    flow::sign_in(&production, &Browser::new()).await;
    let signed_in = |received: &[crate::harness::receiver::Received]| {
        Receiver::of_type(received, "signin.succeeded") >= 1
    };
    let at_sandbox = sandbox_hooks.wait_for(20, signed_in).await;
    let at_production = production_hooks.wait_for(20, signed_in).await;

    for (received, secret, other_secret, slug, sandboxed) in [
        (
            &at_sandbox,
            &sandbox_secret,
            &production_secret,
            "acme/sandbox",
            true,
        ),
        (
            &at_production,
            &production_secret,
            &sandbox_secret,
            "acme/production",
            false,
        ),
    ] {
        for request in received {
            assert!(request.verifies_with(secret), "signed for {slug}");
            assert!(
                !request.verifies_with(other_secret),
                "not signed for the other zone"
            );
            let event = request.json();
            assert_eq!(event["environment"], slug, "{event}");
            assert_eq!(event["is_sandbox"], sandboxed, "{event}");
            assert_eq!(event["env_kind"], if sandboxed { "test" } else { "live" });
            assert_eq!(event["project"], "acme");
            assert_eq!(event["api_version"].as_str().map(str::len), Some(10));
            assert!(
                event["id"]
                    .as_str()
                    .is_some_and(|id| id.starts_with("evt_"))
            );
            assert_eq!(
                request.webhook_id(),
                event["id"].as_str().unwrap_or_default()
            );
            assert!(
                event["created_at"]
                    .as_str()
                    .is_some_and(|at| at.ends_with('Z'))
            );
            // Nothing secret travels: no password hash, token or code in any payload.
            let text = event.to_string();
            for leak in [
                "$argon2",
                "password_hash",
                "refresh_token",
                "access_token",
                "\"code\"",
            ] {
                assert!(!text.contains(leak), "{leak} in {text}");
            }
        }
        let signin = received
            .iter()
            .map(|r| r.json())
            .find(|event| event["type"] == "signin.succeeded")
            .expect("a sign-in event");
        assert!(signin["data"]["client_id"].is_string(), "{signin}");
        assert!(signin["request_id"].is_string(), "{signin}");
    }

    // Production's delivery log and event list hold production's events only.
    let (status, log) = zone_api(
        server,
        &production,
        &production_admin,
        ("GET", "/webhook-deliveries"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{log}");
    let deliveries = log["deliveries"].as_array().expect("deliveries").clone();
    assert!(!deliveries.is_empty());
    let production_ids: Vec<Value> = at_production
        .iter()
        .map(|r| r.json()["id"].clone())
        .collect();
    for delivery in &deliveries {
        assert_eq!(delivery["endpoint_id"], production_endpoint.as_str());
        assert!(production_ids.contains(&delivery["event_id"]), "{delivery}");
    }
    let (_, events) = zone_api(
        server,
        &production,
        &production_admin,
        ("GET", "/events"),
        None,
    )
    .await;
    for event in events["events"].as_array().expect("events") {
        assert_eq!(
            event["payload"]["environment"], "acme/production",
            "{event}"
        );
    }

    // Another zone's ids are the same 404 as made-up ones, with either zone's token.
    let delivery_id = deliveries[0]["delivery_id"]
        .as_str()
        .expect("id")
        .to_string();
    let event_id = deliveries[0]["event_id"].as_str().expect("id").to_string();
    for path in [
        format!("/webhooks/{production_endpoint}"),
        format!("/webhook-deliveries/{delivery_id}"),
        format!("/events/{event_id}"),
    ] {
        let (status, _) = zone_api(server, &sandbox, &sandbox_admin, ("GET", &path), None).await;
        assert_eq!(status, 404, "{path} seen from the sandbox");
        let (status, _) = zone_api(server, &production, &sandbox_admin, ("GET", &path), None).await;
        assert_eq!(status, 404, "{path} with the sandbox's token");
        let (status, _) =
            zone_api(server, &production, &production_admin, ("GET", &path), None).await;
        assert_eq!(status, 200, "{path} at home");
    }
    let replay = format!("/webhook-deliveries/{delivery_id}/replay");
    let (status, _) = zone_api(server, &sandbox, &sandbox_admin, ("POST", &replay), None).await;
    assert_eq!(status, 404);
    let test = format!("/webhooks/{production_endpoint}/test");
    let (status, _) = zone_api(server, &sandbox, &sandbox_admin, ("POST", &test), None).await;
    assert_eq!(status, 404);
    let _ = sandbox_endpoint;
}

backend_test!(each_zone_gets_its_own_events, crate::webhooks::fast());

async fn a_sandbox_flood_does_not_hold_production_back(server: &TestServer) {
    use crate::harness::Reply;
    use std::time::Duration;

    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let production = server.seed("acme", "production", EnvKind::Live).await;
    let sandbox_admin = server.admin_token(&sandbox.environment).await;
    let production_admin = server.admin_token(&production.environment).await;
    let slow = Receiver::start().await;
    slow.answer_by_default(Reply::Hang(Duration::from_secs(2)));
    let fast = Receiver::start_tls().await;
    add_endpoint(server, &sandbox, &sandbox_admin, &slow.url, &["user.*"]).await;
    add_endpoint(
        server,
        &production,
        &production_admin,
        &fast.url,
        &["user.*"],
    )
    .await;
    // A load test in the sandbox: forty events for a receiver that never answers in time.
    for n in 0..40 {
        super::create_user(
            server,
            &sandbox,
            &sandbox_admin,
            &format!("load{n}@example.com"),
        )
        .await;
    }
    super::create_user(server, &production, &production_admin, "real@example.com").await;
    fast.wait_for(20, |r| r.len() == 1).await;
    let sandbox_pending = server
        .count_directly(&format!(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE env_id = '{}' AND state = 'pending'",
            sandbox.environment.id
        ))
        .await;
    assert!(
        sandbox_pending > 8,
        "production waited for the sandbox: {sandbox_pending} left"
    );
}

backend_test!(
    a_sandbox_flood_does_not_hold_production_back,
    crate::webhooks::fast()
);
