//! Releases: `promote --apply` and `env apply --apply` write a numbered release in one
//! transaction, blocked by a failing go-live check unless accepted; `env rollback` restores an
//! earlier release; two applies planned against the same release never both land; a process
//! killed in the middle of an apply leaves the previous release whole.

use airlock::model::EnvKind;
use airlock::promotion::Format;
use airlock::service::Caller;
use airlock::service::admin::releases::ReleaseSource;
use serde_json::Value;

use crate::backend_test;
use crate::harness::TestServer;
use crate::harness::flow::{client_post, rp_sign_in};

const MAP: &str = "http://localhost:3000=https://app.acme.com";

fn cli_ok(server: &TestServer, args: &[&str]) -> String {
    let (ok, out, err) = server.cli(args);
    assert!(ok, "{args:?}: {err}");
    out
}

fn cli_json(server: &TestServer, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&cli_ok(server, &all)).expect("json")
}

/// The id of the client called `name` in `slug`.
fn client_id(server: &TestServer, slug: &str, name: &str) -> String {
    let clients = cli_json(server, &["client", "list", slug]);
    clients
        .as_array()
        .expect("clients")
        .iter()
        .find(|client| client["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {clients}"))["client_id"]
        .as_str()
        .expect("id")
        .to_string()
}

fn client_names(server: &TestServer, slug: &str) -> Vec<String> {
    let clients = cli_json(server, &["client", "list", slug]);
    let mut names: Vec<String> = clients
        .as_array()
        .expect("clients")
        .iter()
        .map(|client| client["name"].as_str().expect("name").to_string())
        .collect();
    names.sort();
    names
}

/// The credential a release minted for `name`: (id, secret).
fn minted(release: &Value, name: &str) -> (String, String) {
    let credential = release["credentials"]
        .as_array()
        .expect("credentials")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("a credential for {name} in {release}"));
    (
        credential["id"].as_str().expect("id").to_string(),
        credential["secret"].as_str().expect("secret").to_string(),
    )
}

async fn client_credentials_status(issuer: &str, id: &str, secret: &str) -> (u16, Value) {
    client_post(
        &format!("{issuer}/token"),
        id,
        secret,
        &[("grant_type", "client_credentials")],
    )
    .await
}

