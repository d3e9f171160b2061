//! The console's server side, without a browser: sign-in and sign-out, the session cookie, CSRF
//! on every form, zones an environment-bound operator cannot see, read-only tokens, revocation
//! at once, and the typed name a live zone's deletion needs.

use airlock::model::EnvKind;
use airlock::service::Caller;
use airlock::service::admin::admin_tokens::TokenOptions;
use airlock::service::admin::audit::AuditFilter;
use reqwest::StatusCode;

use crate::accounts::reset::ask_for_reset;
use crate::backend_test;
use crate::harness::console::{ConsoleClient, csrf_of, text_of};
use crate::harness::flow::{self, client_post};
use crate::harness::{Browser, Receiver, TestServer};

backend_test!(console_sessions_and_forms);
backend_test!(console_zones_and_dangerous_actions);
backend_test!(console_webhooks_inbox_and_releases);
backend_test!(console_disables_and_enables_a_user);
backend_test!(operators_sign_in_through_the_operators_zone);

async fn read_only_token(server: &TestServer) -> String {
    let options = TokenOptions {
        read_only: true,
        expires_in: None,
    };
    server
        .airlock
        .admin_tokens()
        .create_with(None, "auditor", options, &Caller::cli(), server.now())
        .await
        .expect("token")
        .admin_token
        .expose()
        .to_string()
}

async fn client_names(server: &TestServer, slug: &str) -> Vec<String> {
    let environment = server.environment(slug).await;
    let clients = server.airlock.clients().list(&environment).await;
    clients
        .expect("clients")
        .into_iter()
        .map(|client| client.name)
        .collect()
}

async fn console_sessions_and_forms(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let token = server.installation_admin_token().await;

    // Signed out: every page sends to the sign-in form; a bad token or a form without its own
    // CSRF token is refused.
    let anonymous = ConsoleClient::new(server);
    let page = anonymous.get("/console/acme/sandbox/clients").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location, "/console/signin");
    let refused = anonymous.sign_in("aat_all_not-a-token").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let forged = anonymous
        .post("/console/signin", &[("csrf", "guessed"), ("token", &token)])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    // The session cookie: HttpOnly, SameSite=Strict, scoped to /console; pages framed nowhere.
    let fresh = ConsoleClient::new(server);
    let signed = fresh.sign_in(&token).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER);
    let cookie = signed
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("airlock_console="))
        .expect("session cookie")
        .to_string();
    for attribute in ["Path=/console", "HttpOnly", "SameSite=Strict"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let operator = ConsoleClient::signed_in(server, &token).await;
    let home = operator.get("/console").await;
    let csp = home.headers["content-security-policy"]
        .to_str()
        .expect("csp");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(home.html.contains("/console/acme/sandbox"));

    // CSRF: missing, or another session's, is refused and writes nothing.
    let other = ConsoleClient::signed_in(server, &token).await;
    assert_ne!(other.csrf, operator.csrf);
    let fields = [
        ("name", "Forged"),
        ("redirect_uris", "https://rp.example/forged"),
        ("type", "confidential"),
    ];
    let missing = operator
        .post("/console/acme/sandbox/clients", &fields)
        .await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    let mut replayed = vec![("csrf", other.csrf.as_str())];
    replayed.extend_from_slice(&fields);
    let replayed = operator
        .post("/console/acme/sandbox/clients", &replayed)
        .await;
    assert_eq!(replayed.status, StatusCode::FORBIDDEN);
    assert!(
        !client_names(server, "acme/sandbox")
            .await
            .contains(&"Forged".to_string())
    );

    // With its own token the form works: the secret is shown once, and it opens the zone.
    let fields = [
        ("name", "Console App"),
        ("redirect_uris", "https://rp.example/console\n\n"),
        ("type", "confidential"),
        ("token_endpoint_auth_method", "client_secret_basic"),
    ];
    let created = operator
        .submit("/console/acme/sandbox/clients", &fields)
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.html);
    let client_id = text_of(&created.html, "client-id").expect("client id");
    let secret = text_of(&created.html, "client-secret").expect("secret");
    assert!(secret.starts_with("acs_test_"), "{secret}");
    let (status, _) = client_post(
        &format!("{}/token", sandbox.issuer),
        &client_id,
        &secret,
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 200);
    let shown = operator
        .get(&format!("/console/acme/sandbox/clients/{client_id}"))
        .await;
    assert!(!shown.html.contains(&secret), "a secret is shown once");

    // A bad registration comes back as the form with the reason, and nothing is written.
    let invalid = [("name", "Bad"), ("redirect_uris", "not a uri")];
    let refused = operator
        .submit("/console/acme/sandbox/clients", &invalid)
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.html.contains("role=\"alert\""));
    assert!(
        !client_names(server, "acme/sandbox")
            .await
            .contains(&"Bad".to_string())
    );

    // A read-only token can look, never change.
    let auditor = ConsoleClient::signed_in(server, &read_only_token(server).await).await;
    let keys = auditor.get("/console/acme/sandbox/keys").await;
    assert_eq!(keys.status, StatusCode::OK);
    assert!(
        !keys.html.contains("rotate-key"),
        "no rotate form for a reader"
    );
    let rotate = auditor
        .submit("/console/acme/sandbox/keys/rotate", &[("alg", "ES256")])
        .await;
    assert_eq!(rotate.status, StatusCode::FORBIDDEN);

    // Signing out ends the session on the server, not only in this browser: the old cookie,
    // presented again, opens nothing. A read-only token may sign out too.
    let old_cookie = cookie.split(';').next().expect("name=value").to_string();
    let with_old_cookie = || async {
        crate::harness::server::http()
            .get(format!("{}/console", server.base))
            .header("cookie", &old_cookie)
            .send()
            .await
            .expect("GET")
            .status()
    };
    assert_eq!(with_old_cookie().await, StatusCode::OK);
    let home = fresh.get("/console").await;
    let fresh_csrf = csrf_of(&home.html).expect("csrf");
    let signed_out = fresh
        .post("/console/signout", &[("csrf", &fresh_csrf)])
        .await;
    assert_eq!(signed_out.status, StatusCode::SEE_OTHER);
    assert_eq!(with_old_cookie().await, StatusCode::SEE_OTHER);
    let auditor_out = auditor.submit("/console/signout", &[]).await;
    assert_eq!(auditor_out.status, StatusCode::SEE_OTHER);

    // Revoking the token ends every session of it at once.
    let token_id = server
        .airlock
        .admin_tokens()
        .list(&Caller::cli())
        .await
        .expect("tokens")
        .into_iter()
        .find(|record| record.name == "operator")
        .expect("operator token")
        .token_id;
    // A console session's token use is recorded once per zone, not at every page: two sessions
    // of this token opened sandbox pages (one of them many), so two entries.
    for _ in 0..3 {
        let page = other.get("/console/acme/sandbox/audit").await;
        assert_eq!(page.status, StatusCode::OK);
    }
    let used = AuditFilter {
        event: Some("admin_token.used".into()),
        actor: Some(token_id.clone()),
        ..AuditFilter::default()
    };
    let entries = server
        .airlock
        .audit_trail()
        .list(&sandbox.environment, used)
        .await
        .expect("audit");
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(operator.get("/console").await.status, StatusCode::OK);
    server
        .airlock
        .admin_tokens()
        .revoke(&token_id, &Caller::cli(), server.now())
        .await
        .expect("revoke");
    let after = operator.get("/console/acme/sandbox").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER, "revoked at once");
}

