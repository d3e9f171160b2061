//! Behind a reverse proxy (issue 16, item 2): a client's own `Forwarded`, `X-Forwarded-Host` and
//! `X-Forwarded-For` headers, sent through the trusted proxy, choose neither the issuer, nor the
//! surface (admin API on a custom domain), nor the address the limits and the audit log see. Tested
//! through Debian's nginx in its common configuration (appending to `X-Forwarded-For`, passing the
//! rest through), or, where it is not installed, through a stand-in that does the same.

use airlock::model::EnvKind;
use airlock::service::admin::audit::AuditFilter;
use reqwest::Method;
use serde_json::{Value, json};

use crate::backend_test;
use crate::harness::nginx::Nginx;
use crate::harness::server::http;
use crate::harness::{Options, TestServer, flow};

const DOMAIN: &str = "login.acme.com";
/// Where the client connects from, as the proxy sees it.
const CLIENT_IP: &str = "127.0.0.3";

/// What stands between the client and the server.
enum Front {
    Nginx(Nginx),
    /// A proxy that appends the client's address to `X-Forwarded-For` and passes the rest on.
    Appending,
}

impl Front {
    async fn start(server: &TestServer) -> Front {
        let upstream = server.base.trim_start_matches("http://");
        match Nginx::start(upstream).await {
            Some(nginx) => Front::Nginx(nginx),
            None => Front::Appending,
        }
    }

    /// A request a client at `CLIENT_IP` sends for `host` with its own `headers`, as it reaches
    /// the server through this front.
    fn request(
        &self,
        server: &TestServer,
        method: Method,
        (host, path): (&str, &str),
        headers: &[(&str, String)],
    ) -> reqwest::RequestBuilder {
        let mut request = match self {
            Front::Nginx(nginx) => reqwest::Client::builder()
                .local_address(CLIENT_IP.parse::<std::net::IpAddr>().expect("ip"))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client")
                .request(method, format!("{}{path}", nginx.base)),
            Front::Appending => http().request(method, format!("{}{path}", server.base)),
        };
        request = request.header("host", host);
        let mut forwarded_for = Vec::new();
        for (name, value) in headers {
            if name.eq_ignore_ascii_case("x-forwarded-for") {
                forwarded_for.push(value.clone());
            } else {
                request = request.header(*name, value);
            }
        }
        if matches!(self, Front::Appending) {
            forwarded_for.push(CLIENT_IP.to_string());
        }
        if !forwarded_for.is_empty() {
            request = request.header("x-forwarded-for", forwarded_for.join(", "));
        }
        request
    }
}

fn behind_a_proxy() -> Options {
    Options {
        trusted_proxies: vec!["127.0.0.1/32".parse().expect("net")],
        allow_manual_domain_verification: true,
        cache_seconds: Some(1),
        ..Options::default()
    }
}

async fn forwarded_headers_from_clients_are_not_believed(server: &TestServer) {
    let production = server.seed("acme", "production", EnvKind::Live).await;
    let admin_token = server.admin_token(&production.environment).await;
    let operator = server.installation_admin_token().await;
    let domains = format!(
        "{}/admin/v1/projects/acme/environments/production/domains",
        server.base
    );
    let added = http()
        .post(&domains)
        .bearer_auth(&operator)
        .json(&json!({ "host": DOMAIN }))
        .send()
        .await
        .expect("add domain");
    assert_eq!(added.status().as_u16(), 201);
    let verified = http()
        .post(format!("{domains}/{DOMAIN}/verify"))
        .bearer_auth(&operator)
        .json(&json!({"manual": true}))
        .send()
        .await
        .expect("verify");
    assert_eq!(verified.status().as_u16(), 200);

    let front = Front::start(server).await;
    let public_host = server.base.trim_start_matches("http://").to_string();
    let discovery = |host: &str, headers: Vec<(&'static str, String)>| {
        front
            .request(
                server,
                Method::GET,
                (host, "/.well-known/openid-configuration"),
                &headers,
            )
            .send()
    };
    // The domain serves its own issuer, whatever host the client claims in forwarded headers.
    let mut served = None;
    for _ in 0..30 {
        let spoofed = vec![
            ("x-forwarded-host", public_host.clone()),
            ("forwarded", format!("for=127.0.0.1;host=\"{public_host}\"")),
        ];
        let answer = discovery(DOMAIN, spoofed).await.expect("discovery");
        if answer.status().is_success() {
            served = Some(answer.json::<Value>().await.expect("json"));
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let served = served.expect("the domain serves its discovery document");
    assert_eq!(served["issuer"], format!("https://{DOMAIN}"));
    // ... and the public host cannot be talked into being the domain.
    let spoofed = vec![("x-forwarded-host", DOMAIN.to_string())];
    let answer = discovery(&public_host, spoofed).await.expect("discovery");
    assert_eq!(answer.status().as_u16(), 404);

    // The admin API does not exist on the custom domain, whatever the client forwards.
    let admin_path = "/admin/v1/projects/acme/environments/production";
    let headers = vec![
        ("authorization", format!("Bearer {admin_token}")),
        ("forwarded", format!("for=127.0.0.1;host=\"{public_host}\"")),
        ("x-forwarded-host", public_host.clone()),
    ];
    let answer = front
        .request(server, Method::GET, (DOMAIN, admin_path), &headers)
        .send()
        .await
        .expect("admin");
    assert_eq!(answer.status().as_u16(), 404);

    // Failed sign-ins are charged to the client's real address, whatever it claims to be.
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    flow::set_limits(
        server,
        &sandbox,
        json!({"signin_failures_per_minute": 3, "lockout_threshold": 0}),
    )
    .await;
    let mut statuses = Vec::new();
    for i in 0..5 {
        let claimed = format!("198.51.100.{i}");
        let headers = vec![
            ("forwarded", format!("for={claimed}")),
            ("x-forwarded-for", claimed.clone()),
        ];
        let authorize = flow::authorize_url(&sandbox, &[]).replacen(&server.base, "", 1);
        let page = front
            .request(server, Method::GET, (&public_host, &authorize), &headers)
            .send()
            .await
            .expect("authorize");
        let form = flow::LoginForm::read(page).await;
        let mut headers = headers;
        headers.push(("cookie", form.csrf_cookie.clone()));
        let login = form.action.replacen(&server.base, "", 1);
        let answer = front
            .request(server, Method::POST, (&public_host, &login), &headers)
            .form(&form.filled(&sandbox.email, &format!("wrong {i}")))
            .send()
            .await
            .expect("login");
        statuses.push(answer.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    // The second refusal is folded into an entry written when its window closes.
    let window_closed = server.now() + 61;
    let folded = server.airlock.log_folded_refusals(window_closed).await;
    assert_eq!(folded.expect("folded refusals"), 1);
    let filter = AuditFilter {
        event: Some("signin.failed".into()),
        ..Default::default()
    };
    let trail = server.airlock.audit_trail();
    let entries = trail
        .list(&sandbox.environment, filter)
        .await
        .expect("audit");
    assert_eq!(entries.len(), 5);
    for entry in entries {
        assert_eq!(entry.entry.ip.as_deref(), Some(CLIENT_IP));
    }
}
backend_test!(
    forwarded_headers_from_clients_are_not_believed,
    super::behind_a_proxy()
);
