//! Storage through sqlx: the only module that contains SQL. Per-environment data is reachable only
//! through `EnvStore`, a database handle bound to one environment id.

mod audit;
mod clients;
mod db;
mod domains;
mod error;
mod grants;
mod installation;
mod keys;
mod sessions;
mod signin;
mod users;

pub use audit::AuditQuery;
pub use db::{Backend, Db, PoolSettings};
pub use error::StoreError;
pub use grants::NewCode;
pub use installation::AdminTokenRecord;
pub use keys::{DueKey, StoredKey};

/// The door to one environment's data: every query it runs is keyed by `env_id`.
#[derive(Debug, Clone, Copy)]
pub struct EnvStore<'a> {
    db: &'a Db,
    env_id: &'a str,
}

impl<'a> EnvStore<'a> {
    pub fn new(db: &'a Db, env_id: &'a str) -> Self {
        EnvStore { db, env_id }
    }
}

fn flag(value: bool) -> i64 {
    i64::from(value)
}
