//! `airlock env …`

use clap::Subcommand;
use serde_json::json;

use super::Context;
use super::output::{SHOWN_ONCE, lines, print, utc_timestamp};
use crate::model::EnvKind;
use crate::service::admin::environments::{EnvironmentView, LimitChanges, PolicyChanges};
use crate::service::admin::split_slug;
use crate::service::{FIXTURE_PASSWORD, FixtureSet};

#[derive(Debug, Subcommand)]
pub enum EnvCommand {
    /// Create an environment with its own issuer and signing keys.
    Create {
        /// PROJECT/ENV
        slug: String,
        #[arg(long, value_parser = ["test", "live"])]
        kind: String,
        /// Seed the fixture set at once (test environments).
        #[arg(long)]
        seed: bool,
    },
    /// Seed a test environment's fixtures: users in known states (password `fixture-password`)
    /// and two clients for http://localhost:3000/callback. Idempotent.
    Seed {
        slug: String,
        /// Issue new secrets for the fixture clients (printed once).
        #[arg(long)]
        reset_secrets: bool,
    },
    /// Show an environment's issuer and settings.
    Show { slug: String },
    /// The environments of a project, or of every project.
    List { project: Option<String> },
    /// Delete an environment with everything in it (clients, users, keys, audit log…). A live
    /// environment needs --confirm with its full name.
    Delete {
        slug: String,
        /// PROJECT/ENV again.
        #[arg(long)]
        confirm: Option<String>,
    },
    /// Who deleted which project or environment, and when.
    Deletions,
    /// Print the environment's configuration (clients, APIs, policy, limits, webhooks, domains;
    /// never a secret, user, key or audit entry).
    Export {
        slug: String,
        #[arg(long, value_parser = ["toml", "json"])]
        format: Option<String>,
    },
    /// Make the environment match a configuration file (TOML, or JSON by its .json name):
    /// --plan shows what would change, --apply makes it the next release in one transaction.
    Apply {
        slug: String,
        file: std::path::PathBuf,
        #[command(flatten)]
        release: super::configuration::ReleaseArgs,
    },
    /// The environment's releases: who applied what, and when.
    Releases { slug: String },
    /// Restore the configuration of release N as a new release (clients that still exist keep
    /// their secrets; one that has to be made again gets a new secret, shown once).
    Rollback {
        slug: String,
        #[arg(long)]
        to: i64,
        /// Only print what would change.
        #[arg(long)]
        plan: bool,
        /// Apply although the named go-live check fails (repeatable).
        #[arg(long = "accept", value_name = "CHECK")]
        accept: Vec<String>,
    },
    /// Turn the path issuer `{public_url}/PROJECT/ENV` on or off (custom domains keep working).
    PathIssuer {
        slug: String,
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
    /// Show or change an environment's token and session lifetimes, in seconds.
    Policy {
        slug: String,
        #[arg(long)]
        access_token_ttl: Option<i64>,
        #[arg(long)]
        id_token_ttl: Option<i64>,
        /// How long one refresh token lives; each rotation starts it again.
        #[arg(long)]
        refresh_token_ttl: Option<i64>,
        /// How long a refresh family lives from sign-in, however often it rotates.
        #[arg(long)]
        refresh_family_ttl: Option<i64>,
        #[arg(long)]
        session_ttl: Option<i64>,
        /// Let people create their own accounts (login page link, `prompt=create`).
        #[arg(long, value_parser = parse_on_off)]
        signup: Option<bool>,
        /// Sign-in waits for a verified address.
        #[arg(long, value_parser = parse_on_off)]
        require_verified_email: Option<bool>,
        #[arg(long)]
        password_min_length: Option<i64>,
        /// Sender of the environment's mail ("Acme <no-reply@acme.com>"; "" for the default).
        #[arg(long)]
        mail_from: Option<String>,
        /// The product name mail uses ("" for the project's name).
        #[arg(long)]
        product_name: Option<String>,
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
    /// Initial access tokens for dynamic client registration (RFC 7591).
    #[command(subcommand, name = "registration-token")]
    RegistrationToken(super::registration::RegistrationTokenCommand),
}

fn describe(view: &EnvironmentView) -> String {
    format!(
        "environment: {}/{}\nkind: {}\nissuer: {}\ndiscovery: {}",
        view.zone.project,
        view.zone.environment,
        view.zone.kind.as_str(),
        view.issuer,
        view.discovery_url
    )
}

pub async fn run(command: EnvCommand, context: &Context) -> anyhow::Result<()> {
    let environments = context.airlock.environments();
    let (operator, now, json) = (&context.operator, context.now, context.json);
    match command {
        EnvCommand::RegistrationToken(command) => {
            super::registration::run(command, context).await?;
        }
        EnvCommand::Create { slug, kind, seed } => {
            let (project, name) = split_slug(&slug)?;
            let kind =
                EnvKind::parse(&kind).ok_or_else(|| anyhow::anyhow!("kind is test or live"))?;
            if seed && kind != EnvKind::Test {
                anyhow::bail!("--seed is for test environments only");
            }
            let environment = environments
                .create(project, name, kind, operator, now)
                .await?;
            let view = environments.view(&environment);
            if seed {
                let fixtures = context
                    .airlock
                    .seed_fixtures(&environment, false, operator, now)
                    .await?;
                let value = json!({ "environment": view, "fixtures": fixtures });
                print(json, &value, || {
                    format!("issuer: {}\n{}", view.issuer, describe_fixtures(&fixtures))
                });
            } else {
                print(json, &view, || format!("issuer: {}", view.issuer));
            }
        }
        EnvCommand::Seed {
            slug,
            reset_secrets,
        } => {
            let environment = context.environment(&slug).await?;
            let fixtures = context
                .airlock
                .seed_fixtures(&environment, reset_secrets, operator, now)
                .await?;
            print(json, &fixtures, || describe_fixtures(&fixtures));
        }
        EnvCommand::List { project } => {
            let listed = environments.list(project.as_deref(), operator).await?;
            let views: Vec<_> = listed.iter().map(|e| environments.view(e)).collect();
            print(json, &views, || {
                lines(&views, |view| {
                    format!(
                        "{}/{}  {}  {}",
                        view.zone.project,
                        view.zone.environment,
                        view.zone.kind.as_str(),
                        view.issuer
                    )
                })
            });
        }
        EnvCommand::Delete { slug, confirm } => {
            let environment = context.environment(&slug).await?;
            let deletion = environments
                .delete(&environment, confirm.as_deref(), operator, now)
                .await?;
            print(json, &deletion, || {
                format!(
                    "{} deleted ({} rows)",
                    deletion.name,
                    removed_rows(&deletion.removed)
                )
            });
        }
        EnvCommand::Export { slug, format } => {
            super::configuration::export(&slug, format.as_deref(), context).await?;
        }
        EnvCommand::Apply {
            slug,
            file,
            release,
        } => {
            super::configuration::apply_file(&slug, &file, release, context).await?;
        }
        EnvCommand::Releases { slug } => {
            super::configuration::releases(&slug, context).await?;
        }
        EnvCommand::Rollback {
            slug,
            to,
            plan,
            accept,
        } => {
            super::configuration::rollback(&slug, to, (plan, &accept), context).await?;
        }
        EnvCommand::Deletions => {
            let deletions = environments.deletions(operator).await?;
            print(json, &deletions, || {
                lines(&deletions, |d| {
                    format!(
                        "{}  {} {}  by {}",
                        utc_timestamp(d.deleted_at),
                        d.what,
                        d.name,
                        d.actor
                    )
                })
            });
        }
        EnvCommand::Show { slug } => {
            let view = environments.view(&context.environment(&slug).await?);
            print(json, &view, || describe(&view));
        }
        EnvCommand::PathIssuer { slug, state } => {
            let environment = context.environment(&slug).await?;
            let enabled = state == "on";
            environments
                .set_path_issuer(&environment, enabled, operator, now)
                .await?;
            print(json, &json!({ "path_issuer_enabled": enabled }), || {
                format!("path issuer of {slug}: {state}")
            });
        }
        EnvCommand::Policy {
            slug,
            access_token_ttl,
            id_token_ttl,
            refresh_token_ttl,
            refresh_family_ttl,
            session_ttl,
            signup,
            require_verified_email,
            password_min_length,
            mail_from,
            product_name,
        } => {
            let environment = context.environment(&slug).await?;
            let changes = PolicyChanges {
                access_token_ttl,
                id_token_ttl,
                refresh_token_ttl,
                refresh_family_ttl,
                session_ttl,
                signup,
                require_verified_email,
                password_min_length,
                mail_from,
                product_name,
            };
            let policy = environments
                .set_policy(&environment, changes, operator, now)
                .await?;
            print(json, &policy, || {
                let (lifetimes, accounts) = (&policy.lifetimes, &policy.accounts);
                let on = |flag: bool| if flag { "on" } else { "off" };
                format!(
                    "access token: {} s\nID token: {} s\nrefresh token: {} s (family: {} s)\nsession: {} s\nauthorization code: {} s\nsign-up: {}\nverified email required: {}\npassword minimum length: {}",
                    lifetimes.access_token_ttl,
                    lifetimes.id_token_ttl,
                    lifetimes.refresh_token_ttl,
                    lifetimes.refresh_family_ttl,
                    lifetimes.session_ttl,
                    lifetimes.code_ttl,
                    on(accounts.signup),
                    on(accounts.require_verified_email),
                    accounts.password_min_length
                )
            });
        }
        EnvCommand::Limits {
            slug,
            token_requests_per_minute,
            signin_failures_per_minute,
            lockout_threshold,
        } => {
            let environment = context.environment(&slug).await?;
            let changes = LimitChanges {
                token_requests_per_minute,
                signin_failures_per_minute,
                lockout_threshold,
            };
            let limits = environments
                .set_limits(&environment, changes, operator, now)
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
    }
    Ok(())
}

/// `on` or `off`.
fn parse_on_off(value: &str) -> Result<bool, String> {
    match value {
        "on" => Ok(true),
        "off" => Ok(false),
        other => Err(format!("{other} is neither on nor off")),
    }
}

fn describe_fixtures(fixtures: &FixtureSet) -> String {
    let mut text = format!("fixture users (password: {FIXTURE_PASSWORD}):");
    for user in &fixtures.users {
        text.push_str(&format!("\n  {}  {}  {}", user.sub, user.email, user.state));
    }
    text.push_str("\nfixture clients:");
    for client in &fixtures.clients {
        text.push_str(&format!("\n  {}  {}", client.client_id, client.name));
        if let Some(secret) = &client.client_secret {
            text.push_str(&format!("  secret: {} {SHOWN_ONCE}", secret.expose()));
        }
    }
    text
}

/// How many rows a deletion removed, all tables together.
fn removed_rows(removed: &serde_json::Value) -> u64 {
    removed
        .as_object()
        .map(|tables| tables.values().filter_map(serde_json::Value::as_u64).sum())
        .unwrap_or(0)
}
