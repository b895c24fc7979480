//! The HTTPS proxy: `CONNECT` to a Gandi hostname, TLS with a certificate from the mock's CA,
//! then the Gandi router over that stream (placeholder: filled by the proxy work).

use std::sync::Arc;

use tokio::net::TcpListener;

use crate::server::{AppState, Shutdown};
use crate::tls::MockCa;

/// Serves the proxy on `listener` until `shutdown`.
pub async fn run(
    _listener: TcpListener,
    _state: AppState,
    _ca: Arc<MockCa>,
    mut shutdown: Shutdown,
) {
    shutdown.wait().await;
}
