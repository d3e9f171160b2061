//! The console in a real browser (headless Chromium through WebDriver) against a real server:
//! sign in, the zone banner and switcher, a client created and its secret copied then used by an
//! `openidconnect` relying party, a key rotation seen in the JWKS, the audit log filtered and its
//! chain verified, another zone's pages as a sandbox-bound operator, a CSRF token from another
//! session, a live zone deleted only with its name typed, and an operator signed in through the
//! operators zone. Screenshots of the main pages go
//! to the test's temporary directory (and, with `AIRLOCK_WRITE_SCREENSHOTS=1`, to
//! `tests/screenshots/` for the README).

use std::collections::BTreeSet;

use airlock::model::EnvKind;
use serde_json::Value;

use crate::backend_test;
use crate::harness::TestServer;
use crate::harness::flow::{jwks, rp_sign_in};
use crate::harness::webdriver::Chrome;

backend_test!(console_in_a_browser);

fn kids(document: &Value) -> BTreeSet<String> {
    document["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|key| key["kid"].as_str().map(str::to_string))
        .collect()
}

async fn sign_in(chrome: &Chrome, server: &TestServer, token: &str) {
    chrome.client.delete_all_cookies().await.expect("cookies");
    chrome.goto(&format!("{}/console", server.base)).await;
    assert_eq!(chrome.path().await, "/console/signin");
    chrome.fill("#token", token).await;
    chrome.click("#sign-in").await;
    chrome.at("/console").await;
}

fn keep_for_readme(shot: &std::path::Path, name: &str) {
    if std::env::var("AIRLOCK_WRITE_SCREENSHOTS").is_ok() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshots dir");
        std::fs::copy(shot, dir.join(format!("{name}.png"))).expect("copy screenshot");
    }
}

