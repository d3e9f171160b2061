//! A webhook receiver: a real HTTP (or HTTPS) server on an ephemeral port that keeps every request
//! and answers as the test scripts it. Signatures are checked with the Standard Webhooks reference
//! library, never with Airlock's own code.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::Value;

/// One request as it arrived, with the status it was (or is being) answered.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
    pub status: u16,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    pub fn webhook_id(&self) -> String {
        self.header("webhook-id")
    }

    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }

    /// Whether the reference library accepts the request under `secret`.
    pub fn verifies_with(&self, secret: &str) -> bool {
        let webhook = standardwebhooks::Webhook::new(secret).expect("a whsec_ secret");
        webhook.verify(&self.body, &self.headers).is_ok()
    }
}

/// How the receiver answers one request.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    Status(u16),
    /// Waits this long before answering 200 (past the sender's timeout, it never sees the answer).
    Hang(Duration),
}

#[derive(Default)]
struct Inner {
    received: Vec<Received>,
    script: VecDeque<Reply>,
    /// Requests under way, by webhook-id, and the most ever under way for one id.
    in_flight: HashMap<String, usize>,
    most_at_once: usize,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    default_reply: Arc<Mutex<Reply>>,
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let id = headers
        .get("webhook-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string();
    // Recorded as it arrives: a request whose sender gives up waiting is gone before it ends.
    let reply = {
        let mut inner = receiver.inner.lock().expect("lock");
        let count = inner.in_flight.entry(id.clone()).or_default();
        *count += 1;
        let now = *count;
        inner.most_at_once = inner.most_at_once.max(now);
        let scripted = inner.script.pop_front();
        let reply = scripted.unwrap_or(*receiver.default_reply.lock().expect("lock"));
        let status = match reply {
            Reply::Status(status) => status,
            Reply::Hang(_) => 200,
        };
        inner.received.push(Received {
            headers,
            body,
            status,
        });
        reply
    };
    // Counted out however the request ends, answered or dropped.
    let _leaving = Leaving(receiver.inner.clone(), id);
    match reply {
        Reply::Status(status) => StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        Reply::Hang(duration) => {
            tokio::time::sleep(duration).await;
            StatusCode::OK
        }
    }
}

/// Takes a request off the under-way count when it ends.
struct Leaving(Arc<Mutex<Inner>>, String);

impl Drop for Leaving {
    fn drop(&mut self) {
        if let Ok(mut inner) = self.0.lock()
            && let Some(count) = inner.in_flight.get_mut(&self.1)
        {
            *count = count.saturating_sub(1);
        }
    }
}

impl Receiver {
    /// A plain-HTTP receiver at `http://127.0.0.1:PORT/hooks`.
    pub async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/hooks", listener.local_addr().expect("addr"));
        let receiver = Receiver::new(url);
        let app = receiver.router();
        tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        receiver
    }

    /// An HTTPS receiver at `https://localhost:PORT/hooks`, with the certificate of `test_ca_file`.
    pub async fn start_tls() -> Receiver {
        use hyper_util::rt::{TokioExecutor, TokioIo};
        use hyper_util::server::conn::auto::Builder;
        use hyper_util::service::TowerToHyperService;

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let receiver = Receiver::new(format!("https://localhost:{port}/hooks"));
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_config()));
        let service = TowerToHyperService::new(receiver.router());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (acceptor, service) = (acceptor.clone(), service.clone());
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(stream).await {
                        Builder::new(TokioExecutor::new())
                            .serve_connection(TokioIo::new(tls), service)
                            .await
                            .ok();
                    }
                });
            }
        });
        receiver
    }

    fn new(url: String) -> Receiver {
        Receiver {
            url,
            inner: Arc::default(),
            default_reply: Arc::new(Mutex::new(Reply::Status(200))),
        }
    }

    fn router(&self) -> Router {
        Router::new()
            .route("/hooks", post(receive))
            .with_state(self.clone())
    }

    /// Answers the next requests with `replies`, in order, then as by default.
    pub fn script(&self, replies: &[Reply]) {
        self.inner.lock().expect("lock").script.extend(replies);
    }

    /// How requests are answered once the script is used up.
    pub fn answer_by_default(&self, reply: Reply) {
        *self.default_reply.lock().expect("lock") = reply;
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().expect("lock").received.clone()
    }

    /// Requests under way now.
    pub fn under_way(&self) -> usize {
        self.inner.lock().expect("lock").in_flight.values().sum()
    }

    /// The most requests ever under way at once with one webhook-id.
    pub fn most_at_once(&self) -> usize {
        self.inner.lock().expect("lock").most_at_once
    }

    /// Waits (up to `seconds`) until `done` holds for what was received; what was received then.
    pub async fn wait_for(
        &self,
        seconds: u64,
        done: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        for _ in 0..seconds * 10 {
            let received = self.received();
            if done(&received) {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let received = self.received();
        let types: Vec<String> = received
            .iter()
            .map(|r| format!("{} {}", r.status, r.json()["type"]))
            .collect();
        panic!(
            "the receiver at {} did not get what was expected; it got {types:?}",
            self.url
        );
    }

    /// Requests whose event is of `event_type`.
    pub fn of_type(received: &[Received], event_type: &str) -> usize {
        received
            .iter()
            .filter(|r| r.json()["type"] == event_type)
            .count()
    }
}

/// The certificate (for `localhost`) HTTPS receivers present, as a PEM file Airlock can be told to
/// trust (`AIRLOCK_WEBHOOK_CA_FILE`).
pub fn test_ca_file() -> std::path::PathBuf {
    static PATH: OnceLock<std::path::PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let (cert, _) = certificate();
        let name = format!("airlock-test-receiver-{}.pem", std::process::id());
        let path = std::env::temp_dir().join(name);
        std::fs::write(&path, cert).expect("write the receiver's certificate");
        path
    })
    .clone()
}

fn certificate() -> &'static (String, String) {
    static CERTIFICATE: OnceLock<(String, String)> = OnceLock::new();
    CERTIFICATE.get_or_init(|| {
        let certified =
            rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("certificate");
        (certified.cert.pem(), certified.key_pair.serialize_pem())
    })
}

fn server_config() -> rustls::ServerConfig {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let (cert, key) = certificate();
    let chain = vec![CertificateDer::from_pem_slice(cert.as_bytes()).expect("cert")];
    let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).expect("key");
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("protocols")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server config")
}
