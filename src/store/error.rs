use sqlx::error::ErrorKind;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness or reference constraint refused the write.
    #[error("constraint violated")]
    Conflict,
    /// The database cannot be reached right now.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A stored value could not be understood.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Other(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::Database(db) => match db.kind() {
                ErrorKind::UniqueViolation | ErrorKind::ForeignKeyViolation => StoreError::Conflict,
                _ if db.code().is_some_and(|code| is_unavailable_state(&code)) => {
                    StoreError::Unavailable(error.to_string())
                }
                _ => StoreError::Other(error.to_string()),
            },
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Protocol(_) => StoreError::Unavailable(error.to_string()),
            _ => StoreError::Other(error.to_string()),
        }
    }
}

/// SQLSTATEs that mean "the database is away or overloaded", not "the request is wrong": connection
/// exceptions (08…), operator intervention such as a terminated backend (57P…), too many connections,
/// a statement timeout, and SQLite's busy and locked.
fn is_unavailable_state(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("57P")
        || matches!(code, "53300" | "57014" | "5" | "6" | "517" | "262")
}
