//! Nodes fail and share work: a node killed mid-delivery leaves nothing undelivered once another
//! runs, and two nodes on one database deliver every event, never one twice at the same moment.

use std::collections::HashSet;
use std::time::Duration;

use airlock::config::Config;
use airlock::model::EnvKind;

use super::{add_endpoint, create_user};
use crate::backend_test;
use crate::harness::{Node, Options, Receiver, Reply, TestServer};

/// The in-process server's own worker looks only at start, so the nodes under test do the work.
fn idle_worker(config: &mut Config) {
    config.webhook_poll_ms = 60_000;
}

fn idle() -> Options {
    Options {
        configure: Some(idle_worker),
        ..Options::default()
    }
}

const NODE_SETTINGS: [(&str, &str); 3] = [
    ("AIRLOCK_WEBHOOK_TIMEOUT", "3"),
    ("AIRLOCK_WEBHOOK_POLL_MS", "30"),
    ("AIRLOCK_WEBHOOK_RETRY_SCHEDULE", "1s,1s,1s,1s,1s"),
];

async fn succeeded(server: &TestServer) -> i64 {
    server
        .count_directly("SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'succeeded'")
        .await
}

async fn wait_until_succeeded(server: &TestServer, count: i64, seconds: u64) {
    for _ in 0..seconds * 10 {
        if succeeded(server).await >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{} of {count} deliveries succeeded",
        succeeded(server).await
    );
}

async fn a_killed_node_s_deliveries_are_sent_after_a_restart(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let token = server.admin_token(&sandbox.environment).await;
    let hooks = Receiver::start().await;
    // Every request hangs: the node is killed with all four under way.
    hooks.answer_by_default(Reply::Hang(Duration::from_secs(30)));
    let (_, secret) = add_endpoint(server, &sandbox, &token, &hooks.url, &["user.*"]).await;
    let node = Node::start(server, "serve", &NODE_SETTINGS).await;
    for n in 0..4 {
        create_user(server, &sandbox, &token, &format!("killed{n}@example.com")).await;
    }
    for _ in 0..200 {
        if hooks.under_way() == 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(hooks.under_way(), 4, "the node is sending");
    drop(node); // SIGKILL
    hooks.answer_by_default(Reply::Status(200));
    assert_eq!(succeeded(server).await, 0);

    let _restarted = Node::start(server, "serve", &NODE_SETTINGS).await;
    wait_until_succeeded(server, 4, 40).await;
    let delivered: Vec<_> = hooks
        .received()
        .into_iter()
        .filter(|r| r.status == 200 && r.verifies_with(&secret))
        .collect();
    let ids: HashSet<String> = delivered.iter().map(|r| r.webhook_id()).collect();
    assert_eq!(ids.len(), 4, "every event, each under its own stable id");
}

backend_test!(
    a_killed_node_s_deliveries_are_sent_after_a_restart,
    super::idle()
);

async fn two_nodes_share_deliveries_without_overlap(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let token = server.admin_token(&sandbox.environment).await;
    let hooks = Receiver::start().await;
    hooks.answer_by_default(Reply::Hang(Duration::from_millis(100)));
    let (_, secret) = add_endpoint(server, &sandbox, &token, &hooks.url, &["user.created"]).await;
    let _first = Node::start(server, "serve", &NODE_SETTINGS).await;
    let _second = Node::start(server, "serve", &NODE_SETTINGS).await;
    for n in 0..30 {
        create_user(server, &sandbox, &token, &format!("shared{n}@example.com")).await;
    }
    wait_until_succeeded(server, 30, 60).await;
    let received = hooks.received();
    let ids: HashSet<String> = received.iter().map(|r| r.webhook_id()).collect();
    assert_eq!(ids.len(), 30, "every event arrived");
    assert_eq!(received.len(), 30, "none twice");
    assert!(received.iter().all(|r| r.verifies_with(&secret)));
    assert_eq!(hooks.most_at_once(), 1, "never twice at the same moment");
    let successes = server
        .count_directly("SELECT COUNT(*) FROM webhook_attempts WHERE succeeded = 1")
        .await;
    assert_eq!(successes, 30);
}

backend_test!(two_nodes_share_deliveries_without_overlap, super::idle());
