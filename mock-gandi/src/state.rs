//! What every server task and handler shares: the application state, the marks a request
//! carries, the host it named, and the shutdown signal. Below every module that serves.

use std::sync::Arc;

use axum::http::{HeaderMap, Uri};
use tokio::sync::watch;

use crate::journal::Journal;
use crate::store::ZoneStore;

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Arc<ZoneStore>,
    pub journal: Arc<Journal>,
    /// The PEM of the proxy's CA, served at `/_mock/ca.pem`.
    pub ca_pem: Option<Arc<String>>,
}

impl AppState {
    pub fn new(store: ZoneStore) -> Self {
        Self {
            store: Arc::new(store),
            journal: Arc::new(Journal::default()),
            ca_pem: None,
        }
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

/// The host the client addressed: the Host header, else the URI's authority.
pub fn request_host(headers: &HeaderMap, uri: &Uri) -> String {
    headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| uri.authority().map(|a| a.to_string()))
        .unwrap_or_default()
}