async fn console_in_a_browser(server: &TestServer) {
    let shots = tempfile::tempdir().expect("tempdir");
    let Some(chrome) = Chrome::start(shots.path()).await else {
        return;
    };
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let production = server.seed("acme", "production", EnvKind::Live).await;
    let operator = server.installation_admin_token().await;
    let base = &server.base;

    // Sign in, open the sandbox: the banner is there, on every page.
    sign_in(&chrome, server, &operator).await;
    chrome.click("a[href='/console/acme/sandbox']").await;
    chrome.at("/console/acme/sandbox").await;
    assert!(chrome.text("#zone-banner").await.contains("SANDBOX"));
    assert_eq!(chrome.text("#zone-badge").await, "SANDBOX");
    let banner = chrome.screenshot("sandbox-banner").await;
    keep_for_readme(&banner, "sandbox-banner");

    // Readable at 360 px: nothing wider than the screen.
    chrome
        .client
        .set_window_size(360, 740)
        .await
        .expect("narrow window");
    chrome
        .goto(&format!("{base}/console/acme/sandbox/audit"))
        .await;
    let widest = chrome
        .client
        .execute("return document.documentElement.scrollWidth;", Vec::new())
        .await
        .expect("scroll width");
    let viewport = chrome
        .client
        .execute("return window.innerWidth;", Vec::new())
        .await
        .expect("inner width");
    assert!(
        viewport.as_i64().is_some_and(|width| width <= 360),
        "{viewport}"
    );
    assert!(
        widest.as_i64() <= viewport.as_i64(),
        "{widest} > {viewport}"
    );
    chrome.screenshot("audit-360px").await;
    chrome
        .client
        .set_window_size(1280, 900)
        .await
        .expect("wide window");
    chrome.goto(&format!("{base}/console/acme/sandbox")).await;

    // The switcher keeps the section and changes the zone: production has no banner, a LIVE badge.
    chrome
        .click("nav.sections a[href='/console/acme/sandbox/clients']")
        .await;
    chrome.at("/console/acme/sandbox/clients").await;
    assert!(chrome.exists("#zone-banner").await);
    chrome
        .click("nav.switcher a[href='/console/acme/production/clients']")
        .await;
    chrome.at("/console/acme/production/clients").await;
    assert_eq!(chrome.text("#zone-badge").await, "LIVE");
    assert!(!chrome.exists("#zone-banner").await);
    assert_eq!(chrome.text("#zone-name").await, "acme/production");
    chrome.screenshot("production-clients").await;

    // Create a sandbox client, copy its secret; the relying party signs in with it.
    chrome
        .goto(&format!("{base}/console/acme/sandbox/clients"))
        .await;
    chrome.click("#new-client").await;
    chrome.at("/console/acme/sandbox/clients/new").await;
    chrome.fill("#name", "Browser App").await;
    chrome
        .fill("#redirect_uris", "https://rp.example/browser")
        .await;
    chrome.click("#create-client").await;
    chrome.at("/console/acme/sandbox/clients").await;
    let client_id = chrome.text("#client-id").await;
    let secret = chrome.text("#client-secret").await;
    assert!(secret.starts_with("acs_test_"), "{secret}");
    chrome.click("button[data-copy='client-secret']").await;
    let mut copied = String::new();
    for _ in 0..50 {
        copied = chrome.text("button[data-copy='client-secret']").await;
        if copied != "Copy" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_ne!(
        copied, "Copy",
        "the copy button's script ran under the page's CSP"
    );
    chrome.screenshot("client-secret").await;
    rp_sign_in(
        &sandbox.issuer,
        (&client_id, &secret),
        "https://rp.example/browser",
        (&sandbox.email, &sandbox.password),
    )
    .await;

    // Rotate a key: the JWKS on the page and the one relying parties fetch both gain it.
    chrome
        .goto(&format!("{base}/console/acme/sandbox/keys"))
        .await;
    let before: Value = serde_json::from_str(&chrome.text("#jwks").await).expect("jwks json");
    assert_eq!(kids(&before), kids(&jwks(&sandbox).await));
    chrome.click("#alg option:nth-child(2)").await;
    chrome.fill("#publish_delay", "0").await;
    chrome.click("#rotate-key").await;
    let mut after = before.clone();
    for _ in 0..200 {
        after = serde_json::from_str(&chrome.text("#jwks").await).expect("jwks json");
        if after != before {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let added: Vec<String> = kids(&after).difference(&kids(&before)).cloned().collect();
    assert_eq!(added.len(), 1, "one new key: {after}");
    assert!(kids(&jwks(&sandbox).await).contains(&added[0]), "published");
    chrome.screenshot("keys").await;

    // The audit log, filtered by type; then its chain verified.
    chrome
        .goto(&format!("{base}/console/acme/sandbox/audit"))
        .await;
    chrome.fill("input[name=type]", "client.created").await;
    chrome.click("#apply-filter").await;
    chrome.url_has("type=client.created").await;
    let events = chrome.texts("#audit-entries code.event").await;
    assert_eq!(
        events.len(),
        3,
        "two seeded clients and the browser's: {events:?}"
    );
    assert!(
        events.iter().all(|event| event == "client.created"),
        "{events:?}"
    );
    chrome.click("#verify-chain").await;
    chrome.at("/console/acme/sandbox/audit/verify").await;
    assert!(chrome.text("#chain-result").await.contains("intact"));
    let audit = chrome.screenshot("audit-log").await;
    keep_for_readme(&audit, "audit-log");
    let operator_csrf = chrome
        .client
        .find(fantoccini::Locator::Css("input[name=csrf]"))
        .await
        .expect("csrf field")
        .attr("value")
        .await
        .expect("value")
        .expect("a value");

    // An operator bound to the sandbox: production's pages are not found.
    let bound = server.admin_token(&sandbox.environment).await;
    sign_in(&chrome, server, &bound).await;
    chrome
        .goto(&format!("{base}/console/acme/production/clients"))
        .await;
    assert_eq!(chrome.text("h1").await, "Not found");
    chrome.goto(&format!("{base}/console/acme/sandbox")).await;
    assert!(!chrome.exists("a[href^='/console/acme/production']").await);

    // A CSRF token replayed from the operator's session is refused, and nothing is rotated.
    chrome
        .goto(&format!("{base}/console/acme/sandbox/keys"))
        .await;
    let keys_before = chrome.texts("tbody tr").await.len();
    chrome
        .client
        .execute(
            "document.querySelector('form[action$=\"/keys/rotate\"] input[name=csrf]').value = arguments[0];",
            vec![Value::String(operator_csrf)],
        )
        .await
        .expect("swap the token");
    chrome.click("#rotate-key").await;
    chrome.at("/console/acme/sandbox/keys/rotate").await;
    assert!(
        chrome
            .text("main")
            .await
            .contains("did not come from your console session")
    );
    chrome
        .goto(&format!("{base}/console/acme/sandbox/keys"))
        .await;
    assert_eq!(chrome.texts("tbody tr").await.len(), keys_before);

    // Deleting the live zone: a wrong name is refused, the full name deletes it.
    sign_in(&chrome, server, &operator).await;
    chrome
        .goto(&format!("{base}/console/acme/production"))
        .await;
    chrome.click("a.danger").await;
    chrome.at("/console/acme/production/delete").await;
    chrome.fill("#confirm", "production").await;
    chrome.click("main form button[type=submit]").await;
    assert!(
        chrome
            .text("main .notice")
            .await
            .contains("type acme/production")
    );
    chrome.fill("#confirm", "acme/production").await;
    chrome.click("main form button[type=submit]").await;
    chrome.at("/console").await;
    assert!(!chrome.exists("a[href='/console/acme/production']").await);
    let gone = crate::harness::server::http()
        .get(format!(
            "{}/.well-known/openid-configuration",
            production.issuer
        ))
        .send()
        .await
        .expect("discovery");
    assert_eq!(gone.status().as_u16(), 404);

    // An operator signs in through the operators zone's own login page and lands in the console,
    // reaching only the zone they were given.
    let (added, _, stderr) = server.cli(&[
        "operator",
        "add",
        "ops@example.com",
        "--password",
        "a long operator passphrase",
        "--env",
        "acme/sandbox",
    ]);
    assert!(added, "{stderr}");
    chrome.client.delete_all_cookies().await.expect("cookies");
    chrome.goto(&format!("{base}/console")).await;
    chrome.at("/console/signin").await;
    chrome.click("#operator-sign-in").await;
    chrome.url_has("/admin/operators/authorize").await;
    chrome
        .fill("input[name=airlock_email]", "ops@example.com")
        .await;
    chrome
        .fill("input[name=airlock_password]", "a long operator passphrase")
        .await;
    chrome.click("button[type=submit]").await;
    chrome.at("/console").await;
    assert!(chrome.exists("a[href='/console/acme/sandbox']").await);
    assert!(!chrome.exists("a[href='/console/admin/operators']").await);
    chrome.screenshot("operator-home").await;

    chrome.finish().await;
}
