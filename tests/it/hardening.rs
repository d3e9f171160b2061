//! Regression tests for what an adversarial review of the server found (issue 16), one per item.

use airlock::model::{EnvKind, SigningAlg};
use airlock::service::Caller;
use airlock::service::admin::audit::AuditFilter;
use airlock::service::admin::clients::NewClient;
use serde_json::json;

use crate::backend_test;
use crate::harness::flow::{self, client_post};
use crate::harness::server::{Seeded, http};
use crate::harness::{Backend, Browser, Node, Options, Step, TestServer};

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

    let rotate = |refresh_token: String| {
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
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, rotated) = rotate(tokens.refresh_token.clone()).await;
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
    let (status, refused) = rotate(successor).await;
    assert_eq!((status, &refused["error"]), (400, &json!("invalid_grant")));
}
backend_test!(a_refresh_family_has_an_absolute_end);

/// Item 15: a CSRF cookie tossed in beside the real one (say by a sibling subdomain) does not
/// vouch for a form: a name the request carries twice is not read at all.
async fn a_duplicated_cookie_is_not_believed(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let login = Browser::new().get(&flow::authorize_url(&zone, &[])).await;
    let Step::Form { action, fields, .. } = login else {
        panic!("expected the login form, got {login:?}");
    };
    let real = fields
        .iter()
        .find(|(name, _)| name == "airlock_csrf")
        .map(|(_, value)| value.clone())
        .expect("csrf field");
    let submit = |cookie: String| {
        let mut fields = fields.clone();
        fields.retain(|(name, _)| name != "airlock_csrf");
        fields.push(("airlock_csrf".into(), "tossed".into()));
        fields.push(("airlock_email".into(), zone.email.clone()));
        fields.push(("airlock_password".into(), zone.password.clone()));
        http()
            .post(&action)
            .header("cookie", cookie)
            .form(&fields)
            .send()
    };
    let both = submit(format!("airlock_csrf={real}; airlock_csrf=tossed")).await;
    assert_eq!(both.expect("post").status().as_u16(), 403);
    let only_tossed = submit("airlock_csrf=tossed".into()).await;
    assert_ne!(
        only_tossed.expect("post").status().as_u16(),
        403,
        "the same form with one cookie is accepted, so the refusal above is the duplicate's"
    );
}
backend_test!(a_duplicated_cookie_is_not_believed);

/// Item 12: what the audit log keeps of a failed sign-in's typed name is a keyed digest: a
/// password typed into the name field cannot be confirmed by hashing guesses.
async fn a_typed_account_name_is_logged_under_a_key(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let typed = "hunter2-typed-in-the-wrong-field";
    for _ in 0..2 {
        crate::limits::attempt(&zone, typed, "whatever").await;
    }
    let filter = AuditFilter {
        event: Some("signin.failed".into()),
        ..Default::default()
    };
    let trail = server.airlock.audit_trail();
    let entries = trail.list(&zone.environment, filter).await.expect("audit");
    let accounts: Vec<&str> = entries
        .iter()
        .map(|entry| entry.details["account"].as_str().expect("account"))
        .collect();
    assert_eq!(accounts.len(), 2);
    assert_eq!(
        accounts[0], accounts[1],
        "one name, one digest: the lockout still counts"
    );
    let unkeyed = airlock::crypto::secrets::digest(typed);
    assert_ne!(
        accounts[0], unkeyed,
        "a plain SHA-256 would confirm the guess"
    );
    assert_eq!(accounts[0].len(), 64);
}
backend_test!(a_typed_account_name_is_logged_under_a_key);

