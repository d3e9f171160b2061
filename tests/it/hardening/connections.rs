//! Connections bounded in number and time (item 3).

use crate::backend_test;
use crate::harness::server::http;
use crate::harness::{Options, TestServer};

fn tight_connection_limits() -> Options {
    Options {
        tls: true,
        configure: Some(|config| {
            config.max_connections = 4;
            config.idle_timeout = 1;
            config.header_read_timeout = 1;
            config.tls_handshake_timeout = 1;
        }),
        ..Options::default()
    }
}

/// Whether the server closes `socket` within a few seconds, while `trickle` (if any) keeps
/// sending it a byte every 200 ms.
async fn closed_by_the_server(socket: &mut tokio::net::TcpStream, trickle: bool) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buffer = [0u8; 256];
    let give_up = tokio::time::Instant::now() + std::time::Duration::from_secs(6);
    while tokio::time::Instant::now() < give_up {
        let wait = std::time::Duration::from_millis(200);
        match tokio::time::timeout(wait, socket.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
            Err(_) if trickle => {
                if socket.write_all(b"x").await.is_err() {
                    return true;
                }
            }
            Err(_) => {}
        }
    }
    false
}

/// Item 3: idle sockets, trickled headers and stalled TLS handshakes are closed after bounded,
/// configurable times, and a connection cap keeps them from exhausting the process: once the
/// silent ones are closed, `/healthz` answers again.
async fn connections_are_bounded_in_number_and_time(server: &TestServer) {
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpStream;
    let address = server.base.trim_start_matches("http://").to_string();
    let mut silent = Vec::new();
    for _ in 0..4 {
        silent.push(TcpStream::connect(&address).await.expect("connect"));
    }
    let health = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        http().get(format!("{}/healthz", server.base)).send(),
    )
    .await
    .expect("healthz answers once the silent connections are closed")
    .expect("healthz");
    assert_eq!(health.status().as_u16(), 200);
    for socket in &mut silent {
        assert!(closed_by_the_server(socket, false).await, "an idle socket");
    }

    let mut slow = TcpStream::connect(&address).await.expect("connect");
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .expect("write");
    assert!(
        closed_by_the_server(&mut slow, true).await,
        "trickled headers"
    );

    let tls = server.tls_addr.expect("tls listener");
    let mut stalled = TcpStream::connect(tls).await.expect("connect");
    assert!(
        closed_by_the_server(&mut stalled, false).await,
        "a stalled handshake"
    );
}
backend_test!(
    connections_are_bounded_in_number_and_time,
    super::tight_connection_limits()
);
