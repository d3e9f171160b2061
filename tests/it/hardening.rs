//! Regression tests for what an adversarial review of the server found (issue 16), one per item.

use airlock::model::{EnvKind, SigningAlg};
use airlock::service::Caller;
use airlock::service::admin::clients::NewClient;
use serde_json::json;

use crate::backend_test;
use crate::harness::flow::{self, client_post};
use crate::harness::server::{Seeded, http};
use crate::harness::{Backend, Browser, Node, Options, TestServer};

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

/// Item 11: the demo callback page exists only under `airlock quickstart`, and it names a token
/// endpoint only for an issuer the demo seeded, compared exactly.
async fn the_demo_callback_is_served_only_by_quickstart(server: &TestServer) {
    let callback = |base: &str, iss: &str| {
        let url = format!("{base}/quickstart/callback");
        http()
            .get(url)
            .query(&[("code", "c0de"), ("iss", iss)])
            .send()
    };
    let sandbox_issuer = format!("{}/demo/sandbox", server.base);
    let serving = Node::start(server, "serve", &[]).await;
    let answer = callback(&serving.base, &sandbox_issuer).await.expect("get");
    assert_eq!(answer.status().as_u16(), 404, "not under plain serve");
    drop(serving);

    let demo = Node::start(server, "quickstart", &[]).await;
    let page = callback(&demo.base, &sandbox_issuer).await.expect("get");
    assert_eq!(page.status().as_u16(), 200);
    let page = page.text().await.expect("page");
    assert!(page.contains(&format!("{sandbox_issuer}/token")), "{page}");
    let lookalike = format!("{}.evil.example/x", server.base);
    let page = callback(&demo.base, &lookalike).await.expect("get");
    let page = page.text().await.expect("page");
    assert!(page.contains("c0de"), "{page}");
    assert!(!page.contains("evil.example"), "{page}");
}
backend_test!(the_demo_callback_is_served_only_by_quickstart);

/// Item 13: a live environment refuses the IPv4 loopback written as an IPv6-mapped address, and
/// every scheme but https and a native app's reverse-domain scheme.
async fn live_redirect_uris_are_https_or_native_app_schemes(server: &TestServer) {
    let zone = server.seed("acme", "production", EnvKind::Live).await;
    let token = server.admin_token(&zone.environment).await;
    let create = |uri: &'static str| {
        http()
            .post(format!(
                "{}/admin/v1/projects/acme/environments/production/clients",
                server.base
            ))
            .bearer_auth(&token)
            .json(&json!({"name": "app", "redirect_uris": [uri]}))
            .send()
    };
    for refused in [
        "https://[::ffff:127.0.0.1]/cb",
        "https://[::ffff:0.0.0.0]/cb",
        "ws://app.example/cb",
        "ftp://app.example/cb",
        "myapp:/cb",
    ] {
        let answer = create(refused).await.expect("create");
        assert_eq!(answer.status().as_u16(), 400, "{refused}");
    }
    let native = create("com.example.app:/oauth2redirect")
        .await
        .expect("create");
    assert_eq!(native.status().as_u16(), 201);
}
backend_test!(live_redirect_uris_are_https_or_native_app_schemes);

/// Item 17: a client introspects its own tokens only; another client's access or refresh token
/// answers exactly as an unknown one.
async fn a_client_introspects_only_its_own_tokens(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let tokens = flow::sign_in(&zone, &Browser::new()).await;
    let other = server
        .airlock
        .clients()
        .create(
            &zone.environment,
            NewClient {
                name: "Other App".into(),
                redirect_uris: vec![zone.redirect_uri.clone()],
                post_logout_redirect_uris: Vec::new(),
                public: false,
                first_party: false,
                id_token_signed_response_alg: SigningAlg::ES256,
            },
            &Caller::cli(),
            server.now(),
        )
        .await
        .expect("client");
    let other_secret = other.client_secret.expect("secret");
    let url = format!("{}/introspect", zone.issuer);
    for token in [&tokens.access_token, &tokens.refresh_token] {
        assert_eq!(flow::introspect(&zone, token).await.1["active"], true);
        let (id, secret) = (other.client.client_id.as_str(), other_secret.expose());
        let answer = client_post(&url, id, secret, &[("token", token)]).await;
        assert_eq!(answer, (200, json!({"active": false})));
    }
}
backend_test!(a_client_introspects_only_its_own_tokens);

/// Item 6: a new password revokes the user's grants, so their refresh and access tokens die with
/// the old password; an admin may keep them (`keep_grants`, `--keep-grants`).
async fn a_new_password_revokes_the_users_tokens(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let token = server.admin_token(&zone.environment).await;
    let refresh = |refresh_token: String| {
        client_post_owned(
            format!("{}/token", zone.issuer),
            zone.client_id.clone(),
            zone.client_secret.clone(),
            vec![
                ("grant_type".into(), "refresh_token".into()),
                ("refresh_token".into(), refresh_token),
            ],
        )
    };
    let before = flow::sign_in(&zone, &Browser::new()).await;
    let changed = http()
        .post(format!(
            "{}/admin/v1/projects/acme/environments/sandbox/users/{}/password",
            server.base, zone.sub
        ))
        .bearer_auth(&token)
        .json(&json!({"password": "a brand new passphrase"}))
        .send()
        .await
        .expect("set password");
    assert_eq!(changed.status().as_u16(), 204);
    let (status, body) = refresh(before.refresh_token.clone()).await;
    assert_eq!((status, &body["error"]), (400, &json!("invalid_grant")));
    assert_eq!(
        flow::userinfo_status(&zone, &before.access_token).await,
        401
    );
    let (_, introspected) = flow::introspect(&zone, &before.access_token).await;
    assert_eq!(introspected, json!({"active": false}));

    let renewed = Seeded {
        password: "a brand new passphrase".into(),
        ..zone.clone()
    };
    let kept = flow::sign_in(&renewed, &Browser::new()).await;
    let (ok, stdout, stderr) = server.cli(&[
        "--json",
        "user",
        "set-password",
        "acme/sandbox",
        &zone.sub,
        "--password",
        "yet another passphrase",
        "--keep-grants",
    ]);
    assert!(ok, "{stderr}");
    let printed: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(printed["revoked_grants"], 0, "{stdout}");
    assert_eq!(refresh(kept.refresh_token).await.0, 200);
    assert_eq!(flow::userinfo_status(&zone, &kept.access_token).await, 200);
}
backend_test!(a_new_password_revokes_the_users_tokens);

/// `client_post` with owned arguments, for closures.
async fn client_post_owned(
    url: String,
    client_id: String,
    secret: String,
    form: Vec<(String, String)>,
) -> (u16, serde_json::Value) {
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    client_post(&url, &client_id, &secret, &form).await
}
