//! Serves an axum router until told to stop, then lets open connections finish. Written with
//! hyper's connection builder rather than `axum::serve` for one setting axum does not expose: a
//! time limit on reading a request's headers, so a client that sends them a byte at a time
//! cannot hold a connection open for ever. Shared by `mmerr mock` and `mmerr proxy`.
//!
//! ```
//! # async fn run() -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let router = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let server = tokio::spawn(minimax_serve::serve(
//!     listener,
//!     router,
//!     std::time::Duration::from_secs(10),
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

use axum::Router;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;

/// Serves `router` on `listener` until `stop` completes; requests whose headers take longer
/// than `header_timeout` to arrive are cut off. Connections open when `stop` completes are
/// served to their end.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    header_timeout: Duration,
    stop: impl Future<Output = ()>,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
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
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
