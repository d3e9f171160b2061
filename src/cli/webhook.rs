//! `airlock webhook …` and `airlock events …`

use clap::{Args, Subcommand};
use serde_json::json;

use super::Context;
use super::output::{SHOWN_ONCE, lines, print, utc_timestamp};
use crate::model::{DeliveryQuery, DeliveryState};
use crate::service::admin::webhooks::{CreatedEndpoint, EndpointSettings};

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Add an endpoint; its id and signing secret are printed, the secret once.
    Add(EndpointArgs),
    /// The endpoints of an environment, with their health.
    List { slug: String },
    /// One endpoint.
    Show { slug: String, endpoint_id: String },
    /// Change an endpoint's URL, events or description.
    Update(EndpointUpdate),
    /// Stop deliveries to an endpoint (pending ones wait).
    Disable { slug: String, endpoint_id: String },
    /// Resume deliveries to an endpoint.
    Enable { slug: String, endpoint_id: String },
    /// Remove an endpoint with its delivery log.
    Remove { slug: String, endpoint_id: String },
    /// A new signing secret, printed once; the old one signs beside it for 24 hours.
    RotateSecret { slug: String, endpoint_id: String },
    /// The delivery log, newest first (`deliveries P/E DELIVERY_ID` shows one with its attempts).
    Deliveries(DeliveryArgs),
    /// Send a delivery's event again, with the same webhook-id.
    Replay { slug: String, delivery_id: String },
    /// Send a `webhook.test` event to an endpoint.
    Test { slug: String, endpoint_id: String },
}

#[derive(Debug, Args)]
pub struct EndpointArgs {
    /// PROJECT/ENV
    slug: String,
    #[arg(long)]
    url: String,
    /// Event types and families, comma-separated (`user.*,signin.succeeded`); all when omitted.
    #[arg(long)]
    events: Option<String>,
    #[arg(long)]
    description: Option<String>,
}

#[derive(Debug, Args)]
pub struct EndpointUpdate {
    slug: String,
    endpoint_id: String,
    #[arg(long)]
    url: Option<String>,
    #[arg(long)]
    events: Option<String>,
    #[arg(long)]
    description: Option<String>,
}