/// Item 1: the lockout bounds how many passwords are checked per account name and lock period,
/// across nodes: a burst of parallel guesses shared between two nodes gets `lockout_threshold`
/// passwords checked, no more, and the right password afterwards finds the name locked.
async fn parallel_guesses_across_nodes_are_bounded_by_the_lockout(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let token = server.admin_token(&zone.environment).await;
    let limits = http()
        .put(format!(
            "{}/admin/v1/projects/acme/environments/sandbox/limits",
            server.base
        ))
        .bearer_auth(token)
        .json(&json!({"lockout_threshold": 5, "signin_failures_per_minute": 0}))
        .send()
        .await
        .expect("limits");
    assert_eq!(limits.status().as_u16(), 200);
    let node = Node::start(server, "serve", &[("AIRLOCK_CACHE_SECONDS", "1")]).await;
    let mut guesses = tokio::task::JoinSet::new();
    for i in 0..31 {
        let base = if i % 2 == 0 {
            server.base.clone()
        } else {
            node.base.clone()
        };
        let (zone, public) = (zone.clone(), server.base.clone());
        guesses.spawn(async move { guess(&base, &public, &zone, &format!("guess {i}")).await });
    }
    let statuses = guesses.join_all().await;
    assert!(
        statuses.iter().all(|s| [200, 429].contains(s)),
        "{statuses:?}"
    );
    let right = guess(&node.base, &server.base, &zone, &zone.password).await;
    assert_eq!(right, 429, "the name is locked");

    let filter = AuditFilter {
        event: Some("signin.failed".into()),
        limit: Some(1000),
        ..Default::default()
    };
    let trail = server.airlock.audit_trail();
    let entries = trail.list(&zone.environment, filter).await.expect("audit");
    let checked = entries
        .iter()
        .filter(|entry| entry.details["reason"] == "wrong_password")
        .count();
    assert!(checked <= 5, "{checked} passwords were checked");
}
backend_test!(parallel_guesses_across_nodes_are_bounded_by_the_lockout);

/// One sign-in attempt through the server at `base` (serving the public URL `public`): fetch the
/// login form, post it with its CSRF cookie; the status of the answer.
async fn guess(base: &str, public: &str, zone: &Seeded, password: &str) -> u16 {
    let host = public.trim_start_matches("http://");
    let url = flow::authorize_url(zone, &[]).replacen(public, base, 1);
    let page = http()
        .get(url)
        .header("host", host)
        .send()
        .await
        .expect("authorize");
    let csrf = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| value.strip_prefix("airlock_csrf="))
        .and_then(|value| value.split(';').next())
        .expect("csrf cookie")
        .to_string();
    let html = page.text().await.expect("page");
    let (action, mut fields) = crate::harness::browser::parse_form(&html).expect("login form");
    fields.push(("airlock_email".into(), zone.email.clone()));
    fields.push(("airlock_password".into(), password.into()));
    let answer = http()
        .post(action.replacen(public, base, 1))
        .header("host", host)
        .header("cookie", format!("airlock_csrf={csrf}"))
        .form(&fields)
        .send()
        .await
        .expect("login");
    answer.status().as_u16()
}

fn tight_connection_limits() -> Options {
    Options {
        tls: true,
        configure: Some(|config| {
            config.max_connections = 4;
            config.idle_timeout = 1;
            config.header_read_timeout = 1;
            config.tls_handshake_timeout = 1;
        }),
        ..Options::default()
    }
}

/// Whether the server closes `socket` within a few seconds, while `trickle` (if any) keeps
/// sending it a byte every 200 ms.
async fn closed_by_the_server(socket: &mut tokio::net::TcpStream, trickle: bool) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buffer = [0u8; 256];
    let give_up = tokio::time::Instant::now() + std::time::Duration::from_secs(6);
    while tokio::time::Instant::now() < give_up {
        let wait = std::time::Duration::from_millis(200);
        match tokio::time::timeout(wait, socket.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
            Err(_) if trickle => {
                if socket.write_all(b"x").await.is_err() {
                    return true;
                }
            }
            Err(_) => {}
        }
    }
    false
}

