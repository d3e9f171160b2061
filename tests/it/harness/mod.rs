//! Test harness: a server builder (SQLite tempfile or a fresh PostgreSQL database), a browser with a
//! cookie jar, an `openidconnect` relying party, and seeding through the service layer.

pub mod browser;
pub mod flow;
pub mod rp;
pub mod server;

pub use browser::{Browser, Step};
pub use server::{Backend, TestServer};

/// Runs an async scenario on SQLite and on PostgreSQL (skipped loudly without
/// `AIRLOCK_TEST_POSTGRES_URL`).
#[macro_export]
macro_rules! backend_test {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let server = $crate::harness::TestServer::start($crate::harness::Backend::Sqlite)
                    .await
                    .expect("sqlite server");
                super::$name(&server).await;
                server.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(server) =
                    $crate::harness::TestServer::start($crate::harness::Backend::Postgres).await
                else {
                    return;
                };
                super::$name(&server).await;
                server.finish().await;
            }
        }
    };
}
