//! What browsers see: the demo callback only under quickstart (item 11), live redirect URIs
//! (item 13), duplicated cookies (item 15), CORS for browser apps.

use airlock::model::EnvKind;
use serde_json::json;

use crate::backend_test;
use crate::harness::flow;
use crate::harness::server::http;
use crate::harness::{Browser, Node, Step, TestServer};

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
