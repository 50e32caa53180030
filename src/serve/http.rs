//! The HTTP server under the web chat and the console: hyper's HTTP/1 with the limits an open
//! network needs, which `axum::serve` does not set. A request's headers must arrive within
//! `header_timeout` (a client trickling a half-sent request is cut off), and at most
//! `max_connections` are open at once (each holds a file handle; past the cap new ones wait
//! in the kernel's queue rather than exhausting the process's handles, so the database and
//! the platforms still get theirs). On shutdown, connections finish their request in flight.

use crate::config::ProxyNet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;

/// The server's limits.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Arc<Vec<ProxyNet>>,
}

/// The client a request comes from: the connection's peer, or, when the peer is a trusted
/// proxy, the nearest address in `X-Forwarded-For` that is not itself a trusted proxy.
fn client_address(peer: SocketAddr, headers: &HeaderMap, trusted: &[ProxyNet]) -> SocketAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(peer.ip()) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if is_trusted(ip) => {}
            Ok(ip) => return SocketAddr::new(ip, 0),
            Err(_) => break,
        }
    }
    peer
}

/// The most connections the process's file handle limit leaves room for: handles are also
/// needed for the database, the platforms and the mail server.
pub fn connection_cap(wanted: Option<usize>) -> usize {
    let handles = open_files_limit().unwrap_or(1024);
    let room = handles.saturating_sub(128).max(16);
    wanted.unwrap_or(4096).min(room).max(1)
}

/// The soft limit on open files (Linux: /proc/self/limits).
fn open_files_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Serves `app` until `shutdown`, then lets open connections finish (their event streams
/// end with the same token) for at most `grace`. Each request carries the client's address
/// as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: CancellationToken,
    grace: Duration,
) {
    let open = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        let permit = tokio::select! {
            permit = open.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = shutdown.cancelled() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file handles, or a connection reset before it was taken:
                    // pause rather than spin, and carry on.
                    tracing::warn!(error = %e, "HTTP: cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let app = app.clone();
        let shutdown = shutdown.clone();
        let trusted = limits.trusted_proxies.clone();
        let header_timeout = limits.header_timeout;
        tokio::spawn(async move {
            let _permit = permit;
            let service = TowerToHyperService::new(app.map_request(
                move |mut request: hyper::Request<Incoming>| {
                    let client = client_address(peer, request.headers(), &trusted);
                    request.extensions_mut().insert(ConnectInfo(client));
                    request.map(Body::new)
                },
            ));
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let connection = builder
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            tokio::pin!(connection);
            tokio::select! {
                served = connection.as_mut() => {
                    if let Err(e) = served {
                        tracing::debug!(error = %e, %peer, "HTTP: a connection ended with an error");
                    }
                }
                () = shutdown.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    // No new connections while the open ones finish.
    drop(listener);
    // Every connection holds a permit: all of them back means all closed.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(grace, open.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("some connections did not finish in time; closing them");
    }
}