async fn console_zones_and_dangerous_actions(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    server.seed("acme", "production", EnvKind::Live).await;
    server.seed("acme", "staging", EnvKind::Test).await;

    // An operator bound to the sandbox sees only it: everything else is the 404 of a missing zone.
    let bound = server.admin_token(&sandbox.environment).await;
    let tester = ConsoleClient::signed_in(server, &bound).await;
    let home = tester.get("/console").await;
    assert!(home.html.contains("/console/acme/sandbox"));
    assert!(!home.html.contains("production"), "{}", home.html);
    let sandbox_page = tester.get("/console/acme/sandbox/clients").await;
    assert_eq!(sandbox_page.status, StatusCode::OK);
    assert!(sandbox_page.html.contains("id=\"zone-banner\""));
    assert!(!sandbox_page.html.contains("/console/acme/production"));
    // Creating an environment is for installation-wide writers: a bound operator has no form
    // and is refused; an installation operator creates one, its project with it.
    assert!(!home.html.contains("new-environment"));
    let new_zone = [("project", "beta"), ("name", "sandbox"), ("kind", "test")];
    assert_eq!(
        tester
            .submit("/console/environments", &new_zone)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let reader = ConsoleClient::signed_in(server, &read_only_token(server).await).await;
    assert!(
        !reader
            .get("/console")
            .await
            .html
            .contains("new-environment")
    );
    assert_eq!(
        reader
            .submit("/console/environments", &new_zone)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let installer =
        ConsoleClient::signed_in(server, &server.installation_admin_token().await).await;
    assert!(
        installer
            .get("/console")
            .await
            .html
            .contains("new-environment")
    );
    assert_eq!(
        installer
            .post("/console/environments", &new_zone)
            .await
            .status,
        StatusCode::FORBIDDEN,
        "no CSRF token"
    );
    let made = installer.submit("/console/environments", &new_zone).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.html);
    assert_eq!(made.location, "/console/beta/sandbox");
    let made_page = installer.get("/console/beta/sandbox").await;
    assert!(made_page.html.contains("id=\"zone-banner\""));
    let discovery = crate::harness::server::http()
        .get(format!(
            "{}/beta/sandbox/.well-known/openid-configuration",
            server.base
        ))
        .send()
        .await
        .expect("discovery");
    assert_eq!(discovery.status().as_u16(), 200);
    for (refused, fields) in [
        (
            "taken",
            [("project", "beta"), ("name", "sandbox"), ("kind", "test")],
        ),
        (
            "reserved",
            [("project", "admin"), ("name", "x"), ("kind", "test")],
        ),
        (
            "no kind",
            [("project", "beta"), ("name", "prod"), ("kind", "staging")],
        ),
        (
            "bad name",
            [("project", "beta"), ("name", "Prod!"), ("kind", "live")],
        ),
    ] {
        let page = installer.submit("/console/environments", &fields).await;
        assert!(page.status.is_client_error(), "{refused}: {}", page.status);
    }
    let missing = tester.get("/console/acme/nowhere").await;
    for path in [
        "/console/acme/production",
        "/console/acme/production/clients",
        "/console/acme/production/audit",
        "/console/acme/production/keys",
    ] {
        let page = tester.get(path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            page.html, missing.html,
            "{path}: the same page as a missing zone"
        );
    }
    let across = tester
        .submit("/console/acme/production/keys/rotate", &[("alg", "ES256")])
        .await;
    assert_eq!(across.status, StatusCode::NOT_FOUND);
    let refused = tester
        .submit("/console/acme/sandbox/delete", &[("confirm", "yes")])
        .await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "only the operator deletes zones"
    );

    // The console's own paths cannot be taken by a project's path issuer.
    let (ok, _, err) = server.cli(&["project", "create", "console"]);
    assert!(!ok && err.contains("taken"), "{err}");

    // The operator sees every zone, a LIVE badge and no sandbox banner in production.
    let operator = ConsoleClient::signed_in(server, &server.installation_admin_token().await).await;
    let live = operator.get("/console/acme/production").await;
    assert_eq!(text_of(&live.html, "zone-badge").as_deref(), Some("LIVE"));
    assert!(!live.html.contains("id=\"zone-banner\""));
    let test = operator.get("/console/acme/staging").await;
    assert_eq!(
        text_of(&test.html, "zone-badge").as_deref(),
        Some("SANDBOX")
    );

    // Policy, limits and domains from the overview; a bad value is refused with its reason and
    // changes nothing.
    let policy = [
        ("access_token_ttl", "300"),
        ("session_ttl", "3600"),
        ("signup", "on"),
        ("password_min_length", "14"),
    ];
    let saved = operator
        .submit("/console/acme/staging/policy", &policy)
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    let staging = server.environment("acme/staging").await;
    assert_eq!(staging.policy.access_token_ttl, 300);
    assert_eq!(staging.policy.session_ttl, 3600);
    assert!(staging.accounts.signup);
    assert_eq!(staging.accounts.password_min_length, 14);
    let bad = operator
        .submit(
            "/console/acme/staging/policy",
            &[("access_token_ttl", "ten"), ("signup", "on")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.html.contains("access_token_ttl is a whole number"),
        "{}",
        bad.html
    );
    let limits = [
        ("token_requests_per_minute", "120"),
        ("lockout_threshold", "7"),
    ];
    let saved = operator
        .submit("/console/acme/staging/limits", &limits)
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    let staging = server.environment("acme/staging").await;
    assert_eq!(
        staging.policy.access_token_ttl, 300,
        "the refused form changed nothing"
    );
    assert_eq!(staging.limits.token_requests_per_minute, 120);
    assert_eq!(staging.limits.lockout_threshold, 7);
    let added = operator
        .submit(
            "/console/acme/staging/domains",
            &[("host", "login.staging.example")],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
    let overview = operator.get("/console/acme/staging").await;
    assert!(
        overview
            .html
            .contains("_airlock-challenge.login.staging.example")
    );
    let unproven = operator
        .submit(
            "/console/acme/staging/domains/login.staging.example/verify",
            &[],
        )
        .await;
    assert_eq!(
        unproven.status,
        StatusCode::BAD_REQUEST,
        "no TXT record published"
    );
    let removed = operator
        .submit(
            "/console/acme/staging/domains/login.staging.example/remove",
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert!(
        !operator
            .get("/console/acme/staging")
            .await
            .html
            .contains("login.staging.example")
    );

    // The projects page searches zones by name.
    let found = operator.get("/console?q=stag").await;
    assert!(found.html.contains("/console/acme/staging"));
    assert!(!found.html.contains("/console/acme/sandbox"));

    // Deleting a live zone needs its full name typed; a test zone, a ticked confirmation.
    let unconfirmed = operator
        .submit("/console/acme/production/delete", &[("confirm", "yes")])
        .await;
    assert_eq!(unconfirmed.status, StatusCode::BAD_REQUEST);
    assert!(
        unconfirmed.html.contains("type acme/production"),
        "{}",
        unconfirmed.html
    );
    assert_eq!(
        operator.get("/console/acme/production").await.status,
        StatusCode::OK
    );
    let confirmed = operator
        .submit(
            "/console/acme/production/delete",
            &[("confirm", "acme/production")],
        )
        .await;
    assert_eq!(confirmed.status, StatusCode::SEE_OTHER);
    assert_eq!(
        operator.get("/console/acme/production").await.status,
        StatusCode::NOT_FOUND
    );
    let staging = operator.submit("/console/acme/staging/delete", &[]).await;
    assert_eq!(staging.status, StatusCode::BAD_REQUEST);
    let staging = operator
        .submit("/console/acme/staging/delete", &[("confirm", "yes")])
        .await;
    assert_eq!(staging.status, StatusCode::SEE_OTHER);
    assert_eq!(
        operator.get("/console/acme/sandbox").await.status,
        StatusCode::OK,
        "nothing of another zone"
    );

    // Hostile input: a body that is no form, one too large, a bad filter: 4xx pages, never a 500.
    let not_a_form = operator
        .send_raw(
            "/console/acme/sandbox/clients",
            "application/json",
            format!("{{\"csrf\": \"{}\"}}", operator.csrf),
        )
        .await;
    assert_eq!(not_a_form, StatusCode::BAD_REQUEST);
    let huge = format!("csrf={}&name={}", operator.csrf, "a".repeat(100_000));
    let too_large = operator
        .send_raw(
            "/console/acme/sandbox/clients",
            "application/x-www-form-urlencoded",
            huge,
        )
        .await;
    assert_eq!(too_large, StatusCode::PAYLOAD_TOO_LARGE);
    let bad_time = operator
        .get("/console/acme/sandbox/audit?since=yesterday")
        .await;
    assert_eq!(bad_time.status, StatusCode::BAD_REQUEST);
    let bad_page = operator.get("/console/acme/sandbox/users?page=-1").await;
    assert_eq!(bad_page.status, StatusCode::BAD_REQUEST);
    assert!(csrf_of(&operator.get("/console/acme/sandbox/users").await.html).is_some());
}

/// The promotion of acme/sandbox into acme/production applied from the console with `fields`.
async fn apply_promotion(
    operator: &ConsoleClient,
    map: &str,
    fields: &[(&str, &str)],
) -> crate::harness::console::Page {
    let mut all = vec![("from", "sandbox"), ("map", map)];
    all.extend_from_slice(fields);
    operator
        .submit("/console/acme/production/releases/promote", &all)
        .await
}

/// The value of the hidden field `name` in `html`.
fn hidden_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let at = html.find(&marker)? + marker.len();
    Some(html[at..][..html[at..].find('"')?].to_string())
}

/// The first `{prefix}{id}` link target's id in `html`.
fn id_after(html: &str, prefix: &str) -> String {
    let at = html.find(prefix).expect(prefix) + prefix.len();
    html[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

async fn console_webhooks_inbox_and_releases(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    server.seed("acme", "production", EnvKind::Live).await;
    let operator = ConsoleClient::signed_in(server, &server.installation_admin_token().await).await;
    let webhooks = "/console/acme/sandbox/webhooks";

    // An endpoint added here gets its secret once; its test event arrives signed with it.
    let receiver = Receiver::start().await;
    let added = operator
        .submit(webhooks, &[("url", &receiver.url), ("events", "")])
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.html);
    let secret = text_of(&added.html, "webhook-secret").expect("signing secret");
    let endpoint = id_after(&added.html, "webhooks/endpoints/");
    let tested = operator
        .submit(&format!("{webhooks}/endpoints/{endpoint}/test"), &[])
        .await;
    assert_eq!(tested.status, StatusCode::SEE_OTHER);
    let received = receiver
        .wait_for(10, |got| Receiver::of_type(got, "webhook.test") == 1)
        .await;
    assert!(
        received[0].verifies_with(&secret),
        "signed with the secret shown"
    );
    let shown = operator.get(webhooks).await;
    assert!(!shown.html.contains(&secret), "shown once");

    // The delivery log: the delivery with its payload and the receiver's answer; replayed, the same
    // webhook-id arrives again.
    let delivery = id_after(&shown.html, "webhooks/deliveries/");
    let mut page = operator
        .get(&format!("{webhooks}/deliveries/{delivery}"))
        .await;
    for _ in 0..50 {
        if text_of(&page.html, "delivery-state").as_deref() == Some("succeeded") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        page = operator
            .get(&format!("{webhooks}/deliveries/{delivery}"))
            .await;
    }
    assert_eq!(
        text_of(&page.html, "delivery-state").as_deref(),
        Some("succeeded")
    );
    assert!(
        page.html.contains("webhook.test") && page.html.contains("<td>200"),
        "{}",
        page.html
    );
    let failed_only = operator.get(&format!("{webhooks}?state=failed")).await;
    assert_eq!(failed_only.status, StatusCode::OK);
    assert!(!failed_only.html.contains(&delivery), "filtered by state");
    let succeeded = operator.get(&format!("{webhooks}?state=succeeded")).await;
    assert!(succeeded.html.contains(&delivery));
    let replayed = operator
        .submit(&format!("{webhooks}/deliveries/{delivery}/replay"), &[])
        .await;
    assert_eq!(replayed.status, StatusCode::SEE_OTHER);
    let both = receiver
        .wait_for(10, |got| Receiver::of_type(got, "webhook.test") == 2)
        .await;
    assert_eq!(both[0].webhook_id(), both[1].webhook_id());

    // Rotated: the new secret is shown once, and the old one keeps signing beside it.
    let rotated = operator
        .submit(&format!("{webhooks}/endpoints/{endpoint}/rotate"), &[])
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.html);
    let new_secret = text_of(&rotated.html, "webhook-secret").expect("the new secret");
    assert_ne!(new_secret, secret);
    assert!(rotated.html.contains("previous secret keeps signing"));

    // Edited: a value that is no URL is refused and changes nothing; another URL and a
    // description are kept, and the next event goes there, signed with both secrets.
    let edit = format!("{webhooks}/endpoints/{endpoint}/edit");
    let bad = operator
        .submit(
            &edit,
            &[("url", "not a url"), ("events", ""), ("description", "")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.html);
    assert!(bad.html.contains(&receiver.url));
    let moved = Receiver::start().await;
    let edited = operator
        .submit(
            &edit,
            &[
                ("url", &moved.url),
                ("events", ""),
                ("description", "billing hooks"),
            ],
        )
        .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.html);
    let listed = operator.get(webhooks).await;
    assert!(listed.html.contains("billing hooks") && listed.html.contains(&moved.url));
    operator
        .submit(&format!("{webhooks}/endpoints/{endpoint}/test"), &[])
        .await;
    let arrived = moved
        .wait_for(10, |got| Receiver::of_type(got, "webhook.test") == 1)
        .await;
    assert!(arrived[0].verifies_with(&new_secret) && arrived[0].verifies_with(&secret));

    // Removing an endpoint is a dangerous action: confirmed, it goes.
    let remove = format!("{webhooks}/endpoints/{endpoint}/remove");
    assert_eq!(
        operator.submit(&remove, &[]).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        operator.submit(&remove, &[("confirm", "yes")]).await.status,
        StatusCode::SEE_OTHER
    );
    let after = operator.get(webhooks).await;
    assert_eq!(after.status, StatusCode::OK);
    assert!(!after.html.contains(&endpoint));

    // The sandbox's captured inbox shows a reset mail whole, with its link.
    ask_for_reset(&sandbox, &Browser::new(), &sandbox.email).await;
    let mut inbox = operator.get("/console/acme/sandbox/inbox").await;
    for _ in 0..50 {
        if inbox.html.contains("/console/acme/sandbox/inbox/") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        inbox = operator.get("/console/acme/sandbox/inbox").await;
    }
    assert!(inbox.html.contains("Captured inbox"));
    let message = id_after(&inbox.html, "/console/acme/sandbox/inbox/");
    let mail = operator
        .get(&format!("/console/acme/sandbox/inbox/{message}"))
        .await;
    assert_eq!(mail.status, StatusCode::OK);
    assert!(mail.html.contains(&sandbox.email));
    assert!(mail.html.contains("/password/reset"), "{}", mail.html);

    // Releases: a promotion plan with its go-live check, then the release it made and its
    // rollback plan. Only the operator sees them.
    let plan = operator
        .get("/console/acme/production/releases/promote?from=sandbox")
        .await;
    assert_eq!(plan.status, StatusCode::OK, "{}", plan.html);
    assert!(plan.html.contains("signin-limits"), "{}", plan.html);
    assert!(
        plan.html.contains("already has this configuration"),
        "{}",
        plan.html
    );

    // Applied from the console: the form names the plan shown, asks for the live zone's name and
    // for each failing check to be accepted; the client it creates gets credentials minted in
    // production, shown once, that work there.
    let (ok, _, err) = server.cli(&[
        "client",
        "create",
        "acme/sandbox",
        "--name",
        "promoted-app",
        "--redirect-uri",
        "https://rp.example/promoted",
    ]);
    assert!(ok, "{err}");
    let map = "https://rp.example=https://app.acme.com";
    let plan = operator
        .get(&format!(
            "/console/acme/production/releases/promote?from=sandbox&map={}",
            flow::urlencode(map)
        ))
        .await;
    assert_eq!(plan.status, StatusCode::OK, "{}", plan.html);
    assert!(plan.html.contains("+ client promoted-app"), "{}", plan.html);
    assert!(plan.html.contains(
        "airlock promote acme/sandbox acme/production --map https://rp.example=https://app.acme.com --apply"
    ));
    let digest = hidden_value(&plan.html, "plan").expect("the plan's digest");
    let confirm = ("confirm", "acme/production");
    let stale = apply_promotion(&operator, map, &[("plan", &"0".repeat(64)), confirm]).await;
    assert_eq!(stale.status, StatusCode::BAD_REQUEST);
    assert!(stale.html.contains("plan changed"), "{}", stale.html);
    let unconfirmed = apply_promotion(
        &operator,
        map,
        &[("plan", &digest), ("confirm", "production")],
    )
    .await;
    assert_eq!(unconfirmed.status, StatusCode::BAD_REQUEST);
    assert!(unconfirmed.html.contains("type acme/production"));
    let blocked = apply_promotion(&operator, map, &[("plan", &digest), confirm]).await;
    assert_eq!(blocked.status, StatusCode::BAD_REQUEST);
    assert!(
        blocked.html.contains("go-live check failed"),
        "{}",
        blocked.html
    );
    let failing: Vec<String> = [
        "webhooks",
        "signin-limits",
        "redirect-uris",
        "smtp",
        "domains",
        "fixtures",
    ]
    .iter()
    .map(|check| format!("accept_{check}"))
    .filter(|field| blocked.html.contains(&format!("name=\"{field}\"")))
    .collect();
    assert!(!failing.is_empty());
    let mut accepted = vec![("plan", digest.as_str()), confirm];
    accepted.extend(failing.iter().map(|field| (field.as_str(), "yes")));
    let applied = apply_promotion(&operator, map, &accepted).await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.html);
    assert_eq!(
        text_of(&applied.html, "applied").as_deref(),
        Some("Release 1 applied")
    );
    let secret = text_of(&applied.html, "credential-0").expect("a minted secret");
    assert!(secret.starts_with("acs_live_"), "{secret}");
    let production = server.environment("acme/production").await;
    let promoted = client_names(server, "acme/production").await;
    assert!(
        promoted.contains(&"promoted-app".to_string()),
        "{promoted:?}"
    );
    let client_id = server
        .airlock
        .clients()
        .list(&production)
        .await
        .expect("clients")
        .into_iter()
        .find(|client| client.name == "promoted-app")
        .expect("promoted")
        .client_id;
    let (status, _) = client_post(
        &format!("{}/acme/production/token", server.base),
        client_id.as_str(),
        &secret,
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 200);
    // The same form again: release 1 moved the zone, so the digest no longer names its plan.
    let replayed = apply_promotion(&operator, map, &[("plan", &digest), confirm]).await;
    assert_eq!(replayed.status, StatusCode::BAD_REQUEST);
    let releases = operator.get("/console/acme/production/releases").await;
    assert!(
        releases.html.contains("releases/1/rollback"),
        "{}",
        releases.html
    );
    // Rolled back from the console: the client deleted since release 1 comes back as release 2,
    // with a new secret shown once.
    server
        .airlock
        .clients()
        .delete(&production, &client_id, &Caller::cli(), server.now())
        .await
        .expect("delete");
    let rollback_path = "/console/acme/production/releases/1/rollback";
    let rollback = operator.get(rollback_path).await;
    assert_eq!(rollback.status, StatusCode::OK);
    assert!(
        rollback
            .html
            .contains("airlock env rollback acme/production --to 1")
    );
    assert!(
        rollback.html.contains("+ client promoted-app"),
        "{}",
        rollback.html
    );
    let digest = hidden_value(&rollback.html, "plan").expect("the plan's digest");
    let rolled = operator
        .submit(
            rollback_path,
            &[("plan", &digest), confirm, ("accept_webhooks", "yes")],
        )
        .await;
    assert_eq!(rolled.status, StatusCode::OK, "{}", rolled.html);
    assert_eq!(
        text_of(&rolled.html, "applied").as_deref(),
        Some("Release 2 applied")
    );
    let again = text_of(&rolled.html, "credential-0").expect("a new secret");
    assert!(again.starts_with("acs_live_") && again != secret);
    let bound =
        ConsoleClient::signed_in(server, &server.admin_token(&sandbox.environment).await).await;
    let refused = bound.get("/console/acme/sandbox/releases").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

async fn console_disables_and_enables_a_user(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let operator = ConsoleClient::signed_in(server, &server.installation_admin_token().await).await;
    let tokens = flow::sign_in(&sandbox, &Browser::new()).await;
    let user = format!("/console/acme/sandbox/users/{}", sandbox.sub);

    // Disabled: marked in the list, their refresh token dead, and signing in refused after the
    // right password, with the reason in the audit log.
    let disabled = operator.submit(&format!("{user}/disable"), &[]).await;
    assert_eq!(disabled.status, StatusCode::SEE_OTHER);
    let list = operator.get("/console/acme/sandbox/users").await;
    assert!(list.html.contains("tag disabled"), "{}", list.html);
    assert!(list.html.contains(&format!("{user}/enable")));
    let (status, body) = client_post(
        &format!("{}/token", sandbox.issuer),
        &sandbox.client_id,
        &sandbox.client_secret,
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
    let browser = Browser::new();
    let login = browser.get(&flow::authorize_url(&sandbox, &[])).await;
    let refused = browser
        .login(&login, &sandbox.email, &sandbox.password)
        .await;
    assert!(
        refused.html().contains("This account is disabled."),
        "{refused:?}"
    );
    let reasons = AuditFilter {
        event: Some("signin.failed".into()),
        ..AuditFilter::default()
    };
    let failed = server
        .airlock
        .audit_trail()
        .list(&sandbox.environment, reasons)
        .await
        .expect("audit");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].details["reason"], "account_disabled");

    // Enabled again: the user signs in.
    let enabled = operator.submit(&format!("{user}/enable"), &[]).await;
    assert_eq!(enabled.status, StatusCode::SEE_OTHER);
    assert!(
        !operator
            .get("/console/acme/sandbox/users")
            .await
            .html
            .contains("tag disabled")
    );
    flow::sign_in(&sandbox, &Browser::new()).await;

    // A person who signed up is marked as such; the admin-made user is not.
    let signup_on = [("signup", "on")];
    let saved = operator
        .submit("/console/acme/sandbox/policy", &signup_on)
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let browser = Browser::new();
    let form = browser
        .get(&flow::authorize_url(&sandbox, &[("prompt", "create")]))
        .await;
    let crate::harness::Step::Form {
        action, mut fields, ..
    } = form
    else {
        panic!("no sign-up form: {form:?}");
    };
    fields.push(("airlock_email".into(), "joined@sandbox.example".into()));
    fields.push((
        "airlock_password".into(),
        "a long sign-up passphrase".into(),
    ));
    browser.post_form(&action, &fields).await;
    let list = operator.get("/console/acme/sandbox/users?q=joined").await;
    assert!(
        list.html.contains("joined@sandbox.example"),
        "{}",
        list.html
    );
    assert!(list.html.contains("tag\">sign-up"), "{}", list.html);
    let seeded = operator
        .get(&format!("/console/acme/sandbox/users?q={}", sandbox.email))
        .await;
    assert!(seeded.html.contains(&sandbox.email));
    assert!(!seeded.html.contains("tag\">sign-up"));
}

const OPERATOR_PASSWORD: &str = "a long operator passphrase";

/// The field `field` of the operator `email`, from `airlock operator list --json`.
fn operator_field(server: &TestServer, email: &str, field: &str) -> String {
    let (ok, stdout, stderr) = server.cli(&["--json", "operator", "list"]);
    assert!(ok, "{stderr}");
    let listed: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    listed
        .as_array()
        .expect("a list")
        .iter()
        .find(|operator| operator["email"] == email && operator["revoked_at"].is_null())
        .and_then(|operator| operator[field].as_str())
        .expect("the operator")
        .to_string()
}

/// Whether `console`'s session still opens the console.
async fn signed_in(console: &ConsoleClient) -> bool {
    let home = console.get("/console").await;
    assert!(
        home.status == StatusCode::OK || home.location == "/console/signin",
        "{}",
        home.status
    );
    home.status == StatusCode::OK
}

async fn operators_sign_in_through_the_operators_zone(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    server.seed("acme", "production", EnvKind::Live).await;

    // No operators zone yet: the console says how to make one.
    let early = ConsoleClient::new(server)
        .get("/console/signin?with=operator")
        .await;
    assert_eq!(early.status, StatusCode::NOT_FOUND);
    assert!(
        early.html.contains("airlock operator add"),
        "{}",
        early.html
    );

    let add = |email: &str, extra: &[&str]| {
        let mut args = vec!["operator", "add", email, "--password", OPERATOR_PASSWORD];
        args.extend_from_slice(extra);
        let (ok, _, stderr) = server.cli(&args);
        assert!(ok, "{stderr}");
    };
    add(" Ops@Example.com", &[]);
    add(
        "auditor@example.com",
        &["--env", "acme/sandbox", "--read-only"],
    );
    // Nothing may be bound to the operators zone alone: it holds every operator's account.
    for command in [
        &[
            "operator",
            "add",
            "x@example.com",
            "--password",
            OPERATOR_PASSWORD,
            "--env",
            "admin/operators",
        ][..],
        &["admin-token", "create", "--env", "admin/operators"][..],
    ] {
        let (ok, _, stderr) = server.cli(command);
        assert!(
            !ok && stderr.contains("installation's own zone"),
            "{stderr}"
        );
    }
    let (again, _, stderr) = server.cli(&[
        "operator",
        "add",
        "ops@example.com",
        "--password",
        OPERATOR_PASSWORD,
    ]);
    assert!(!again && stderr.contains("already an operator"), "{stderr}");
    // Operators are not admin tokens anyone holds.
    let (ok, tokens, _) = server.cli(&["admin-token", "list"]);
    assert!(ok && !tokens.contains("ops@example.com"), "{tokens}");

    // The installation-wide operator signs in through the operators zone and reaches every zone;
    // what they do is audited with them as the actor.
    let ops = ConsoleClient::operator_signed_in(server, "ops@example.com", OPERATOR_PASSWORD).await;
    let home = ops.get("/console").await;
    assert!(
        home.html.contains("/console/acme/production"),
        "{}",
        home.html
    );
    let disabled = ops
        .submit(
            &format!("/console/acme/sandbox/users/{}/disable", sandbox.sub),
            &[],
        )
        .await;
    assert_eq!(disabled.status, StatusCode::SEE_OTHER, "{}", disabled.html);
    let by_operator = AuditFilter {
        event: Some("user.disabled".into()),
        actor: Some(operator_field(server, "ops@example.com", "operator_id")),
        ..AuditFilter::default()
    };
    let entries = server
        .airlock
        .audit_trail()
        .list(&sandbox.environment, by_operator)
        .await
        .expect("audit");
    assert_eq!(entries.len(), 1, "{entries:?}");

    // The bound, read-only operator sees only their zone, and cannot change it.
    let auditor =
        ConsoleClient::operator_signed_in(server, "auditor@example.com", OPERATOR_PASSWORD).await;
    assert_eq!(
        auditor.get("/console/acme/production").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        auditor.get("/console/acme/sandbox").await.status,
        StatusCode::OK
    );
    let refused = auditor
        .submit(
            &format!("/console/acme/sandbox/users/{}/enable", sandbox.sub),
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // Signed out, signing in again asks for the password again (the helper fails without the
    // login form), though the operators zone saw this browser sign in a moment ago.
    let signed_out = auditor.submit("/console/signout", &[]).await;
    assert_eq!(signed_out.status, StatusCode::SEE_OTHER);
    let back = auditor
        .operator_callback("auditor@example.com", OPERATOR_PASSWORD)
        .await;
    assert_eq!(auditor.get_url(&back).await.status, StatusCode::SEE_OTHER);

    // The operators zone keeps no session once the console has one: a flow that drops
    // prompt=login still meets the login form.
    let started = auditor.get("/console/signin?with=operator").await;
    let without_prompt = started.location.replace("&prompt=login", "");
    assert_ne!(without_prompt, started.location);
    let asked = auditor.get_url(&without_prompt).await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.location);
    assert!(asked.html.contains("airlock_password"));

    // The operator's account decides too: disabled, or given a new password, their console
    // sessions end; enabled again, the old session stays ended.
    let auditor_sub = operator_field(server, "auditor@example.com", "sub");
    let user_command = |args: &[&str]| {
        let (ok, _, stderr) = server.cli(args);
        assert!(ok, "{stderr}");
    };
    user_command(&["user", "disable", "admin/operators", &auditor_sub]);
    assert!(!signed_in(&auditor).await);
    user_command(&["user", "enable", "admin/operators", &auditor_sub]);
    assert!(!signed_in(&auditor).await);
    let auditor =
        ConsoleClient::operator_signed_in(server, "auditor@example.com", OPERATOR_PASSWORD).await;
    user_command(&[
        "user",
        "set-password",
        "admin/operators",
        &auditor_sub,
        "--password",
        "another long passphrase",
    ]);
    assert!(!signed_in(&auditor).await);
    let auditor =
        ConsoleClient::operator_signed_in(server, "auditor@example.com", "another long passphrase")
            .await;
    // Deleted with the zone's own tools, the account takes the session with it; the authority
    // left behind is still removed by address.
    user_command(&["user", "delete", "admin/operators", &auditor_sub]);
    assert!(!signed_in(&auditor).await);
    user_command(&["operator", "remove", "auditor@example.com"]);
    let (removed_twice, _, _) = server.cli(&["operator", "remove", "auditor@example.com"]);
    assert!(!removed_twice);

    // The way back must carry the state this browser started with, and only this browser's
    // cookie holds it: another browser, or a changed state, gets no session.
    let started = ConsoleClient::new(server);
    let callback = started
        .operator_callback("ops@example.com", OPERATOR_PASSWORD)
        .await;
    let elsewhere = ConsoleClient::new(server).get_url(&callback).await;
    assert_eq!(elsewhere.status, StatusCode::FORBIDDEN);
    let tampered = callback.replace("state=", "state=x");
    let refused = started.get_url(&tampered).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.html);
    assert_eq!(started.get("/console").await.status, StatusCode::SEE_OTHER);

    // An account of the operators zone without an operator's authority gets no session.
    let (ok, _, stderr) = server.cli(&[
        "user",
        "create",
        "admin/operators",
        "--email",
        "visitor@example.com",
        "--password",
        OPERATOR_PASSWORD,
    ]);
    assert!(ok, "{stderr}");
    let visitor = ConsoleClient::new(server);
    let callback = visitor
        .operator_callback("visitor@example.com", OPERATOR_PASSWORD)
        .await;
    let turned_away = visitor.get_url(&callback).await;
    assert_eq!(turned_away.status, StatusCode::UNAUTHORIZED);
    assert!(
        turned_away.html.contains("not an operator"),
        "{}",
        turned_away.html
    );

    // The admin API does the same, for installation tokens only.
    let api = format!("{}/admin/v1/operators", server.base);
    let body = serde_json::json!({
        "email": "api-ops@example.com",
        "password": OPERATOR_PASSWORD,
        "environment": "acme/production",
        "read_only": true,
    });
    let bound = server.admin_token(&sandbox.environment).await;
    let installation = server.installation_admin_token().await;
    let send = |request: reqwest::RequestBuilder, token: &str| {
        let request = request.bearer_auth(token);
        async move { request.send().await.expect("admin API").status() }
    };
    let http = crate::harness::server::http();
    assert_eq!(
        send(http.post(&api).json(&body), &bound).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(http.post(&api).json(&body), &installation).await,
        StatusCode::CREATED
    );
    let listed: serde_json::Value = http
        .get(&api)
        .bearer_auth(&installation)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let entry = listed["operators"]
        .as_array()
        .expect("operators")
        .iter()
        .find(|operator| operator["email"] == "api-ops@example.com")
        .expect("listed")
        .clone();
    assert_eq!(entry["environment"], "acme/production");
    assert_eq!(entry["read_only"], true);
    let api_ops =
        ConsoleClient::operator_signed_in(server, "api-ops@example.com", OPERATOR_PASSWORD).await;
    assert_eq!(
        api_ops.get("/console/acme/sandbox").await.status,
        StatusCode::NOT_FOUND
    );
    let one = format!("{api}/api-ops@example.com");
    assert_eq!(
        send(http.delete(&one), &installation).await,
        StatusCode::NO_CONTENT
    );
    assert!(!signed_in(&api_ops).await);
    assert_eq!(
        send(http.delete(&one), &installation).await,
        StatusCode::NOT_FOUND
    );

    // Removing an operator ends their session at once.
    let (ok, _, stderr) = server.cli(&["operator", "remove", "ops@example.com"]);
    assert!(ok, "{stderr}");
    let after = ops.get("/console").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert_eq!(after.location, "/console/signin");
    let (ok, listed, _) = server.cli(&["operator", "list"]);
    assert!(
        ok && listed.contains("ops@example.com") && listed.contains("removed"),
        "{listed}"
    );
}