/// Item 3: idle sockets, trickled headers and stalled TLS handshakes are closed after bounded,
/// configurable times, and a connection cap keeps them from exhausting the process: once the
/// silent ones are closed, `/healthz` answers again.
async fn connections_are_bounded_in_number_and_time(server: &TestServer) {
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpStream;
    let address = server.base.trim_start_matches("http://").to_string();
    let mut silent = Vec::new();
    for _ in 0..4 {
        silent.push(TcpStream::connect(&address).await.expect("connect"));
    }
    let health = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        http().get(format!("{}/healthz", server.base)).send(),
    )
    .await
    .expect("healthz answers once the silent connections are closed")
    .expect("healthz");
    assert_eq!(health.status().as_u16(), 200);
    for socket in &mut silent {
        assert!(closed_by_the_server(socket, false).await, "an idle socket");
    }

    let mut slow = TcpStream::connect(&address).await.expect("connect");
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .expect("write");
    assert!(
        closed_by_the_server(&mut slow, true).await,
        "trickled headers"
    );

    let tls = server.tls_addr.expect("tls listener");
    let mut stalled = TcpStream::connect(tls).await.expect("connect");
    assert!(
        closed_by_the_server(&mut stalled, false).await,
        "a stalled handshake"
    );
}
backend_test!(
    connections_are_bounded_in_number_and_time,
    super::tight_connection_limits()
);

/// CORS: a single-page app on a public client's origin may call the token, userinfo and revocation
/// endpoints from the browser (preflight included); other origins get no CORS grant; discovery
/// and JWKS are readable from anywhere.
async fn browser_apps_on_registered_origins_get_cors(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let app = "https://rp.example";
    let stranger = "https://evil.example";
    let allowed_origin = |response: &reqwest::Response| {
        response
            .headers()
            .get("access-control-allow-origin")
            .map(|value| value.to_str().expect("ascii").to_string())
    };
    for endpoint in ["/token", "/userinfo", "/revoke"] {
        let url = format!("{}{endpoint}", zone.issuer);
        let preflight = |origin: &str| {
            http()
                .request(reqwest::Method::OPTIONS, &url)
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "content-type")
                .send()
        };
        let granted = preflight(app).await.expect("preflight");
        assert_eq!(granted.status().as_u16(), 204, "{endpoint}");
        assert_eq!(allowed_origin(&granted).as_deref(), Some(app));
        let methods = granted.headers()["access-control-allow-methods"]
            .to_str()
            .expect("ascii");
        assert!(methods.contains("POST"), "{methods}");
        assert!(
            granted
                .headers()
                .get("access-control-allow-credentials")
                .is_none()
        );
        let refused = preflight(stranger).await.expect("preflight");
        assert_eq!(refused.status().as_u16(), 403, "{endpoint}");
        assert_eq!(allowed_origin(&refused), None);
    }
    let redeem = |origin: &'static str| {
        http()
            .post(format!("{}/token", zone.issuer))
            .header("origin", origin)
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", zone.public_client_id.as_str()),
                ("code", "not-a-code"),
                ("redirect_uri", zone.redirect_uri.as_str()),
                (
                    "code_verifier",
                    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
                ),
            ])
            .send()
    };
    let answer = redeem("https://rp.example").await.expect("token");
    assert_eq!(
        answer.status().as_u16(),
        400,
        "the app can read the error too"
    );
    assert_eq!(allowed_origin(&answer).as_deref(), Some(app));
    let answer = redeem("https://evil.example").await.expect("token");
    assert_eq!(allowed_origin(&answer), None);
    let discovery = http()
        .get(format!("{}/.well-known/openid-configuration", zone.issuer))
        .header("origin", stranger)
        .send()
        .await
        .expect("discovery");
    assert_eq!(allowed_origin(&discovery).as_deref(), Some("*"));
}
backend_test!(browser_apps_on_registered_origins_get_cors);

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

