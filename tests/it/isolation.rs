//! Zones do not trust each other: every artefact of one zone, presented to another, is treated exactly
//! like an unknown one.

use airlock::model::EnvKind;
use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{
    AuthorizationCode, CsrfToken, Nonce, OAuth2TokenResponse, Scope, TokenResponse,
};
use serde_json::{Value, json};
use sqlx::{AnyConnection, Connection, Executor};

use crate::backend_test;
use crate::harness::flow::{self, client_post, introspect};
use crate::harness::rp::{self, Rp};
use crate::harness::server::{Seeded, http};
use crate::harness::{Browser, TestServer};

struct Artefacts {
    code: String,
    access_token: String,
    refresh_token: String,
    id_token: String,
    session_cookie: String,
}

/// Signs in at `zone` (offline_access), keeps one unredeemed code and the tokens of another.
async fn artefacts(zone: &Seeded, client: &Rp, browser: &Browser) -> Artefacts {
    let url = |offline: bool| {
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        if offline {
            request = request.add_scope(Scope::new("offline_access".into()));
        }
        request.url().0.to_string()
    };
    let back = browser
        .sign_in(&url(true), &zone.email, &zone.password)
        .await;
    let code = back.redirect_params()["code"].clone();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .expect("token url")
        .request_async(&http())
        .await
        .expect("exchange");
    let spare = browser.get(&url(false)).await;
    let session_cookie = {
        // The browser's jar is opaque: sign in once more over raw HTTP to read a session cookie value.
        let login = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(false)
            .build()
            .expect("client");
        let page = login.get(url(false)).send().await.expect("get");
        let csrf_cookie = page
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("airlock_csrf="))
            .expect("csrf cookie")
            .split(';')
            .next()
            .expect("pair")
            .to_string();
        let html = page.text().await.expect("html");
        let (action, mut fields) = crate::harness::browser::parse_form(&html).expect("form");
        fields.push(("airlock_email".into(), zone.email.clone()));
        fields.push(("airlock_password".into(), zone.password.clone()));
        let response = login
            .post(action)
            .header("cookie", csrf_cookie)
            .form(&fields)
            .send()
            .await
            .expect("login");
        response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("airlock_session="))
            .expect("session cookie")
            .split(';')
            .next()
            .expect("pair")
            .trim_start_matches("airlock_session=")
            .to_string()
    };
    Artefacts {
        code: spare.redirect_params()["code"].clone(),
        access_token: tokens.access_token().secret().clone(),
        refresh_token: tokens.refresh_token().expect("refresh").secret().clone(),
        id_token: tokens.id_token().expect("id token").to_string(),
        session_cookie,
    }
}

async fn token(
    zone: &Seeded,
    client_id: &str,
    secret: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let response = http()
        .post(format!("{}/token", zone.issuer))
        .basic_auth(client_id, Some(secret))
        .form(form)
        .send()
        .await
        .expect("token");
    (
        response.status().as_u16(),
        response.json().await.expect("json"),
    )
}

async fn userinfo(zone: &Seeded, access_token: &str) -> (u16, String) {
    let response = http()
        .get(format!("{}/userinfo", zone.issuer))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("userinfo");
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (response.status().as_u16(), challenge)
}