async fn promote_release_and_roll_back(server: &TestServer) {
    let production = server.seed("acme", "production", EnvKind::Live).await;
    server.seed("acme", "sandbox", EnvKind::Test).await;
    let (sandbox, live) = ("acme/sandbox", "acme/production");
    let web_uri = "http://localhost:3000/callback";
    cli_ok(
        server,
        &[
            "client",
            "create",
            sandbox,
            "--name",
            "web",
            "--redirect-uri",
            web_uri,
        ],
    );
    let created = cli_json(
        server,
        &[
            "client",
            "create",
            sandbox,
            "--name",
            "sandbox-only",
            "--redirect-uri",
            web_uri,
        ],
    );
    let sandbox_secret = created["client_secret"]
        .as_str()
        .expect("secret")
        .to_string();
    cli_ok(
        server,
        &[
            "api",
            "create",
            sandbox,
            "--identifier",
            "https://api.acme.test",
            "--scope",
            "read:orders",
        ],
    );
    let sandbox_web = client_id(server, sandbox, "web");
    cli_ok(
        server,
        &[
            "client",
            "grant",
            sandbox,
            &sandbox_web,
            "--api",
            "https://api.acme.test",
        ],
    );
    cli_ok(
        server,
        &["env", "policy", sandbox, "--access-token-ttl", "300"],
    );
    let sandbox_web_secret = cli_json(server, &["client", "rotate-secret", sandbox, &sandbox_web])
        ["client_secret"]
        .as_str()
        .expect("secret")
        .to_string();

    // A failing check blocks the apply, and nothing is written.
    let (ok, _, err) = server.cli(&["promote", sandbox, live, "--apply"]);
    assert!(!ok && err.contains("redirect-uris"), "{err}");
    let (ok, _, err) = server.cli(&["promote", sandbox, live, "--map", MAP, "--apply"]);
    assert!(
        !ok && err.contains("webhooks") && err.contains("--accept webhooks"),
        "{err}"
    );
    let (ok, _, err) = server.cli(&["promote", sandbox, live, "--apply", "--accept", "colour"]);
    assert!(!ok && err.contains("the checks are"), "{err}");
    assert_eq!(
        cli_json(server, &["env", "releases", live]),
        Value::Array(vec![])
    );
    assert!(!client_names(server, live).contains(&"web".to_string()));

    // Accepted by name: release 1, with credentials minted in production.
    let promote = |extra: &[&str]| {
        let mut args = vec!["promote", sandbox, live, "--map", MAP, "--apply"];
        args.extend_from_slice(&["--accept", "webhooks"]);
        args.extend_from_slice(extra);
        cli_json(server, &args)
    };
    cli_ok(
        server,
        &[
            "client",
            "delete",
            sandbox,
            &client_id(server, sandbox, "sandbox-only"),
        ],
    );
    let sandbox_before = cli_ok(server, &["env", "export", sandbox, "--format", "json"]);
    let first = promote(&[]);
    assert_eq!(first["release"], 1, "{first}");
    assert_eq!(first["accepted"][0], "webhooks");
    let (web, web_secret) = minted(&first, "web");
    assert!(web_secret.starts_with("acs_live_"), "a live secret");
    assert_ne!(web, sandbox_web, "a client of production's own");
    let exported: Value = serde_json::from_str(&cli_ok(
        server,
        &["env", "export", live, "--format", "json"],
    ))
    .expect("json");
    assert_eq!(exported["policy"]["access_token_ttl"], 300);
    let web_config = exported["clients"]
        .as_array()
        .expect("clients")
        .iter()
        .find(|c| c["name"] == "web")
        .expect("web")
        .clone();
    assert_eq!(
        web_config["redirect_uris"][0],
        "https://app.acme.com/callback"
    );
    assert_eq!(web_config["api_grants"][0]["api"], "https://api.acme.test");

    // The promoted client signs in with its new credentials; the sandbox's are refused in
    // production exactly as an unknown client's are; production's own client kept its secret.
    rp_sign_in(
        &production.issuer,
        (&web, &web_secret),
        "https://app.acme.com/callback",
        (&production.email, &production.password),
    )
    .await;
    let (status, refused) =
        client_credentials_status(&production.issuer, &sandbox_web, &sandbox_web_secret).await;
    let (_, unknown) =
        client_credentials_status(&production.issuer, "cl_unknown", &sandbox_secret).await;
    assert_eq!((status, &refused), (401, &unknown));
    let (status, _) = client_credentials_status(
        &production.issuer,
        &production.client_id,
        &production.client_secret,
    )
    .await;
    assert_eq!(status, 200, "secrets that exist are kept");

    // Release 2 adds a client; the existing one keeps its secret.
    cli_ok(
        server,
        &[
            "client",
            "create",
            sandbox,
            "--name",
            "admin",
            "--redirect-uri",
            "http://localhost:3000/admin",
        ],
    );
    let second = promote(&[]);
    assert_eq!(second["release"], 2, "{second}");
    let credentials = second["credentials"].as_array().expect("credentials");
    assert_eq!(credentials.len(), 1, "only the new client: {second}");
    let (admin, _) = minted(&second, "admin");
    let (status, _) = client_credentials_status(&production.issuer, &web, &web_secret).await;
    assert_eq!(status, 200);
    let nothing = promote(&[]);
    assert_eq!(nothing["release"], Value::Null, "no change, no release");

    // Rollback to 1: `admin` goes; to 2: it comes back as a new client with a new secret.
    let (ok, _, err) = server.cli(&["env", "rollback", live, "--to", "1"]);
    assert!(!ok && err.contains("webhooks"), "{err}");
    let third = cli_json(
        server,
        &["env", "rollback", live, "--to", "1", "--accept", "webhooks"],
    );
    assert_eq!(third["release"], 3, "{third}");
    assert!(!client_names(server, live).contains(&"admin".to_string()));
    let (status, _) = client_credentials_status(&production.issuer, &web, &web_secret).await;
    assert_eq!(status, 200, "web survived the rollback with its secret");
    let fourth = cli_json(
        server,
        &["env", "rollback", live, "--to", "2", "--accept", "webhooks"],
    );
    let (admin_again, admin_secret) = minted(&fourth, "admin");
    assert_ne!(admin_again, admin);
    let (status, _) =
        client_credentials_status(&production.issuer, &admin_again, &admin_secret).await;
    assert_eq!(status, 200);
    let (ok, _, err) = server.cli(&["env", "rollback", live, "--to", "9"]);
    assert!(!ok && err.contains("no release 9"), "{err}");

    // Listed, audited, and reported as events of production only.
    let releases = cli_json(server, &["env", "releases", live]);
    let sources: Vec<&str> = releases
        .as_array()
        .expect("releases")
        .iter()
        .map(|r| r["source"].as_str().expect("source"))
        .collect();
    assert_eq!(
        sources,
        [
            "rollback to 2",
            "rollback to 1",
            "promotion from acme/sandbox",
            "promotion from acme/sandbox"
        ]
    );
    let text = cli_ok(server, &["env", "releases", live]);
    assert!(text.contains("by cli"), "{text}");
    let env_id = production.environment.id.as_str();
    for (event, count) in [("release.applied", 2), ("release.rolled_back", 2)] {
        let audited = server
            .count_directly(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE env_id = '{env_id}' AND event = '{event}'"
            ))
            .await;
        let published = server
            .count_directly(&format!(
                "SELECT COUNT(*) FROM events WHERE env_id = '{env_id}' AND event_type = '{event}'"
            ))
            .await;
        assert_eq!((audited, published), (count, count), "{event}");
    }
    let elsewhere = server
        .count_directly(&format!(
            "SELECT COUNT(*) FROM releases WHERE env_id <> '{env_id}'"
        ))
        .await;
    assert_eq!(elsewhere, 0);
    let sandbox_after = cli_ok(server, &["env", "export", sandbox, "--format", "json"]);
    let clients_but_admin = |export: &str| {
        let config: Value = serde_json::from_str(export).expect("json");
        config["clients"]
            .as_array()
            .expect("clients")
            .iter()
            .filter(|c| c["name"] != "admin")
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        clients_but_admin(&sandbox_before),
        clients_but_admin(&sandbox_after),
        "promotion never writes the source"
    );
}
backend_test!(promote_release_and_roll_back);

