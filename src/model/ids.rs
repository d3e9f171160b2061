//! Identifiers that could be mixed up if they were bare strings: an environment id where a client id
//! belongs compiles no more.

use std::borrow::Borrow;
use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                $name(value.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                $name(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                $name(value.to_string())
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }
    };
}

identifier!(
    /// An environment's internal id (never shown in URLs; those use project and environment names).
    EnvironmentId
);
identifier!(
    /// A client's `client_id`, unique within its environment.
    ClientId
);
identifier!(
    /// A user's `sub`, unique within its environment.
    UserId
);
identifier!(
    /// A signing key's `kid`.
    Kid
);
identifier!(
    /// A grant: one authorization, with its refresh-token family and access tokens.
    GrantId
);
identifier!(
    /// A resource server's (API's) id, unique within its environment (`api_…`).
    ApiId
);
