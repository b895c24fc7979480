//! What every server task and handler shares: the application state, the marks a request
//! carries, the host it named, and the shutdown signal. Below every module that serves.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, Uri};
use tokio::sync::watch;

use crate::journal::Journal;
use crate::store::ZoneStore;

/// What every handler can reach: one shared [`Shared`], so that a clone (the router makes
/// several per request) is one reference count.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Shared>);

/// What an [`AppState`] shares.
#[derive(Debug)]
pub struct Shared {
    pub store: Arc<ZoneStore>,
    pub journal: Arc<Journal>,
    /// The PEM of the proxy's CA, served at `/_mock/ca.pem`.
    pub ca_pem: Option<Arc<String>>,
    /// What one client may hold of the mock.
    pub limits: Limits,
}

/// What a client (or a storm of them) may hold of the mock: every bound has a default that no
/// real client comes near, and `mock-gandi serve` a flag for each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once on each TCP listener (API, proxy, HTTPS, DNS over TCP).
    /// Over it, a new connection waits in the listen backlog (HTTP) or is closed at once (DNS,
    /// whose clients retry); those already open are served.
    pub max_connections: usize,
    /// Time for a client to send a request head (and a CONNECT head on the proxy); an idle
    /// keep-alive connection is closed after it.
    pub header_timeout: Duration,
    /// Largest request body read (LiveDNS and v4), at most [`Limits::MAX_BODY`].
    pub max_body: usize,
    /// A DNS-over-TCP connection with no question for this long is closed.
    pub dns_tcp_idle: Duration,
    /// Entries each journal keeps (requests, DNS questions); the oldest go first.
    pub journal_entries: usize,
}

impl Limits {
    /// The XML-RPC parser's own bound (`xmlrpc::MAX_BODY_BYTES`, held equal at compile time);
    /// `max_body` can only be lower.
    pub const MAX_BODY: usize = 1024 * 1024;
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 512,
            header_timeout: Duration::from_secs(30),
            max_body: Self::MAX_BODY,
            dns_tcp_idle: Duration::from_secs(10),
            journal_entries: crate::journal::CAPACITY,
        }
    }
}

impl AppState {
    /// A state with the default limits and no proxy CA.
    pub fn new(store: ZoneStore) -> Self {
        Self::with(store, Limits::default(), None)
    }

    /// A state with its limits (the journal keeps `limits.journal_entries`) and the PEM of
    /// the proxy's CA.
    pub fn with(store: ZoneStore, limits: Limits, ca_pem: Option<String>) -> Self {
        Self(Arc::new(Shared {
            store: Arc::new(store),
            journal: Arc::new(Journal::with_capacity(limits.journal_entries)),
            ca_pem: ca_pem.map(Arc::new),
            limits,
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// Marks a request that arrived through the HTTPS proxy (set by the proxy, read by the
/// journal and by the admin API, which refuses proxied requests).
#[derive(Debug, Clone, Copy)]
pub struct Proxied;

/// A shutdown signal: cheap to clone, resolves once for every holder.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

/// The sending side of [`Shutdown`].
#[derive(Debug)]
pub struct ShutdownTrigger(watch::Sender<bool>);

impl Shutdown {
    pub fn new() -> (ShutdownTrigger, Shutdown) {
        let (tx, rx) = watch::channel(false);
        (ShutdownTrigger(tx), Shutdown(rx))
    }

    /// Resolves when shutdown is triggered (or the trigger is dropped).
    pub async fn wait(&mut self) {
        // An error means the trigger is gone, which also means stop.
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

impl ShutdownTrigger {
    pub fn trigger(&self) {
        let _ = self.0.send(true);
    }
}

/// Whether `path` is `prefix` itself or a path below it (`/a/b` is below `/a`, `/ab` is not).
pub(crate) fn path_is_below(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The host the client addressed: the Host header, else the URI's authority.
pub fn request_host<'a>(headers: &'a HeaderMap, uri: &'a Uri) -> &'a str {
    headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
        .unwrap_or_default()
}
