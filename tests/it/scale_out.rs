//! Two `airlock serve` processes sharing one PostgreSQL database: any node continues what another
//! began, single-use holds across nodes, key rotations propagate within the cache bound, and a
//! database outage is a 503 that heals by itself.

use std::time::Duration;

use airlock::model::EnvKind;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::task::JoinHandle;

use crate::harness::flow::{client_post, urlencode};
use crate::harness::server::{Seeded, http};
use crate::harness::{Backend, Browser, Node, TestServer};

/// A TCP forwarder on an ephemeral port: the load balancer in front of the nodes, and the network
/// path to PostgreSQL that the test can cut. `cut` drops every connection and refuses new ones, as
/// a network partition would; `restore` lets connections through again.
struct TcpProxy {
    address: String,
    upstream: Arc<Mutex<String>>,
    open: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl TcpProxy {
    async fn start(upstream: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("addr").to_string();
        let upstream = Arc::new(Mutex::new(upstream.to_string()));
        let open = Arc::new(AtomicBool::new(true));
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let accept = {
            let (upstream, open, links) = (upstream.clone(), open.clone(), links.clone());
            tokio::spawn(async move {
                while let Ok((mut client, _)) = listener.accept().await {
                    if !open.load(Ordering::SeqCst) {
                        continue;
                    }
                    let target = upstream.lock().expect("upstream").clone();
                    let link = tokio::spawn(async move {
                        if let Ok(mut server) = tokio::net::TcpStream::connect(&target).await {
                            tokio::io::copy_bidirectional(&mut client, &mut server)
                                .await
                                .ok();
                        }
                    });
                    links.lock().expect("links").push(link);
                }
            })
        };
        TcpProxy {
            address,
            upstream,
            open,
            links,
            accept,
        }
    }

    /// Sends new connections to `upstream` from now on.
    fn point_at(&self, upstream: &str) {
        *self.upstream.lock().expect("upstream") = upstream.to_string();
    }

    fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        for link in self.links.lock().expect("links").drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}

/// `database_url` reached through `proxy`.
fn through(proxy: &TcpProxy, database_url: &str) -> String {
    let mut url = url::Url::parse(database_url).expect("url");
    let (host, port) = proxy.address.rsplit_once(':').expect("address");
    url.set_host(Some(host)).expect("host");
    url.set_port(Some(port.parse().expect("port")))
        .expect("port");
    url.to_string()
}

/// The `host:port` PostgreSQL listens on, from its URL.
fn database_address(database_url: &str) -> String {
    let url = url::Url::parse(database_url).expect("url");
    format!(
        "{}:{}",
        url.host_str().expect("host"),
        url.port().unwrap_or(5432)
    )
}

async fn start_node(database_url: &str, server: &TestServer, public_url: &str) -> Node {
    let settings = [
        ("AIRLOCK_DATABASE_URL", database_url),
        ("AIRLOCK_PUBLIC_URL", public_url),
        ("AIRLOCK_CACHE_SECONDS", "1"),
        ("AIRLOCK_DB_ACQUIRE_TIMEOUT", "1"),
    ];
    Node::start(server, "serve", &settings).await
}

/// The zone as seen through `node` (same issuer for every node).
fn endpoint(node: &Node, zone: &Seeded, path: &str) -> String {
    format!(
        "{}/{}/{}{path}",
        node.base, zone.environment.project, zone.environment.name
    )
}

async fn jwks_kids(node: &Node, zone: &Seeded) -> Vec<String> {
    let jwks: Value = http()
        .get(endpoint(node, zone, "/jwks"))
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
        .collect()
}

/// A fresh code for `zone` from `node`, for a browser already signed in there.
async fn code_from(node: &Node, zone: &Seeded, issuer: &str, browser: &Browser) -> String {
    let url = format!(
        "{}?response_type=code&client_id={}&redirect_uri={}&scope=openid%20offline_access&state=s",
        endpoint(node, zone, "/authorize"),
        zone.client_id,
        urlencode(&zone.redirect_uri)
    );
    let mut step = browser.get(&url).await;
    if !matches!(step, crate::harness::Step::Redirect(_)) {
        step = browser.login(&step, &zone.email, &zone.password).await;
        if step.html().contains("airlock_decision") {
            step = browser.consent(&step, true).await;
        }
    }
    let params = step.redirect_params();
    assert_eq!(params.get("iss").map(String::as_str), Some(issuer));
    params["code"].clone()
}

async fn redeem(node: &Node, zone: &Seeded, code: &str) -> (u16, Value) {
    client_post(
        &endpoint(node, zone, "/token"),
        &zone.client_id,
        &zone.client_secret,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &zone.redirect_uri),
        ],
    )
    .await
}

