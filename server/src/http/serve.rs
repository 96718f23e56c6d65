//! The HTTP server loop: axum's router over hyper, with the limits `axum::serve` does not set.
//!
//! A peer gets `WHISPER_HEADER_TIMEOUT_SECONDS` to send a request's headers, and
//! `WHISPER_BODY_TIMEOUT_SECONDS` for the whole request (`lib::router`), so slowly trickled
//! headers or bodies (slowloris) cannot hold connections open. Each request carries its peer
//! address as [`ConnectInfo`], as with `into_make_service_with_connect_info`. On shutdown the
//! listener stops, connections finish the request in hand, and the loop waits at most `DRAIN`
//! for them.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::watch;
use tower::ServiceExt;

/// Longest shutdown waits for open requests to finish.
const DRAIN: Duration = Duration::from_secs(10);

/// Connections the kernel may keep waiting for the accept loop. A connect storm or a reconnect
/// wave opens thousands at once. With the queue `TcpListener::bind` asks for (128, mio's and the
/// standard library's default), a storm of 10,000 sockets overflowed it thousands of times a run
/// (`TcpExtListenOverflows`; BENCHMARKS.md, "The listen queue in a connect storm"), and each
/// packet dropped there waits for a retransmission. Linux caps the queue at
/// `net.core.somaxconn` (4,096 by default since Linux 5.4).
const BACKLOG: u32 = 4096;

/// A listener on `addr`, as `TcpListener::bind` makes one but with a queue of [`BACKLOG`].
/// Call it inside the tokio runtime, which the listener registers with.
pub fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    // As `TcpListener::bind` sets it on Unix: a restarted server can bind while old sockets
    // linger. (On Windows the option would let another process take the port.)
    #[cfg(not(windows))]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// Serves `app` on `listener` until `shutdown` resolves; a peer has `header_timeout` to send
/// each request's headers.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let (stop, stopping) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, say: wait a moment rather than spin.
                    tracing::warn!(%err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Without it, Nagle's algorithm holds a small write back until the peer acknowledges
        // the previous one, and peers delay their acknowledgements (40 ms, on Windows up to
        // 200 ms): the second of two quick messages waited until the client next sent
        // something. The socket writer gathers its frames itself (see `ws::WRITE_BUFFER_BYTES`).
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(%err, %peer, "could not set TCP_NODELAY");
        }
        let app = app.clone();
        let service = tower::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(request.map(Body::new))
        });
        let mut stopping = stopping.clone();
        tokio::spawn(async move {
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let connection = http
                .serve_connection(TokioIo::new(tcp), TowerToHyperService::new(service))
                .with_upgrades();
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(err) = result {
                        tracing::debug!(%err, %peer, "connection ended with an error");
                    }
                }
                _ = stopping.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            // `stopping` dropped here: shutdown counts this connection done.
        });
    }
    // Closed at once: a client reconnecting after its socket's 1012 is refused here and goes to
    // another node, rather than waiting in the backlog of a node that no longer accepts.
    drop(listener);
    drop(stopping);
    let _ = stop.send(());
    // Every connection task holds a receiver; all gone means all finished.
    let _ = tokio::time::timeout(DRAIN, stop.closed()).await;
}
