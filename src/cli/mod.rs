//! The `airlock` command: clap subcommands mapped onto the same service calls as the admin API.
//! Every command prints human text, or JSON with `--json`.

use std::io::Read;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;
use serde_json::json;

use crate::clock;
use crate::config::Config;
use crate::model::{EnvKind, SigningAlg};
use crate::service::Airlock;
use crate::service::admin::NewClient;

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
    Project(ProjectCommand),
    #[command(subcommand)]
    Env(EnvCommand),
    #[command(subcommand)]
    Client(ClientCommand),
    #[command(subcommand)]
    User(UserCommand),
    #[command(subcommand, name = "admin-token")]
    AdminToken(AdminTokenCommand),
}

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project.
    Create { name: String },
}

#[derive(Debug, Subcommand)]
pub enum EnvCommand {
    /// Create an environment with its own issuer and signing keys.
    Create {
        /// PROJECT/ENV
        slug: String,
        #[arg(long, value_parser = ["test", "live"])]
        kind: String,
    },
    /// Show an environment's issuer and settings.
    Show { slug: String },
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client; its secret is printed once.
    Create(ClientCreate),
    /// Issue a new client secret; the old one stops working at once.
    RotateSecret { slug: String, client_id: String },
}

#[derive(Debug, Args)]
pub struct ClientCreate {
    /// PROJECT/ENV
    slug: String,
    #[arg(long)]
    name: String,
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// A public client (no secret, PKCE required).
    #[arg(long)]
    public: bool,
    /// Skip the consent screen.
    #[arg(long)]
    first_party: bool,
    /// Signing algorithm of this client's ID and access tokens.
    #[arg(long = "id-token-signed-response-alg", default_value = "RS256", value_parser = ["RS256", "ES256"])]
    alg: String,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; prints its `sub`.
    Create(UserCreate),
}

#[derive(Debug, Args)]
pub struct UserCreate {
    slug: String,
    #[arg(long)]
    email: String,
    #[arg(
        long,
        conflicts_with = "password_stdin",
        required_unless_present = "password_stdin"
    )]
    password: Option<String>,
    /// Read the password from standard input.
    #[arg(long)]
    password_stdin: bool,
    #[arg(long)]
    name: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AdminTokenCommand {
    /// Create an admin API token, installation-wide or bound to one environment.
    Create {
        /// Bind the token to this PROJECT/ENV.
        #[arg(long = "env")]
        slug: Option<String>,
        #[arg(long, default_value = "admin")]
        name: String,
    },
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

fn print(json: bool, value: &impl Serialize, human: impl FnOnce() -> String) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        );
    } else {
        println!("{}", human());
    }
}