/// Item 7: an environment's admin cannot reserve a host for the installation. Claims of the same
/// pending host by several zones coexist (a claim reveals nothing about the others), pending claims
/// lapse after `AIRLOCK_PENDING_DOMAIN_TTL`, each zone holds a bounded number of them, and the
/// operator can release a host from every zone.
async fn pending_domains_squat_nothing(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let production = server.seed("acme", "production", EnvKind::Live).await;
    let sandbox_token = server.admin_token(&sandbox.environment).await;
    let production_token = server.admin_token(&production.environment).await;
    let operator = server.installation_admin_token().await;
    let zone_url = |name: &str| {
        format!(
            "{}/admin/v1/projects/acme/environments/{name}/domains",
            server.base
        )
    };
    let claim = |name: &'static str, token: &str, host: String| {
        http()
            .post(zone_url(name))
            .bearer_auth(token)
            .json(&json!({ "host": host }))
            .send()
    };
    let listed = |name: &'static str, token: String| async move {
        let answer = http().get(zone_url(name)).bearer_auth(token).send().await;
        let body: serde_json::Value = answer.expect("list").json().await.expect("json");
        body["domains"].as_array().expect("domains").len()
    };
    let victim = "login.victim.example".to_string();
    let squatted = claim("sandbox", &sandbox_token, victim.clone())
        .await
        .expect("claim");
    assert_eq!(squatted.status().as_u16(), 201);
    let real = claim("production", &production_token, victim.clone())
        .await
        .expect("claim");
    assert_eq!(
        real.status().as_u16(),
        201,
        "a pending claim elsewhere is not revealed"
    );

    // A claim lapses: a week on (moved behind the server's back), it is gone from the list and
    // the same zone may claim the host afresh.
    let lapsed = format!(
        "UPDATE domains SET created_at = {} WHERE env_id = '{}'",
        server.now() - 8 * 24 * 3600,
        sandbox.environment.id
    );
    server.write_directly(&[lapsed]).await;
    assert_eq!(listed("sandbox", sandbox_token.clone()).await, 0);
    let again = claim("sandbox", &sandbox_token, victim.clone())
        .await
        .expect("claim");
    assert_eq!(again.status().as_u16(), 201);

    // At most 20 live pending claims per zone.
    let mut statuses = Vec::new();
    for i in 0..20 {
        let host = format!("h{i}.squat.example");
        let answer = claim("sandbox", &sandbox_token, host).await.expect("claim");
        statuses.push(answer.status().as_u16());
    }
    assert_eq!(statuses[..19], [201; 19]);
    assert_eq!(statuses[19], 400, "the 21st pending claim");

    // Only the operator releases a host, from every zone at once.
    let release = |token: &str| {
        http()
            .delete(format!("{}/admin/v1/domains/{victim}", server.base))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(
        release(&sandbox_token)
            .await
            .expect("delete")
            .status()
            .as_u16(),
        403
    );
    assert_eq!(
        release(&operator).await.expect("delete").status().as_u16(),
        204
    );
    assert_eq!(listed("production", production_token).await, 0);
    assert_eq!(listed("sandbox", sandbox_token).await, 19);
}
backend_test!(pending_domains_squat_nothing);

/// The statements that rewrite `environment`'s whole audit chain as `hash` links it, keeping the
/// first `keep` entries, with the head moved to match: what someone with write access to the
/// database can do.
async fn rewritten_chain(
    server: &TestServer,
    environment: &airlock::model::Environment,
    keep: usize,
    hash: fn(i64, &airlock::model::audit::AuditDraft, &str) -> String,
) -> Vec<String> {
    let filter = AuditFilter {
        limit: Some(10_000),
        ..Default::default()
    };
    let trail = server.airlock.audit_trail();
    let entries = trail.list(environment, filter).await.expect("audit");
    assert!(entries.len() > keep, "{} entries", entries.len());
    let env_id = environment.id.as_str();
    let mut sql = vec![format!(
        "DELETE FROM audit_log WHERE env_id = '{env_id}' AND seq > {keep}"
    )];
    let mut prev = airlock::audit::chain::GENESIS.to_string();
    for view in entries.iter().take(keep) {
        let linked = hash(view.seq, &view.entry, &prev);
        sql.push(format!(
            "UPDATE audit_log SET prev_hash = '{prev}', hash = '{linked}' \
             WHERE env_id = '{env_id}' AND seq = {}",
            view.seq
        ));
        prev = linked;
    }
    sql.push(format!(
        "UPDATE audit_heads SET seq = {keep}, hash = '{prev}' WHERE env_id = '{env_id}'"
    ));
    sql
}

