//! An SMTP sink: a real SMTP server on an ephemeral port that accepts every message and keeps it,
//! for tests that must see what a live environment sends (and that a test environment sends
//! nothing).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One message as the sink received it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent (headers and body, dot-unstuffed).
    pub data: String,
}

impl Mail {
    /// The first URL in the message that contains `path`.
    pub fn link(&self, path: &str) -> Option<String> {
        let unfolded = self.data.replace("=\r\n", "").replace("=3D", "=");
        unfolded
            .split(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '>')
            .find(|word| word.starts_with("http") && word.contains(path))
            .map(str::to_string)
    }
}

#[derive(Clone)]
pub struct SmtpSink {
    pub url: String,
    received: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpSink {
    /// One sink for the whole test binary, on a runtime of its own (each test has its own runtime,
    /// and servers are configured with a plain function): tests tell their mail apart by address.
    pub fn shared() -> &'static SmtpSink {
        static SINK: std::sync::OnceLock<SmtpSink> = std::sync::OnceLock::new();
        SINK.get_or_init(|| {
            let (ready, started) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(async move {
                    ready.send(SmtpSink::start().await).ok();
                    std::future::pending::<()>().await;
                });
            });
            started.recv().expect("the SMTP sink starts")
        })
    }

    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("addr");
        let sink = SmtpSink {
            url: format!("smtp://{address}"),
            received: Arc::default(),
        };
        let received = sink.received.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let received = received.clone();
                tokio::spawn(async move {
                    session(stream, received).await.ok();
                });
            }
        });
        sink
    }

    pub fn received(&self) -> Vec<Mail> {
        self.received.lock().expect("lock").clone()
    }

    /// Waits (up to `seconds`) for a message to `to`.
    pub async fn wait_for(&self, to: &str, seconds: u64) -> Mail {
        for _ in 0..seconds * 10 {
            if let Some(mail) = self
                .received()
                .into_iter()
                .find(|m| m.to.iter().any(|t| t.contains(to)))
            {
                return mail;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no mail to {to} reached the sink");
    }
}

async fn session(
    stream: tokio::net::TcpStream,
    received: Arc<Mutex<Vec<Mail>>>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 sink ESMTP\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    while let Some(line) = lines.next_line().await? {
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("HELO")
            || upper.starts_with("RSET")
            || upper.starts_with("NOOP")
        {
            b"250 ok\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = line[10..].trim().to_string();
            b"250 ok\r\n"
        } else if upper.starts_with("RCPT TO:") {
            to.push(line[8..].trim().to_string());
            b"250 ok\r\n"
        } else if upper.starts_with("DATA") {
            write.write_all(b"354 go ahead\r\n").await?;
            let mut data = String::new();
            while let Some(line) = lines.next_line().await? {
                if line == "." {
                    break;
                }
                let line = line
                    .strip_prefix('.')
                    .filter(|_| line.starts_with(".."))
                    .unwrap_or(&line);
                data.push_str(line);
                data.push_str("\r\n");
            }
            received.lock().expect("lock").push(Mail {
                from: std::mem::take(&mut from),
                to: std::mem::take(&mut to),
                data,
            });
            b"250 queued\r\n"
        } else if upper.starts_with("QUIT") {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"502 not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
    Ok(())
}
