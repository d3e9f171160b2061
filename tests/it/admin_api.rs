//! The admin HTTP API shares the service layer with the CLI; environment-bound tokens see one zone.

use airlock::model::EnvKind;
use serde_json::{Value, json};

use crate::backend_test;
use crate::harness::TestServer;
use crate::harness::server::http;

async fn admin_api_manages_zones(server: &TestServer) {
    let root = server.installation_admin_token().await;
    let api = |path: &str| format!("{}/admin/v1{path}", server.base);
    let post = |path: &str, token: &str, body: Value| {
        http().post(api(path)).bearer_auth(token).json(&body).send()
    };

    let response = http()
        .post(api("/projects"))
        .json(&json!({"name": "acme"}))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status().as_u16(), 401);
    let response = post("/projects", "aat_all_wrong", json!({"name": "acme"}))
        .await
        .expect("send");
    assert_eq!(response.status().as_u16(), 401);

    assert_eq!(
        post("/projects", &root, json!({"name": "acme"}))
            .await
            .expect("send")
            .status()
            .as_u16(),
        201
    );
    assert_eq!(
        post("/projects", &root, json!({"name": "acme"}))
            .await
            .expect("send")
            .status()
            .as_u16(),
        409
    );
    assert_eq!(
        post("/projects", &root, json!({"name": "Bad Name"}))
            .await
            .expect("send")
            .status()
            .as_u16(),
        400
    );
    let response = post(
        "/projects/acme/environments",
        &root,
        json!({"name": "sandbox", "kind": "test"}),
    )
    .await
    .expect("send");
    assert_eq!(response.status().as_u16(), 201);
    let created: Value = response.json().await.expect("json");
    assert_eq!(created["issuer"], format!("{}/acme/sandbox", server.base));
    post(
        "/projects/acme/environments",
        &root,
        json!({"name": "production", "kind": "live"}),
    )
    .await
    .expect("send");
    let response = post(
        "/projects/acme/environments",
        &root,
        json!({"name": "x", "kind": "prod"}),
    )
    .await
    .expect("send");
    assert_eq!(response.status().as_u16(), 400);
    let response = http()
        .post(api("/projects/acme/environments"))
        .bearer_auth(&root)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("send");
    assert_eq!(response.status().as_u16(), 400);

    let response = post(
        "/projects/acme/environments/sandbox/clients",
        &root,
        json!({"name": "web", "redirect_uris": ["http://localhost:3000/cb"]}),
    )
    .await
    .expect("send");
    assert_eq!(response.status().as_u16(), 201);
    let client: Value = response.json().await.expect("json");
    let client_id = client["client_id"].as_str().expect("id").to_string();
    assert!(
        client["client_secret"]
            .as_str()
            .expect("secret")
            .starts_with("acs_test_")
    );
    assert!(client.get("secret_digest").is_none());
    let response = post(
        "/projects/acme/environments/production/clients",
        &root,
        json!({"name": "web", "redirect_uris": ["http://localhost:3000/cb"]}),
    )
    .await
    .expect("send");
    assert_eq!(
        response.status().as_u16(),
        400,
        "live refuses http redirect URIs"
    );
    let response = post(
        &format!("/projects/acme/environments/sandbox/clients/{client_id}/rotate-secret"),
        &root,
        json!({}),
    )
    .await
    .expect("send");
    assert_eq!(response.status().as_u16(), 200);
    let response = post(
        "/projects/acme/environments/sandbox/users",
        &root,
        json!({"email": "a@example.com", "password": "long enough password"}),
    )
    .await
    .expect("send");
    assert_eq!(response.status().as_u16(), 201);
    let user: Value = response.json().await.expect("json");
    assert!(user["sub"].as_str().expect("sub").starts_with("usr_"));
    assert!(user.get("password_hash").is_none());

    // A token bound to sandbox sees sandbox only: production and its clients are 404, like a missing zone.
    let sandbox = server.environment("acme/sandbox").await;
    let bound = server.issue_admin_token(Some(&sandbox), "ci").await;
    assert!(bound.starts_with("aat_test_"));
    let get = |path: &str, token: &str| http().get(api(path)).bearer_auth(token.to_string()).send();
    assert_eq!(
        get("/projects/acme/environments/sandbox", &bound)
            .await
            .expect("send")
            .status()
            .as_u16(),
        200
    );
    let foreign = get("/projects/acme/environments/production", &bound)
        .await
        .expect("send");
    let missing = get("/projects/acme/environments/nope", &bound)
        .await
        .expect("send");
    assert_eq!(foreign.status().as_u16(), 404);
    assert_eq!(
        foreign.text().await.expect("body"),
        missing.text().await.expect("body")
    );
    let response = post(
        &format!("/projects/acme/environments/production/clients/{client_id}/rotate-secret"),
        &bound,
        json!({}),
    )
    .await
    .expect("send");
    assert_eq!(response.status().as_u16(), 404);
    let response = post(
        &format!("/projects/acme/environments/production/clients/{client_id}/rotate-secret"),
        &root,
        json!({}),
    )
    .await
    .expect("send");
    assert_eq!(
        response.status().as_u16(),
        404,
        "a sandbox client id does not exist in production"
    );
    assert_eq!(
        post("/projects", &bound, json!({"name": "other"}))
            .await
            .expect("send")
            .status()
            .as_u16(),
        403
    );
}
backend_test!(admin_api_manages_zones);

