//! The admin API's OpenAPI document: served, checked in as `openapi.json` and equal to it, naming
//! every route; and Schemathesis' property-based requests from it find no 5xx and no answer that
//! breaks it.

use airlock::model::EnvKind;
use serde_json::Value;

use crate::backend_test;
use crate::harness::TestServer;
use crate::harness::server::http;

const CHECKED_IN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn served(server: &TestServer) -> Value {
    let response = http()
        .get(format!("{}/admin/v1/openapi.json", server.base))
        .send()
        .await
        .expect("openapi.json");
    assert_eq!(response.status(), 200);
    response.json().await.expect("json")
}

/// The served document equals `openapi.json` (`AIRLOCK_WRITE_OPENAPI=1` rewrites the file);
/// every documented operation is routed, and every admin route is documented.
async fn the_document_is_checked_in_and_complete(server: &TestServer) {
    let document = served(server).await;
    assert_eq!(document["openapi"], "3.1.0");
    if std::env::var_os("AIRLOCK_WRITE_OPENAPI").is_some() {
        let text = serde_json::to_string_pretty(&document).expect("json") + "\n";
        std::fs::write(CHECKED_IN, text).expect("write openapi.json");
    }
    let checked_in: Value = serde_json::from_str(
        &std::fs::read_to_string(CHECKED_IN).expect("openapi.json is checked in"),
    )
    .expect("openapi.json parses");
    assert!(
        document == checked_in,
        "openapi.json differs from the served document: run \
         `AIRLOCK_WRITE_OPENAPI=1 cargo test openapi` and commit it"
    );

    // Each documented operation answers as a route (a missing one would be 405 or the
    // unknown-path 404 body), with an admin token and made-up identifiers.
    let token = server.installation_admin_token().await;
    let paths = document["paths"].as_object().expect("paths");
    assert!(paths.len() > 40, "{} paths", paths.len());
    for (template, item) in paths {
        let path = template
            .replace("{project}", "no-such-project")
            .split('/')
            .map(|segment| match segment.starts_with('{') {
                true => "x",
                false => segment,
            })
            .collect::<Vec<_>>()
            .join("/");
        for method in METHODS.into_iter().filter(|m| item.get(*m).is_some()) {
            let url = format!("{}/admin/v1{path}", server.base);
            let request = http()
                .request(method.to_uppercase().parse().expect("method"), &url)
                .bearer_auth(&token)
                .json(&serde_json::json!({}));
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            assert!(
                status != 405 && body["error"] != "not_found",
                "{method} {template}: {status} {body}"
            );
            assert!(status < 500, "{method} {template}: {status} {body}");
        }
    }

    // Routes reach the router only through their documented handlers (`routes!`).
    let admin = concat!(env!("CARGO_MANIFEST_DIR"), "/src/http/admin");
    for entry in std::fs::read_dir(admin).expect("admin sources") {
        let file = entry.expect("entry").path();
        let text = std::fs::read_to_string(&file).expect("source");
        let plain = text.matches(".route(").count();
        let allowed = usize::from(file.ends_with("mod.rs"));
        assert_eq!(
            plain,
            allowed,
            "{}: an admin route outside `routes!` is missing from the document",
            file.display()
        );
    }
}
backend_test!(the_document_is_checked_in_and_complete);

/// Schemathesis (from PyPI) against a running server, in a test zone with an installation admin
/// token: no 5xx, and every answer as the document describes it.
async fn schemathesis_finds_nothing(server: &TestServer) {
    server.seed("acme", "sandbox", EnvKind::Test).await;
    server.seed("acme", "production", EnvKind::Live).await;
    let token = server.installation_admin_token().await;

    // Bad input: a 400 whose JSON error names the field.
    let clients = format!(
        "{}/admin/v1/projects/acme/environments/sandbox/clients",
        server.base
    );
    for (body, field) in [
        (serde_json::json!({ "name": 5 }), "name"),
        (
            serde_json::json!({ "name": "web", "redirect_uris": ["https://a.example/cb", 7] }),
            "redirect_uris[1]",
        ),
        (
            serde_json::json!({ "name": "web", "colour": "blue" }),
            "colour",
        ),
    ] {
        let response = http()
            .post(&clients)
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .expect("post");
        assert_eq!(response.status(), 400, "{body}");
        let error: Value = response.json().await.expect("json error");
        let message = error["error"].as_str().expect("error");
        assert!(message.contains(field), "{message} names {field}");
    }

    let available = std::process::Command::new("st")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !available {
        eprintln!(
            "SKIPPED: Schemathesis is not installed (`pip install schemathesis`; .ci/run installs it)"
        );
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("schemathesis.toml");
    std::fs::write(
        &config,
        "[parameters]\n\"path.project\" = \"acme\"\n\"path.environment\" = \"sandbox\"\n",
    )
    .expect("config");
    let output = tokio::process::Command::new("st")
        .arg("--config-file")
        .arg(&config)
        .args(["run", &format!("{}/admin/v1/openapi.json", server.base)])
        .args(["--url", &format!("{}/admin/v1", server.base)])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args(["--checks", "not_a_server_error,response_schema_conformance"])
        // Deleting the zone under test would leave the rest of the run a string of 404s.
        .args(["--exclude-operation-id", "delete_environment"])
        .args(["--max-examples", "15", "--workers", "1", "--seed", "1"])
        .current_dir(dir.path())
        .kill_on_drop(true)
        .output()
        .await
        .expect("run schemathesis");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "Schemathesis found failures:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(report.contains("passed"), "{report}");
}
backend_test!(schemathesis_finds_nothing);
