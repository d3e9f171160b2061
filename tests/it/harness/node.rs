//! The `airlock` binary as a server process of its own, for what only a real process shows: several
//! nodes on one database, and commands that serve (`serve`, `quickstart`).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::TestServer;
use super::server::http;

/// A running `airlock` server process, killed when dropped.
pub struct Node {
    pub base: String,
    child: Child,
    /// What the process wrote to standard error after it announced its address.
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Drop for Node {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

impl Node {
    /// The lines the process has logged so far (after its address).
    pub fn log(&self) -> Vec<String> {
        self.log.lock().expect("lock").clone()
    }

    /// Runs `airlock COMMAND` on an ephemeral port with the test server's database and KEK (unless
    /// `settings` says otherwise), and waits until it is ready. The process says where it listens
    /// on standard error.
    pub async fn start(server: &TestServer, command: &str, settings: &[(&str, &str)]) -> Node {
        let mut child = Command::new(env!("CARGO_BIN_EXE_airlock"))
            .arg(command)
            .env("AIRLOCK_DATABASE_URL", &server.database_url)
            .env("AIRLOCK_KEK_FILE", &server.kek_file)
            .env("AIRLOCK_PUBLIC_URL", &server.base)
            .env("AIRLOCK_LISTEN", "127.0.0.1:0")
            .env("RUST_LOG", "warn")
            .envs(settings.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn airlock");
        let stderr = child.stderr.take().expect("stderr");
        let log: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
        let kept = log.clone();
        let announced = tokio::task::spawn_blocking(move || {
            let mut lines = BufReader::new(stderr).lines();
            let line = lines
                .by_ref()
                .map_while(Result::ok)
                .find(|line| line.contains("airlock serving on "))
                .unwrap_or_default();
            // Keep draining (and keeping), so the node never blocks on a full pipe.
            std::thread::spawn(move || {
                for line in lines.map_while(Result::ok) {
                    kept.lock().expect("lock").push(line);
                }
            });
            line
        });
        let line = tokio::time::timeout(Duration::from_secs(30), announced)
            .await
            .expect("the node announces its address")
            .expect("reader");
        let address = line
            .trim()
            .split("airlock serving on ")
            .nth(1)
            .unwrap_or_else(|| panic!("no address announced: {line:?}"))
            .to_string();
        let node = Node {
            base: format!("http://{address}"),
            child,
            log,
        };
        for _ in 0..100 {
            if let Ok(response) = http().get(format!("{}/readyz", node.base)).send().await
                && response.status().is_success()
            {
                return node;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("node {} did not become ready", node.base);
    }
}
