//! The accept loop every HTTP listener shares (the direct API, the proxy, the HTTPS listener):
//! at most `Limits::max_connections` connections served at once, the next ones left waiting in
//! the listen backlog, and on shutdown a wait for the open ones to end (the handle bounds it).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::server::Direct;
use crate::state::{Limits, Shutdown};

/// Accepts until `shutdown`, each connection handed to `handle` on its own task while it holds
/// one of `limits.max_connections` slots.
pub(crate) async fn accept_loop<F, Fut>(
    what: &'static str,
    listener: TcpListener,
    limits: Limits,
    mut shutdown: Shutdown,
    handle: F,
) where
    F: Fn(TcpStream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let slots = limits.max_connections.max(1);
    let free = Arc::new(Semaphore::new(slots));
    loop {
        let permit = tokio::select! {
            () = shutdown.wait() => break,
            permit = free.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            () = shutdown.wait() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Typically out of file descriptors: pause instead of spinning.
                    tracing::warn!("{what}: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Answers are small and a client waits for each one: no Nagle delay.
        let _ = stream.set_nodelay(true);
        let connection = handle(stream);
        tokio::spawn(async move {
            connection.await;
            drop(permit);
        });
    }
    drop(listener);
    // Every slot back means every connection has ended.
    let _ = free
        .acquire_many(u32::try_from(slots).unwrap_or(u32::MAX))
        .await;
}

/// Serves `service` over HTTP/1.1 (keep-alive) on one connection: a request head must arrive
/// within `limits.header_timeout` (an idle connection ends after it), and shutdown lets the
/// request in flight finish while an idle connection ends at once. The direct listener serves
/// its router this way, the proxy each tunnel.
pub(crate) async fn serve_http<IO, S, B>(
    what: &str,
    io: IO,
    service: S,
    limits: Limits,
    mut shutdown: Shutdown,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::Service<http::Request<hyper::body::Incoming>, Response = http::Response<B>>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    S::Future: Send + 'static,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let connection = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = shutdown.wait() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = result {
        tracing::debug!("{what}: connection ended: {e}");
    }
}

/// The direct listener's connections: `direct` (the router) over [`serve_http`].
pub(crate) async fn serve_direct<IO>(io: IO, direct: Direct, limits: Limits, shutdown: Shutdown)
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper_util::service::TowerToHyperService::new(direct);
    serve_http("api", io, service, limits, shutdown).await;
}
