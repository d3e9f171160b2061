//! The lifecycle of zones and admin credentials: listing projects and environments, deleting an
//! environment (everything of it, nothing of another, a typed confirmation for a live one, an
//! installation-level record), deleting a project, and admin tokens that only read, expire, or are
//! revoked.

use airlock::model::EnvKind;
use airlock::service::Caller;
use airlock::service::admin::admin_tokens::TokenOptions;
use serde_json::{Value, json};

use crate::backend_test;
use crate::harness::flow::sign_in;
use crate::harness::server::http;
use crate::harness::{Browser, TestServer};

/// Every table with an `env_id` column, read from the database's own catalogue: a table added
/// later is checked without anyone listing it here.
async fn zone_tables(server: &TestServer) -> Vec<String> {
    let sql = if server.database_url.starts_with("sqlite:") {
        "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND p.name = 'env_id' ORDER BY m.name"
    } else {
        "SELECT CAST(table_name AS TEXT) FROM information_schema.columns \
         WHERE column_name = 'env_id' AND table_schema = current_schema() ORDER BY table_name"
    };
    // The installation's record of deletions names the environments it outlives.
    let tables: Vec<String> = server
        .strings_directly(sql)
        .await
        .into_iter()
        .filter(|table| table != "deletions")
        .collect();
    assert!(tables.len() > 20, "{tables:?}");
    tables
}

async fn rows_of(server: &TestServer, env_id: &str) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in zone_tables(server).await {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE env_id = '{env_id}'");
        counts.push(server.count_directly(&sql).await);
    }
    counts
}

