//! Per-environment audit logs: what is recorded, how it is labelled, who may read it, and that the
//! hash chain exposes tampering.

use airlock::model::EnvKind;
use serde_json::Value;
use sqlx::{AnyConnection, Connection};

use crate::backend_test;
use crate::harness::flow::{self, client_post};
use crate::harness::server::{Seeded, http};
use crate::harness::{Browser, TestServer};

async fn audit_via_api(
    server: &TestServer,
    zone: &Seeded,
    token: &str,
    query: &str,
) -> (u16, Value) {
    let response = http()
        .get(format!(
            "{}/admin/v1/projects/{}/environments/{}/audit{query}",
            server.base, zone.environment.project, zone.environment.name
        ))
        .bearer_auth(token)
        .send()
        .await
        .expect("audit");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn security_events_are_recorded_per_environment(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let production = server.seed("acme", "production", EnvKind::Live).await;

    // A wrong password, a sign-in, a code flow; a client_credentials call with our request id.
    let browser = Browser::new();
    let login = browser.get(&flow::authorize_url(&sandbox, &[])).await;
    browser
        .login(&login, &sandbox.email, "not the password")
        .await;
    let tokens = flow::sign_in(&sandbox, &browser).await;
    let response = http()
        .post(format!("{}/token", sandbox.issuer))
        .header("x-request-id", "req-audit-42")
        .header("user-agent", "audit-test/1.0")
        .basic_auth(&sandbox.client_id, Some(&sandbox.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token");
    assert_eq!(response.headers()["x-request-id"], "req-audit-42");
    let machine_token: Value = response.json().await.expect("json");

    let sandbox_admin = server.admin_token(&sandbox.environment).await;
    let (status, body) = audit_via_api(server, &sandbox, &sandbox_admin, "").await;
    assert_eq!(status, 200);
    assert_eq!(body["label"], "SANDBOX");
    let entries = body["entries"].as_array().expect("entries");
    let events: Vec<&str> = entries
        .iter()
        .map(|e| e["event"].as_str().expect("event"))
        .collect();
    for expected in [
        "client.created",
        "user.created",
        "signin.failed",
        "signin.succeeded",
        "consent.granted",
        "code.issued",
        "code.redeemed",
        "token.issued",
        "admin_token.created",
        "admin_token.used",
    ] {
        assert!(
            events.contains(&expected),
            "{expected} missing from {events:?}"
        );
    }
    for entry in entries {
        assert_eq!(entry["label"], "SANDBOX");
        assert_eq!(entry["kind"], "test");
        assert_eq!(entry["project"], "acme");
        assert_eq!(entry["environment"], "sandbox");
    }
    let failed = entries
        .iter()
        .find(|e| e["event"] == "signin.failed")
        .expect("failed");
    assert_eq!(failed["outcome"], "failure");
    assert_eq!(failed["details"]["reason"], "wrong_password");
    assert_eq!(failed["ip"], "127.0.0.1");
    let machine = entries
        .iter()
        .find(|e| e["request_id"] == "req-audit-42")
        .expect("the client_credentials entry carries our request id");
    assert_eq!(machine["event"], "token.issued");
    assert_eq!(machine["client_id"], sandbox.client_id.as_str());
    assert_eq!(machine["user_agent"], "audit-test/1.0");
    let signed_in = entries
        .iter()
        .find(|e| e["event"] == "signin.succeeded")
        .expect("signin");
    assert_eq!(signed_in["actor"], sandbox.sub.as_str());
    assert!(
        entries
            .iter()
            .all(|e| e["request_id"].is_string() || e["actor"] == "cli"),
        "every HTTP-caused entry has a request id"
    );

    // Never a secret or a token.
    let text = body.to_string();
    for secret in [
        sandbox.client_secret.as_str(),
        sandbox.password.as_str(),
        "not the password",
        tokens.access_token.as_str(),
        tokens.refresh_token.as_str(),
        tokens.id_token.as_str(),
        machine_token["access_token"].as_str().expect("at"),
        sandbox_admin.as_str(),
    ] {
        assert!(!text.contains(secret), "the audit log leaks a secret");
    }

    // Filters: by type and time.
    let (_, only) = audit_via_api(server, &sandbox, &sandbox_admin, "?type=signin.failed").await;
    let only = only["entries"].as_array().expect("entries").clone();
    assert_eq!(only.len(), 1);
    let (_, future) = audit_via_api(
        server,
        &sandbox,
        &sandbox_admin,
        &format!("?since={}", server.now() + 100),
    )
    .await;
    assert_eq!(future["entries"].as_array().expect("entries").len(), 0);
    let (status, _) = audit_via_api(server, &sandbox, &sandbox_admin, "?since=yesterday").await;
    assert_eq!(status, 400);

    // Production's log holds none of it, and is labelled live.
    let production_admin = server.admin_token(&production.environment).await;
    let (_, body) = audit_via_api(server, &production, &production_admin, "").await;
    assert_eq!(body["label"], "LIVE");
    let production_entries = body["entries"].as_array().expect("entries");
    assert!(production_entries.iter().all(|e| e["label"] == "LIVE"));
    assert!(
        !production_entries
            .iter()
            .any(|e| e["event"] == "signin.succeeded")
    );

    // A sandbox token cannot read production's log: the same 404 as an environment that does not exist.
    let (foreign, _) = audit_via_api(server, &production, &sandbox_admin, "").await;
    let missing = http()
        .get(format!(
            "{}/admin/v1/projects/acme/environments/nowhere/audit",
            server.base
        ))
        .bearer_auth(&sandbox_admin)
        .send()
        .await
        .expect("get");
    assert_eq!(foreign, 404);
    assert_eq!(missing.status().as_u16(), 404);

    // The CLI reads one environment and labels sandbox entries.
    let (ok, stdout, stderr) =
        server.cli(&["audit", "list", "acme/sandbox", "--type", "signin.failed"]);
    assert!(ok, "{stderr}");
    assert!(stdout.starts_with("[SANDBOX]"), "{stdout}");
    assert_eq!(stdout.lines().count(), 1);
    let (ok, stdout, _) = server.cli(&[
        "audit",
        "list",
        "acme/production",
        "--since",
        "1h",
        "--json",
    ]);
    assert!(ok);
    let listed: Value = serde_json::from_str(&stdout).expect("json");
    assert!(
        listed
            .as_array()
            .expect("array")
            .iter()
            .all(|e| e["label"] == "LIVE")
    );
}
backend_test!(security_events_are_recorded_per_environment);

async fn request_ids_are_accepted_or_generated(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let discovery = format!("{}/.well-known/openid-configuration", zone.issuer);
    let generated = http().get(&discovery).send().await.expect("get");
    let id = generated.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(id.len() >= 16);
    let unsafe_id = http()
        .get(&discovery)
        .header("x-request-id", "bad id with spaces\"<>")
        .send()
        .await
        .expect("get");
    assert_ne!(
        unsafe_id.headers()["x-request-id"],
        "bad id with spaces\"<>"
    );
    let long = "a".repeat(500);
    let too_long = http()
        .get(&discovery)
        .header("x-request-id", &long)
        .send()
        .await
        .expect("get");
    assert_ne!(
        too_long.headers()["x-request-id"].to_str().expect("ascii"),
        long
    );
    // Even a 404 carries one.
    let missing = http()
        .get(format!("{}/nowhere", server.base))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .expect("get");
    assert_eq!(missing.status().as_u16(), 404);
    assert_eq!(missing.headers()["x-request-id"], "abc-123");
}
backend_test!(request_ids_are_accepted_or_generated);

async fn tampering_is_detected_and_located(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    server.expect_broken_chain(&zone.environment);
    // A few more entries: failed and successful sign-ins, a refresh.
    let tokens = flow::sign_in(&zone, &Browser::new()).await;
    client_post(
        &format!("{}/token", zone.issuer),
        &zone.client_id,
        &zone.client_secret,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &tokens.refresh_token),
        ],
    )
    .await;
    let env_id = zone.environment.id.clone();
    let report = server
        .airlock
        .audit_trail()
        .verify(&zone.environment)
        .await
        .expect("verify");
    assert!(report.intact, "{report:?}");
    assert!(report.entries >= 8);
    let (ok, stdout, _) = server.cli(&["audit", "verify", "acme/sandbox"]);
    assert!(ok && stdout.contains("intact"), "{stdout}");

    // An edited entry.
    let original: (String,) = {
        sqlx::any::install_default_drivers();
        let mut conn = AnyConnection::connect(&server.database_url)
            .await
            .expect("connect");
        let row: (String,) = sqlx::query_as(&format!(
            "SELECT details FROM audit_log WHERE env_id = '{env_id}' AND seq = 3"
        ))
        .fetch_one(&mut conn)
        .await
        .expect("row");
        conn.close().await.ok();
        row
    };
    server.write_directly(
        &[format!(
            "UPDATE audit_log SET details = '{{\"forged\":true}}' WHERE env_id = '{env_id}' AND seq = 3"
        )],
    )
    .await;
    let report = server
        .airlock
        .audit_trail()
        .verify(&zone.environment)
        .await
        .expect("verify");
    assert!(!report.intact);
    assert_eq!(report.at_seq, Some(3));
    let (ok, stdout, stderr) = server.cli(&["audit", "verify", "acme/sandbox"]);
    assert!(!ok, "a broken chain fails the command");
    assert!(stdout.contains("entry 3"), "{stdout}{stderr}");
    server
        .write_directly(&[format!(
            "UPDATE audit_log SET details = '{}' WHERE env_id = '{env_id}' AND seq = 3",
            original.0.replace('\'', "''")
        )])
        .await;
    assert!(
        server
            .airlock
            .audit_trail()
            .verify(&zone.environment)
            .await
            .expect("verify")
            .intact
    );

    // Two entries swapped.
    server
        .write_directly(&[
            format!("UPDATE audit_log SET seq = -1 WHERE env_id = '{env_id}' AND seq = 4"),
            format!("UPDATE audit_log SET seq = 4 WHERE env_id = '{env_id}' AND seq = 5"),
            format!("UPDATE audit_log SET seq = 5 WHERE env_id = '{env_id}' AND seq = -1"),
        ])
        .await;
    let report = server
        .airlock
        .audit_trail()
        .verify(&zone.environment)
        .await
        .expect("verify");
    assert!(!report.intact);
    assert_eq!(report.at_seq, Some(4));
    server
        .write_directly(&[
            format!("UPDATE audit_log SET seq = -1 WHERE env_id = '{env_id}' AND seq = 4"),
            format!("UPDATE audit_log SET seq = 4 WHERE env_id = '{env_id}' AND seq = 5"),
            format!("UPDATE audit_log SET seq = 5 WHERE env_id = '{env_id}' AND seq = -1"),
        ])
        .await;
    assert!(
        server
            .airlock
            .audit_trail()
            .verify(&zone.environment)
            .await
            .expect("verify")
            .intact
    );

    // The last entry removed.
    let last = report.entries as i64;
    server
        .write_directly(&[format!(
            "DELETE FROM audit_log WHERE env_id = '{env_id}' AND seq = {last}"
        )])
        .await;
    let report = server
        .airlock
        .audit_trail()
        .verify(&zone.environment)
        .await
        .expect("verify");
    assert!(!report.intact);
    assert!(report.problem.expect("problem").contains("removed"));

    // An entry in the middle removed.
    server
        .write_directly(&[format!(
            "DELETE FROM audit_log WHERE env_id = '{env_id}' AND seq = 2"
        )])
        .await;
    let report = server
        .airlock
        .audit_trail()
        .verify(&zone.environment)
        .await
        .expect("verify");
    assert_eq!(report.at_seq, Some(3));
}
backend_test!(tampering_is_detected_and_located);

async fn concurrent_appends_across_environments_keep_every_chain(server: &TestServer) {
    let zones = [
        server.seed("acme", "sandbox", EnvKind::Test).await,
        server.seed("acme", "production", EnvKind::Live).await,
        server.seed("beta", "sandbox", EnvKind::Test).await,
    ];
    let before: Vec<usize> = {
        let mut counts = Vec::new();
        for zone in &zones {
            counts.push(
                server
                    .airlock
                    .audit_trail()
                    .verify(&zone.environment)
                    .await
                    .expect("verify")
                    .entries,
            );
        }
        counts
    };
    // Many token requests at once, interleaved across zones, so writer batches span environments.
    let mut requests = Vec::new();
    for round in 0..60 {
        let zone = zones[round % zones.len()].clone();
        requests.push(tokio::spawn(async move {
            client_post(
                &format!("{}/token", zone.issuer),
                &zone.client_id,
                &zone.client_secret,
                &[("grant_type", "client_credentials")],
            )
            .await
            .0
        }));
    }
    for request in requests {
        assert_eq!(request.await.expect("join"), 200);
    }
    for (zone, before) in zones.iter().zip(before) {
        let report = server
            .airlock
            .audit_trail()
            .verify(&zone.environment)
            .await
            .expect("verify");
        assert!(report.intact, "{report:?}");
        assert_eq!(report.entries, before + 20);
    }
}
backend_test!(concurrent_appends_across_environments_keep_every_chain);

async fn a_chain_verified_while_it_grows_is_intact(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let writing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let mut writers = Vec::new();
    for _ in 0..4 {
        let (zone, writing) = (zone.clone(), writing.clone());
        writers.push(tokio::spawn(async move {
            while writing.load(std::sync::atomic::Ordering::Relaxed) {
                let (status, _) = client_post(
                    &format!("{}/token", zone.issuer),
                    &zone.client_id,
                    &zone.client_secret,
                    &[("grant_type", "client_credentials")],
                )
                .await;
                assert_eq!(status, 200);
            }
        }));
    }
    // Each verification reads entries and head while batches keep committing: a head read after
    // the entries would run ahead of them and look like entries removed at the end.
    let mut grown = 0;
    for _ in 0..40 {
        let report = server
            .airlock
            .audit_trail()
            .verify(&zone.environment)
            .await
            .expect("verify");
        assert!(report.intact, "{report:?}");
        grown = grown.max(report.entries);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    writing.store(false, std::sync::atomic::Ordering::Relaxed);
    for writer in writers {
        writer.await.expect("join");
    }
    assert!(grown > 40, "the chain grew while it was verified: {grown}");
}
backend_test!(a_chain_verified_while_it_grows_is_intact);
