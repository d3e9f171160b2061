//! Test harness: a server builder (SQLite tempfile or a fresh PostgreSQL database), a browser with a
//! cookie jar, an `openidconnect` relying party, and seeding through the service layer.

pub mod browser;
pub mod console;
pub mod dns;
pub mod flow;
pub mod nginx;
pub mod node;
pub mod receiver;
pub mod resource_server;
pub mod rp;
pub mod server;
pub mod smtp;
pub mod webdriver;

pub use browser::{Browser, Step};
pub use node::Node;
pub use receiver::{Receiver, Reply};
pub use server::{Backend, Options, TestServer};

/// Runs an async scenario on SQLite and on PostgreSQL (skipped loudly without
/// `AIRLOCK_TEST_POSTGRES_URL`).
#[macro_export]
macro_rules! backend_test {
    ($name:ident) => {
        $crate::backend_test!($name, $crate::harness::Options::default());
    };
    ($name:ident, $options:expr) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let server = $crate::harness::TestServer::start_with(
                    $crate::harness::Backend::Sqlite,
                    $options,
                )
                .await
                .expect("sqlite server");
                super::$name(&server).await;
                server.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(server) = $crate::harness::TestServer::start_with(
                    $crate::harness::Backend::Postgres,
                    $options,
                )
                .await
                else {
                    return;
                };
                super::$name(&server).await;
                server.finish().await;
            }
        }
    };
}
