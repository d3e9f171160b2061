//! The database handle: the only place that knows which backend is in use.

use std::str::FromStr;
use std::time::Duration;

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, ConnectOptions, Executor};
use tokio::sync::{Mutex, MutexGuard};

use super::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// SQLite only: connections kept out of the pool for single-statement reads on hot paths.
    readers: Option<Arc<Readers>>,
    /// The migrations this process applied when it connected (none when another did).
    applied_here: Arc<[i64]>,
    /// PostgreSQL only: where to open the connection that listens for other nodes' changes.
    postgres_url: Option<Arc<str>>,
}

/// A few SQLite connections held outside the pool. sqlx tests every pooled connection with a round
/// trip to its worker thread each time it goes back to the pool; a read that takes one of these
/// instead costs one round trip, not two. (On PostgreSQL that test catches connections a database
/// restart cut, so reads there stay with the pool.)
#[derive(Debug)]
struct Readers {
    connections: Vec<Mutex<AnyConnection>>,
    next: AtomicUsize,
}

/// A connection for one read: one of the held SQLite readers, or a pooled connection.
pub(super) enum ReadConnection<'a> {
    Held(MutexGuard<'a, AnyConnection>),
    Pooled(PoolConnection<Any>),
}

impl Deref for ReadConnection<'_> {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        match self {
            ReadConnection::Held(guard) => guard,
            ReadConnection::Pooled(connection) => connection,
        }
    }
}

impl DerefMut for ReadConnection<'_> {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match self {
            ReadConnection::Held(guard) => &mut *guard,
            ReadConnection::Pooled(connection) => &mut *connection,
        }
    }
}

/// How the pool talks to the database.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    /// None: the backend's default.
    pub max_connections: Option<u32>,
    pub acquire_timeout: Duration,
    /// PostgreSQL `statement_timeout`; zero for none.
    pub statement_timeout: Duration,
    /// How long to keep retrying the first connection.
    pub connect_retry: Duration,
}