async fn admin(
    server: &TestServer,
    token: &str,
    method: reqwest::Method,
    path: &str,
) -> (u16, Value) {
    let response = http()
        .request(method, format!("{}/admin/v1{path}", server.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("admin");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn zones_and_their_deletion(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let production = server.seed("acme", "production", EnvKind::Live).await;
    let staging = server.seed("other", "staging", EnvKind::Test).await;
    // Some state of every kind in each zone: sessions, grants, refresh tokens, audit entries.
    for zone in [&sandbox, &production, &staging] {
        sign_in(zone, &Browser::new()).await;
    }
    let operator = server.installation_admin_token().await;
    let bound = server.admin_token(&sandbox.environment).await;
    let (get, delete) = (reqwest::Method::GET, reqwest::Method::DELETE);

    // Listing.
    let (status, projects) = admin(server, &operator, get.clone(), "/projects").await;
    assert_eq!(status, 200);
    let names: Vec<&str> = projects["projects"]
        .as_array()
        .expect("projects")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, ["acme", "other"]);
    let (status, _) = admin(server, &bound, get.clone(), "/projects").await;
    assert_eq!(
        status, 403,
        "an environment's token does not list the installation"
    );
    for project in ["other", "no-such-project"] {
        let path = format!("/projects/{project}/environments");
        let (status, _) = admin(server, &bound, get.clone(), &path).await;
        assert_eq!(
            status, 404,
            "another project reads like none to a bound token"
        );
    }
    let (_, listed) = admin(server, &bound, get.clone(), "/projects/acme/environments").await;
    assert_eq!(
        listed["environments"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
    let (ok, out, err) = server.cli(&["env", "list", "acme"]);
    assert!(
        ok && out.contains("acme/sandbox") && out.contains("acme/production"),
        "{err}"
    );
    assert!(!out.contains("other/staging"));

    // A live environment needs its full name typed; then everything of it goes.
    let sandbox_before = rows_of(server, sandbox.environment.id.as_str()).await;
    let staging_before = rows_of(server, staging.environment.id.as_str()).await;
    let production_id = production.environment.id.to_string();
    assert!(rows_of(server, &production_id).await.iter().sum::<i64>() > 0);
    for path in [
        "/projects/acme/environments/production",
        "/projects/acme/environments/production?confirm=acme/sandbox",
    ] {
        let (status, refused) = admin(server, &operator, delete.clone(), path).await;
        assert_eq!(status, 400, "{path}: {refused}");
    }
    let (status, deletion) = admin(
        server,
        &operator,
        delete.clone(),
        "/projects/acme/environments/production?confirm=acme/production",
    )
    .await;
    assert_eq!(status, 200, "{deletion}");
    assert!(
        deletion["removed"]["audit_log"].as_i64().unwrap_or(0) > 0,
        "{deletion}"
    );
    assert_eq!(rows_of(server, &production_id).await.iter().sum::<i64>(), 0);
    let environment_rows = server
        .count_directly(&format!(
            "SELECT COUNT(*) FROM environments WHERE id = '{production_id}'"
        ))
        .await;
    assert_eq!(environment_rows, 0);
    assert_eq!(
        rows_of(server, sandbox.environment.id.as_str()).await,
        sandbox_before
    );
    assert_eq!(
        rows_of(server, staging.environment.id.as_str()).await,
        staging_before
    );
    let discovery = http()
        .get(format!(
            "{}/.well-known/openid-configuration",
            production.issuer
        ))
        .send()
        .await
        .expect("discovery");
    assert_eq!(discovery.status().as_u16(), 404, "its issuer is gone");

    // A test environment goes without a confirmation; the bound token goes with it.
    let (ok, out, err) = server.cli(&["env", "delete", "acme/sandbox"]);
    assert!(ok && out.contains("acme/sandbox deleted"), "{out}{err}");
    let (status, _) = admin(
        server,
        &bound,
        get.clone(),
        "/projects/acme/environments/sandbox",
    )
    .await;
    assert_eq!(status, 401);

    // Projects: only an empty one is deleted; every deletion is on record.
    let (ok, _, err) = server.cli(&["project", "delete", "other"]);
    assert!(!ok && err.contains("still has environments"), "{err}");
    let (ok, _, err) = server.cli(&["project", "delete", "acme"]);
    assert!(ok, "{err}");
    let (_, deletions) = admin(server, &operator, get.clone(), "/deletions").await;
    let recorded: Vec<String> = deletions["deletions"]
        .as_array()
        .expect("deletions")
        .iter()
        .map(|d| format!("{} {} {}", d["what"], d["name"], d["actor"]).replace('"', ""))
        .collect();
    assert_eq!(recorded.len(), 3, "{recorded:?}");
    let by_token = recorded
        .iter()
        .any(|entry| entry.starts_with("environment acme/production at_"));
    assert!(by_token, "the admin token is named as actor: {recorded:?}");
    for entry in ["environment acme/sandbox cli", "project acme cli"] {
        assert!(
            recorded.iter().any(|e| e == entry),
            "{entry} in {recorded:?}"
        );
    }
}
backend_test!(zones_and_their_deletion);

async fn admin_token_scopes_expiry_and_revocation(server: &TestServer) {
    server.seed("other", "staging", EnvKind::Test).await;
    let create = |extra: &[&str]| {
        let mut args = vec!["--json", "admin-token", "create", "--env", "other/staging"];
        args.extend_from_slice(extra);
        let (ok, out, err) = server.cli(&args);
        assert!(ok, "{err}");
        let created: Value = serde_json::from_str(&out).expect("json");
        (
            created["token_id"].as_str().expect("id").to_string(),
            created["admin_token"].as_str().expect("token").to_string(),
        )
    };
    let clients = "/projects/other/environments/staging/clients";
    let post_client = |token: String| async move {
        let response = http()
            .post(format!("{}/admin/v1{clients}", server.base))
            .bearer_auth(token)
            .json(&json!({ "name": "x", "redirect_uris": ["https://rp.example/callback"] }))
            .send()
            .await
            .expect("post");
        response.status().as_u16()
    };

    let (_, reader) = create(&["--read-only"]);
    let (status, _) = admin(server, &reader, reqwest::Method::GET, clients).await;
    assert_eq!(status, 200, "a read-only token reads");
    assert_eq!(post_client(reader.clone()).await, 403, "and never writes");

    let (_, lasting) = create(&["--expires", "600"]);
    assert_eq!(post_client(lasting).await, 201, "a token within its expiry");
    // One minted two minutes ago for one minute: expired now, whatever the machine's speed.
    let environment = server.environment("other/staging").await;
    let options = TokenOptions {
        read_only: false,
        expires_in: Some(60),
    };
    let lapsed = server
        .airlock
        .admin_tokens()
        .create_with(
            Some(&environment),
            "lapsed",
            options,
            &Caller::cli(),
            server.now() - 120,
        )
        .await
        .expect("token")
        .admin_token;
    let (status, _) = admin(server, lapsed.expose(), reqwest::Method::GET, clients).await;
    assert_eq!(status, 401, "an expired token");

    let (writer_id, writer) = create(&[]);
    assert_eq!(post_client(writer.clone()).await, 201);
    let (ok, _, err) = server.cli(&["admin-token", "revoke", &writer_id]);
    assert!(ok, "{err}");
    let (status, _) = admin(server, &writer, reqwest::Method::GET, clients).await;
    assert_eq!(status, 401, "a revoked token fails at once");
    let (ok, out, _) = server.cli(&["admin-token", "list"]);
    assert!(
        ok && out.contains(&format!("{writer_id}  admin  write  revoked")),
        "{out}"
    );
    let (ok, out, _) = server.cli(&[
        "--json",
        "audit",
        "list",
        "other/staging",
        "--type",
        "admin_token.revoked",
    ]);
    assert!(ok && out.contains(&writer_id), "{out}");
}
backend_test!(admin_token_scopes_expiry_and_revocation);
