//! Custom domains: one server, several hosts. A verified host is its environment's own issuer
//! (`https://HOST`), serves nothing else, and cannot be spoofed by forwarded headers.

use std::net::SocketAddr;
use std::time::Duration;

use airlock::model::EnvKind;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    RedirectUrl, TokenResponse,
};
use serde_json::{Value, json};

use crate::harness::dns::DnsResponder;
use crate::harness::flow;
use crate::harness::server::{Seeded, http};
use crate::harness::{Backend, Browser, Options, TestServer};

const PRODUCTION_HOST: &str = "login.acme.com";
const SANDBOX_HOST: &str = "login.sandbox.acme.com";
/// The loopback address the test server trusts as its reverse proxy.
const PROXY_IP: &str = "127.0.0.2";

/// A client that reaches both custom hosts at the server's TLS listener and trusts its test CA.
fn tls_client(tls_addr: SocketAddr, cert_pem: &str, cookies: bool) -> reqwest::Client {
    reqwest::Client::builder()
        .resolve(PRODUCTION_HOST, tls_addr)
        .resolve(SANDBOX_HOST, tls_addr)
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).expect("pem"))
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(cookies)
        .build()
        .expect("client")
}

async fn admin(
    server: &TestServer,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = http()
        .request(
            method,
            format!("{}/admin/v1/projects/acme/environments{path}", server.base),
        )
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("admin");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Status of a plain-HTTP GET of `path` on the server, as `host`, from `source`.
async fn get_as(
    server: &TestServer,
    host: &str,
    path: &str,
    source: &str,
    extra: &[(&str, &str)],
) -> (u16, Value) {
    let client = reqwest::Client::builder()
        .local_address(source.parse::<std::net::IpAddr>().expect("ip"))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut request = client
        .get(format!("{}{path}", server.base))
        .header("host", host);
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("get");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn wait_for_tls(client: &reqwest::Client, host: &str) {
    for _ in 0..50 {
        if client
            .get(format!("https://{host}/jwks"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("https://{host} never came up");
}

async fn relying_party(
    client: &reqwest::Client,
    issuer: &str,
    zone: &Seeded,
) -> CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
> {
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(issuer.into()).expect("url"), client)
            .await
            .expect("discovery");
    CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(zone.client_id.clone()),
        Some(ClientSecret::new(zone.client_secret.clone())),
    )
    .set_redirect_uri(RedirectUrl::new(zone.redirect_uri.clone()).expect("redirect"))
}

async fn custom_domains(backend: Backend) {
    let dns = DnsResponder::start().await;
    let options = Options {
        trusted_proxies: vec![format!("{PROXY_IP}/32").parse().expect("net")],
        dns_resolver: Some(dns.addr),
        allow_manual_domain_verification: true,
        tls: true,
        cache_seconds: Some(1),
        ..Options::default()
    };
    let Some(server) = TestServer::start_with(backend, options).await else {
        return;
    };
    let production = server.seed("acme", "production", EnvKind::Live).await;
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let production_admin = server.admin_token(&production.environment).await;
    let sandbox_admin = server.admin_token(&sandbox.environment).await;
    let operator = server.installation_admin_token().await;

    let certificate =
        rcgen::generate_simple_self_signed(vec![PRODUCTION_HOST.into(), SANDBOX_HOST.into()])
            .expect("certificate");
    let dir = tempfile::tempdir().expect("dir");
    let cert_file = dir.path().join("cert.pem");
    let key_file = dir.path().join("key.pem");
    std::fs::write(&cert_file, certificate.cert.pem()).expect("write cert");
    std::fs::write(&key_file, certificate.key_pair.serialize_pem()).expect("write key");
    let tls_files = json!({
        "tls_cert_file": cert_file.to_str().expect("path"),
        "tls_key_file": key_file.to_str().expect("path"),
    });

    // Bind: pending, with the record to publish. A host binds to one environment only. Certificate
    // files on the server are named by the operator (an installation-wide token), not by an
    // environment's admin.
    let mut body = tls_files.clone();
    body["host"] = json!("Login.Acme.com");
    let (status, _) = admin(
        &server,
        &production_admin,
        reqwest::Method::POST,
        "/production/domains",
        Some(body.clone()),
    )
    .await;
    assert_eq!(status, 403);
    let (status, added) = admin(
        &server,
        &operator,
        reqwest::Method::POST,
        "/production/domains",
        Some(body),
    )
    .await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["state"], "pending");
    assert_eq!(added["host"], PRODUCTION_HOST);
    assert_eq!(added["issuer"], format!("https://{PRODUCTION_HOST}"));
    assert_eq!(
        added["txt_record_name"],
        format!("_airlock-challenge.{PRODUCTION_HOST}")
    );
    let txt_value = added["txt_record_value"]
        .as_str()
        .expect("value")
        .to_string();
    // Another environment may claim the same pending host: a claim reveals nothing about other
    // zones and squats nothing (issue 16, item 7). The first to prove ownership wins.
    let (status, rival) = admin(
        &server,
        &sandbox_admin,
        reqwest::Method::POST,
        "/sandbox/domains",
        Some(json!({"host": PRODUCTION_HOST})),
    )
    .await;
    assert_eq!((status, rival["state"].as_str()), (201, Some("pending")));
    let (status, _) = admin(
        &server,
        &sandbox_admin,
        reqwest::Method::POST,
        "/sandbox/domains",
        Some(json!({"host": "not a host"})),
    )
    .await;
    assert_eq!(status, 400);

    // Unverified hosts serve nothing; neither do unknown ones.
    for host in [PRODUCTION_HOST, "unknown.example.com"] {
        assert_eq!(
            get_as(
                &server,
                host,
                "/.well-known/openid-configuration",
                "127.0.0.1",
                &[]
            )
            .await
            .0,
            404
        );
        assert_eq!(
            get_as(&server, host, "/acme/production/jwks", "127.0.0.1", &[])
                .await
                .0,
            404
        );
    }
    // Probes answer on any host.
    assert_eq!(
        get_as(&server, "unknown.example.com", "/healthz", "127.0.0.1", &[])
            .await
            .0,
        200
    );

    // Ownership through DNS: a wrong record fails (and is audited), the right one activates.
    dns.set_txt(
        &format!("_airlock-challenge.{PRODUCTION_HOST}"),
        &["airlock-verify=wrong"],
    );
    let verify_path = format!("/production/domains/{PRODUCTION_HOST}/verify");
    let (status, refused) = admin(
        &server,
        &production_admin,
        reqwest::Method::POST,
        &verify_path,
        None,
    )
    .await;
    assert_eq!(status, 400, "{refused}");
    dns.set_txt(
        &format!("_airlock-challenge.{PRODUCTION_HOST}"),
        &["unrelated", &txt_value],
    );
    let (status, verified) = admin(
        &server,
        &production_admin,
        reqwest::Method::POST,
        &verify_path,
        None,
    )
    .await;
    assert_eq!(status, 200, "{verified}");
    assert_eq!(verified["state"], "active");
    assert_eq!(verified["verified_by"], "dns");
    // Sandbox's rival claim of production's domain cannot be verified any more.
    let (status, _) = admin(
        &server,
        &sandbox_admin,
        reqwest::Method::POST,
        &format!("/sandbox/domains/{PRODUCTION_HOST}/verify"),
        None,
    )
    .await;
    assert_eq!(status, 409);

    // Sandbox's domain, verified by hand: refused where the installation does not allow it (this CLI
    // run), accepted where it does (the server).
    let mut body = tls_files.clone();
    body["host"] = json!(SANDBOX_HOST);
    assert_eq!(
        admin(
            &server,
            &operator,
            reqwest::Method::POST,
            "/sandbox/domains",
            Some(body)
        )
        .await
        .0,
        201
    );
    let (ok, _, stderr) = server.cli(&["domain", "verify", SANDBOX_HOST, "--manual"]);
    assert!(!ok && stderr.contains("not allowed"), "{stderr}");
    // Vouching without DNS proof is the operator's call too.
    let verify_path = format!("/sandbox/domains/{SANDBOX_HOST}/verify");
    let manually = Some(json!({"manual": true}));
    let (status, _) = admin(
        &server,
        &sandbox_admin,
        reqwest::Method::POST,
        &verify_path,
        manually.clone(),
    )
    .await;
    assert_eq!(status, 403);
    let (status, manual) = admin(
        &server,
        &operator,
        reqwest::Method::POST,
        &verify_path,
        manually,
    )
    .await;
    assert_eq!(
        (status, manual["verified_by"].as_str()),
        (200, Some("manual"))
    );
    // Once it is active in production, the host is taken: sandbox's rival claim cannot be
    // verified, and a new claim is refused.
    let rival_verify = format!("/sandbox/domains/{PRODUCTION_HOST}/verify");
    let (status, _) = admin(
        &server,
        &operator,
        reqwest::Method::POST,
        &rival_verify,
        Some(json!({"manual": true})),
    )
    .await;
    assert_eq!(status, 409);
    let (status, _) = admin(
        &server,
        &sandbox_admin,
        reqwest::Method::POST,
        "/sandbox/domains",
        Some(json!({"host": PRODUCTION_HOST})),
    )
    .await;
    assert_eq!(status, 409);
    let rival_claim = format!("/sandbox/domains/{PRODUCTION_HOST}");
    let (status, _) = admin(
        &server,
        &sandbox_admin,
        reqwest::Method::DELETE,
        &rival_claim,
        None,
    )
    .await;
    assert_eq!(status, 204);

    // A certified relying party completes the code flow against https://login.acme.com.
    let tls_addr = server.tls_addr.expect("tls");
    let cert_pem = certificate.cert.pem();
    let client = tls_client(tls_addr, &cert_pem, false);
    wait_for_tls(&client, PRODUCTION_HOST).await;
    wait_for_tls(&client, SANDBOX_HOST).await;
    let production_issuer = format!("https://{PRODUCTION_HOST}");
    let rp = relying_party(&client, &production_issuer, &production).await;
    let browser = Browser {
        client: tls_client(tls_addr, &cert_pem, true),
    };
    let (url, _, nonce) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(openidconnect::Scope::new("email".into()))
        .url();
    let login = browser.get(url.as_str()).await;
    let after_login = browser
        .login(&login, &production.email, &production.password)
        .await;
    let back = browser.consent(&after_login, true).await;
    let params = back.redirect_params();
    assert_eq!(params["iss"], production_issuer);
    let tokens = rp
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .expect("token endpoint")
        .request_async(&client)
        .await
        .expect("token exchange");
    let id_token = tokens.id_token().expect("id token");
    let claims = id_token
        .claims(&rp.id_token_verifier(), &nonce)
        .expect("valid ID token");
    assert_eq!(claims.issuer().as_str(), production_issuer);
    assert_eq!(claims.subject().as_str(), production.sub);
    let userinfo = client
        .get(format!("{production_issuer}/userinfo"))
        .bearer_auth(tokens.access_token().secret())
        .send()
        .await
        .expect("userinfo");
    assert_eq!(userinfo.status().as_u16(), 200);

    // Host-only, root-path, secure browser cookies on the custom domain.
    let login_page = client.get(url.as_str()).send().await.expect("authorize");
    let set_cookie: Vec<String> = login_page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    assert!(!set_cookie.is_empty());
    for cookie in &set_cookie {
        assert!(
            cookie.contains("Path=/;") && cookie.contains("Secure"),
            "{cookie}"
        );
        assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
        assert!(cookie.starts_with("__Host-"), "{cookie}");
    }

    // The production RP bound to the custom-domain issuer refuses what other issuers minted: sandbox's
    // path issuer, sandbox's custom domain, and even production's own path issuer.
    let foreign_tokens = [
        flow::sign_in(&sandbox, &Browser::new()).await,
        flow::sign_in(&production, &Browser::new()).await,
    ];
    let sandbox_domain_zone = Seeded {
        issuer: format!("https://{SANDBOX_HOST}"),
        ..sandbox.clone()
    };
    let sandbox_domain_browser = Browser {
        client: tls_client(tls_addr, &cert_pem, true),
    };
    let back = sandbox_domain_browser
        .sign_in(
            &flow::authorize_url(&sandbox_domain_zone, &[]),
            &sandbox.email,
            &sandbox.password,
        )
        .await;
    let code = back.redirect_params()["code"].clone();
    // Codes and refresh tokens are redeemed under the issuer they were minted under only (issue 16,
    // item 10): the same environment's path issuer treats them as unknown.
    let (status, refused) = flow::client_post(
        &format!("{}/token", sandbox.issuer),
        &sandbox.client_id,
        &sandbox.client_secret,
        &[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", sandbox.redirect_uri.as_str()),
        ],
    )
    .await;
    assert_eq!((status, &refused["error"]), (400, &json!("invalid_grant")));
    let sandbox_domain_tokens: Value = client
        .post(format!("https://{SANDBOX_HOST}/token"))
        .basic_auth(&sandbox.client_id, Some(&sandbox.client_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", sandbox.redirect_uri.as_str()),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let refresh_token = sandbox_domain_tokens["refresh_token"]
        .as_str()
        .expect("refresh token");
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    let at_path = format!("{}/token", sandbox.issuer);
    let (status, refused) = flow::client_post(
        &at_path,
        &sandbox.client_id,
        &sandbox.client_secret,
        &refresh,
    )
    .await;
    assert_eq!((status, &refused["error"]), (400, &json!("invalid_grant")));
    let rotated = client
        .post(format!("https://{SANDBOX_HOST}/token"))
        .basic_auth(&sandbox.client_id, Some(&sandbox.client_secret))
        .form(&refresh)
        .send()
        .await
        .expect("refresh");
    assert_eq!(
        rotated.status().as_u16(),
        200,
        "the domain still rotates it"
    );
    let mut foreign_id_tokens: Vec<String> =
        foreign_tokens.iter().map(|t| t.id_token.clone()).collect();
    foreign_id_tokens.push(
        sandbox_domain_tokens["id_token"]
            .as_str()
            .expect("id token")
            .to_string(),
    );
    let lenient = rp.id_token_verifier().require_audience_match(false);
    for foreign in &foreign_id_tokens {
        let token: CoreIdToken = foreign.parse().expect("parse");
        assert!(token.claims(&lenient, |_: Option<&Nonce>| Ok(())).is_err());
    }
    // A token is accepted only under the issuer that minted it.
    let at_domain = |token: String| {
        let client = client.clone();
        let issuer = production_issuer.clone();
        async move {
            client
                .get(format!("{issuer}/userinfo"))
                .bearer_auth(token)
                .send()
                .await
                .expect("userinfo")
                .status()
                .as_u16()
        }
    };
    assert_eq!(at_domain(foreign_tokens[1].access_token.clone()).await, 401);
    assert_eq!(
        flow::userinfo_status(&production, tokens.access_token().secret()).await,
        401
    );

    // Nothing else is reachable on the custom host.
    for path in [
        "/acme/production/.well-known/openid-configuration",
        "/acme/sandbox/jwks",
        "/admin/v1/projects/acme/environments/production",
        "/quickstart/callback",
        "/console",
        "/console/signin",
        "/console/acme/production",
    ] {
        let status = client
            .get(format!("{production_issuer}{path}"))
            .bearer_auth(&production_admin)
            .send()
            .await
            .expect("get")
            .status();
        assert_eq!(status.as_u16(), 404, "{path}");
    }

    // Forwarded headers: believed from the trusted proxy address, ignored from anyone else.
    let spoof = [
        ("x-forwarded-host", PRODUCTION_HOST),
        ("forwarded", "host=login.acme.com;proto=https"),
    ];
    let public_host = server.base.trim_start_matches("http://").to_string();
    let (status, _) = get_as(
        &server,
        &public_host,
        "/.well-known/openid-configuration",
        "127.0.0.1",
        &spoof,
    )
    .await;
    assert_eq!(
        status, 404,
        "an untrusted caller cannot pick the custom domain"
    );
    let (status, metadata) = get_as(
        &server,
        &public_host,
        "/acme/production/.well-known/openid-configuration",
        "127.0.0.1",
        &spoof,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(metadata["issuer"], production.issuer.as_str());
    // From the trusted proxy, the host is still the `Host` it sets: `X-Forwarded-Host` and
    // `Forwarded` are not read (a proxy may pass a client's own copies through).
    let (status, _) = get_as(
        &server,
        &public_host,
        "/.well-known/openid-configuration",
        PROXY_IP,
        &[
            ("x-forwarded-host", PRODUCTION_HOST),
            ("forwarded", "for=198.51.100.4;host=\"login.acme.com\""),
        ],
    )
    .await;
    assert_eq!(status, 404);
    let (status, metadata) = get_as(
        &server,
        PRODUCTION_HOST,
        "/.well-known/openid-configuration",
        PROXY_IP,
        &[
            ("x-forwarded-host", &public_host),
            (
                "forwarded",
                "for=198.51.100.4;host=\"login.sandbox.acme.com\"",
            ),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(metadata["issuer"], production_issuer.as_str());
    assert_eq!(
        metadata["token_endpoint"],
        format!("{production_issuer}/token")
    );

    // The path issuer can be turned off; the custom domain keeps serving.
    let (status, _) = admin(
        &server,
        &production_admin,
        reqwest::Method::PATCH,
        "/production",
        Some(json!({"path_issuer_enabled": false})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        http()
            .get(format!("{}/jwks", production.issuer))
            .send()
            .await
            .expect("get")
            .status()
            .as_u16(),
        404
    );
    assert_eq!(
        client
            .get(format!("{production_issuer}/jwks"))
            .send()
            .await
            .expect("get")
            .status()
            .as_u16(),
        200
    );

    // Removed: the host serves nothing again. Every step is in the right environment's log.
    let (status, _) = admin(
        &server,
        &production_admin,
        reqwest::Method::DELETE,
        &format!("/production/domains/{PRODUCTION_HOST}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        get_as(&server, PRODUCTION_HOST, "/jwks", "127.0.0.1", &[])
            .await
            .0,
        404
    );
    let events = |entries: Vec<airlock::service::admin::audit::AuditView>| {
        entries
            .into_iter()
            .map(|e| (e.entry.event, e.details))
            .collect::<Vec<_>>()
    };
    let production_log = events(
        server
            .airlock
            .audit_trail()
            .list(&production.environment, Default::default())
            .await
            .expect("audit"),
    );
    for expected in [
        "domain.added",
        "domain.verification_failed",
        "domain.verified",
        "domain.activated",
        "domain.removed",
        "environment.path_issuer_changed",
    ] {
        assert!(
            production_log.iter().any(|(event, _)| event == expected),
            "{expected}"
        );
    }
    let sandbox_log = events(
        server
            .airlock
            .audit_trail()
            .list(&sandbox.environment, Default::default())
            .await
            .expect("audit"),
    );
    assert!(
        sandbox_log
            .iter()
            .any(|(event, details)| event == "domain.verified" && details["method"] == "manual")
    );
    // Sandbox's log holds its own rival claim (added, removed), never production's verification.
    let sandbox_on_production: Vec<&str> = sandbox_log
        .iter()
        .filter(|(_, details)| details["host"] == PRODUCTION_HOST)
        .map(|(event, _)| event.as_str())
        .collect();
    assert_eq!(sandbox_on_production, ["domain.added", "domain.removed"]);

    let (ok, stdout, _) = server.cli(&["domain", "list", "--json"]);
    assert!(ok);
    let listed: Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(listed.as_array().expect("array").len(), 1);
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_domains_sqlite() {
    custom_domains(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_domains_postgres() {
    custom_domains(Backend::Postgres).await;
}
