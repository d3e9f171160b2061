//! `airlock api …`: resource servers of an environment.

use clap::{Args, Subcommand};
use serde_json::json;

use super::Context;
use super::output::{lines, print};
use crate::model::{Api, SigningAlg};
use crate::service::admin::apis::{ApiChanges, NewApi};

#[derive(Debug, Subcommand)]
pub enum ApiCommand {
    /// Register an API: tokens for it name its identifier as their audience.
    Create(ApiCreate),
    /// The APIs of an environment.
    List { slug: String },
    /// One API (by its id or identifier).
    Show { slug: String, api: String },
    /// Change an API's scopes (the list replaces the whole list), lifetime or algorithm.
    Update(ApiUpdate),
    /// Delete an API and every client's grant of it.
    Delete { slug: String, api: String },
}

#[derive(Debug, Args)]
pub struct ApiCreate {
    /// PROJECT/ENV
    slug: String,
    /// An absolute URI, unique within the environment (RFC 8707 `resource`).
    #[arg(long)]
    identifier: String,
    /// A scope the API defines (repeatable).
    #[arg(long = "scope")]
    scopes: Vec<String>,
    /// Lifetime of its access tokens, in seconds (default: the environment's).
    #[arg(long = "access-token-ttl")]
    access_token_ttl: Option<i64>,
    /// Signing algorithm of its access tokens.
    #[arg(long, default_value = "RS256", value_parser = ["RS256", "ES256"])]
    alg: String,
}

#[derive(Debug, Args)]
pub struct ApiUpdate {
    slug: String,
    api: String,
    #[arg(long = "scope")]
    scopes: Option<Vec<String>>,
    #[arg(long = "access-token-ttl", conflicts_with = "environment_ttl")]
    access_token_ttl: Option<i64>,
    /// Go back to the environment's access-token lifetime.
    #[arg(long = "environment-ttl")]
    environment_ttl: bool,
    #[arg(long, value_parser = ["RS256", "ES256"])]
    alg: Option<String>,
}

impl ApiCommand {
    fn slug(&self) -> &str {
        match self {
            ApiCommand::Create(args) => &args.slug,
            ApiCommand::Update(args) => &args.slug,
            ApiCommand::List { slug }
            | ApiCommand::Show { slug, .. }
            | ApiCommand::Delete { slug, .. } => slug,
        }
    }
}

fn describe(api: &Api) -> String {
    format!(
        "{}  {}  scopes: {}",
        api.api_id,
        api.identifier,
        api.scopes.join(" ")
    )
}

pub async fn run(command: ApiCommand, context: &Context) -> anyhow::Result<()> {
    let apis = context.airlock.apis();
    let environment = context.environment(command.slug()).await?;
    let (environment, operator, now, json) =
        (&environment, &context.operator, context.now, context.json);
    match command {
        ApiCommand::Create(args) => {
            let request = NewApi {
                identifier: args.identifier,
                scopes: args.scopes,
                access_token_ttl: args.access_token_ttl,
                signing_alg: SigningAlg::parse(&args.alg).unwrap_or(SigningAlg::RS256),
            };
            let api = apis.create(environment, request, operator, now).await?;
            print(json, &api, || describe(&api));
        }
        ApiCommand::List { .. } => {
            let registered = apis.list(environment).await?;
            print(json, &registered, || lines(&registered, describe));
        }
        ApiCommand::Show { api, .. } => {
            let api = apis.find(environment, &api).await?;
            let text = serde_json::to_string_pretty(&api)?;
            print(json, &api, || text);
        }
        ApiCommand::Update(args) => {
            let access_token_ttl = match (args.environment_ttl, args.access_token_ttl) {
                (true, _) => Some(None),
                (false, ttl) => ttl.map(Some),
            };
            let changes = ApiChanges {
                scopes: args.scopes,
                access_token_ttl,
                signing_alg: args.alg.as_deref().and_then(SigningAlg::parse),
            };
            let api = apis
                .update(environment, &args.api, changes, operator, now)
                .await?;
            print(json, &api, || describe(&api));
        }
        ApiCommand::Delete { api, .. } => {
            apis.delete(environment, &api, operator, now).await?;
            print(json, &json!({ "deleted": api }), || {
                format!("API {api} deleted")
            });
        }
    }
    Ok(())
}
