//! Errors of use cases. The HTTP layer maps them to the wire in one place (`http::error`).

use crate::crypto::jose::JoseError;
use crate::oidc::OAuthError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    #[error("not found")]
    NotFound,
    #[error("already exists")]
    Conflict,
    /// Another change got in first (a release planned against an older configuration).
    #[error("{0}")]
    Superseded(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Invalid(String),
    /// A rate limit or lockout: retry after this many seconds.
    #[error("rate limited")]
    RateLimited(u64),
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn internal(error: impl std::fmt::Display) -> Self {
        Error::Internal(error.to_string())
    }
}

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict => Error::Conflict,
            StoreError::Unavailable(detail) => Error::Unavailable(detail),
            other => Error::internal(other),
        }
    }
}

impl From<JoseError> for Error {
    fn from(error: JoseError) -> Self {
        Error::internal(error)
    }
}
