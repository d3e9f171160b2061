//! Rate limits per environment: a sandbox load test never spends production's budget, and repeated
//! failed sign-ins lock an account name without telling whether it exists.

use airlock::model::EnvKind;
use airlock::service::MAX_PARALLEL_SIGNINS;
use serde_json::{Value, json};

use crate::backend_test;
use crate::harness::flow;
use crate::harness::server::{Seeded, http};
use crate::harness::{Browser, Step, TestServer};

async fn machine_token(zone: &Seeded) -> reqwest::Response {
    http()
        .post(format!("{}/token", zone.issuer))
        .basic_auth(&zone.client_id, Some(&zone.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token")
}

async fn sandbox_load_does_not_spend_production_budget(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let production = server.seed("acme", "production", EnvKind::Live).await;
    flow::set_limits(server, &sandbox, json!({"token_requests_per_minute": 5})).await;
    flow::set_limits(server, &production, json!({"token_requests_per_minute": 5})).await;

    for _ in 0..5 {
        assert_eq!(machine_token(&sandbox).await.status().as_u16(), 200);
    }
    let limited = machine_token(&sandbox).await;
    assert_eq!(limited.status().as_u16(), 429);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry_after));
    let body: Value = limited.json().await.expect("json");
    assert_eq!(body["error"], "rate_limited");

    // Production keeps its whole budget.
    for _ in 0..5 {
        assert_eq!(machine_token(&production).await.status().as_u16(), 200);
    }
    assert_eq!(machine_token(&production).await.status().as_u16(), 429);

    // Limits are visible, validated and can be switched off.
    let token = server.admin_token(&sandbox.environment).await;
    let url = format!(
        "{}/admin/v1/projects/acme/environments/sandbox/limits",
        server.base
    );
    let shown: Value = http()
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(shown["token_requests_per_minute"], 5);
    let refused = http()
        .put(&url)
        .bearer_auth(&token)
        .json(&json!({"token_requests_per_minute": -1}))
        .send()
        .await
        .expect("put");
    assert_eq!(refused.status().as_u16(), 400);
    let (ok, stdout, stderr) = server.cli(&[
        "env",
        "limits",
        "acme/sandbox",
        "--token-requests-per-minute",
        "0",
        "--json",
    ]);
    assert!(ok, "{stderr}");
    assert_eq!(
        serde_json::from_str::<Value>(&stdout).expect("json")["token_requests_per_minute"],
        0
    );
}
backend_test!(sandbox_load_does_not_spend_production_budget);

/// Tries a password through the login form: the status of the answer (`SIGNED_IN` on success) and
/// its `Retry-After`.
pub async fn attempt(zone: &Seeded, email: &str, password: &str) -> (u16, Option<String>) {
    let browser = Browser::new();
    let login = browser.get(&flow::authorize_url(zone, &[])).await;
    let Step::Form { action, fields, .. } = &login else {
        panic!("login form expected");
    };
    let mut fields = fields.clone();
    fields.push(("airlock_email".into(), email.into()));
    fields.push(("airlock_password".into(), password.into()));
    let response = browser
        .client
        .post(action)
        .form(&fields)
        .send()
        .await
        .expect("post");
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let status = response.status().as_u16();
    let html = response.text().await.expect("html");
    // Signed in: the consent page of the (third-party) test client.
    let status = if status == 200 && html.contains("airlock_decision") {
        SIGNED_IN
    } else {
        status
    };
    (status, retry_after)
}

/// Stands for "the sign-in succeeded" in `attempt`'s answer.
const SIGNED_IN: u16 = 1;

