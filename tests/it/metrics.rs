//! Metrics: Prometheus text on a listener of its own, labelled by zone, never on the public host.

use std::time::Duration;

use airlock::model::EnvKind;

use crate::harness::flow::client_post;
use crate::harness::server::http;
use crate::harness::{Browser, Node, TestServer, flow};

async fn metrics_are_labelled_by_zone_on_their_own_listener(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let production = server.seed("acme", "production", EnvKind::Live).await;
    let node = Node::start(
        server,
        "serve",
        &[("AIRLOCK_METRICS_LISTEN", "127.0.0.1:0")],
    )
    .await;
    let mut address = None;
    for _ in 0..50 {
        address = node
            .log()
            .iter()
            .find_map(|line| line.split("airlock metrics on ").nth(1).map(str::to_string));
        if address.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let address = address.expect("the metrics address is announced");
    for zone in [&sandbox, &production] {
        let (status, _) = client_post(
            &format!(
                "{}/{}/{}/token",
                node.base, zone.environment.project, zone.environment.name
            ),
            &zone.client_id,
            &zone.client_secret,
            &[("grant_type", "client_credentials")],
        )
        .await;
        assert_eq!(status, 200);
    }
    let at_node = crate::harness::server::Seeded {
        issuer: format!("{}/acme/sandbox", node.base),
        ..sandbox.clone()
    };
    // The login form posts to the issuer (the public URL): sent to this node instead.
    let browser = Browser::new();
    let login = browser.get(&flow::authorize_url(&at_node, &[])).await;
    let crate::harness::Step::Form {
        action, mut fields, ..
    } = login
    else {
        panic!("no login form");
    };
    fields.push(("airlock_email".into(), sandbox.email.clone()));
    fields.push(("airlock_password".into(), "not the password".into()));
    let action = action.replace(&server.base, &node.base);
    browser.post_form(&action, &fields).await;

    // Requests that address no zone are counted too, with empty zone labels.
    let probe = http()
        .get(format!("{}/healthz", node.base))
        .send()
        .await
        .expect("probe");
    assert!(probe.status().is_success());
    let text = http()
        .get(format!("http://{address}/metrics"))
        .send()
        .await
        .expect("scrape")
        .text()
        .await
        .expect("text");
    let line = |name: &str, parts: &[&str]| {
        text.lines()
            .find(|line| line.starts_with(name) && parts.iter().all(|part| line.contains(part)))
            .unwrap_or_else(|| panic!("no {name} with {parts:?} in:\n{text}"))
            .to_string()
    };
    line(
        "airlock_http_requests_total",
        &[
            "environment=\"sandbox\"",
            "kind=\"test\"",
            "route=\"/{project}/{environment}/token\"",
            "status=\"200\"",
        ],
    );
    line(
        "airlock_http_requests_total",
        &["environment=\"production\"", "kind=\"live\""],
    );
    line(
        "airlock_http_request_seconds_bucket",
        &["environment=\"sandbox\""],
    );
    line(
        "airlock_tokens_issued_total",
        &[
            "grant_type=\"client_credentials\"",
            "alg=\"RS256\"",
            "environment=\"production\"",
        ],
    );
    line(
        "airlock_signins_total",
        &["outcome=\"failed\"", "environment=\"sandbox\""],
    );
    line("airlock_db_connections", &["state=\"in_use\""]);
    line(
        "airlock_http_requests_total",
        &["kind=\"none\"", "route=\"/healthz\""],
    );
    line("airlock_audit_commit_seconds", &[]);
    // Gauges read at scrape time: each zone's keys by state, and how long its oldest webhook
    // delivery has waited (none here).
    let active = line(
        "airlock_signing_keys",
        &["environment=\"sandbox\"", "state=\"active\""],
    );
    assert!(
        active.ends_with(" 2"),
        "one RS256 and one ES256 key: {active}"
    );
    let staged = line(
        "airlock_signing_keys",
        &["environment=\"production\"", "state=\"staged\""],
    );
    assert!(staged.ends_with(" 0"), "{staged}");
    let lag = line(
        "airlock_webhook_lag_seconds",
        &["environment=\"production\""],
    );
    assert!(lag.ends_with(" 0"), "{lag}");
    // Cache lookups: the sign-in pages found the sandbox client its token request had loaded.
    line(
        "airlock_cache_lookups_total",
        &[
            "cache=\"clients\"",
            "result=\"hit\"",
            "environment=\"sandbox\"",
        ],
    );
    line(
        "airlock_cache_lookups_total",
        &[
            "cache=\"keys\"",
            "result=\"miss\"",
            "environment=\"production\"",
        ],
    );
    line(
        "airlock_cache_lookups_total",
        &["cache=\"zones\"", "result=\"miss\"", "kind=\"none\""],
    );
    // Bounded labels: no client or user ids.
    assert!(!text.contains(&sandbox.client_id));
    assert!(!text.contains(&sandbox.sub));
    // Never on the public listener.
    let public = http()
        .get(format!("{}/metrics", node.base))
        .send()
        .await
        .expect("send");
    assert_eq!(public.status().as_u16(), 404);
}

crate::backend_test!(metrics_are_labelled_by_zone_on_their_own_listener);
