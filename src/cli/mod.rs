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
use crate::service::admin::{ClientChanges, LimitChanges, NewClient, UserChanges};
use crate::service::audit::{AuditView, zone_label};
use crate::service::domains::TlsFiles;
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
    Project(ProjectCommand),
    #[command(subcommand)]
    Env(EnvCommand),
    #[command(subcommand)]
    Client(ClientCommand),
    #[command(subcommand)]
    User(UserCommand),
    #[command(subcommand, name = "admin-token")]
    AdminToken(AdminTokenCommand),
    #[command(subcommand)]
    Domain(DomainCommand),
    #[command(subcommand)]
    Keys(KeysCommand),
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Debug, Subcommand)]
pub enum DomainCommand {
    /// Bind a host to an environment; prints the DNS TXT record that proves ownership.
    Add {
        /// PROJECT/ENV
        slug: String,
        host: String,
        /// PEM certificate chain, for Airlock's own TLS listener (with --tls-key).
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<String>,
        /// PEM private key of that certificate.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<String>,
    },
    /// Check the TXT record and activate the domain.
    Verify {
        host: String,
        /// Mark it verified without DNS (only where the installation allows it; audited).
        #[arg(long)]
        manual: bool,
    },
    /// Domains of one environment, or of all.
    List { slug: Option<String> },
    /// Unbind a host.
    Remove { host: String },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Stage a new signing key: published now, signing after the publish delay.
    Rotate {
        /// PROJECT/ENV
        slug: String,
        #[arg(long, default_value = "RS256", value_parser = ["RS256", "ES256"])]
        alg: String,
        /// Seconds before the new key signs (default: AIRLOCK_KEY_PUBLISH_DELAY).
        #[arg(long)]
        publish_delay: Option<i64>,
    },
    /// Every key of an environment with its state and dates.
    List { slug: String },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Entries of one environment's audit log, oldest first.
    List {
        /// PROJECT/ENV
        slug: String,
        /// Epoch seconds, or an age such as 30m, 12h, 7d.
        #[arg(long)]
        since: Option<String>,
        /// Only this event type (for example signin.failed).
        #[arg(long = "type")]
        event: Option<String>,
        #[arg(long, default_value_t = 1000)]
        limit: i64,
    },
    /// Check the environment's hash chain; exits non-zero and says where if it was tampered with.
    Verify { slug: String },
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
    /// Turn the path issuer `{public_url}/PROJECT/ENV` on or off (custom domains keep working).
    PathIssuer {
        slug: String,
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
    /// Show or change an environment's rate limits (0 turns a limit off).
    Limits {
        slug: String,
        /// Token endpoint requests per client and minute, per node.
        #[arg(long)]
        token_requests_per_minute: Option<i64>,
        /// Failed sign-ins per client IP and minute, per node.
        #[arg(long)]
        signin_failures_per_minute: Option<i64>,
        /// Consecutive failed sign-ins that lock an account name.
        #[arg(long)]
        lockout_threshold: Option<i64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client; its secret is printed once.
    Create(ClientCreate),
    /// Issue a new client secret; the old one stops working at once.
    RotateSecret { slug: String, client_id: String },
    /// The clients of an environment.
    List { slug: String },
    /// One client's registration.
    Show { slug: String, client_id: String },
    /// Change a client's registration; list options replace the whole list.
    Update(ClientUpdate),
    /// Delete a client and everything issued to it.
    Delete { slug: String, client_id: String },
}

#[derive(Debug, Args)]
pub struct ClientUpdate {
    slug: String,
    client_id: String,
    #[arg(long)]
    name: Option<String>,
    #[arg(long = "redirect-uri")]
    redirect_uris: Option<Vec<String>>,
    #[arg(long = "post-logout-redirect-uri")]
    post_logout_redirect_uris: Option<Vec<String>>,
    #[arg(long)]
    first_party: Option<bool>,
    #[arg(long = "id-token-signed-response-alg", value_parser = ["RS256", "ES256"])]
    alg: Option<String>,
}

#[derive(Debug, Args)]
pub struct ClientCreate {
    /// PROJECT/ENV
    slug: String,
    #[arg(long)]
    name: String,
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// Where RP-initiated logout may return (exact match; repeatable).
    #[arg(long = "post-logout-redirect-uri")]
    post_logout_redirect_uris: Vec<String>,
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
    /// The users of an environment.
    List { slug: String },
    /// Change a user's profile.
    Update {
        slug: String,
        sub: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        email_verified: Option<bool>,
    },
    /// Set a new password (ends the user's sessions).
    SetPassword {
        slug: String,
        sub: String,
        #[arg(
            long,
            conflicts_with = "password_stdin",
            required_unless_present = "password_stdin"
        )]
        password: Option<String>,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Delete a user with their sessions and grants.
    Delete { slug: String, sub: String },
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
    let cli_caller = Caller::cli();
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
                post_logout_redirect_uris: args.post_logout_redirect_uris,
                public: args.public,
                first_party: args.first_party,
                id_token_signed_response_alg: SigningAlg::parse(&args.alg)
                    .unwrap_or(SigningAlg::RS256),
            };
            let issued = airlock
                .create_client(&environment, request, &cli_caller, now)
                .await?;
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
                .rotate_client_secret(&environment, &client_id, &cli_caller, now)
                .await?;
            let value = json!({ "client_id": client_id, "client_secret": secret });
            print(json, &value, || {
                format!("client_secret: {secret}\n(shown once: store it now)")
            });
        }
        Command::User(UserCommand::Create(args)) => {
            let environment = airlock.environment_by_slug(&args.slug).await?;
            let password = password_argument(args.password)?;
            let user = airlock
                .create_user(
                    &environment,
                    &args.email,
                    password,
                    args.name,
                    &cli_caller,
                    now,
                )
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
        Command::Env(EnvCommand::Limits {
            slug,
            token_requests_per_minute,
            signin_failures_per_minute,
            lockout_threshold,
        }) => {
            let environment = airlock.environment_by_slug(&slug).await?;
            let changes = LimitChanges {
                token_requests_per_minute,
                signin_failures_per_minute,
                lockout_threshold,
            };
            let limits = airlock
                .set_limits(&environment, changes, &cli_caller, now)
                .await?;
            print(json, &limits, || {
                format!(
                    "token requests per client and minute: {}\nfailed sign-ins per IP and minute: {}\nlockout after failed sign-ins: {}\n(0 = no limit)",
                    limits.token_requests_per_minute,
                    limits.signin_failures_per_minute,
                    limits.lockout_threshold
                )
            });
        }
        Command::Client(ClientCommand::List { slug }) => {
            let environment = airlock.environment_by_slug(&slug).await?;
            let clients = airlock.list_clients(&environment).await?;
            print(json, &clients, || {
                clients
                    .iter()
                    .map(|c| format!("{}  {}", c.client_id, c.name))
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        Command::Client(ClientCommand::Show { slug, client_id }) => {
            let environment = airlock.environment_by_slug(&slug).await?;
            let client = airlock.find_client(&environment, &client_id).await?;
            print(json, &client, || {
                serde_json::to_string_pretty(&client).unwrap_or_default()
            });
        }
        Command::Client(ClientCommand::Update(args)) => {
            let environment = airlock.environment_by_slug(&args.slug).await?;
            let changes = ClientChanges {
                name: args.name,
                redirect_uris: args.redirect_uris,
                post_logout_redirect_uris: args.post_logout_redirect_uris,
                first_party: args.first_party,
                id_token_signed_response_alg: args.alg.as_deref().and_then(SigningAlg::parse),
            };
            let client = airlock
                .update_client(&environment, &args.client_id, changes, &cli_caller, now)
                .await?;
            print(json, &client, || {
                format!("client {} updated", client.client_id)
            });
        }
        Command::Client(ClientCommand::Delete { slug, client_id }) => {
            let environment = airlock.environment_by_slug(&slug).await?;
            airlock
                .delete_client(&environment, &client_id, &cli_caller, now)
                .await?;
            print(json, &json!({ "deleted": client_id }), || {
                format!("client {client_id} deleted")
            });
        }
        Command::User(UserCommand::List { slug }) => {
            let environment = airlock.environment_by_slug(&slug).await?;
            let users = airlock.list_users(&environment).await?;
            print(json, &users, || {
                users
                    .iter()
                    .map(|u| format!("{}  {}", u.user_id, u.email))
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        Command::User(UserCommand::Update {
            slug,
            sub,
            email,
            name,
            email_verified,
        }) => {
            let environment = airlock.environment_by_slug(&slug).await?;
            let changes = UserChanges {
                email,
                name,
                email_verified,
            };
            let user = airlock
                .update_user(&environment, &sub, changes, &cli_caller, now)
                .await?;
            print(json, &user, || format!("user {} updated", user.user_id));
        }
        Command::User(UserCommand::SetPassword {
            slug,
            sub,
            password,
            ..
        }) => {
            let environment = airlock.environment_by_slug(&slug).await?;
            let password = password_argument(password)?;
            airlock
                .set_user_password(&environment, &sub, password, &cli_caller, now)
                .await?;
            print(
                json,
                &json!({ "sub": sub, "password_changed": true }),
                || format!("password of {sub} changed; their sessions ended"),
            );
        }
        Command::User(UserCommand::Delete { slug, sub }) => {
            let environment = airlock.environment_by_slug(&slug).await?;
            airlock
                .delete_user(&environment, &sub, &cli_caller, now)
                .await?;
            print(json, &json!({ "deleted": sub }), || {
                format!("user {sub} deleted")
            });
        }
        Command::Env(EnvCommand::PathIssuer { slug, state }) => {
            let environment = airlock.environment_by_slug(&slug).await?;
            let enabled = state == "on";
            airlock
                .set_path_issuer(&environment, enabled, &cli_caller, now)
                .await?;
            print(json, &json!({ "path_issuer_enabled": enabled }), || {
                format!("path issuer of {slug}: {state}")
            });
        }
        Command::Domain(DomainCommand::Add {
            slug,
            host,
            tls_cert,
            tls_key,
        }) => {
            let environment = airlock.environment_by_slug(&slug).await?;
            let tls = tls_cert.zip(tls_key).map(|(cert_file, key_file)| TlsFiles {
                cert_file,
                key_file,
            });
            let view = airlock
                .add_domain(&environment, &host, tls, &cli_caller, now)
                .await?;
            print(json, &view, || {
                format!(
                    "{} added to {slug} (pending)\npublish:  {} TXT \"{}\"\nthen run: airlock domain verify {}\nissuer once active: {}",
                    view.domain.host,
                    view.txt_record_name,
                    view.txt_record_value,
                    view.domain.host,
                    view.issuer
                )
            });
        }
        Command::Domain(DomainCommand::Verify { host, manual }) => {
            let environment = airlock.domain_environment(&host).await?;
            let view = airlock
                .verify_domain(&environment, &host, manual, &cli_caller, now)
                .await?;
            print(json, &view, || {
                format!("{} is active; issuer {}", view.domain.host, view.issuer)
            });
        }
        Command::Domain(DomainCommand::List { slug }) => {
            let environment = match slug {
                Some(slug) => Some(airlock.environment_by_slug(&slug).await?),
                None => None,
            };
            let views = airlock.list_domains(environment.as_ref()).await?;
            print(json, &views, || {
                views
                    .iter()
                    .map(|v| {
                        format!(
                            "{}  {}/{}  {}",
                            v.domain.host,
                            v.project,
                            v.environment,
                            v.domain.state.as_str()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        Command::Domain(DomainCommand::Remove { host }) => {
            let environment = airlock.domain_environment(&host).await?;
            airlock
                .remove_domain(&environment, &host, &cli_caller, now)
                .await?;
            print(json, &json!({ "removed": host }), || {
                format!("{host} removed")
            });
        }
        Command::Keys(KeysCommand::Rotate {
            slug,
            alg,
            publish_delay,
        }) => {
            let environment = airlock.environment_by_slug(&slug).await?;
            let alg = SigningAlg::parse(&alg).unwrap_or(SigningAlg::RS256);
            let key = airlock
                .rotate_key(&environment, alg, publish_delay, &cli_caller, now)
                .await?;
            print(json, &key, || {
                format!(
                    "key {} ({}) staged: published now, signing from {}",
                    key.kid, key.alg, key.schedule.activates_at
                )
            });
        }
        Command::Keys(KeysCommand::List { slug }) => {
            let environment = airlock.environment_by_slug(&slug).await?;
            let keys = airlock.list_keys(&environment, now).await?;
            print(json, &keys, || {
                let mut text = format!(
                    "{} · {}\n",
                    environment.slug(),
                    zone_label(environment.kind)
                );
                text.push_str("kid                               alg    state    activates_at          retires_at            unpublish_at");
                for key in &keys {
                    let date =
                        |at: Option<i64>| at.map(utc_timestamp).unwrap_or_else(|| "-".into());
                    text.push_str(&format!(
                        "\n{:<33} {:<6} {:<8} {:<21} {:<21} {}",
                        key.kid,
                        key.alg,
                        key.state.as_str(),
                        utc_timestamp(key.schedule.activates_at),
                        date(key.schedule.retires_at),
                        date(key.schedule.unpublish_at)
                    ));
                }
                text
            });
        }
        Command::Audit(AuditCommand::List {
            slug,
            since,
            event,
            limit,
        }) => {
            let environment = airlock.environment_by_slug(&slug).await?;
            let since = since.as_deref().map(|s| parse_since(s, now)).transpose()?;
            let entries = airlock
                .audit_list(&environment, since, event, Some(limit))
                .await?;
            print(json, &entries, || audit_text(&entries));
        }
        Command::Audit(AuditCommand::Verify { slug }) => {
            let environment = airlock.environment_by_slug(&slug).await?;
            let report = airlock.audit_verify(&environment).await?;
            print(json, &report, || {
                let zone = format!(
                    "{}/{} · {}",
                    report.project, report.environment, report.label
                );
                match &report.problem {
                    None => format!("{zone}: audit chain intact ({} entries)", report.entries),
                    Some(problem) => format!("{zone}: audit chain BROKEN: {problem}"),
                }
            });
            if !report.intact {
                anyhow::bail!("the audit log of {slug} has been tampered with");
            }
        }
    }
    Ok(())
}

/// The password from `--password`, or else from standard input.
fn password_argument(password: Option<String>) -> anyhow::Result<String> {
    match password {
        Some(password) => Ok(password),
        None => {
            let mut input = String::new();
            std::io::stdin().read_to_string(&mut input)?;
            Ok(input.trim_end_matches(['\r', '\n']).to_string())
        }
    }
}

/// `--since`: epoch seconds, or an age (`90s`, `30m`, `12h`, `7d`) before `now`.
fn parse_since(value: &str, now: i64) -> anyhow::Result<i64> {
    if let Ok(epoch) = value.parse::<i64>() {
        return Ok(epoch);
    }
    let (number, unit) = value.split_at(value.len().saturating_sub(1));
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => anyhow::bail!("--since takes epoch seconds or an age such as 30m, 12h, 7d"),
    };
    let number: i64 = number.parse().map_err(|_| {
        anyhow::anyhow!("--since takes epoch seconds or an age such as 30m, 12h, 7d")
    })?;
    Ok(now - number.saturating_mul(seconds))
}

/// Epoch seconds as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC), for people reading the CLI.
fn utc_timestamp(epoch: i64) -> String {
    let (days, seconds) = (epoch.div_euclid(86_400), epoch.rem_euclid(86_400));
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}

fn audit_text(entries: &[AuditView]) -> String {
    entries
        .iter()
        .map(|e| {
            format!(
                "[{}] #{} {} {}/{} {} {} actor={} client={} ip={} request={} {}",
                e.label,
                e.seq,
                utc_timestamp(e.at),
                e.project,
                e.environment,
                e.event,
                e.outcome,
                e.actor.as_deref().unwrap_or("-"),
                e.client_id.as_deref().unwrap_or("-"),
                e.ip.as_deref().unwrap_or("-"),
                e.request_id.as_deref().unwrap_or("-"),
                e.details
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
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

#[cfg(test)]
mod tests {
    use super::utc_timestamp;

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        assert_eq!(utc_timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc_timestamp(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc_timestamp(1_795_508_380), "2026-11-24T08:19:40Z");
        assert_eq!(utc_timestamp(-1), "1969-12-31T23:59:59Z");
    }
}