/// Two applies planned against the same release: one lands, the other is told to plan again.
async fn concurrent_applies_conflict(server: &TestServer) {
    server.seed("acme", "sandbox", EnvKind::Test).await;
    let target = server.environment("acme/sandbox").await;
    let configuration = server.airlock.configuration();
    let operator = Caller::cli();
    let current = configuration.export(&target).await.expect("export");
    let document = |ttl: i64| {
        let mut config = current.clone();
        config.policy.access_token_ttl = ttl;
        config.render(Format::Toml).expect("toml")
    };
    let plan = |text: String| {
        let (configuration, operator, target) = (&configuration, &operator, &target);
        async move {
            configuration
                .plan_document(target, (&text, Format::Toml), operator)
                .await
                .expect("plan")
        }
    };
    let (first, second) = (plan(document(120)).await, plan(document(240)).await);
    let apply = |planned| {
        configuration.apply(
            &target,
            planned,
            (ReleaseSource::File, &[]),
            &operator,
            server.now(),
        )
    };
    let (a, b) = tokio::join!(apply(first), apply(second));
    let landed = [&a, &b].iter().filter(|r| r.is_ok()).count();
    assert_eq!(landed, 1, "{a:?} / {b:?}");
    let refused = [a, b]
        .into_iter()
        .find_map(Result::err)
        .expect("one refused");
    assert!(
        refused.to_string().contains("plan again"),
        "a clear conflict: {refused}"
    );
    let releases = configuration
        .releases(&target, &operator)
        .await
        .expect("releases");
    assert_eq!(releases.len(), 1);
}
backend_test!(concurrent_applies_conflict);

