//! Peers that trickle a request (slowloris) lose their connection instead of holding it: the
//! headers and the body each have a time limit. Raw sockets, where a client library would send
//! the request at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, TestServer, fresh_database};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use whisper::config::Config;

/// Sends `start`, then `chunk` every 100 ms (for at most 10 s) while reading what the server
/// says, until the server closes the connection or `enough` is satisfied with what it said;
/// `None` if neither happened in 10 s.
async fn trickle(
    server: &TestServer,
    start: &str,
    chunk: &[u8],
    enough: impl Fn(&str) -> bool,
) -> Option<String> {
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let (mut reader, mut writer) = tcp.into_split();
    writer.write_all(start.as_bytes()).await.unwrap();
    let chunk = chunk.to_vec();
    let dripping = tokio::spawn(async move {
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if writer.write_all(&chunk).await.is_err() {
                return;
            }
        }
    });
    let mut said = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buffer = [0u8; 1024];
        loop {
            match reader.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => said.extend_from_slice(&buffer[..n]),
            }
            if enough(&String::from_utf8_lossy(&said)) {
                return;
            }
        }
    })
    .await;
    dripping.abort();
    closed
        .ok()
        .map(|()| String::from_utf8_lossy(&said).into_owned())
}

async fn server(config: impl FnOnce(&mut Config)) -> (common::TestDatabase, TestServer) {
    let database = fresh_database(Backend::Sqlite).await.unwrap();
    let mut settings = Config::for_database(database.url.clone());
    config(&mut settings);
    let server = TestServer::start_with(settings).await;
    (database, server)
}

#[tokio::test]
async fn headers_sent_a_line_at_a_time_are_cut_off() {
    let (_database, server) = server(|config| config.header_timeout_seconds = 0.5).await;
    let start = "GET /login HTTP/1.1\r\nHost: x\r\n";
    let said = trickle(&server, start, b"X-Slow: 1\r\n", |_| false).await;
    assert!(said.is_some(), "the server closes the connection");
}

#[tokio::test]
async fn a_body_sent_a_byte_at_a_time_is_cut_off() {
    let (_database, server) = server(|config| config.body_timeout_seconds = 0.5).await;
    // The set-up form (no account exists yet): its handler reads the body first.
    let start = "POST /auth/setup HTTP/1.1\r\nHost: x\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n";
    let said = trickle(&server, start, b"a", |said| said.contains("\r\n"))
        .await
        .expect("the server answers");
    let status = said.lines().next().unwrap_or_default();
    assert!(
        status.starts_with("HTTP/1.1 4"),
        "refused, not served: {status:?}"
    );
}
