//! The admin HTTP API shares the service layer with the CLI; environment-bound tokens see one zone.

use airlock::model::EnvKind;
use serde_json::{Value, json};

use crate::backend_test;
use crate::harness::TestServer;
use crate::harness::server::http;

async fn admin_api_manages_zones(server: &TestServer) {
    let root = server
        .airlock
        .create_admin_token(None, "root", server.now())
        .await
        .expect("token")
        .admin_token;
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
    let sandbox = server
        .airlock
        .environment_by_slug("acme/sandbox")
        .await
        .expect("env");
    let bound = server
        .airlock
        .create_admin_token(Some(&sandbox), "ci", server.now())
        .await
        .expect("token")
        .admin_token;
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
    let first = server
        .airlock
        .quickstart(server.now())
        .await
        .expect("quickstart");
    let second = server
        .airlock
        .quickstart(server.now())
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
