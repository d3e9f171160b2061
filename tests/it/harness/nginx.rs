//! A real reverse proxy in front of a test server: Debian's nginx, run as a child process on an
//! ephemeral port. It is configured the common way, laxer than the README's example: it sets `Host`,
//! appends to `X-Forwarded-For`, and passes a client's own `Forwarded` and `X-Forwarded-Host`
//! through untouched. Airlock must hold even so.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running nginx, stopped when dropped.
pub struct Nginx {
    pub base: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

const BINARY: &str = "/usr/sbin/nginx";

impl Nginx {
    /// nginx proxying to `upstream` (`host:port`), or None (said loudly) when nginx is not
    /// installed.
    pub async fn start(upstream: &str) -> Option<Nginx> {
        if !std::path::Path::new(BINARY).exists() {
            eprintln!("SKIPPED (nginx): {BINARY} is not installed; the test proxy stands in");
            return None;
        }
        let dir = tempfile::tempdir().expect("dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("free port")
            .port();
        let path = dir.path().display();
        let config = format!(
            r#"
worker_processes 1;
daemon off;
error_log {path}/error.log;
pid {path}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {path}/body;
    proxy_temp_path {path}/proxy;
    fastcgi_temp_path {path}/fastcgi;
    uwsgi_temp_path {path}/uwsgi;
    scgi_temp_path {path}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://{upstream};
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
}}
"#
        );
        let config_file = dir.path().join("nginx.conf");
        std::fs::write(&config_file, config).expect("write config");
        let child = Command::new(BINARY)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&config_file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn nginx");
        let nginx = Nginx {
            base: format!("http://127.0.0.1:{port}"),
            child,
            _dir: dir,
        };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Some(nginx);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("nginx did not start on port {port}");
    }
}
