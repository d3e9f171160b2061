//! How both listeners (plain HTTP and the custom domains' TLS) accept and serve connections, with
//! bounds a hostile client cannot stretch: at most `max_connections` open at once (more wait in the
//! kernel's backlog), a TLS handshake timeout, a header read timeout (a request whose first bytes
//! came in must be answered within it, so headers trickled in a byte at a time do not hold the
//! connection), and an idle timeout that closes a connection on which no byte has moved either way
//! for that long. A once-a-second watchdog per connection enforces both from two counters, so the
//! request path pays for neither a timer nor a clock read.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Extension;
use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::MissedTickBehavior;
use tokio_rustls::TlsAcceptor;
use tower::Layer;

use crate::config::Config;

/// The application as one connection serves it: the router, with the peer's address.
type Connected = <Extension<ConnectInfo<SocketAddr>> as Layer<Router>>::Service;

/// Bounds on every connection of a listener.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub tls_handshake_timeout: Duration,
    pub max_connections: usize,
}

impl ConnectionLimits {
    pub fn of(config: &Config) -> Self {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(config.header_read_timeout),
            idle_timeout: Duration::from_secs(config.idle_timeout),
            tls_handshake_timeout: Duration::from_secs(config.tls_handshake_timeout),
            max_connections: usize::try_from(config.max_connections).unwrap_or(usize::MAX),
        }
    }
}

/// Accepts connections on `listener` until the process stops, and serves `router` on each, after a
/// TLS handshake when there is an `acceptor`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    acceptor: Option<TlsAcceptor>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of descriptors, say: give connections time to close rather than spin.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // The peer's address, for every request of the connection (one layer around the router).
        let service = Extension(ConnectInfo::<SocketAddr>(peer)).layer(router.clone());
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let _slot = slot;
            match acceptor {
                None => serve_connection(stream, service, limits).await,
                Some(acceptor) => {
                    let handshake = acceptor.accept(stream);
                    if let Ok(Ok(tls)) =
                        tokio::time::timeout(limits.tls_handshake_timeout, handshake).await
                    {
                        serve_connection(tls, service, limits).await;
                    }
                }
            }
        });
    }
}

async fn serve_connection<S>(io: S, service: Connected, limits: ConnectionLimits)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let traffic = Arc::new(Traffic::default());
    let io = Watched {
        inner: io,
        traffic: traffic.clone(),
    };
    // The connection runs as a task of its own, so its requests pay nothing for the watchdog,
    // which wakes once a tick and aborts the task (closing the socket) when a timeout has passed.
    let mut serving = tokio::spawn(async move {
        let builder = auto::Builder::new(TokioExecutor::new());
        let connection =
            builder.serve_connection(TokioIo::new(io), TowerToHyperService::new(service));
        if let Err(error) = connection.await {
            tracing::debug!(%error, "connection ended with an error");
        }
    });
    let mut watch = Watch::default();
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + TICK, TICK);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = &mut serving => return,
            _ = ticks.tick() => {
                if watch.is_overdue(&traffic, limits) {
                    serving.abort();
                    return;
                }
            }
        }
    }
}

/// How often a connection's traffic is looked at: the resolution of both timeouts.
const TICK: Duration = Duration::from_secs(1);

/// Reads and writes that moved bytes on a connection, counted (one relaxed increment each: the
/// request path pays nothing else for the timeouts).
#[derive(Debug, Default)]
struct Traffic {
    reads: AtomicU64,
    writes: AtomicU64,
}

/// What the watchdog saw at its last tick, and for how many ticks the connection has been silent,
/// or has had a request read (bytes since the last answer) and not answered.
#[derive(Debug, Default)]
struct Watch {
    reads: u64,
    writes: u64,
    reads_at_last_write: u64,
    silent_ticks: u64,
    unanswered_ticks: u64,
}

impl Watch {
    /// Whether the connection has been silent for `idle_timeout`, or has held a request it began to
    /// send (headers trickling in, say) unanswered for `header_read_timeout`.
    fn is_overdue(&mut self, traffic: &Traffic, limits: ConnectionLimits) -> bool {
        let reads = traffic.reads.load(Ordering::Relaxed);
        let writes = traffic.writes.load(Ordering::Relaxed);
        if writes != self.writes {
            self.reads_at_last_write = reads;
        }
        self.silent_ticks = if reads == self.reads && writes == self.writes {
            self.silent_ticks + 1
        } else {
            0
        };
        self.unanswered_ticks = if reads > self.reads_at_last_write {
            self.unanswered_ticks + 1
        } else {
            0
        };
        (self.reads, self.writes) = (reads, writes);
        let ticks = |timeout: Duration| timeout.as_secs().div_ceil(TICK.as_secs()).max(1);
        self.silent_ticks >= ticks(limits.idle_timeout)
            || self.unanswered_ticks >= ticks(limits.header_read_timeout)
    }
}

/// A stream that counts every read or write that moved bytes.
struct Watched<S> {
    inner: S,
    traffic: Arc<Traffic>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.traffic.reads.fetch_add(1, Ordering::Relaxed);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(written)) if written > 0) {
            self.traffic.writes.fetch_add(1, Ordering::Relaxed);
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(written)) if written > 0) {
            self.traffic.writes.fetch_add(1, Ordering::Relaxed);
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ConnectionLimits {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(2),
            idle_timeout: Duration::from_secs(3),
            tls_handshake_timeout: Duration::from_secs(1),
            max_connections: 1,
        }
    }

    #[test]
    fn a_silent_connection_is_overdue_after_the_idle_timeout() {
        let (traffic, mut watch) = (Traffic::default(), Watch::default());
        assert!(!watch.is_overdue(&traffic, limits()));
        assert!(!watch.is_overdue(&traffic, limits()));
        assert!(watch.is_overdue(&traffic, limits()));
    }

    #[test]
    fn a_trickled_request_is_overdue_after_the_header_timeout() {
        let (traffic, mut watch) = (Traffic::default(), Watch::default());
        traffic.reads.fetch_add(1, Ordering::Relaxed);
        assert!(!watch.is_overdue(&traffic, limits()));
        traffic.reads.fetch_add(1, Ordering::Relaxed);
        assert!(watch.is_overdue(&traffic, limits()), "still unanswered");
    }

    #[test]
    fn answered_requests_keep_a_connection_alive() {
        let (traffic, mut watch) = (Traffic::default(), Watch::default());
        for _ in 0..10 {
            traffic.reads.fetch_add(1, Ordering::Relaxed);
            traffic.writes.fetch_add(1, Ordering::Relaxed);
            assert!(!watch.is_overdue(&traffic, limits()));
        }
    }
}