async fn refresh(node: &Node, zone: &Seeded, token: &str) -> (u16, Value) {
    client_post(
        &endpoint(node, zone, "/token"),
        &zone.client_id,
        &zone.client_secret,
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
    .await
}

async fn machine(node: &Node, zone: &Seeded) -> (u16, Value) {
    client_post(
        &endpoint(node, zone, "/token"),
        &zone.client_id,
        &zone.client_secret,
        &[("grant_type", "client_credentials")],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_one_postgres_database() {
    let Some(server) = TestServer::start(Backend::Postgres).await else {
        return;
    };
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    // Behind a load balancer every node publishes the same issuer: the balancer's address. It
    // forwards to node 1, which the browser's form posts reach through it.
    let balancer = TcpProxy::start("127.0.0.1:9").await;
    let public_url = format!("http://{}", balancer.address);
    let issuer = format!("{public_url}/acme/sandbox");
    // The nodes reach the database through a proxy the test can cut.
    let proxy = TcpProxy::start(&database_address(&server.database_url)).await;
    let database_url = through(&proxy, &server.database_url);
    let node1 = start_node(&database_url, &server, &public_url).await;
    let node2 = start_node(&database_url, &server, &public_url).await;
    balancer.point_at(node1.base.trim_start_matches("http://"));

    // Sign in on node 1, redeem on node 2, refresh on node 1, introspect and read userinfo on node 2.
    let browser = Browser::new();
    let code = code_from(&node1, &zone, &issuer, &browser).await;
    let (status, tokens) = redeem(&node2, &zone, &code).await;
    assert_eq!(status, 200, "{tokens}");
    let (status, refreshed) =
        refresh(&node1, &zone, tokens["refresh_token"].as_str().expect("rt")).await;
    assert_eq!(status, 200, "{refreshed}");
    let access_token = refreshed["access_token"].as_str().expect("at");
    let (status, introspection) = client_post(
        &endpoint(&node2, &zone, "/introspect"),
        &zone.client_id,
        &zone.client_secret,
        &[("token", access_token)],
    )
    .await;
    assert_eq!(
        (status, introspection["active"].as_bool()),
        (200, Some(true))
    );
    assert_eq!(introspection["iss"], issuer.as_str());
    let userinfo = http()
        .get(endpoint(&node2, &zone, "/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("userinfo");
    assert_eq!(userinfo.status().as_u16(), 200);

    // Rotate on node 1; node 2 serves the new JWKS within its cache bound (1 s here).
    let admin = server.admin_token(&zone.environment).await;
    let rotated: Value = http()
        .post(format!(
            "{}/admin/v1/projects/acme/environments/sandbox/keys/rotate",
            node1.base
        ))
        .bearer_auth(&admin)
        .json(&json!({"alg": "ES256", "publish_delay": 0}))
        .send()
        .await
        .expect("rotate")
        .json()
        .await
        .expect("json");
    let kid = rotated["kid"].as_str().expect("kid").to_string();
    assert!(jwks_kids(&node1, &zone).await.contains(&kid));
    let mut seen = false;
    for _ in 0..30 {
        if jwks_kids(&node2, &zone).await.contains(&kid) {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seen, "node 2 never published the rotated key");

    // The same code redeemed on both nodes at once: exactly one token response, every time.
    for round in 0..15 {
        let code = code_from(&node1, &zone, &issuer, &browser).await;
        let (a, b) = tokio::join!(redeem(&node1, &zone, &code), redeem(&node2, &zone, &code));
        let mut statuses = [a.0, b.0];
        statuses.sort();
        assert_eq!(statuses, [200, 400], "round {round}: {a:?} {b:?}");
    }

    // The same refresh token on both nodes at once: exactly one rotation; the loser's reuse revokes
    // the family, so even the winner's new refresh token is dead afterwards.
    for round in 0..15 {
        let code = code_from(&node2, &zone, &issuer, &browser).await;
        let (_, tokens) = redeem(&node2, &zone, &code).await;
        let token = tokens["refresh_token"].as_str().expect("rt").to_string();
        let (a, b) = tokio::join!(
            refresh(&node1, &zone, &token),
            refresh(&node2, &zone, &token)
        );
        let mut statuses = [a.0, b.0];
        statuses.sort();
        assert_eq!(statuses, [200, 400], "round {round}: {a:?} {b:?}");
        let loser = if a.0 == 400 { &a.1 } else { &b.1 };
        assert_eq!(loser["error"], "invalid_grant");
        let winner = if a.0 == 200 { &a.1 } else { &b.1 };
        let next = winner["refresh_token"].as_str().expect("rt");
        assert_eq!(refresh(&node1, &zone, next).await.0, 400);
    }

    // The database goes away (the network to it is cut): 503s, not 500s; then it comes back and so do
    // the nodes, by themselves.
    proxy.cut();
    for node in [&node1, &node2] {
        let (status, body) = machine(node, &zone).await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["error"], "temporarily_unavailable");
        let ready = http()
            .get(format!("{}/readyz", node.base))
            .send()
            .await
            .expect("readyz");
        assert_eq!(ready.status().as_u16(), 503);
    }
    proxy.restore();
    for node in [&node1, &node2] {
        let mut recovered = false;
        for _ in 0..50 {
            if machine(node, &zone).await.0 == 200 {
                recovered = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(recovered, "{} did not recover", node.base);
    }
    let report = server
        .airlock
        .audit_trail()
        .verify(&zone.environment)
        .await
        .expect("verify");
    assert!(report.intact, "{report:?}");

    drop(node1);
    drop(node2);
    drop(proxy);
    server.finish().await;
}

/// Polls `check` until it holds or `within` has passed; whether it held in time.
async fn holds_within(within: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// With caches that would keep a client for a minute, a secret rotated on node 1 is refused on
/// node 2 within a second, and so are a deleted client's credentials and a rotated-away key: the
/// nodes tell each other what changed (PostgreSQL LISTEN/NOTIFY).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_reach_every_node_at_once() {
    let Some(server) = TestServer::start(Backend::Postgres).await else {
        return;
    };
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let settings = [("AIRLOCK_CACHE_SECONDS", "60")];
    let node1 = Node::start(&server, "serve", &settings).await;
    let node2 = Node::start(&server, "serve", &settings).await;
    let admin = server.admin_token(&zone.environment).await;
    let zone_admin = |node: &Node, path: &str| {
        format!(
            "{}/admin/v1/projects/acme/environments/sandbox{path}",
            node.base
        )
    };

    // Node 2 has the client in its cache; node 1 rotates the secret.
    assert_eq!(machine(&node2, &zone).await.0, 200);
    let rotated: Value = http()
        .post(zone_admin(
            &node1,
            &format!("/clients/{}/rotate-secret", zone.client_id),
        ))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("rotate")
        .json()
        .await
        .expect("json");
    let new_secret = rotated["client_secret"]
        .as_str()
        .expect("secret")
        .to_string();
    let refused = holds_within(Duration::from_secs(1), async || {
        machine(&node2, &zone).await.0 == 401
    })
    .await;
    assert!(refused, "the old secret is refused on node 2 within 1 s");
    let renewed = Seeded {
        client_secret: new_secret,
        ..zone.clone()
    };
    assert_eq!(
        machine(&node2, &renewed).await.0,
        200,
        "the new one works there"
    );

    // A key rotated in on node 1 is published by node 2 at once.
    let before = jwks_kids(&node2, &zone).await;
    let rotation: Value = http()
        .post(zone_admin(&node1, "/keys/rotate"))
        .bearer_auth(&admin)
        .json(&json!({"alg": "ES256", "publish_delay": 0}))
        .send()
        .await
        .expect("rotate keys")
        .json()
        .await
        .expect("json");
    let kid = rotation["kid"].as_str().expect("kid").to_string();
    assert!(!before.contains(&kid));
    let published = holds_within(Duration::from_secs(1), async || {
        jwks_kids(&node2, &zone).await.contains(&kid)
    })
    .await;
    assert!(published, "node 2 publishes the new key within 1 s");

    // A client deleted on node 1 is unknown on node 2.
    let deleted = http()
        .delete(zone_admin(&node1, &format!("/clients/{}", zone.client_id)))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status().as_u16(), 204);
    let gone = holds_within(Duration::from_secs(1), async || {
        machine(&node2, &renewed).await.0 == 401
    })
    .await;
    assert!(gone, "the deleted client is refused on node 2 within 1 s");
    server.finish().await;
}
