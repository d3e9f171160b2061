//! Usage metering: counted per zone in memory, flushed, reported per month with only live zones
//! billable.

use airlock::model::EnvKind;
use serde_json::Value;

use crate::harness::flow::client_post;
use crate::harness::{Browser, TestServer, flow};

async fn usage_is_counted_per_zone_and_billed_for_live_ones(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let production = server.seed("acme", "production", EnvKind::Live).await;
    let tokens = flow::sign_in(&sandbox, &Browser::new()).await;
    let (status, _) = client_post(
        &format!("{}/token", sandbox.issuer),
        &sandbox.client_id,
        &sandbox.client_secret,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &tokens.refresh_token),
        ],
    )
    .await;
    assert_eq!(status, 200);
    for _ in 0..2 {
        let (status, _) = client_post(
            &format!("{}/token", production.issuer),
            &production.client_id,
            &production.client_secret,
            &[("grant_type", "client_credentials")],
        )
        .await;
        assert_eq!(status, 200);
    }
    // Nothing is written on the request's path: the counts wait for the flush.
    assert_eq!(
        server
            .count_directly("SELECT COUNT(*) FROM usage_counts")
            .await,
        0
    );
    server.airlock.flush_usage().await.expect("flush");

    let (ok, out, err) = server.cli(&["usage", "acme", "--json"]);
    assert!(ok, "{err}");
    let report: Value = serde_json::from_str(&out).expect("json");
    let zone = |slug: &str| {
        report["zones"]
            .as_array()
            .and_then(|zones| zones.iter().find(|z| z["environment"] == slug).cloned())
            .unwrap_or_else(|| panic!("{slug} in {report}"))
    };
    let test_zone = zone("acme/sandbox");
    assert_eq!(test_zone["kind"], "test");
    assert_eq!(test_zone["monthly_active_users"], 1);
    assert_eq!(test_zone["counts"]["signins"], 1);
    assert_eq!(test_zone["counts"]["tokens.authorization_code"], 1);
    assert_eq!(test_zone["counts"]["tokens.refresh_token"], 1);
    let live_zone = zone("acme/production");
    assert_eq!(live_zone["counts"]["tokens.client_credentials"], 2);
    assert_eq!(report["billable"]["tokens.client_credentials"], 2);
    assert!(
        report["billable"]["signins"].is_null(),
        "sandbox use is never billed: {report}"
    );
    assert_eq!(report["billable"]["monthly_active_users"], 0);

    let (ok, one, _) = server.cli(&["usage", "acme", "--env", "sandbox", "--json"]);
    assert!(ok);
    let one: Value = serde_json::from_str(&one).expect("json");
    assert_eq!(one["zones"].as_array().map(Vec::len), Some(1));
    let (ok, _, err) = server.cli(&["usage", "acme", "--month", "2026-13"]);
    assert!(!ok);
    assert!(err.contains("YYYY-MM"), "{err}");

    // Who was active is forgotten after 400 days; the counts stay.
    server
        .write_directly(&["UPDATE usage_subjects SET day = 1".to_string()])
        .await;
    server.airlock.purge(server.now()).await.expect("purge");
    assert_eq!(
        server
            .count_directly("SELECT COUNT(*) FROM usage_subjects")
            .await,
        0
    );
    assert!(
        server
            .count_directly("SELECT COUNT(*) FROM usage_counts")
            .await
            > 0
    );
}

crate::backend_test!(usage_is_counted_per_zone_and_billed_for_live_ones);
