//! Tokens and budgets: a client's budget charged after authentication (item 4), introspection of
//! one's own tokens only (item 17), a new password revoking grants (item 6), absolute refresh
//! family lifetimes (item 20).

use airlock::model::{EnvKind, SigningAlg};
use airlock::service::Caller;
use airlock::service::admin::clients::NewClient;
use serde_json::json;

use crate::backend_test;
use crate::harness::flow::{self, client_post};
use crate::harness::server::{Seeded, http};
use crate::harness::{Browser, Options, TestServer};

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
    flow::set_limits(server, &zone, json!({"token_requests_per_minute": 10})).await;
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
                token_endpoint_auth_method: None,
                jwks: None,
                jwks_uri: None,
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
    let (status, body) = refresh(&zone, &before.refresh_token).await;
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
    assert_eq!(refresh(&zone, &kept.refresh_token).await.0, 200);
    assert_eq!(flow::userinfo_status(&zone, &kept.access_token).await, 200);
}
backend_test!(a_new_password_revokes_the_users_tokens);

/// A refresh of `refresh_token` by the zone's confidential client: status and body.
async fn refresh(zone: &Seeded, refresh_token: &str) -> (u16, serde_json::Value) {
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    let url = format!("{}/token", zone.issuer);
    client_post(&url, &zone.client_id, &zone.client_secret, &form).await
}

/// Item 20: a refresh family has an absolute end (`refresh_family_ttl`): rotation never carries a
/// token past it, and once it has come the family is over.
async fn a_refresh_family_has_an_absolute_end(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let token = server.admin_token(&zone.environment).await;
    let policy = http()
        .put(format!(
            "{}/admin/v1/projects/acme/environments/sandbox/policy",
            server.base
        ))
        .bearer_auth(token)
        .json(&json!({"refresh_token_ttl": 3600, "refresh_family_ttl": 120}))
        .send()
        .await
        .expect("policy");
    assert_eq!(policy.status().as_u16(), 200);
    let signed_in_at = server.now();
    let tokens = flow::sign_in(&zone, &Browser::new()).await;
    let exp = |body: &serde_json::Value| body["exp"].as_i64().expect("exp");
    let first = flow::introspect(&zone, &tokens.refresh_token).await.1;
    let family_end = exp(&first);
    assert!(family_end <= server.now() + 120, "{first}");
    assert!(family_end >= signed_in_at + 120, "{first}");

    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, rotated) = refresh(&zone, &tokens.refresh_token).await;
    assert_eq!(status, 200, "{rotated}");
    let successor = rotated["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_string();
    let second = flow::introspect(&zone, &successor).await.1;
    assert_eq!(exp(&second), family_end, "rotation does not slide the end");

    // The end has come (moved into the past behind the server's back): the family is over.
    let sql = format!(
        "UPDATE grants SET expires_at = {} WHERE env_id = '{}'",
        server.now() - 1,
        zone.environment.id
    );
    server.write_directly(&[sql]).await;
    let (status, refused) = refresh(&zone, &successor).await;
    assert_eq!((status, &refused["error"]), (400, &json!("invalid_grant")));
}
backend_test!(a_refresh_family_has_an_absolute_end);
