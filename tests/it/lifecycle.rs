//! Introspection (RFC 7662) and revocation (RFC 7009).

use airlock::model::{EnvKind, SigningAlg};
use airlock::service::Caller;
use airlock::service::admin::clients::NewClient;
use serde_json::json;

use crate::backend_test;
use crate::harness::flow::{self, client_post, introspect, userinfo_status};
use crate::harness::server::http;
use crate::harness::{Browser, TestServer};

async fn introspection_reports_live_tokens_only(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let tokens = flow::sign_in(&zone, &Browser::new()).await;

    let (status, body) = introspect(&zone, &tokens.access_token).await;
    assert_eq!(status, 200);
    assert_eq!(body["active"], true);
    assert_eq!(body["sub"], zone.sub.as_str());
    assert_eq!(body["client_id"], zone.client_id.as_str());
    assert_eq!(body["iss"], zone.issuer.as_str());
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["scope"].as_str().expect("scope").contains("openid"));
    assert!(body["exp"].as_i64().expect("exp") > server.now());

    let (status, body) = introspect(&zone, &tokens.refresh_token).await;
    assert_eq!(status, 200);
    assert_eq!(body["active"], true);
    assert_eq!(body["token_type"], "refresh_token");
    assert_eq!(body["sub"], zone.sub.as_str());

    for garbage in ["", "nope", "e30.e30.c2ln", &tokens.id_token] {
        let (status, body) = introspect(&zone, garbage).await;
        if garbage.is_empty() {
            assert_eq!(status, 400);
            assert_eq!(body["error"], "invalid_request");
        } else {
            assert_eq!((status, body), (200, json!({"active": false})), "{garbage}");
        }
    }

    // Client authentication is required, and public clients cannot introspect.
    let url = format!("{}/introspect", zone.issuer);
    let (status, body) = client_post(&url, &zone.client_id, "wrong", &[("token", "x")]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let anonymous = http()
        .post(&url)
        .form(&[("token", tokens.access_token.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(anonymous.status().as_u16(), 401);
    let public = http()
        .post(&url)
        .form(&[
            ("token", tokens.access_token.as_str()),
            ("client_id", zone.public_client_id.as_str()),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(public.status().as_u16(), 401);
    assert_eq!(public.headers()["cache-control"], "no-store");

    // A rotated refresh token is inactive.
    let (_, rotated) = client_post(
        &format!("{}/token", zone.issuer),
        &zone.client_id,
        &zone.client_secret,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &tokens.refresh_token),
        ],
    )
    .await;
    assert!(rotated["refresh_token"].is_string());
    assert_eq!(
        introspect(&zone, &tokens.refresh_token).await.1,
        json!({"active": false})
    );
}
backend_test!(introspection_reports_live_tokens_only);

async fn revocation_ends_tokens_and_families(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let revoke_url = format!("{}/revoke", zone.issuer);
    let revoke = |token: String, hint: Option<&'static str>| {
        let zone = zone.clone();
        let url = revoke_url.clone();
        async move {
            let mut form = vec![("token", token)];
            if let Some(hint) = hint {
                form.push(("token_type_hint", hint.to_string()));
            }
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            client_post(&url, &zone.client_id, &zone.client_secret, &pairs).await
        }
    };

    // An access token: userinfo and introspection refuse it at once; its grant lives on.
    let tokens = flow::sign_in(&zone, &Browser::new()).await;
    assert_eq!(userinfo_status(&zone, &tokens.access_token).await, 200);
    assert_eq!(
        revoke(tokens.access_token.clone(), Some("access_token"))
            .await
            .0,
        200
    );
    assert_eq!(userinfo_status(&zone, &tokens.access_token).await, 401);
    assert_eq!(
        introspect(&zone, &tokens.access_token).await.1,
        json!({"active": false})
    );
    assert_eq!(
        introspect(&zone, &tokens.refresh_token).await.1["active"],
        true
    );

    // A refresh token (with a misleading hint): the whole family and its access tokens die.
    let tokens = flow::sign_in(&zone, &Browser::new()).await;
    assert_eq!(
        revoke(tokens.refresh_token.clone(), Some("access_token"))
            .await
            .0,
        200
    );
    let (status, body) = client_post(
        &format!("{}/token", zone.issuer),
        &zone.client_id,
        &zone.client_secret,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &tokens.refresh_token),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(userinfo_status(&zone, &tokens.access_token).await, 401);

    // Unknown tokens and repeated revocations answer 200 (RFC 7009 §2.2).
    assert_eq!(
        revoke("unknown".into(), None).await,
        (200, serde_json::Value::Null)
    );
    assert_eq!(revoke(tokens.refresh_token.clone(), None).await.0, 200);
    assert_eq!(revoke("a.b.c".into(), Some("weird")).await.0, 200);
    // The token parameter is required; the client must authenticate.
    let (status, body) = client_post(&revoke_url, &zone.client_id, &zone.client_secret, &[]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let (status, _) = client_post(&revoke_url, &zone.client_id, "wrong", &[("token", "x")]).await;
    assert_eq!(status, 401);

    // Another client of the same zone cannot revoke this client's tokens.
    let tokens = flow::sign_in(&zone, &Browser::new()).await;
    let other = server
        .airlock
        .clients()
        .create(
            &zone.environment,
            airlock::service::admin::clients::NewClient {
                name: "Other".into(),
                redirect_uris: vec![],
                post_logout_redirect_uris: vec![],
                public: false,
                first_party: false,
                id_token_signed_response_alg: airlock::model::SigningAlg::ES256,
                token_endpoint_auth_method: None,
                jwks: None,
                jwks_uri: None,
            },
            &airlock::service::Caller::cli(),
            server.now(),
        )
        .await
        .expect("client");
    let secret = other.client_secret.expect("secret");
    for token in [&tokens.access_token, &tokens.refresh_token] {
        let (status, _) = client_post(
            &revoke_url,
            other.client.client_id.as_str(),
            secret.expose(),
            &[("token", token)],
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(introspect(&zone, token).await.1["active"], true);
    }

    // A public client revokes its own refresh tokens with only its client_id.
    let public_revoke = http()
        .post(&revoke_url)
        .form(&[
            ("token", "whatever"),
            ("client_id", zone.public_client_id.as_str()),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(public_revoke.status().as_u16(), 200);
}
backend_test!(revocation_ends_tokens_and_families);

async fn discovery_advertises_the_lifecycle_endpoints(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let metadata: serde_json::Value = http()
        .get(format!("{}/.well-known/openid-configuration", zone.issuer))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(
        metadata["introspection_endpoint"],
        format!("{}/introspect", zone.issuer)
    );
    assert_eq!(
        metadata["revocation_endpoint"],
        format!("{}/revoke", zone.issuer)
    );
    assert_eq!(
        metadata["end_session_endpoint"],
        format!("{}/logout", zone.issuer)
    );
    assert!(
        metadata["revocation_endpoint_auth_methods_supported"]
            .as_array()
            .expect("methods")
            .contains(&json!("client_secret_basic"))
    );
}
backend_test!(discovery_advertises_the_lifecycle_endpoints);

async fn a_deleted_clients_tokens_are_introspected_by_nobody(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let machine = server
        .airlock
        .clients()
        .create(
            &zone.environment,
            NewClient {
                name: "Machine".into(),
                redirect_uris: vec![],
                post_logout_redirect_uris: vec![],
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
    let secret = machine.client_secret.expect("secret");
    let (status, issued) = client_post(
        &format!("{}/token", zone.issuer),
        machine.client.client_id.as_str(),
        secret.expose(),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 200, "{issued}");
    let token = issued["access_token"].as_str().expect("access_token");
    let introspect_url = format!("{}/introspect", zone.issuer);
    let form = [("token", token)];
    let as_machine = || {
        client_post(
            &introspect_url,
            machine.client.client_id.as_str(),
            secret.expose(),
            &form,
        )
    };
    assert_eq!(as_machine().await.1["active"], true);

    server
        .airlock
        .clients()
        .delete(
            &zone.environment,
            &machine.client.client_id,
            &Caller::cli(),
            server.now(),
        )
        .await
        .expect("delete");
    // The only client that may introspect the token is gone with it; nobody learns anything.
    assert_eq!(as_machine().await.0, 401);
    assert_eq!(
        introspect(&zone, token).await,
        (200, json!({"active": false}))
    );
}
backend_test!(a_deleted_clients_tokens_are_introspected_by_nobody);
