use serde::Serialize;

/// An end user of one environment.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub env_id: String,
    /// The `sub` claim.
    pub user_id: String,
    pub email: String,
    pub email_verified: bool,
    pub name: Option<String>,
    #[serde(skip)]
    pub password_hash: String,
    pub created_at: i64,
    pub updated_at: i64,
}