async fn failed_sign_ins_lock_account_names(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let production = server.seed("acme", "production", EnvKind::Live).await;
    flow::set_limits(
        server,
        &sandbox,
        json!({"lockout_threshold": 3, "signin_failures_per_minute": 0}),
    )
    .await;

    // An existing account and a made-up one behave identically.
    for email in [sandbox.email.as_str(), "nobody@example.com"] {
        for _ in 0..3 {
            assert_eq!(attempt(&sandbox, email, "wrong password").await.0, 200);
        }
        let (status, retry_after) = attempt(&sandbox, email, "wrong password").await;
        assert_eq!(status, 429, "{email}");
        let seconds: i64 = retry_after.expect("Retry-After").parse().expect("seconds");
        assert!((1..=30).contains(&seconds));
    }
    // Even the right password waits out the lock.
    assert_eq!(
        attempt(&sandbox, &sandbox.email, &sandbox.password).await.0,
        429
    );
    // Production's account of the same kind is untouched, and a different sandbox name is free.
    let (status, _) = attempt(&production, &production.email, &production.password).await;
    assert_eq!(status, SIGNED_IN);

    let entries = server
        .airlock
        .audit_trail()
        .list(
            &sandbox.environment,
            airlock::service::admin::audit::AuditFilter {
                event: Some("signin.failed".into()),
                ..Default::default()
            },
        )
        .await
        .expect("audit");
    let reasons: Vec<&str> = entries
        .iter()
        .map(|e| e.details["reason"].as_str().expect("reason"))
        .collect();
    assert!(reasons.contains(&"wrong_password"));
    assert!(reasons.contains(&"unknown_account"));
    assert!(reasons.contains(&"account_locked"));
    // What was typed as the name may be a password typed in the wrong field: never logged as such.
    for entry in &entries {
        let details = entry.details.to_string();
        assert!(!details.contains("nobody@example.com"), "{details}");
        assert!(!details.contains(&sandbox.email), "{details}");
        assert_eq!(entry.details["account"].as_str().map(str::len), Some(64));
    }
}
backend_test!(failed_sign_ins_lock_account_names);

async fn parallel_guesses_cannot_outrun_the_lockout(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    flow::set_limits(
        server,
        &sandbox,
        json!({"lockout_threshold": 3, "signin_failures_per_minute": 0}),
    )
    .await;
    // A burst of guesses at once: only a bounded number are checked in parallel, and once the
    // threshold's worth have failed the rest find the account locked.
    let burst = MAX_PARALLEL_SIGNINS + 16;
    let mut guesses = tokio::task::JoinSet::new();
    for i in 0..burst {
        let sandbox = sandbox.clone();
        guesses.spawn(async move {
            attempt(&sandbox, &sandbox.email, &format!("guess {i}"))
                .await
                .0
        });
    }
    let statuses = guesses.join_all().await;
    let verdicts = statuses.iter().filter(|s| **s == 200).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(verdicts + throttled, burst, "{statuses:?}");
    assert!(
        verdicts <= MAX_PARALLEL_SIGNINS + 3,
        "{verdicts} guesses were checked: {statuses:?}"
    );
    assert_eq!(
        attempt(&sandbox, &sandbox.email, &sandbox.password).await.0,
        429
    );
}
backend_test!(parallel_guesses_cannot_outrun_the_lockout);

async fn failed_sign_ins_are_limited_per_ip(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let production = server.seed("acme", "production", EnvKind::Live).await;
    flow::set_limits(
        server,
        &sandbox,
        json!({"lockout_threshold": 0, "signin_failures_per_minute": 2}),
    )
    .await;
    assert_eq!(
        attempt(&sandbox, "a@example.com", "wrong password").await.0,
        200
    );
    assert_eq!(
        attempt(&sandbox, "b@example.com", "wrong password").await.0,
        200
    );
    let (status, retry_after) = attempt(&sandbox, &sandbox.email, &sandbox.password).await;
    assert_eq!(status, 429);
    assert!(retry_after.is_some());
    // The same address still signs in at production.
    assert_eq!(
        attempt(&production, &production.email, &production.password)
            .await
            .0,
        SIGNED_IN
    );
}
backend_test!(failed_sign_ins_are_limited_per_ip);
