//! Serves an axum router until told to stop, then lets open connections finish, holding every
//! connection to limits from its first byte: a time limit while it has no request in flight
//! (protocol detection, the first request's headers, HTTP/2's preface, the pause between
//! requests), a time limit on HTTP/1 headers once they start, HTTP/2 keep-alive pings and a cap
//! on its streams, and a bound on open connections. Shared by `mmerr mock` and `mmerr proxy`.
//!
//! Written with hyper's connection builder rather than `axum::serve` because axum exposes none
//! of these settings, and hyper's own header timeout starts only after protocol detection has
//! read the first bytes (so a client that sends nothing is never cut) and does not cover HTTP/2.
//!
//! At the bound, an idle connection makes room for the new one: one that never sent a byte
//! first, then one that sent no request, then the one idle longest; each only after a second's
//! grace (for its request, or a kept-alive client's next). So idle or hostile clients cannot
//! lock out working ones; when no connection can make room, the new one gets a 503.
//!
//! ```
//! # async fn run() -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let router = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let server = tokio::spawn(minimax_serve::serve(
//!     listener,
//!     router,
//!     minimax_serve::Limits::default(),
//!     async move {
//!         let _ = stopped.await;
//!     },
//! ));
//! let _ = stop.send(());
//! server.await.expect("the server task")?;
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod registry;

use axum::Router;
use axum::body::Body;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use registry::{Admission, Registry};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

/// The limits every accepted connection is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A connection with no request in flight is closed after this long: from the moment it is
    /// accepted (a client that sends nothing, or only HTTP/2's preface) and after each answer.
    pub idle: Duration,
    /// How long an HTTP/1 request's headers may take once they have started.
    pub headers: Duration,
    /// Connections open at once; also held under what the process's descriptor limit allows.
    pub max_connections: usize,
    /// HTTP/2 streams one connection may have open at once.
    pub max_streams: u32,
    /// How often an HTTP/2 connection is pinged; one that does not answer within the same
    /// time is closed.
    pub keep_alive: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            idle: Duration::from_secs(30),
            headers: Duration::from_secs(30),
            max_connections: 1024,
            max_streams: 128,
            keep_alive: Duration::from_secs(20),
        }
    }
}

/// Descriptors kept back from connections (listeners, logs, the runtime, files).
const RESERVED_DESCRIPTORS: u64 = 64;

impl Limits {
    /// The bound on open connections in force: `max_connections`, and no more than half of the
    /// descriptors the process may open beyond a reserve, since a connection may need a
    /// second one (the proxy's call upstream). At least one.
    pub fn connections_allowed(&self) -> usize {
        let descriptors = rlimit::getrlimit(rlimit::Resource::NOFILE)
            .map_or(u64::MAX, |(soft, _)| soft)
            .saturating_sub(RESERVED_DESCRIPTORS)
            / 2;
        let descriptors = usize::try_from(descriptors).unwrap_or(usize::MAX);
        self.max_connections.min(descriptors).max(1)
    }
}

/// Refusals written at once at most; past that a refused connection is closed unanswered.
const MAX_REFUSING: usize = 64;

/// Serves `router` on `listener` until `stop` completes, holding connections to `limits`.
/// Connections open when `stop` completes are served to their end.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    stop: impl Future<Output = ()>,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.headers);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.max_streams)
        .keep_alive_interval(limits.keep_alive)
        .keep_alive_timeout(limits.keep_alive);
    let allowed = limits.connections_allowed();
    let registry = Arc::new(Registry::new(allowed));
    let refusing = Arc::new(AtomicUsize::new(0));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors, say: wait a moment rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let connection = match registry.admit() {
            Admission::Admitted(connection) => connection,
            Admission::Full => {
                refuse(stream, allowed, &refusing);
                continue;
            }
        };
        let tracked = Arc::clone(&connection);
        let router = router.clone();
        let service = tower::service_fn(move |request: http::Request<Incoming>| {
            let request_guard = tracked.request_started();
            let answer = router.clone().oneshot(request.map(Body::new));
            async move {
                let response = answer.await?;
                // The request is in flight until its answer's body is sent or dropped.
                Ok::<_, std::convert::Infallible>(response.map(|body| {
                    Body::new(body.map_frame(move |frame| {
                        let _in_flight = &request_guard;
                        frame
                    }))
                }))
            }
        });
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let idle = limits.idle;
        tokio::spawn(async move {
            let speaking = &connection;
            let serve = async move {
                // Until its first bytes, a connection is the first to make room for others.
                if stream.readable().await.is_err() {
                    return;
                }
                speaking.spoke();
                let served = builder.serve_connection_with_upgrades(
                    TokioIo::new(stream),
                    hyper_util::service::TowerToHyperService::new(service),
                );
                let _ = watcher.watch(served.into_owned()).await;
            };
            tokio::select! {
                () = serve => {}
                () = connection.closed(idle) => {}
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Answers a connection over the bound with a 503 and closes it; bounded in time and number.
fn refuse(mut stream: TcpStream, allowed: usize, refusing: &Arc<AtomicUsize>) {
    if refusing.fetch_add(1, Ordering::Relaxed) >= MAX_REFUSING {
        refusing.fetch_sub(1, Ordering::Relaxed);
        return;
    }
    let refusing = Arc::clone(refusing);
    tokio::spawn(async move {
        let body = format!(
            "too many open connections ({allowed}), each with a request in flight; try again shortly\n"
        );
        let answer = format!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        let _ =
            tokio::time::timeout(Duration::from_secs(1), stream.write_all(answer.as_bytes())).await;
        refusing.fetch_sub(1, Ordering::Relaxed);
    });
}
