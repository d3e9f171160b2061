use serde::Serialize;

use super::{EnvironmentId, Secret, UserId};

/// An end user of one environment.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub env_id: EnvironmentId,
    /// The `sub` claim.
    pub user_id: UserId,
    pub email: String,
    pub email_verified: bool,
    pub name: Option<String>,
    #[serde(skip)]
    pub password_hash: Secret,
    pub created_at: i64,
    pub updated_at: i64,
    /// Seeded by `airlock env seed` (test environments only).
    pub fixture: bool,
    /// Created by the person through sign-up.
    pub signed_up: bool,
    /// When an admin disabled the account: it cannot sign in until enabled again.
    pub disabled_at: Option<i64>,
}