/// Item 9: the audit chain is keyed (HMAC under a key derived from the KEK): a log rewritten by
/// someone who can write the database but lacks the KEK no longer verifies. Chains written before
/// keying are relinked under the key when a node starts, if they verify as written.
async fn a_rewritten_audit_log_does_not_verify(server: &TestServer) {
    use airlock::audit::chain::legacy_entry_hash;
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let production = server.seed("acme", "production", EnvKind::Live).await;
    for zone in [&sandbox, &production] {
        flow::sign_in(zone, &Browser::new()).await;
        crate::limits::attempt(zone, &zone.email, "wrong").await;
    }
    server.expect_broken_chain(&sandbox.environment);
    let forged = rewritten_chain(server, &sandbox.environment, 2, legacy_entry_hash).await;
    server.write_directly(&forged).await;
    let trail = server.airlock.audit_trail();
    let report = trail.verify(&sandbox.environment).await.expect("verify");
    assert!(!report.intact, "{report:?}");

    // Production as a version before keying wrote it: linked by bare SHA-256, marked unkeyed.
    let mut legacy = rewritten_chain(server, &production.environment, 5, legacy_entry_hash).await;
    legacy.push(format!(
        "UPDATE audit_heads SET keyed = 0 WHERE env_id = '{}'",
        production.environment.id
    ));
    server.write_directly(&legacy).await;
    let restarted = airlock::service::Airlock::start(server.config.clone())
        .await
        .expect("a node starts");
    let report = restarted
        .audit_trail()
        .verify(&production.environment)
        .await
        .expect("verify");
    assert!(report.intact && report.entries == 5, "{report:?}");
    assert_eq!(report.head_seq, Some(5));
    assert_eq!(report.head_hash.map(|hash| hash.len()), Some(64));
    let again = restarted.audit_trail().verify(&sandbox.environment).await;
    assert!(
        !again.expect("verify").intact,
        "a forged chain is not laundered"
    );
    restarted.close().await;
}
backend_test!(a_rewritten_audit_log_does_not_verify);

/// Item 5: refused sign-ins cost the attacker nothing, so they must not cost a durable row each:
/// a window's refusals of one name are one entry as they start and one with the count when the
/// window closes, every attempt accounted for.
async fn refused_sign_ins_are_folded_per_window(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let token = server.admin_token(&zone.environment).await;
    let limits = http()
        .put(format!(
            "{}/admin/v1/projects/acme/environments/sandbox/limits",
            server.base
        ))
        .bearer_auth(token)
        .json(&json!({"lockout_threshold": 1, "signin_failures_per_minute": 0}))
        .send()
        .await
        .expect("limits");
    assert_eq!(limits.status().as_u16(), 200);
    let mut statuses = Vec::new();
    for i in 0..41 {
        let (status, _) = crate::limits::attempt(&zone, &zone.email, &format!("guess {i}")).await;
        statuses.push(status);
    }
    assert_eq!(statuses[0], 200);
    assert!(statuses[1..].iter().all(|s| *s == 429), "{statuses:?}");
    let entries = || async {
        let filter = AuditFilter {
            event: Some("signin.failed".into()),
            ..Default::default()
        };
        let trail = server.airlock.audit_trail();
        trail.list(&zone.environment, filter).await.expect("audit")
    };
    assert_eq!(
        entries().await.len(),
        2,
        "a checked failure and the first refusal"
    );
    let window_closed = server.now() + 61;
    let folded = server.airlock.log_folded_refusals(window_closed).await;
    assert_eq!(folded.expect("folded"), 1);
    let logged = entries().await;
    assert_eq!(logged.len(), 3);
    let summary = &logged[2].details;
    assert_eq!(summary["reason"], "account_locked");
    assert_eq!(summary["repeated"], 39, "{summary}");
    assert!(summary["first_at"].as_i64() <= summary["last_at"].as_i64());
}
backend_test!(refused_sign_ins_are_folded_per_window);