/// The names of the bulk clients a configuration file of round `round` holds.
fn bulk_document(base: &str, round: usize, count: usize) -> (String, Vec<String>) {
    let mut text = base.to_string();
    let mut names = Vec::with_capacity(count);
    for i in 0..count {
        let name = format!("bulk-{round}-{i:04}");
        text.push_str(&format!(
            "\n[[clients]]\nname = \"{name}\"\nredirect_uris = [\"https://app.example/cb\"]\n\
             id_token_signed_response_alg = \"RS256\"\ntoken_endpoint_auth_method = \"client_secret_basic\"\n"
        ));
        names.push(name);
    }
    (text, names)
}

/// Kills `airlock env apply --apply` at several moments; after each, the zone holds exactly the
/// clients of its latest release (the previous one, or the new one whole), never part of one.
async fn a_killed_apply_leaves_the_previous_release(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let env_id = zone.environment.id.as_str().to_string();
    let base = cli_ok(server, &["env", "export", "acme/sandbox"])
        .lines()
        .take_while(|line| !line.starts_with("[[clients]]"))
        .collect::<Vec<_>>()
        .join("\n");
    let dir = tempfile::tempdir().expect("dir");
    let bulk_names = || async {
        let mut names = server
            .strings_directly(&format!(
                "SELECT name FROM clients WHERE env_id = '{env_id}' AND name LIKE 'bulk-%'"
            ))
            .await;
        names.sort();
        names
    };
    let count_releases = format!("SELECT COUNT(*) FROM releases WHERE env_id = '{env_id}'");
    let releases = || server.count_directly(&count_releases);
    let mut expected: Vec<String> = Vec::new();
    let (mut killed_before, mut landed) = (0, 0);
    for (round, delay_ms) in [100u64, 250, 400, 550, 700, 1000, 1500]
        .into_iter()
        .enumerate()
    {
        let (text, names) = bulk_document(&base, round, 3000);
        let file = dir.path().join(format!("round-{round}.toml"));
        std::fs::write(&file, text).expect("write");
        let before = releases().await;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_airlock"))
            .args(["env", "apply", "acme/sandbox"])
            .arg(&file)
            .arg("--apply")
            .env("AIRLOCK_DATABASE_URL", &server.database_url)
            .env("AIRLOCK_KEK_FILE", &server.kek_file)
            .env("AIRLOCK_PUBLIC_URL", &server.base)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
        child.kill().ok();
        child.wait().expect("wait");
        let after = releases().await;
        if after == before + 1 {
            landed += 1;
            expected = names;
        } else {
            assert_eq!(after, before, "round {round}");
            killed_before += 1;
        }
        let present = bulk_names().await;
        assert_eq!(
            present.len(),
            expected.len(),
            "round {round} (after {delay_ms} ms): the zone holds one release whole"
        );
        assert_eq!(present, expected, "round {round}");
    }
    eprintln!("killed applies: {killed_before} before landing, {landed} after");
    assert!(
        killed_before > 0,
        "at least one apply was killed before it landed"
    );
    // The zone is usable afterwards: an apply runs to the end.
    let (text, names) = bulk_document(&base, 99, 10);
    let file = dir.path().join("last.toml");
    std::fs::write(&file, text).expect("write");
    cli_ok(
        server,
        &[
            "env",
            "apply",
            "acme/sandbox",
            &file.to_string_lossy(),
            "--apply",
        ],
    );
    assert_eq!(bulk_names().await, names);
}
backend_test!(a_killed_apply_leaves_the_previous_release);