const SQLITE_DEFAULT_CONNECTIONS: u32 = 4;
/// `synchronous = FULL`: a commit is on disk before it returns (WAL's `NORMAL` may lose the last
/// commits to a power cut), so an audit entry is durable before the response it records.
const SQLITE_SETUP: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;";
const POSTGRES_DEFAULT_CONNECTIONS: u32 = 16;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Db {
    /// Connects (retrying while the database is not up yet) and applies pending migrations. SQLite
    /// files are created if missing.
    pub async fn connect(url: &str, settings: PoolSettings) -> Result<Self, StoreError> {
        let deadline = tokio::time::Instant::now() + settings.connect_retry;
        let mut pause = Duration::from_millis(200);
        loop {
            match Self::connect_once(url, settings).await {
                Err(StoreError::Unavailable(detail)) if tokio::time::Instant::now() < deadline => {
                    tracing::warn!(%detail, "database not reachable yet; retrying");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
                other => return other,
            }
        }
    }

    async fn connect_once(url: &str, settings: PoolSettings) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if url.starts_with("sqlite:") {
            create_private_file(url)?;
            let url = if url.contains('?') {
                url.to_string()
            } else {
                format!("{url}?mode=rwc")
            };
            (Backend::Sqlite, url)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            (Backend::Postgres, url.to_string())
        } else {
            return Err(StoreError::Other(
                "the database URL must start with sqlite: or postgres:".into(),
            ));
        };
        let options = AnyConnectOptions::from_str(&url).map_err(StoreError::from)?;
        let pool = AnyPoolOptions::new()
            .max_connections(
                settings
                    .max_connections
                    .unwrap_or(match backend {
                        Backend::Sqlite => SQLITE_DEFAULT_CONNECTIONS,
                        Backend::Postgres => POSTGRES_DEFAULT_CONNECTIONS,
                    })
                    .max(1),
            )
            .acquire_timeout(settings.acquire_timeout)
            // A SQLite connection is a file handle that cannot go stale, so the round trip to its
            // worker thread that tests it before each use buys nothing; PostgreSQL keeps the test,
            // which catches connections a database restart cut.
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    match backend {
                        Backend::Sqlite => {
                            conn.execute(SQLITE_SETUP).await?;
                        }
                        Backend::Postgres => {
                            let millis = settings.statement_timeout.as_millis();
                            conn.execute(format!("SET statement_timeout = {millis}").as_str())
                                .await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(options.clone())
            .await?;
        let mut db = Db {
            pool,
            backend,
            readers: None,
            applied_here: Arc::new([]),
            postgres_url: (backend == Backend::Postgres).then(|| Arc::from(url.as_str())),
        };
        db.applied_here = db.migrate().await?.into();
        if backend == Backend::Sqlite {
            let count = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8));
            let mut connections = Vec::with_capacity(count);
            for _ in 0..count {
                let mut connection = options.connect().await?;
                connection.execute(SQLITE_SETUP).await?;
                connections.push(Mutex::new(connection));
            }
            db.readers = Some(Arc::new(Readers {
                connections,
                next: AtomicUsize::new(0),
            }));
        }
        Ok(db)
    }

    /// A connection for a single-statement read: a held SQLite reader (the next one round-robin,
    /// waiting its turn), or one from the pool.
    pub(super) async fn read_connection(&self) -> Result<ReadConnection<'_>, StoreError> {
        match &self.readers {
            Some(readers) => {
                let index =
                    readers.next.fetch_add(1, Ordering::Relaxed) % readers.connections.len();
                Ok(ReadConnection::Held(
                    readers.connections[index].lock().await,
                ))
            }
            None => Ok(ReadConnection::Pooled(self.pool.acquire().await?)),
        }
    }

    /// Applies pending migrations; the versions this call applied. (A database whose migrations
    /// could not be listed beforehand, a new one, counts as having had none applied here: it holds
    /// nothing a migration would have to carry over.)
    pub async fn migrate(&self) -> Result<Vec<i64>, StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        let before = sqlx::query("SELECT version FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_all(&self.pool)
            .await
            .ok()
            .map(|rows| {
                rows.iter()
                    .filter_map(|row| sqlx::Row::try_get::<i64, _>(row, "version").ok())
                    .collect::<Vec<_>>()
            });
        migrator
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Other(format!("migration failed: {e}")))?;
        Ok(match before {
            Some(before) => migrator
                .iter()
                .map(|migration| migration.version)
                .filter(|version| !before.contains(version))
                .collect(),
            None => Vec::new(),
        })
    }

    /// Whether this process applied migration `version` when it connected.
    pub fn applied_here(&self, version: i64) -> bool {
        self.applied_here.contains(&version)
    }

    /// Whether the database answers and every migration this binary knows is applied.
    pub async fn is_ready(&self) -> Result<bool, StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        let latest = migrator.iter().map(|m| m.version).max().unwrap_or(0);
        let row = sqlx::query(
            "SELECT COALESCE(MAX(version), 0) AS version FROM _sqlx_migrations WHERE success = TRUE",
        )
        .fetch_one(self.pool())
        .await?;
        let applied: i64 = sqlx::Row::try_get(&row, "version")?;
        Ok(applied >= latest)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub(super) fn postgres_url(&self) -> Option<&str> {
        self.postgres_url.as_deref()
    }

    /// `rows` parenthesised groups of `columns` parameter placeholders, numbered in order, for
    /// multi-row statements. SQLite gets anonymous `?`s: sqlx-sqlite looks up each numbered
    /// parameter by name, a linear scan in SQLite, which makes binding quadratic in the count.
    pub(super) fn value_rows(&self, rows: usize, columns: usize) -> String {
        (0..rows)
            .map(|row| {
                let params: Vec<String> = (1..=columns)
                    .map(|i| match self.backend {
                        Backend::Sqlite => "?".to_string(),
                        Backend::Postgres => format!("${}", row * columns + i),
                    })
                    .collect();
                format!("({})", params.join(", "))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A transaction that writes. On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`): a
    /// deferred transaction that reads first and writes later fails at once with `SQLITE_BUSY` when
    /// another writer got in between, instead of waiting its turn.
    pub(super) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// A transaction whose reads all see one snapshot: statements read together agree even while
    /// writers commit between them (SQLite's WAL snapshot is taken at the first read and held to
    /// the end; PostgreSQL needs `REPEATABLE READ` for that).
    pub(super) async fn begin_snapshot(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin().await?,
            Backend::Postgres => {
                self.pool
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?
            }
        })
    }

    /// The pool's connections: open, and idle among them.
    pub fn pool_stats(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    pub(super) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Creates the SQLite database file of `url`, readable by its owner only, if it does not exist: it
/// holds password hashes and the audit log. SQLite gives its WAL and shared-memory files the same
/// permissions.
fn create_private_file(url: &str) -> Result<(), StoreError> {
    use std::os::unix::fs::OpenOptionsExt;

    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path.starts_with(':') || std::path::Path::new(path).exists() {
        return Ok(());
    }
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(StoreError::Other(format!("cannot create {path}: {error}"))),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    fn versions(dir: &str) -> BTreeSet<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| {
                let name = entry.unwrap().file_name().into_string().unwrap();
                name.split('_').next().unwrap().to_string()
            })
            .collect()
    }

    #[test]
    fn both_dialects_have_the_same_migrations() {
        let sqlite = versions(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"));
        let postgres = versions(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"));
        assert!(!sqlite.is_empty());
        assert_eq!(sqlite, postgres);
    }
}
