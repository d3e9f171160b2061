//! Events and their webhook deliveries, as data.

use serde::Serialize;

use super::{EnvKind, EnvironmentId};

/// An event as it is written beside the change it reports: its id (the `webhook-id` of every
/// delivery), its type, when, and the exact JSON body receivers get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub event_id: String,
    pub event_type: String,
    pub created_at: i64,
    pub payload: String,
}

/// A receiver of one environment's events.
#[derive(Debug, Clone)]
pub struct WebhookEndpoint {
    pub env_id: EnvironmentId,
    pub endpoint_id: String,
    pub url: String,
    pub description: String,
    /// Event types and families (`user.*`), or `*`.
    pub events: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    /// The signing secret, sealed under the KEK.
    pub secret_sealed: String,
    /// The secret before the last rotation, which signs too until `previous_secret_until`.
    pub previous_secret_sealed: Option<String>,
    pub previous_secret_until: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub health: EndpointHealth,
}

/// How an endpoint has been answering.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct EndpointHealth {
    pub last_success_at: Option<i64>,
    pub last_failure_at: Option<i64>,
    pub consecutive_failures: i64,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    Pending,
    Succeeded,
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Succeeded => "succeeded",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "pending" => Some(DeliveryState::Pending),
            "succeeded" => Some(DeliveryState::Succeeded),
            "failed" => Some(DeliveryState::Failed),
            _ => None,
        }
    }
}

/// One event on its way to one endpoint, over as many attempts as it takes.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub delivery_id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    /// The delivery this one re-sends, when it is a replay.
    pub replay_of: Option<String>,
    pub state: DeliveryState,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

/// One try at sending a delivery, as the delivery log keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryAttempt {
    pub attempt: i64,
    pub at: i64,
    /// The receiver's HTTP status; `None` when no response came.
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
    /// The first 4 KiB of the response body.
    pub response: Option<String>,
    pub succeeded: bool,
}

/// A due delivery a worker holds the lease of, with what it needs to send it.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub env_id: EnvironmentId,
    pub env_kind: EnvKind,
    /// The zone's names, for the metrics' labels.
    pub project: String,
    pub environment: String,
    pub delivery_id: String,
    pub endpoint_id: String,
    pub event_id: String,
    /// Attempts made before this one.
    pub attempts: i64,
    pub lease_until: i64,
    pub payload: String,
    pub url: String,
    pub secret_sealed: String,
    pub previous_secret_sealed: Option<String>,
    pub previous_secret_until: Option<i64>,
}

/// What became of an attempt, to be recorded with the delivery's next state.
#[derive(Debug, Clone)]
pub struct AttemptOutcome {
    pub attempt: DeliveryAttempt,
    /// Pending again at this time, or finished (succeeded or failed).
    pub next: DeliveryState,
    pub next_attempt_at: i64,
    /// The receiver said `410 Gone`: the endpoint is disabled.
    pub endpoint_gone: bool,
}

/// Filters of a delivery listing.
#[derive(Debug, Clone, Default)]
pub struct DeliveryQuery {
    pub endpoint_id: Option<String>,
    pub state: Option<DeliveryState>,
    pub limit: i64,
}