async fn execute(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config.validate()?;
    let json = cli.json;
    let airlock = Airlock::start(config).await?;
    let now = clock::now();
    match cli.command {
        Command::Serve => serve(airlock).await?,
        Command::Migrate => {
            airlock.db.migrate().await?;
            print(json, &json!({ "migrated": true }), || {
                "migrations applied".into()
            });
        }
        Command::Quickstart { no_serve } => {
            let report = airlock.quickstart(now).await?;
            print(json, &report, || quickstart_text(&report));
            if !no_serve {
                serve(airlock).await?;
            }
        }
        Command::Project(ProjectCommand::Create { name }) => {
            let project = airlock.create_project(&name, now).await?;
            print(json, &project, || {
                format!("project {} created", project.name)
            });
        }
        Command::Env(EnvCommand::Create { slug, kind }) => {
            let (project, name) = slug
                .split_once('/')
                .ok_or_else(|| anyhow::anyhow!("write the environment as PROJECT/ENV"))?;
            let kind =
                EnvKind::parse(&kind).ok_or_else(|| anyhow::anyhow!("kind is test or live"))?;
            let environment = airlock.create_environment(project, name, kind, now).await?;
            let view = airlock.environment_view(&environment);
            print(json, &view, || format!("issuer: {}", view.issuer));
        }
        Command::Env(EnvCommand::Show { slug }) => {
            let environment = airlock.environment_by_slug(&slug).await?;
            let view = airlock.environment_view(&environment);
            print(json, &view, || {
                format!(
                    "environment: {}/{}\nkind: {}\nissuer: {}\ndiscovery: {}",
                    view.project,
                    view.environment,
                    view.kind.as_str(),
                    view.issuer,
                    view.discovery_url
                )
            });
        }
        Command::Client(ClientCommand::Create(args)) => {
            let environment = airlock.environment_by_slug(&args.slug).await?;
            let request = NewClient {
                name: args.name,
                redirect_uris: args.redirect_uris,
                public: args.public,
                first_party: args.first_party,
                id_token_signed_response_alg: SigningAlg::parse(&args.alg)
                    .unwrap_or(SigningAlg::RS256),
            };
            let issued = airlock.create_client(&environment, request, now).await?;
            print(json, &issued, || {
                let mut text = format!("client_id: {}", issued.client.client_id);
                if let Some(secret) = &issued.client_secret {
                    text.push_str(&format!(
                        "\nclient_secret: {secret}\n(shown once: store it now)"
                    ));
                }
                text
            });
        }
        Command::Client(ClientCommand::RotateSecret { slug, client_id }) => {
            let environment = airlock.environment_by_slug(&slug).await?;
            let secret = airlock
                .rotate_client_secret(&environment, &client_id)
                .await?;
            let value = json!({ "client_id": client_id, "client_secret": secret });
            print(json, &value, || {
                format!("client_secret: {secret}\n(shown once: store it now)")
            });
        }
        Command::User(UserCommand::Create(args)) => {
            let environment = airlock.environment_by_slug(&args.slug).await?;
            let password = match args.password {
                Some(password) => password,
                None => {
                    let mut input = String::new();
                    std::io::stdin().read_to_string(&mut input)?;
                    input.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            let user = airlock
                .create_user(&environment, &args.email, password, args.name, now)
                .await?;
            let value = json!({ "sub": user.user_id, "email": user.email });
            print(json, &value, || format!("sub: {}", user.user_id));
        }
        Command::AdminToken(AdminTokenCommand::Create { slug, name }) => {
            let environment = match slug {
                Some(slug) => Some(airlock.environment_by_slug(&slug).await?),
                None => None,
            };
            let issued = airlock
                .create_admin_token(environment.as_ref(), &name, now)
                .await?;
            print(json, &issued, || {
                format!(
                    "admin_token: {}\n(shown once: store it now)",
                    issued.admin_token
                )
            });
        }
    }
    Ok(())
}

async fn serve(airlock: std::sync::Arc<Airlock>) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&airlock.config.listen).await?;
    tracing::info!(
        listen = %listener.local_addr()?,
        public_url = %airlock.config.public_url,
        "airlock serving"
    );
    crate::http::serve(airlock, listener).await?;
    Ok(())
}

fn quickstart_text(report: &[crate::service::quickstart::DemoEnvironment]) -> String {
    let mut text = String::from("Airlock demo project seeded.\n");
    for zone in report {
        let badge = match zone.kind {
            EnvKind::Test => "SANDBOX (test)",
            EnvKind::Live => "PRODUCTION (live)",
        };
        text.push_str(&format!(
            "\n== {} · {badge}\nissuer:        {}\nclient_id:     {}\nclient_secret: {}\nredirect_uri:  {}\nuser:          {}\npassword:      {}\nsign in at:    {}\n",
            zone.environment,
            zone.issuer,
            zone.client_id,
            zone.client_secret.as_deref().unwrap_or("(shown when first created; `airlock client rotate-secret` issues a new one)"),
            zone.redirect_uri,
            zone.user_email,
            zone.user_password.as_deref().unwrap_or("(shown when first created)"),
            zone.authorization_url,
        ));
    }
    text
}