async fn quickstart_is_idempotent(server: &TestServer) {
    let first = airlock::service::quickstart::seed(&server.airlock, server.now())
        .await
        .expect("quickstart");
    let second = airlock::service::quickstart::seed(&server.airlock, server.now())
        .await
        .expect("quickstart again");
    assert_eq!(first.len(), 2);
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(a.client_id, b.client_id, "nothing is created twice");
        assert!(a.client_secret.is_some() && a.user_password.is_some());
        assert!(
            b.client_secret.is_none() && b.user_password.is_none(),
            "secrets are shown once"
        );
    }
    assert_eq!(first[0].kind, EnvKind::Test);
    assert_eq!(first[1].kind, EnvKind::Live);
    // The printed sandbox authorization URL leads to a login page with the sandbox badge.
    let page = http()
        .get(&first[0].authorization_url)
        .send()
        .await
        .expect("get");
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.expect("html").contains("SANDBOX"));
}
backend_test!(quickstart_is_idempotent);

async fn clients_and_users_are_managed_and_audited(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let token = server.admin_token(&zone.environment).await;
    let url = |path: &str| {
        format!(
            "{}/admin/v1/projects/acme/environments/sandbox{path}",
            server.base
        )
    };
    let send = |request: reqwest::RequestBuilder| async move {
        let response = request.send().await.expect("send");
        let status = response.status().as_u16();
        (
            status,
            response.json::<Value>().await.unwrap_or(Value::Null),
        )
    };

    let (status, listed) = send(http().get(url("/clients")).bearer_auth(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(listed["clients"].as_array().expect("clients").len(), 2);
    assert!(!listed.to_string().contains("secret_digest"));
    let client_path = format!("/clients/{}", zone.client_id);
    let (status, updated) = send(http().patch(url(&client_path)).bearer_auth(&token).json(
        &json!({"name": "Renamed", "post_logout_redirect_uris": ["https://rp.example/bye"]}),
    ))
    .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["name"], "Renamed");
    assert_eq!(
        updated["post_logout_redirect_uris"],
        json!(["https://rp.example/bye"])
    );
    let (status, _) = send(
        http()
            .patch(url(&client_path))
            .bearer_auth(&token)
            .json(&json!({"redirect_uris": ["javascript:alert(1)"]})),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = send(
        http()
            .patch(url(&client_path))
            .bearer_auth(&token)
            .json(&json!({"nope": 1})),
    )
    .await;
    assert_eq!(status, 400);

    // A user: profile, password (their sessions end), deletion.
    let user_path = format!("/users/{}", zone.sub);
    let (status, user) = send(
        http()
            .patch(url(&user_path))
            .bearer_auth(&token)
            .json(&json!({"name": "New Name", "email_verified": true})),
    )
    .await;
    assert_eq!((status, user["name"].as_str()), (200, Some("New Name")));
    let (status, _) = send(
        http()
            .post(url(&format!("{user_path}/password")))
            .bearer_auth(&token)
            .json(&json!({"password": "short"})),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = send(
        http()
            .post(url(&format!("{user_path}/password")))
            .bearer_auth(&token)
            .json(&json!({"password": "a brand new password"})),
    )
    .await;
    assert_eq!(status, 204);
    let zone_with_new_password = crate::harness::server::Seeded {
        password: "a brand new password".into(),
        ..zone.clone()
    };
    let tokens =
        crate::harness::flow::sign_in(&zone_with_new_password, &crate::harness::Browser::new())
            .await;
    let (status, _) = send(http().delete(url(&user_path)).bearer_auth(&token)).await;
    assert_eq!(status, 204);
    assert_eq!(
        send(http().get(url(&user_path)).bearer_auth(&token))
            .await
            .0,
        404
    );
    // The deleted user's tokens died with their grants.
    assert_eq!(
        crate::harness::flow::userinfo_status(&zone, &tokens.access_token).await,
        401
    );
    assert_eq!(
        crate::harness::flow::introspect(&zone, &tokens.refresh_token)
            .await
            .1,
        json!({"active": false})
    );

    // Deleting the client: its credentials stop working.
    let (status, _) = send(http().delete(url(&client_path)).bearer_auth(&token)).await;
    assert_eq!(status, 204);
    assert_eq!(
        send(http().delete(url(&client_path)).bearer_auth(&token))
            .await
            .0,
        404
    );
    let refused = http()
        .post(format!("{}/token", zone.issuer))
        .basic_auth(&zone.client_id, Some(&zone.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token");
    assert_eq!(refused.status().as_u16(), 401);

    let entries = server
        .airlock
        .audit_trail()
        .list(&zone.environment, Default::default())
        .await
        .expect("audit");
    for expected in [
        "client.updated",
        "client.deleted",
        "user.updated",
        "user.password_changed",
        "user.deleted",
    ] {
        assert!(
            entries.iter().any(|e| e.entry.event == expected),
            "{expected}"
        );
    }
}
backend_test!(clients_and_users_are_managed_and_audited);
