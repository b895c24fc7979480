//! Authoritative DNS over UDP and TCP on one port, answering from the store (placeholder).

use std::sync::Arc;

use tokio::net::{TcpListener, UdpSocket};

use crate::journal::Journal;
use crate::server::Shutdown;
use crate::store::ZoneStore;

/// Serves DNS on `udp` and `tcp` (bound to the same port) until `shutdown`.
pub async fn run(
    _udp: UdpSocket,
    _tcp: TcpListener,
    _store: Arc<ZoneStore>,
    _journal: Arc<Journal>,
    mut shutdown: Shutdown,
) {
    shutdown.wait().await;
}

/// What DNS would answer for `name` and `rtype` now, as JSON (`GET /_mock/resolve`).
pub fn resolve_json(
    _store: &ZoneStore,
    name: &str,
    rtype: &str,
) -> Result<serde_json::Value, String> {
    Err(format!("cannot resolve {name} {rtype} yet"))
}