#[derive(Debug, Args)]
pub struct DeliveryArgs {
    slug: String,
    /// One delivery, shown with its attempts.
    delivery_id: Option<String>,
    #[arg(long)]
    endpoint: Option<String>,
    #[arg(long, value_parser = ["pending", "succeeded", "failed"])]
    status: Option<String>,
    #[arg(long, default_value_t = 100)]
    limit: i64,
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Events of an environment, newest first.
    List {
        slug: String,
        #[arg(long = "type")]
        event_type: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// One event's payload, exactly as it was (or will be) sent.
    Show { slug: String, event_id: String },
}

impl WebhookCommand {
    fn slug(&self) -> &str {
        match self {
            WebhookCommand::Add(args) => &args.slug,
            WebhookCommand::Update(args) => &args.slug,
            WebhookCommand::Deliveries(args) => &args.slug,
            WebhookCommand::List { slug }
            | WebhookCommand::Show { slug, .. }
            | WebhookCommand::Disable { slug, .. }
            | WebhookCommand::Enable { slug, .. }
            | WebhookCommand::Remove { slug, .. }
            | WebhookCommand::RotateSecret { slug, .. }
            | WebhookCommand::Replay { slug, .. }
            | WebhookCommand::Test { slug, .. } => slug,
        }
    }
}

fn print_issued(json: bool, issued: &CreatedEndpoint) -> anyhow::Result<()> {
    let mut shown = serde_json::to_value(&issued.endpoint)?;
    shown["secret"] = json!(issued.secret);
    print(json, &shown, || {
        format!(
            "endpoint_id: {}\nsecret: {}\n{SHOWN_ONCE}",
            issued.endpoint.endpoint_id,
            issued.secret.expose()
        )
    });
    Ok(())
}

pub async fn run(command: WebhookCommand, context: &Context) -> anyhow::Result<()> {
    let webhooks = context.airlock.webhooks();
    let environment = context.environment(command.slug()).await?;
    let (environment, operator, now, json) =
        (&environment, &context.operator, context.now, context.json);
    match command {
        WebhookCommand::Add(args) => {
            let settings = EndpointSettings {
                url: Some(args.url),
                events: args.events,
                description: args.description,
            };
            let issued = webhooks.add(environment, settings, operator, now).await?;
            print_issued(json, &issued)?;
        }
        WebhookCommand::List { .. } => {
            let endpoints = webhooks.list(environment, now).await?;
            print(json, &endpoints, || {
                lines(&endpoints, |e| {
                    let state = if e.enabled { "enabled" } else { "disabled" };
                    format!(
                        "{}  {}  {}  [{}]  failures in a row: {}",
                        e.endpoint_id,
                        state,
                        e.url,
                        e.events.join(","),
                        e.health.consecutive_failures
                    )
                })
            });
        }
        WebhookCommand::Show { endpoint_id, .. } => {
            let endpoint = webhooks.show(environment, &endpoint_id, now).await?;
            let text = serde_json::to_string_pretty(&endpoint)?;
            print(json, &endpoint, || text);
        }
        WebhookCommand::Update(args) => {
            let settings = EndpointSettings {
                url: args.url,
                events: args.events,
                description: args.description,
            };
            let endpoint = webhooks
                .update(environment, &args.endpoint_id, settings, operator, now)
                .await?;
            print(json, &endpoint, || {
                format!("endpoint {} updated", endpoint.endpoint_id)
            });
        }
        WebhookCommand::Disable { endpoint_id, .. } => {
            let endpoint = webhooks
                .set_enabled(environment, &endpoint_id, false, operator, now)
                .await?;
            print(json, &endpoint, || {
                format!("endpoint {endpoint_id} disabled")
            });
        }
        WebhookCommand::Enable { endpoint_id, .. } => {
            let endpoint = webhooks
                .set_enabled(environment, &endpoint_id, true, operator, now)
                .await?;
            print(json, &endpoint, || {
                format!("endpoint {endpoint_id} enabled")
            });
        }
        WebhookCommand::Remove { endpoint_id, .. } => {
            webhooks
                .remove(environment, &endpoint_id, operator, now)
                .await?;
            print(json, &json!({ "removed": endpoint_id }), || {
                format!("endpoint {endpoint_id} removed")
            });
        }
        WebhookCommand::RotateSecret { endpoint_id, .. } => {
            let issued = webhooks
                .rotate_secret(environment, &endpoint_id, operator, now)
                .await?;
            print_issued(json, &issued)?;
        }
        WebhookCommand::Deliveries(args) => match args.delivery_id {
            Some(delivery_id) => {
                let log = webhooks.delivery(environment, &delivery_id).await?;
                let text = serde_json::to_string_pretty(&log)?;
                print(json, &log, || text);
            }
            None => {
                let query = DeliveryQuery {
                    endpoint_id: args.endpoint,
                    state: args.status.as_deref().and_then(DeliveryState::parse),
                    limit: args.limit,
                };
                let deliveries = webhooks.deliveries(environment, query).await?;
                print(json, &deliveries, || {
                    lines(&deliveries, |d| {
                        let replay = match &d.replay_of {
                            Some(of) => format!("  replay of {of}"),
                            None => String::new(),
                        };
                        format!(
                            "{}  {}  {}  {}  {}  attempts: {}{replay}",
                            d.delivery_id,
                            utc_timestamp(d.created_at),
                            d.state.as_str(),
                            d.event_type,
                            d.endpoint_id,
                            d.attempts
                        )
                    })
                });
            }
        },
        WebhookCommand::Replay { delivery_id, .. } => {
            let replay = webhooks
                .replay(environment, &delivery_id, operator, now)
                .await?;
            print(json, &replay, || {
                format!(
                    "delivery {} queued as a replay of {delivery_id}",
                    replay.delivery_id
                )
            });
        }
        WebhookCommand::Test { endpoint_id, .. } => {
            let delivery = webhooks
                .test(environment, &endpoint_id, operator, now)
                .await?;
            print(json, &delivery, || {
                format!(
                    "test event {} queued for {endpoint_id} as delivery {}",
                    delivery.event_id, delivery.delivery_id
                )
            });
        }
    }
    Ok(())
}

pub async fn run_events(command: EventsCommand, context: &Context) -> anyhow::Result<()> {
    let webhooks = context.airlock.webhooks();
    let json = context.json;
    match command {
        EventsCommand::List {
            slug,
            event_type,
            limit,
        } => {
            let environment = context.environment(&slug).await?;
            let events = webhooks.events(&environment, event_type, limit).await?;
            print(json, &events, || {
                lines(&events, |e| {
                    format!(
                        "{}  {}  {}",
                        e.event_id,
                        utc_timestamp(e.created_at),
                        e.event_type
                    )
                })
            });
        }
        EventsCommand::Show { slug, event_id } => {
            let environment = context.environment(&slug).await?;
            let event = webhooks.event(&environment, &event_id).await?;
            let body = event.body.clone();
            print(json, &event, || body);
        }
    }
    Ok(())
}
