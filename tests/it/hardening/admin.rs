//! Admin API and operator hardening: answers with secrets uncached (item 14), plain trusted-proxy
//! addresses (item 18), domain claims that squat nothing (item 7).

use airlock::model::EnvKind;
use serde_json::json;

use crate::backend_test;
use crate::harness::TestServer;
use crate::harness::server::http;

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

/// Item 7: an environment's admin cannot reserve a host for the installation. Claims of the same
/// pending host by several zones coexist (a claim reveals nothing about the others), pending claims
/// lapse after `AIRLOCK_PENDING_DOMAIN_TTL`, each zone holds a bounded number of them, and the
/// operator can release a host from every zone.
async fn pending_domains_squat_nothing(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let production = server.seed("acme", "production", EnvKind::Live).await;
    let sandbox_token = server.admin_token(&sandbox.environment).await;
    let production_token = server.admin_token(&production.environment).await;
    let operator = server.installation_admin_token().await;
    let zone_url = |name: &str| {
        format!(
            "{}/admin/v1/projects/acme/environments/{name}/domains",
            server.base
        )
    };
    let claim = |name: &'static str, token: &str, host: String| {
        http()
            .post(zone_url(name))
            .bearer_auth(token)
            .json(&json!({ "host": host }))
            .send()
    };
    let listed = |name: &'static str, token: String| async move {
        let answer = http().get(zone_url(name)).bearer_auth(token).send().await;
        let body: serde_json::Value = answer.expect("list").json().await.expect("json");
        body["domains"].as_array().expect("domains").len()
    };
    let victim = "login.victim.example".to_string();
    let squatted = claim("sandbox", &sandbox_token, victim.clone())
        .await
        .expect("claim");
    assert_eq!(squatted.status().as_u16(), 201);
    let real = claim("production", &production_token, victim.clone())
        .await
        .expect("claim");
    assert_eq!(
        real.status().as_u16(),
        201,
        "a pending claim elsewhere is not revealed"
    );

    // A claim lapses: a week on (moved behind the server's back), it is gone from the list and
    // the same zone may claim the host afresh.
    let lapsed = format!(
        "UPDATE domains SET created_at = {} WHERE env_id = '{}'",
        server.now() - 8 * 24 * 3600,
        sandbox.environment.id
    );
    server.write_directly(&[lapsed]).await;
    assert_eq!(listed("sandbox", sandbox_token.clone()).await, 0);
    let again = claim("sandbox", &sandbox_token, victim.clone())
        .await
        .expect("claim");
    assert_eq!(again.status().as_u16(), 201);

    // At most 20 live pending claims per zone.
    let mut statuses = Vec::new();
    for i in 0..20 {
        let host = format!("h{i}.squat.example");
        let answer = claim("sandbox", &sandbox_token, host).await.expect("claim");
        statuses.push(answer.status().as_u16());
    }
    assert_eq!(statuses[..19], [201; 19]);
    assert_eq!(statuses[19], 400, "the 21st pending claim");

    // Only the operator releases a host, from every zone at once.
    let release = |token: &str| {
        http()
            .delete(format!("{}/admin/v1/domains/{victim}", server.base))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(
        release(&sandbox_token)
            .await
            .expect("delete")
            .status()
            .as_u16(),
        403
    );
    assert_eq!(
        release(&operator).await.expect("delete").status().as_u16(),
        204
    );
    assert_eq!(listed("production", production_token).await, 0);
    assert_eq!(listed("sandbox", sandbox_token).await, 19);
}
backend_test!(pending_domains_squat_nothing);
