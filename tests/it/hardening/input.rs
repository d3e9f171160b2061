//! Hostile input: control characters (item 8), terminal escapes in CLI output (item 16), oversized
//! bodies in the endpoint's language.

use airlock::model::EnvKind;
use serde_json::json;

use crate::backend_test;
use crate::harness::TestServer;
use crate::harness::server::http;

/// Item 8: a NUL (which PostgreSQL text refuses, once as a 500) or any other control or
/// bidi-override character is refused at the edge as a 400, wherever it hides.
async fn control_characters_are_refused_at_the_edge(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let token = server.admin_token(&zone.environment).await;
    let admin = format!(
        "{}/admin/v1/projects/acme/environments/sandbox",
        server.base
    );
    let base = &server.base;
    for url in [
        format!("{base}/acme%00/sandbox/.well-known/openid-configuration"),
        format!("{base}/acme/sandbox%1b/jwks"),
        format!("{}/authorize?client_id=%00&response_type=code", zone.issuer),
        format!("{admin}/clients/abc%00"),
        format!("{admin}/audit?type=signin.failed%00"),
    ] {
        let answer = http().get(&url).bearer_auth(&token).send().await;
        assert_eq!(answer.expect("get").status().as_u16(), 400, "{url}");
    }
    let navigation = http()
        .get(format!("{}/authorize?state=%1b%5b2J", zone.issuer))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .expect("get");
    assert_eq!(navigation.status().as_u16(), 400);
    assert!(
        navigation.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/html")
    );
    let token_url = format!("{}/token", zone.issuer);
    let posted = http()
        .post(&token_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&client_id=a%00b&client_secret=x")
        .send()
        .await
        .expect("post");
    assert_eq!(posted.status().as_u16(), 400);
    let body: serde_json::Value = posted.json().await.expect("json");
    assert_eq!(body["error"], "invalid_request");
    let basic = http()
        .post(&token_url)
        .basic_auth("a\u{0}b", Some("x"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("post");
    assert_eq!(basic.status().as_u16(), 400);

    for name in ["evil\u{0}", "\u{1b}[2Jevil", "gpj.\u{202e}exe"] {
        let created = http()
            .post(format!("{admin}/clients"))
            .bearer_auth(&token)
            .json(&json!({"name": name, "redirect_uris": ["https://rp.example/cb"]}))
            .send()
            .await
            .expect("create");
        assert_eq!(created.status().as_u16(), 400, "{name:?}");
        let renamed = http()
            .patch(format!("{admin}/users/{}", zone.sub))
            .bearer_auth(&token)
            .json(&json!({ "name": name }))
            .send()
            .await
            .expect("patch");
        assert_eq!(renamed.status().as_u16(), 400, "{name:?}");
    }
    let (ok, _, _) = server.cli(&[
        "client",
        "create",
        "acme/sandbox",
        "--name",
        "\u{1b}]0;x\u{7}",
    ]);
    assert!(!ok, "the CLI refuses a name with escapes too");
    let clients = server.airlock.clients().list(&zone.environment).await;
    assert_eq!(clients.expect("list").len(), 2, "nothing was written");
}
backend_test!(control_characters_are_refused_at_the_edge);

/// Item 16: a name written with terminal escapes (before names were checked, or straight into the
/// database) is printed by the human CLI as visible escapes, never as a control sequence.
async fn the_cli_never_prints_a_control_sequence(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let hostile = "\u{1b}]0;pwned\u{7}\u{1b}[2J\nfake line";
    let sql = format!(
        "UPDATE clients SET name = '{hostile}' WHERE client_id = '{}'",
        zone.client_id
    );
    server.write_directly(&[sql]).await;
    for args in [
        ["client", "list", "acme/sandbox", ""],
        ["client", "show", "acme/sandbox", zone.client_id.as_str()],
    ] {
        let args: Vec<&str> = args.into_iter().filter(|a| !a.is_empty()).collect();
        let (ok, stdout, stderr) = server.cli(&args);
        assert!(ok, "{stderr}");
        assert!(!stdout.contains(['\u{1b}', '\u{7}']), "{stdout:?}");
    }
    let (_, listed, _) = server.cli(&["client", "list", "acme/sandbox"]);
    assert!(listed.contains("\\u{1b}]0;pwned"), "{listed:?}");
    assert!(
        !listed.lines().any(|line| line.starts_with("fake line")),
        "{listed:?}"
    );
}
backend_test!(the_cli_never_prints_a_control_sequence);

/// An oversized body is 413 in the language of the endpoint: OAuth JSON at the token endpoint,
/// admin JSON at the admin API.
async fn oversized_bodies_are_answered_in_json(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let token = server.admin_token(&zone.environment).await;
    let padding = "a".repeat(200 * 1024);
    let at_token = http()
        .post(format!("{}/token", zone.issuer))
        .basic_auth(&zone.client_id, Some(&zone.client_secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("pad", padding.as_str()),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(at_token.status().as_u16(), 413);
    let body: serde_json::Value = at_token.json().await.expect("json");
    assert_eq!(body["error"], "invalid_request");
    let at_admin = http()
        .post(format!(
            "{}/admin/v1/projects/acme/environments/sandbox/clients",
            server.base
        ))
        .bearer_auth(&token)
        .json(&json!({"name": padding, "redirect_uris": []}))
        .send()
        .await
        .expect("admin");
    assert_eq!(at_admin.status().as_u16(), 413);
    let body: serde_json::Value = at_admin.json().await.expect("json");
    assert!(body["error"].is_string(), "{body}");
}
backend_test!(oversized_bodies_are_answered_in_json);
