//! Configuration as data: `env export` (TOML and JSON, never a secret), `env apply --plan`, and
//! `promote --plan` with its URI map and go-live check.

use airlock::model::EnvKind;
use serde_json::Value;

use crate::backend_test;
use crate::harness::TestServer;

fn cli_ok(server: &TestServer, args: &[&str]) -> String {
    let (ok, out, err) = server.cli(args);
    assert!(ok, "{args:?}: {err}");
    out
}

fn failed_checks(plan: &Value) -> Vec<String> {
    plan["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|check| check["passed"] == false)
        .map(|check| check["name"].as_str().expect("name").to_string())
        .collect()
}

async fn export_plan_and_promote(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    server.seed("acme", "production", EnvKind::Live).await;
    let slug = "acme/sandbox";
    cli_ok(
        server,
        &[
            "client",
            "create",
            slug,
            "--name",
            "web",
            "--redirect-uri",
            "http://localhost:3000/callback",
        ],
    );
    cli_ok(
        server,
        &[
            "api",
            "create",
            slug,
            "--identifier",
            "https://api.acme.test",
            "--scope",
            "read:orders",
        ],
    );
    let clients: Value =
        serde_json::from_str(&cli_ok(server, &["--json", "client", "list", slug])).expect("json");
    let web = clients
        .as_array()
        .expect("clients")
        .iter()
        .find(|client| client["name"] == "web")
        .expect("web")["client_id"]
        .as_str()
        .expect("id")
        .to_string();
    cli_ok(
        server,
        &[
            "client",
            "grant",
            slug,
            &web,
            "--api",
            "https://api.acme.test",
        ],
    );
    cli_ok(
        server,
        &["env", "policy", slug, "--access-token-ttl", "300"],
    );
    cli_ok(server, &["env", "seed", slug]);
    cli_ok(
        server,
        &["webhook", "add", slug, "--url", "http://127.0.0.1:9/hooks"],
    );

    // Export: the configuration, and nothing secret or personal.
    let toml = cli_ok(server, &["env", "export", slug]);
    for expected in [
        "version = 1",
        "name = \"web\"",
        "access_token_ttl = 300",
        "read:orders",
        "http://127.0.0.1:9/hooks",
    ] {
        assert!(toml.contains(expected), "{expected} in\n{toml}");
    }
    for secret in [
        "acs_test_",
        "whsec_",
        &sandbox.email,
        "fixture-password",
        "BEGIN",
    ] {
        assert!(!toml.contains(secret), "{secret} never exported");
    }
    let json: Value = serde_json::from_str(&cli_ok(
        server,
        &["env", "export", slug, "--format", "json"],
    ))
    .expect("json");
    assert_eq!(json["version"], 1);

    // Applying the export to its own environment changes nothing; a bad file names its line.
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("sandbox.toml");
    std::fs::write(&file, &toml).expect("write");
    let path = file.to_string_lossy().to_string();
    let plan = cli_ok(server, &["env", "apply", slug, &path, "--plan"]);
    assert!(plan.contains("no changes"), "{plan}");
    std::fs::write(
        &file,
        toml.replace("version = 1", "version = 1\ncolour = \"blue\""),
    )
    .expect("write");
    let (ok, _, err) = server.cli(&["env", "apply", slug, &path, "--plan"]);
    assert!(
        !ok && err.contains("line") && err.contains("colour"),
        "{err}"
    );

    // Promotion: the plan, and the go-live check of a live target.
    let promote = |extra: &[&str]| {
        let mut args = vec!["--json", "promote", slug, "acme/production", "--plan"];
        args.extend_from_slice(extra);
        serde_json::from_str::<Value>(&cli_ok(server, &args)).expect("plan")
    };
    let unmapped = promote(&[]);
    assert!(
        failed_checks(&unmapped).contains(&"redirect-uris".to_string()),
        "{unmapped}"
    );
    let mapped = promote(&["--map", "http://localhost:3000=https://app.acme.com"]);
    let failed = failed_checks(&mapped);
    assert_eq!(failed, ["webhooks", "fixtures"], "{mapped}");
    let changes: Vec<String> = mapped["plan"]["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| format!("{} {}", c["section"], c["name"]).replace('"', ""))
        .collect();
    for expected in [
        "client web",
        "api https://api.acme.test",
        "policy access_token_ttl",
        "client fixture-web",
    ] {
        assert!(
            changes.contains(&expected.to_string()),
            "{expected} in {changes:?}"
        );
    }
    let desired_web = mapped["desired"]["clients"]
        .as_array()
        .expect("clients")
        .iter()
        .find(|c| c["name"] == "web")
        .expect("web")
        .clone();
    assert_eq!(
        desired_web["redirect_uris"][0],
        "https://app.acme.com/callback"
    );
    assert!(
        mapped["desired"]["webhooks"]
            .as_array()
            .expect("webhooks")
            .is_empty(),
        "the sandbox's webhooks stay the sandbox's"
    );
    let text = cli_ok(server, &["promote", slug, "acme/production", "--plan"]);
    assert!(
        text.contains("+ client web") && text.contains("FAIL  fixtures"),
        "{text}"
    );

    // Live into test is allowed, with a warning.
    let back: Value = serde_json::from_str(&cli_ok(
        server,
        &["--json", "promote", "acme/production", slug, "--plan"],
    ))
    .expect("json");
    assert_eq!(back["warnings"].as_array().map(Vec::len), Some(1), "{back}");
    assert!(
        back["checks"].as_array().expect("checks").is_empty(),
        "no go-live check for a test zone"
    );
}
backend_test!(export_plan_and_promote);
