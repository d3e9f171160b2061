//! Regression tests for what an adversarial review of the server found (issue 16), one per item.

use airlock::model::EnvKind;
use serde_json::json;

use crate::backend_test;
use crate::harness::server::http;
use crate::harness::{Backend, Options, TestServer};

/// Item 14: answers that carry a secret shown once are never cached.
async fn admin_answers_with_secrets_are_not_cached(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let token = server.admin_token(&zone.environment).await;
    let base = format!(
        "{}/admin/v1/projects/acme/environments/sandbox",
        server.base
    );
    let created = http()
        .post(format!("{base}/clients"))
        .bearer_auth(&token)
        .json(&json!({"name": "api", "redirect_uris": ["https://rp.example/cb"]}))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status().as_u16(), 201);
    assert_eq!(created.headers()["cache-control"], "no-store");
    let rotated = http()
        .post(format!("{base}/clients/{}/rotate-secret", zone.client_id))
        .bearer_auth(&token)
        .send()
        .await
        .expect("rotate");
    assert_eq!(rotated.status().as_u16(), 200);
    assert_eq!(rotated.headers()["cache-control"], "no-store");
}
backend_test!(admin_answers_with_secrets_are_not_cached);

/// Item 18: `AIRLOCK_TRUSTED_PROXIES` takes plain addresses as well as ranges, and every command
/// keeps working with it set.
async fn a_plain_address_is_a_trusted_proxy(server: &TestServer) {
    server.seed("acme", "sandbox", EnvKind::Test).await;
    let proxies = [("AIRLOCK_TRUSTED_PROXIES", "127.0.0.1, ::1,10.0.0.0/8")];
    let (ok, stdout, stderr) = server.cli_with(&proxies, &["env", "show", "acme/sandbox"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("acme/sandbox"), "{stdout}");
    let refused = [("AIRLOCK_TRUSTED_PROXIES", "proxy.internal")];
    let (ok, _, stderr) = server.cli_with(&refused, &["env", "show", "acme/sandbox"]);
    assert!(!ok && stderr.contains("proxy.internal"), "{stderr}");
}
backend_test!(a_plain_address_is_a_trusted_proxy);

/// Item 19: the SQLite database holds password hashes and the audit log: only its owner reads it,
/// and so its WAL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;

    let server = TestServer::start(Backend::Sqlite).await.expect("server");
    server.seed("acme", "sandbox", EnvKind::Test).await;
    let path = server
        .database_url
        .trim_start_matches("sqlite://")
        .to_string();
    for file in [path.clone(), format!("{path}-wal")] {
        let mode = std::fs::metadata(&file).expect("file").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{file}");
    }
    server.finish().await;
}

fn through_a_proxy() -> Options {
    Options {
        trusted_proxies: vec!["127.0.0.1/32".parse().expect("cidr")],
        ..Options::default()
    }
}

/// Item 4: requests naming someone else's client id with a wrong secret spend nothing of that
/// client's token budget; they are charged to the address they come from, which runs out instead.
async fn a_client_budget_is_charged_only_after_authentication(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let token = server.admin_token(&zone.environment).await;
    let limits = http()
        .put(format!(
            "{}/admin/v1/projects/acme/environments/sandbox/limits",
            server.base
        ))
        .bearer_auth(token)
        .json(&json!({"token_requests_per_minute": 10}))
        .send()
        .await
        .expect("limits");
    assert_eq!(limits.status().as_u16(), 200);
    let request = |secret: &str, from: Option<&str>| {
        let mut builder = http()
            .post(format!("{}/token", zone.issuer))
            .basic_auth(&zone.client_id, Some(secret))
            .form(&[("grant_type", "client_credentials")]);
        if let Some(address) = from {
            builder = builder.header("x-forwarded-for", address);
        }
        builder.send()
    };
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let answer = request("acs_test_wrong", Some("198.51.100.7")).await;
        statuses.push(answer.expect("send").status().as_u16());
    }
    assert_eq!(statuses[..10], [401; 10]);
    assert_eq!(statuses[10..], [429; 2], "the attacker's address runs out");
    let victim = request(&zone.client_secret, None).await.expect("send");
    assert_eq!(
        victim.status().as_u16(),
        200,
        "the real client keeps its budget"
    );
}
backend_test!(
    a_client_budget_is_charged_only_after_authentication,
    super::through_a_proxy()
);