fn audit_kept_one_day() -> Options {
    Options {
        configure: Some(|config| config.audit_retention_days = 1),
        ..Options::default()
    }
}

/// Item 5: a purge deletes what no request can use any more (expired codes, sessions, refresh
/// tokens, revoked-token records, finished grants, stale failure series) and audit entries past
/// retention; the pruning is recorded in the chain, which still verifies from its new base, and
/// entries gone from the start without such a record are found.
async fn expired_rows_and_old_audit_entries_are_purged(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let tokens = flow::sign_in(&zone, &Browser::new()).await;
    let revoked = client_post(
        &format!("{}/revoke", zone.issuer),
        &zone.client_id,
        &zone.client_secret,
        &[("token", tokens.access_token.as_str())],
    )
    .await;
    assert_eq!(revoked.0, 200);
    crate::limits::attempt(&zone, "nobody@example.com", "wrong").await;
    let env_id = zone.environment.id.as_str();
    let tables = [
        "sessions",
        "authorization_codes",
        "refresh_tokens",
        "grants",
        "revoked_access_tokens",
        "signin_failures",
    ];
    let mut expire = Vec::new();
    for (table, column) in [
        ("sessions", "expires_at"),
        ("authorization_codes", "expires_at"),
        ("refresh_tokens", "expires_at"),
        ("revoked_access_tokens", "expires_at"),
        ("grants", "revoked_at"),
        ("signin_failures", "last_failure_at"),
    ] {
        expire.push(format!(
            "UPDATE {table} SET {column} = 1 WHERE env_id = '{env_id}'"
        ));
    }
    expire.push(format!(
        "UPDATE audit_log SET at = 1 WHERE env_id = '{env_id}' AND seq <= 4"
    ));
    server.write_directly(&expire).await;
    for table in tables {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE env_id = '{env_id}'");
        assert!(
            server.count_directly(&sql).await > 0,
            "{table} has a row to purge"
        );
    }

    let purged = server.airlock.purge(server.now()).await.expect("purge");
    assert_eq!(purged.audit_entries, 4);
    for table in tables {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE env_id = '{env_id}'");
        assert_eq!(server.count_directly(&sql).await, 0, "{table}");
    }
    let trail = server.airlock.audit_trail();
    let report = trail.verify(&zone.environment).await.expect("verify");
    assert!(report.intact, "{report:?}");
    let all = AuditFilter {
        limit: Some(10_000),
        ..Default::default()
    };
    let entries = trail
        .list(&zone.environment, all.clone())
        .await
        .expect("audit");
    assert_eq!(entries[0].seq, 5);
    let record = entries.last().expect("entries");
    assert_eq!(record.entry.event, "audit.pruned");
    assert_eq!(record.details["through_seq"], 4);

    // Entries removed from the start without a record: found.
    server.expect_broken_chain(&zone.environment);
    let (seq, hash) = (entries[0].seq, entries[0].hash.clone());
    server
        .write_directly(&[
            format!("DELETE FROM audit_log WHERE env_id = '{env_id}' AND seq = {seq}"),
            format!(
                "UPDATE audit_heads SET base_seq = {seq}, base_hash = '{hash}' WHERE env_id = '{env_id}'"
            ),
        ])
        .await;
    let report = trail.verify(&zone.environment).await.expect("verify");
    assert!(!report.intact, "{report:?}");
}
backend_test!(
    expired_rows_and_old_audit_entries_are_purged,
    super::audit_kept_one_day()
);
