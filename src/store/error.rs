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
                _ => StoreError::Other(error.to_string()),
            },
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(error.to_string()),
            _ => StoreError::Other(error.to_string()),
        }
    }
}
