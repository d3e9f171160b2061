//! Self-service accounts: password reset, email verification and sign-up, with mail captured in
//! test zones (a real SMTP sink sees nothing) and sent over SMTP in live ones.

mod fixtures;
pub(crate) mod reset;
mod signup;

use airlock::config::Config;
use serde_json::{Value, json};

use crate::harness::server::{Seeded, http};
use crate::harness::smtp::SmtpSink;
use crate::harness::{Options, TestServer};

/// Live zones send through the shared SMTP sink.
fn with_smtp(config: &mut Config) {
    config.smtp_url = Some(SmtpSink::shared().url.clone());
}

pub fn smtp() -> Options {
    Options {
        configure: Some(with_smtp),
        ..Options::default()
    }
}

/// The `href` of the link whose text is `text`.
pub fn link(html: &str, text: &str) -> Option<String> {
    let end = html.find(&format!(">{text}</a>"))?;
    let start = html[..end].rfind("href=\"")? + 6;
    let href = &html[start..end];
    Some(
        href.trim_end_matches('"')
            .replace("&amp;", "&")
            .replace("&#x2f;", "/"),
    )
}

/// A user of `zone` with an address no other test uses; their id.
pub async fn user(server: &TestServer, zone: &Seeded, email: &str) -> String {
    let token = server.admin_token(&zone.environment).await;
    let url = format!(
        "{}/admin/v1/projects/{}/environments/{}/users",
        server.base, zone.environment.project, zone.environment.name
    );
    let body = json!({ "email": email, "password": "correct horse battery" });
    let response = http()
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status().as_u16(), 201);
    let created: Value = response.json().await.expect("json");
    created["sub"].as_str().expect("sub").to_string()
}

/// The captured inbox of `zone`, as the admin API shows it.
pub async fn inbox(server: &TestServer, zone: &Seeded, to: &str) -> Vec<Value> {
    let token = server.admin_token(&zone.environment).await;
    let url = format!(
        "{}/admin/v1/projects/{}/environments/{}/inbox?to={to}",
        server.base, zone.environment.project, zone.environment.name
    );
    let response = http()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.expect("json");
    body["messages"].as_array().expect("messages").clone()
}

/// Waits for a message to `to` in `zone`'s captured inbox.
pub async fn captured(server: &TestServer, zone: &Seeded, to: &str) -> Value {
    for _ in 0..50 {
        if let Some(message) = inbox(server, zone, to).await.into_iter().next() {
            return message;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no message to {to} was captured");
}