/// Presents every artefact of `from` to `to` and compares with an unknown artefact of the same shape.
async fn assert_isolated(
    server: &TestServer,
    from: &Seeded,
    from_client: &Rp,
    to: &Seeded,
    to_client: &Rp,
) {
    let browser = Browser::new();
    let stolen = artefacts(from, from_client, &browser).await;
    let fake = "Zm9yZ2VkLWFydGVmYWN0LXRoYXQtZG9lcy1ub3QtZXhpc3Q";

    // Client credentials of `from` at `to`'s token endpoint: the unknown-client answer.
    let foreign = token(
        to,
        &from.client_id,
        &from.client_secret,
        &[("grant_type", "client_credentials")],
    )
    .await;
    let unknown = token(
        to,
        "cl_unknown",
        &from.client_secret,
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(foreign.0, 401);
    assert_eq!(foreign, unknown);

    // A code, a refresh token of `from`, redeemed with `to`'s own valid client: the unknown answer.
    let code_form = |code: &str| {
        vec![
            ("grant_type", "authorization_code".to_string()),
            ("code", code.to_string()),
            ("redirect_uri", to.redirect_uri.clone()),
        ]
    };
    let as_refs = |form: &[(&'static str, String)]| {
        form.iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect::<Vec<_>>()
    };
    let run = |form: Vec<(&'static str, String)>| async move {
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        token(to, &to.client_id, &to.client_secret, &pairs).await
    };
    let foreign_code = run(as_refs(&code_form(&stolen.code))).await;
    assert_eq!(foreign_code.0, 400);
    assert_eq!(foreign_code, run(as_refs(&code_form(fake))).await);
    let refresh_form = |rt: &str| {
        vec![
            ("grant_type", "refresh_token".to_string()),
            ("refresh_token", rt.to_string()),
        ]
    };
    let foreign_refresh = run(refresh_form(&stolen.refresh_token)).await;
    assert_eq!(foreign_refresh.0, 400);
    assert_eq!(foreign_refresh, run(refresh_form(fake)).await);

    // The access token of `from` at `to`'s userinfo: the same 401 as a garbage token, even right
    // after `from` accepted it (and this node remembered its signature as checked).
    assert_eq!(userinfo(from, &stolen.access_token).await.0, 200);
    let foreign_userinfo = userinfo(to, &stolen.access_token).await;
    assert_eq!(foreign_userinfo.0, 401);
    assert_eq!(foreign_userinfo, userinfo(to, "e30.e30.c2ln").await);

    // A relying party of `to`, configured from `to`'s discovery, rejects `from`'s ID token, even when it
    // does not check the audience.
    let id_token: openidconnect::core::CoreIdToken =
        stolen.id_token.parse().expect("id token parses");
    let lenient = to_client.id_token_verifier().require_audience_match(false);
    assert!(
        id_token
            .claims(&lenient, |_: Option<&Nonce>| Ok(()))
            .is_err()
    );
    let own = from_client.id_token_verifier();
    assert!(
        id_token.claims(&own, |_: Option<&Nonce>| Ok(())).is_ok(),
        "its own RP accepts it"
    );

    // `from`'s ID token as `id_token_hint` at `to`: refused through the redirect, like a garbage one.
    let hinted = browser
        .get(
            to_client
                .authorize_url(
                    CoreAuthenticationFlow::AuthorizationCode,
                    CsrfToken::new_random,
                    Nonce::new_random,
                )
                .add_extra_param("id_token_hint", &stolen.id_token)
                .url()
                .0
                .as_str(),
        )
        .await;
    assert_eq!(hinted.redirect_params()["error"], "invalid_request");

    // `from`'s session cookie does not sign anyone in at `to`.
    let silent = to_client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_extra_param("prompt", "none")
        .url()
        .0
        .to_string();
    let response = http()
        .get(&silent)
        .header(
            "cookie",
            format!("airlock_session={}", stolen.session_cookie),
        )
        .send()
        .await
        .expect("authorize");
    let location = response.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert!(location.contains("error=login_required"), "{location}");
    let same_browser = browser.get(&silent).await;
    assert_eq!(same_browser.redirect_params()["error"], "login_required");

    // `from`'s client_id at `to`'s authorization endpoint: the unknown-client page, never a redirect.
    let authorize = |client_id: &str| {
        format!(
            "{}/authorize?response_type=code&scope=openid&client_id={client_id}&redirect_uri={}",
            to.issuer,
            crate::code_flow::urlencode(&from.redirect_uri)
        )
    };
    let foreign_page = browser.get(&authorize(&from.client_id)).await;
    let unknown_page = browser.get(&authorize("cl_unknown")).await;
    assert_eq!(foreign_page.status().as_u16(), 400);
    assert_eq!(foreign_page.html(), unknown_page.html());

    // Introspection at `to`: `from`'s client secret is an unknown client; `from`'s tokens are inactive.
    let introspect_url = format!("{}/introspect", to.issuer);
    let with_from_secret = client_post(
        &introspect_url,
        &from.client_id,
        &from.client_secret,
        &[("token", &stolen.access_token)],
    )
    .await;
    let with_unknown_client = client_post(
        &introspect_url,
        "cl_unknown",
        &from.client_secret,
        &[("token", &stolen.access_token)],
    )
    .await;
    assert_eq!(with_from_secret.0, 401);
    assert_eq!(with_from_secret, with_unknown_client);
    for token in [
        &stolen.access_token,
        &stolen.refresh_token,
        &stolen.id_token,
    ] {
        assert_eq!(introspect(to, token).await, introspect(to, fake).await);
        assert_eq!(introspect(to, token).await.1, json!({"active": false}));
    }

    // Revocation at `to` answers like for an unknown token and touches nothing of `from`'s.
    let revoke_url = format!("{}/revoke", to.issuer);
    for token in [&stolen.access_token, &stolen.refresh_token] {
        let foreign = client_post(
            &revoke_url,
            &to.client_id,
            &to.client_secret,
            &[("token", token)],
        )
        .await;
        let unknown = client_post(
            &revoke_url,
            &to.client_id,
            &to.client_secret,
            &[("token", fake)],
        )
        .await;
        assert_eq!(foreign, unknown);
        assert_eq!(introspect(from, token).await.1["active"], true);
    }

    // `from`'s ID token as `id_token_hint` at `to`'s logout: the page a garbage hint gets.
    let logout = |hint: &str| {
        format!(
            "{}/logout?id_token_hint={}",
            to.issuer,
            flow::urlencode(hint)
        )
    };
    let foreign_logout = browser.get(&logout(&stolen.id_token)).await;
    let garbage_logout = browser.get(&logout(fake)).await;
    assert_eq!(foreign_logout.status().as_u16(), 400);
    assert_eq!(foreign_logout.html(), garbage_logout.html());

    // An ID token naming `to` (issuer and audience) but signed with `from`'s key is refused by `to`.
    let resigned = {
        let mut claims = claims_of(&stolen.id_token);
        claims["iss"] = json!(to.issuer);
        claims["aud"] = json!(to.client_id);
        claims["azp"] = json!(to.client_id);
        let keys = server
            .airlock
            .key_ring()
            .keys(&from.environment, server.now())
            .await
            .expect("keys");
        keys.signer(airlock::model::SigningAlg::RS256)
            .expect("signer")
            .sign("JWT", &claims)
            .expect("sign")
    };
    let resigned_token: openidconnect::core::CoreIdToken = resigned.parse().expect("parses");
    assert!(
        resigned_token
            .claims(&to_client.id_token_verifier(), |_: Option<&Nonce>| Ok(()))
            .is_err()
    );
    assert_eq!(browser.get(&logout(&resigned)).await.status().as_u16(), 400);

    // The admin API: `from`'s admin token sees nothing of `to`, and `to`'s ids are 404 under `from`.
    let from_admin = server.admin_token(&from.environment).await;
    let admin_get = |path: String, token: String| async move {
        http()
            .get(format!("{}/admin/v1{path}", server.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("admin")
            .status()
            .as_u16()
    };
    let zone_path = |zone: &Seeded| {
        format!(
            "/projects/{}/environments/{}",
            zone.environment.project, zone.environment.name
        )
    };
    for suffix in ["", "/audit", "/keys", "/clients", "/users", "/limits"] {
        let foreign = admin_get(format!("{}{suffix}", zone_path(to)), from_admin.clone()).await;
        let missing = admin_get(
            format!("/projects/nowhere/environments/none{suffix}"),
            from_admin.clone(),
        )
        .await;
        assert_eq!((foreign, missing), (404, 404), "{suffix}");
    }
    let from_path = zone_path(from);
    assert_eq!(
        admin_get(
            format!("{from_path}/clients/{}", to.client_id),
            from_admin.clone()
        )
        .await,
        404
    );
    assert_eq!(
        admin_get(format!("{from_path}/users/{}", to.sub), from_admin.clone()).await,
        404
    );
    assert_eq!(
        admin_get(
            format!("{from_path}/clients/{}", from.client_id),
            from_admin.clone()
        )
        .await,
        200
    );
    let rotate = http()
        .post(format!(
            "{}/admin/v1{from_path}/clients/{}/rotate-secret",
            server.base, to.client_id
        ))
        .bearer_auth(&from_admin)
        .send()
        .await
        .expect("rotate");
    assert_eq!(rotate.status().as_u16(), 404);
}

fn claims_of(jwt: &str) -> Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).expect("payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("b64");
    serde_json::from_slice(&bytes).expect("json")
}

async fn sandbox_and_production_do_not_trust_each_other(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let production = server.seed("acme", "production", EnvKind::Live).await;
    let sandbox_rp = rp::for_issuer(
        &sandbox.issuer,
        &sandbox.client_id,
        Some(&sandbox.client_secret),
        &sandbox.redirect_uri,
    )
    .await;
    let production_rp = rp::for_issuer(
        &production.issuer,
        &production.client_id,
        Some(&production.client_secret),
        &production.redirect_uri,
    )
    .await;
    assert!(sandbox.client_secret.starts_with("acs_test_"));
    assert!(production.client_secret.starts_with("acs_live_"));
    assert_isolated(server, &sandbox, &sandbox_rp, &production, &production_rp).await;
    assert_isolated(server, &production, &production_rp, &sandbox, &sandbox_rp).await;

    // Each JWKS holds only its own keys.
    let kids = |issuer: String| async move {
        let jwks: Value = http()
            .get(format!("{issuer}/jwks"))
            .send()
            .await
            .expect("jwks")
            .json()
            .await
            .expect("json");
        jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .map(|k| k["kid"].as_str().expect("kid").to_string())
            .collect::<Vec<_>>()
    };
    let sandbox_kids = kids(sandbox.issuer.clone()).await;
    let production_kids = kids(production.issuer.clone()).await;
    assert_eq!(sandbox_kids.len(), 2);
    assert!(
        sandbox_kids
            .iter()
            .all(|kid| !production_kids.contains(kid))
    );
}
backend_test!(sandbox_and_production_do_not_trust_each_other);

async fn projects_do_not_trust_each_other(server: &TestServer) {
    let a = server.seed("alpha", "production", EnvKind::Test).await;
    let b = server.seed("beta", "production", EnvKind::Test).await;
    let a_rp = rp::for_issuer(
        &a.issuer,
        &a.client_id,
        Some(&a.client_secret),
        &a.redirect_uri,
    )
    .await;
    let b_rp = rp::for_issuer(
        &b.issuer,
        &b.client_id,
        Some(&b.client_secret),
        &b.redirect_uri,
    )
    .await;
    assert_isolated(server, &a, &a_rp, &b, &b_rp).await;
    assert_isolated(server, &b, &b_rp, &a, &a_rp).await;
}
backend_test!(projects_do_not_trust_each_other);

async fn no_default_environment(server: &TestServer) {
    server.seed("acme", "sandbox", EnvKind::Test).await;
    for path in [
        "/acme/nope/.well-known/openid-configuration",
        "/nope/sandbox/jwks",
        "/.well-known/openid-configuration",
        "/jwks",
        "/token",
        "/acme",
        "/acme/sandbox/unknown-endpoint",
        "/ACME/sandbox/jwks",
        "/nope/sandbox/token",
    ] {
        let status = http()
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .expect("get")
            .status();
        assert_eq!(status.as_u16(), 404, "{path}");
    }
    // A known zone's endpoint with the wrong method is 405; only the zone's existence is not told.
    let wrong_method = http()
        .get(format!("{}/acme/sandbox/token", server.base))
        .send()
        .await
        .expect("get");
    assert_eq!(wrong_method.status().as_u16(), 405);
    let discovery: Value = http()
        .get(format!(
            "{}/acme/sandbox/.well-known/openid-configuration",
            server.base
        ))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(discovery["issuer"], format!("{}/acme/sandbox", server.base));
}
backend_test!(no_default_environment);

/// One zone naming made-up client ids, as many as a node caches, does not push another zone's
/// clients out of the cache. The real client's row is renamed behind the cache first, so a lookup
/// that went back to the database would show the new name.
async fn made_up_client_ids_do_not_evict_real_clients(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let production = server.seed("acme", "production", EnvKind::Live).await;
    let production_client = async || {
        server
            .airlock
            .client_directory()
            .find(
                &production.environment,
                &production.client_id.as_str().into(),
            )
            .await
            .expect("lookup")
            .expect("client")
    };
    let cached = production_client().await;
    sqlx::any::install_default_drivers();
    let mut conn = AnyConnection::connect(&server.database_url)
        .await
        .expect("connect");
    let renamed = conn
        .execute(
            format!(
                "UPDATE clients SET name = 'renamed behind the cache' WHERE client_id = '{}'",
                production.client_id
            )
            .as_str(),
        )
        .await
        .expect("rename");
    assert_eq!(renamed.rows_affected(), 1);
    conn.close().await.ok();
    for n in 0..20_001 {
        let made_up = format!("cl_made_up_{n}");
        let found = server
            .airlock
            .client_directory()
            .find(&sandbox.environment, &made_up.as_str().into())
            .await
            .expect("lookup");
        assert!(found.is_none());
    }
    let again = production_client().await;
    assert_eq!(again.name, cached.name);
}
backend_test!(
    made_up_client_ids_do_not_evict_real_clients,
    crate::harness::Options {
        cache_seconds: Some(600),
        ..crate::harness::Options::default()
    }
);
