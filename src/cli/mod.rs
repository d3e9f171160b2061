//! The `airlock` command: clap subcommands, one file per command group, mapped onto the same service
//! calls as the admin API. Every command prints human text, or JSON with `--json` (`output`).

mod admin_token;
mod api;
mod audit;
mod client;
mod configuration;
mod domain;
mod env;
mod inbox;
mod keys;
mod operator;
mod output;
mod project;
mod quickstart;
mod registration;
mod token;
mod usage;
mod user;
mod webhook;

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use serde_json::json;

use crate::config::Config;
use crate::service::{Airlock, Caller};

#[derive(Debug, Parser)]
#[command(
    name = "airlock",
    version,
    about = "Environment-scoped OpenID Connect provider"
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    /// Print machine-readable JSON.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server.
    Serve,
    /// Seed the demo project (idempotent), print how to sign in, then serve.
    Quickstart {
        /// Seed and print, but do not start the server.
        #[arg(long)]
        no_serve: bool,
    },
    /// Apply pending database migrations.
    Migrate,
    #[command(subcommand)]
    Project(project::ProjectCommand),
    #[command(subcommand)]
    Env(env::EnvCommand),
    #[command(subcommand)]
    Client(client::ClientCommand),
    /// Resource servers (APIs): their identifiers, scopes and token settings.
    #[command(subcommand)]
    Api(api::ApiCommand),
    /// Promote one environment's configuration into another: --plan shows the changes and the
    /// go-live check, --apply makes them the target's next release.
    Promote(configuration::PromoteArgs),
    /// A relying party's tools: decode a token, or verify it against its issuer.
    #[command(subcommand)]
    Token(token::TokenCommand),
    #[command(subcommand)]
    User(user::UserCommand),
    #[command(subcommand, name = "admin-token")]
    AdminToken(admin_token::AdminTokenCommand),
    /// Console operators: accounts that sign in through the installation's operators zone.
    #[command(subcommand)]
    Operator(operator::OperatorCommand),
    #[command(subcommand)]
    Domain(domain::DomainCommand),
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    #[command(subcommand)]
    Webhook(webhook::WebhookCommand),
    /// A month's usage of a project, per zone (only live zones are billable).
    Usage(usage::UsageArgs),
    /// An environment's mail: the captured inbox of a test environment.
    #[command(subcommand)]
    Inbox(inbox::InboxCommand),
    /// The event inspector: events as they were, or will be, sent.
    #[command(subcommand)]
    Events(webhook::EventsCommand),
}

/// What every command runs with: the service context, the operator as caller, one `now`.
pub struct Context {
    pub airlock: Arc<Airlock>,
    pub config: Arc<Config>,
    pub operator: Caller,
    pub now: i64,
    pub json: bool,
}

impl Context {
    /// `PROJECT/ENV`, resolved.
    async fn environment(&self, slug: &str) -> anyhow::Result<crate::model::Environment> {
        Ok(self
            .airlock
            .admin_access()
            .environment_by_slug(&self.operator, slug, self.now)
            .await?)
    }
}

/// Runs one command; the exit code says whether it worked.
pub async fn run(cli: Cli) -> ExitCode {
    let json = cli.json;
    match execute(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if json {
                eprintln!("{}", json!({ "error": error.to_string() }));
            } else {
                eprintln!("error: {error}");
            }
            ExitCode::FAILURE
        }
    }
}

async fn execute(cli: Cli) -> anyhow::Result<()> {
    let config = Arc::new(cli.config.validate()?);
    let context = Context {
        airlock: Airlock::start(config.clone()).await?,
        config,
        operator: Caller::cli(),
        now: crate::clock::now(),
        json: cli.json,
    };
    match cli.command {
        Command::Serve => serve(&context, Vec::new()).await,
        Command::Migrate => {
            context.airlock.migrate().await?;
            output::print(context.json, &json!({ "migrated": true }), || {
                "migrations applied".into()
            });
            Ok(())
        }
        Command::Quickstart { no_serve } => {
            let demo_issuers = quickstart::run(&context).await?;
            if no_serve {
                Ok(())
            } else {
                serve(&context, demo_issuers).await
            }
        }
        Command::Project(command) => project::run(command, &context).await,
        Command::Env(command) => env::run(command, &context).await,
        Command::Client(command) => client::run(command, &context).await,
        Command::Api(command) => api::run(command, &context).await,
        Command::Token(command) => token::run(command, &context).await,
        Command::Promote(args) => configuration::promote(args, &context).await,
        Command::User(command) => user::run(command, &context).await,
        Command::AdminToken(command) => admin_token::run(command, &context).await,
        Command::Operator(command) => operator::run(command, &context).await,
        Command::Domain(command) => domain::run(command, &context).await,
        Command::Keys(command) => keys::run(command, &context).await,
        Command::Audit(command) => audit::run(command, &context).await,
        Command::Webhook(command) => webhook::run(command, &context).await,
        Command::Inbox(command) => inbox::run(command, &context).await,
        Command::Usage(args) => usage::run(args, &context).await,
        Command::Events(command) => webhook::run_events(command, &context).await,
    }
}

/// Serves until stopped; `demo_issuers` are those `quickstart` seeded (none under `serve`).
async fn serve(context: &Context, demo_issuers: Vec<String>) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&context.config.listen).await?;
    let address = listener.local_addr()?;
    tracing::info!(listen = %address, public_url = %context.config.public_url, "airlock serving");
    // The bound address, for supervisors and tests (`--listen` may name port 0); on standard error,
    // so standard output stays what the command prints (JSON with `--json`).
    eprintln!("airlock serving on {address}");
    let state = crate::http::AppState {
        airlock: context.airlock.clone(),
        config: context.config.clone(),
        demo_issuers: demo_issuers.into(),
    };
    tokio::select! {
        served = crate::http::serve(state, listener) => served?,
        () = stop_signal() => {
            // A deploy stops nodes with SIGTERM: their usage counts go to the database first.
            if let Err(error) = context.airlock.flush_usage().await {
                tracing::warn!(%error, "usage counts lost at shutdown");
            }
            tracing::info!("airlock stopped");
        }
    }
    Ok(())
}

/// SIGTERM or Ctrl-C.
async fn stop_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = terminate => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
