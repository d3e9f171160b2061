//! `airlock user …`

use std::io::Read;

use clap::{Args, Subcommand};
use serde_json::json;

use super::Context;
use super::output::{lines, print};
use crate::model::{ClientId, Secret, UserId};
use crate::service::admin::users::{NewUser, UserChanges};

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
    /// Set a new password (ends the user's sessions and revokes their grants and tokens).
    SetPassword {
        slug: String,
        sub: String,
        #[command(flatten)]
        password: PasswordSource,
        /// Keep the user's grants, with their refresh and access tokens.
        #[arg(long)]
        keep_grants: bool,
    },
    /// Delete a user with their sessions and grants.
    Delete { slug: String, sub: String },
    /// Disable a user: they cannot sign in; their sessions end and their grants and tokens are
    /// revoked.
    Disable { slug: String, sub: String },
    /// Let a disabled user sign in again.
    Enable { slug: String, sub: String },
    /// Withdraw a user's consent to a client, revoking the grants (and tokens) it backed.
    RevokeConsent {
        slug: String,
        sub: String,
        #[arg(long)]
        client: String,
    },
}

#[derive(Debug, Args)]
pub struct UserCreate {
    slug: String,
    #[arg(long)]
    email: String,
    #[command(flatten)]
    password: PasswordSource,
    #[arg(long)]
    name: Option<String>,
}

/// `--password VALUE` or `--password-stdin`. Its `Debug` never shows the password.
#[derive(Args)]
pub struct PasswordSource {
    #[arg(
        long,
        conflicts_with = "password_stdin",
        required_unless_present = "password_stdin"
    )]
    password: Option<String>,
    /// Read the password from standard input.
    #[arg(long)]
    password_stdin: bool,
}

impl std::fmt::Debug for PasswordSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordSource")
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("password_stdin", &self.password_stdin)
            .finish()
    }
}

impl PasswordSource {
    pub(super) fn read(self) -> anyhow::Result<Secret> {
        match self.password {
            Some(password) => Ok(Secret::new(password)),
            None => {
                let mut input = String::new();
                std::io::stdin().read_to_string(&mut input)?;
                Ok(Secret::new(input.trim_end_matches(['\r', '\n'])))
            }
        }
    }
}

impl UserCommand {
    /// The environment every user command acts in.
    fn slug(&self) -> &str {
        match self {
            UserCommand::Create(args) => &args.slug,
            UserCommand::List { slug }
            | UserCommand::Update { slug, .. }
            | UserCommand::SetPassword { slug, .. }
            | UserCommand::Delete { slug, .. }
            | UserCommand::Disable { slug, .. }
            | UserCommand::Enable { slug, .. }
            | UserCommand::RevokeConsent { slug, .. } => slug,
        }
    }
}

pub async fn run(command: UserCommand, context: &Context) -> anyhow::Result<()> {
    let users = context.airlock.users();
    let environment = context.environment(command.slug()).await?;
    let (environment, operator, now, json) =
        (&environment, &context.operator, context.now, context.json);
    let disabled = matches!(command, UserCommand::Disable { .. });
    match command {
        UserCommand::Create(args) => {
            let new = NewUser {
                email: args.email,
                password: args.password.read()?,
                name: args.name,
            };
            let user = users.create(environment, new, operator, now).await?;
            let value = json!({ "sub": user.user_id, "email": user.email });
            print(json, &value, || format!("sub: {}", user.user_id));
        }
        UserCommand::List { .. } => {
            let all = users.list(environment).await?;
            print(json, &all, || {
                lines(&all, |u| {
                    let marked = if u.fixture { "  (fixture)" } else { "" };
                    format!("{}  {}{marked}", u.user_id, u.email)
                })
            });
        }
        UserCommand::Update {
            sub,
            email,
            name,
            email_verified,
            ..
        } => {
            let changes = UserChanges {
                email,
                name,
                email_verified,
            };
            let user_id = UserId::from(sub);
            let user = users
                .update(environment, &user_id, changes, operator, now)
                .await?;
            print(json, &user, || format!("user {user_id} updated"));
        }
        UserCommand::SetPassword {
            sub,
            password,
            keep_grants,
            ..
        } => {
            let user_id = UserId::from(sub);
            let password = password.read()?;
            let revoked_grants = users
                .set_password(environment, &user_id, password, keep_grants, operator, now)
                .await?;
            let value = json!({
                "sub": user_id,
                "password_changed": true,
                "revoked_grants": revoked_grants,
            });
            print(json, &value, || {
                format!(
                    "password of {user_id} changed; their sessions ended, {revoked_grants} grant(s) revoked"
                )
            });
        }
        UserCommand::RevokeConsent { sub, client, .. } => {
            let (user_id, client_id) = (UserId::from(sub), ClientId::from(client));
            let revoked_grants = users
                .revoke_consent(environment, &user_id, &client_id, operator, now)
                .await?;
            let value =
                json!({ "sub": user_id, "client_id": client_id, "revoked_grants": revoked_grants });
            print(json, &value, || {
                format!(
                    "consent of {user_id} to {client_id} withdrawn; {revoked_grants} grant(s) revoked"
                )
            });
        }
        UserCommand::Delete { sub, .. } => {
            let user_id = UserId::from(sub);
            users.delete(environment, &user_id, operator, now).await?;
            print(json, &json!({ "deleted": user_id }), || {
                format!("user {user_id} deleted")
            });
        }
        UserCommand::Disable { sub, .. } | UserCommand::Enable { sub, .. } => {
            let user_id = UserId::from(sub);
            let user = users
                .set_disabled(environment, &user_id, disabled, operator, now)
                .await?;
            let state = if disabled { "disabled" } else { "enabled" };
            print(json, &user, || format!("user {user_id} {state}"));
        }
    }
    Ok(())
}
