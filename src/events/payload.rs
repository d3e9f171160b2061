//! The JSON body of an event: the same envelope for every type, with typed `data`.

use serde::Serialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::audit::Recorded;
use crate::model::{EnvKind, Environment};

/// The version of the payload's shape; receivers can branch on it when it changes.
pub const API_VERSION: &str = "2026-12-01";

/// Where and when an event happened.
#[derive(Debug, Clone, Copy)]
pub struct EventContext<'a> {
    pub environment: &'a Environment,
    pub request_id: Option<&'a str>,
    pub now: i64,
}

#[derive(Serialize)]
struct Envelope<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    event_type: &'a str,
    created_at: String,
    api_version: &'static str,
    project: &'a str,
    environment: String,
    env_kind: &'static str,
    is_sandbox: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
    data: Value,
}

/// The body of event `event_id` reporting `recorded`. `data` is the audit entry's details (never a
/// secret, token, code or password hash) with the actor and the client it concerns.
pub fn render(event_id: &str, context: EventContext<'_>, recorded: &Recorded) -> String {
    let mut data = match recorded.event.details() {
        Value::Object(fields) => fields,
        _ => Map::new(),
    };
    if let Some(actor) = &recorded.actor {
        data.insert("actor".into(), Value::String(actor.clone()));
    }
    if let Some(client_id) = &recorded.client_id {
        data.insert("client_id".into(), Value::String(client_id.clone()));
    }
    let environment = context.environment;
    let envelope = Envelope {
        id: event_id,
        event_type: recorded.event.event_type().as_str(),
        created_at: rfc3339(context.now),
        api_version: API_VERSION,
        project: &environment.project,
        environment: environment.slug(),
        env_kind: environment.kind.as_str(),
        is_sandbox: environment.kind == EnvKind::Test,
        request_id: context.request_id,
        data: Value::Object(data),
    };
    serde_json::to_string(&envelope).unwrap_or_default()
}

/// `seconds` since the epoch as RFC 3339 (UTC).
pub fn rfc3339(seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|at| at.format(&Rfc3339).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::AuditEvent;
    use crate::model::{AccountPolicy, EnvPolicy, EnvironmentId, RateLimits};

    #[test]
    fn the_envelope_names_the_zone_and_keeps_the_typed_data() {
        let environment = Environment {
            id: EnvironmentId::from("env_1".to_string()),
            project_id: "prj_1".into(),
            project: "acme".into(),
            name: "sandbox".into(),
            kind: EnvKind::Test,
            policy: EnvPolicy::default(),
            limits: RateLimits::default(),
            accounts: AccountPolicy::default(),
            path_issuer_enabled: true,
            created_at: 0,
        };
        let recorded = AuditEvent::UserCreated {
            sub: "usr_1".into(),
        }
        .actor("cli");
        let context = EventContext {
            environment: &environment,
            request_id: Some("req-1"),
            now: 1_700_000_000,
        };
        let body: Value = serde_json::from_str(&render("evt_1", context, &recorded)).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "id": "evt_1", "type": "user.created", "created_at": "2023-11-14T22:13:20Z",
                "api_version": API_VERSION, "project": "acme", "environment": "acme/sandbox",
                "env_kind": "test", "is_sandbox": true, "request_id": "req-1",
                "data": {"sub": "usr_1", "actor": "cli"}
            })
        );
    }
}
