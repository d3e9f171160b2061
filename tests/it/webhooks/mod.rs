//! Events and webhooks: per-zone delivery, Standard Webhooks signatures checked by the reference
//! library, retries, replay, 410, secret rotation, refused targets, and failure of nodes.

mod delivery;
mod nodes;
mod targets;
mod zones;

use airlock::config::Config;
use serde_json::{Value, json};

use crate::harness::receiver;
use crate::harness::server::{Seeded, http};
use crate::harness::{Options, TestServer};

/// Quick retries and a short timeout; loopback opened to every zone and the HTTPS receivers'
/// certificate trusted, so live zones can deliver to this machine.
fn fast_webhooks(config: &mut Config) {
    config.webhook_retry_schedule = "1s,1s,1s".parse().expect("schedule");
    config.webhook_timeout = 1;
    config.webhook_poll_ms = 50;
    config.webhook_allowed_networks = vec!["127.0.0.0/8".parse().expect("network")];
    config.webhook_ca_file = Some(receiver::test_ca_file());
}

pub fn fast() -> Options {
    Options {
        configure: Some(fast_webhooks),
        ..Options::default()
    }
}

/// A call of the admin API in `zone` (`path` after `/admin/v1/projects/P/environments/E`) with
/// `token`; status and JSON body (Null when empty).
pub async fn zone_api(
    server: &TestServer,
    zone: &Seeded,
    token: &str,
    (method, path): (&str, &str),
    body: Option<Value>,
) -> (u16, Value) {
    let environment = &zone.environment;
    let url = format!(
        "{}/admin/v1/projects/{}/environments/{}{path}",
        server.base, environment.project, environment.name
    );
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = http().request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("send");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Adds an endpoint for `url` subscribed to `events`; its id and signing secret.
pub async fn add_endpoint(
    server: &TestServer,
    zone: &Seeded,
    token: &str,
    url: &str,
    events: &[&str],
) -> (String, String) {
    let body = json!({ "url": url, "events": events, "description": "test receiver" });
    let (status, created) = zone_api(server, zone, token, ("POST", "/webhooks"), Some(body)).await;
    assert_eq!(status, 201, "{created}");
    let field = |name: &str| created[name].as_str().expect(name).to_string();
    let secret = field("secret");
    assert!(secret.starts_with("whsec_"), "{secret}");
    (field("endpoint_id"), secret)
}

/// Creates a user in `zone` through the admin API (a `user.created` event).
pub async fn create_user(server: &TestServer, zone: &Seeded, token: &str, email: &str) {
    let body = json!({ "email": email, "password": "correct horse battery" });
    let (status, created) = zone_api(server, zone, token, ("POST", "/users"), Some(body)).await;
    assert_eq!(status, 201, "{created}");
}
