//! The HTTPS proxy: `CONNECT` to a Gandi hostname on port 443, TLS with the certificate from
//! the mock's CA, then the Gandi router over that stream. The same code serves the transparent
//! HTTPS listener (`--https`), where the TLS server name (SNI) picks the host instead of the
//! CONNECT target: the same certificate, host routing, journal marking and refusals.
//!
//! Unmodified clients (lego, certbot, acme.sh) have no setting for Gandi's base URL; an HTTPS
//! proxy is the one door they all honour. It is deliberately not an open proxy: any other
//! target, any other method and anything that is not an HTTP/1.x head is refused and the
//! connection closed.
//!
//! Through the proxy each host serves only its own API (DESIGN "Hostnames"): a path that
//! belongs to another host gets the router's own unknown-path page (the same function, so the
//! same bytes), and is journaled like any other request.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::response::Response;
use http::header::{HOST, HeaderValue};
use hyper::body::Incoming;
use time::OffsetDateTime;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

use crate::era::Era;
use crate::journal::{Api, Journal, RequestEntry};
use crate::proxy_hosts::{GandiHost, host_named};
use crate::state::{Limits, Proxied, Shutdown, request_host};
use crate::tls::MockCa;

mod head;

pub(crate) use head::decide;
use head::{Refusal, decide_head, read_head, refuse};

/// Time for the TLS handshake after `200 Connection established`.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How a connection names the Gandi host it wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// `CONNECT host:443`, then TLS (the proxy).
    Connect,
    /// TLS straight away, the host in SNI (the transparent HTTPS listener, for clients that
    /// resolve Gandi's names to the mock). No or another name: a TLS alert.
    Sni,
}

/// What answers the requests inside the tunnels: the mock's Gandi router (or the recorder's
/// forwarding one), the journal of requests for a host that does not serve their path, and the
/// listener's limits.
#[derive(Clone)]
pub struct Backend {
    pub router: Router,
    pub journal: Arc<Journal>,
    pub limits: Limits,
    /// The mock's store, whose era decides which hosts answer (the beta host in its time);
    /// none for the recorder, which forwards to today's Gandi.
    pub store: Option<Arc<crate::store::ZoneStore>>,
    /// Every path goes to the router, whatever host it came to: the recorder's, whose upstream
    /// (Gandi) says itself what it answers on the wrong host. Otherwise a host serves only its
    /// own API.
    pub every_path: bool,
}

/// Serves the proxy (or the HTTPS listener) on `listener` until `shutdown`, then waits for
/// open connections to end (the handle bounds that wait).
pub async fn run(
    listener: TcpListener,
    backend: Backend,
    ca: Arc<MockCa>,
    entry: Entry,
    shutdown: Shutdown,
) {
    let Backend {
        router,
        journal,
        limits,
        store,
        every_path,
    } = backend;
    let what = match entry {
        Entry::Connect => "proxy",
        Entry::Sni => "https",
    };
    crate::listen::accept_loop(what, listener, limits, shutdown.clone(), |stream| {
        let connection = Connection {
            entry,
            ca: ca.clone(),
            router: router.clone(),
            journal: journal.clone(),
            store: store.clone(),
            every_path,
            shutdown: shutdown.clone(),
            limits,
        };
        connection.handle(stream)
    })
    .await;
}

/// What one connection needs.
struct Connection {
    entry: Entry,
    ca: Arc<MockCa>,
    router: Router,
    journal: Arc<Journal>,
    store: Option<Arc<crate::store::ZoneStore>>,
    every_path: bool,
    shutdown: Shutdown,
    limits: Limits,
}

impl Connection {
    /// The Gandi of the store's date (today without a store).
    fn era(&self) -> Era {
        self.store
            .as_ref()
            .map(|store| store.read(|s| s.era()))
            .unwrap_or_default()
    }

    async fn handle(mut self, stream: TcpStream) {
        let mut shutdown = self.shutdown.clone();
        match self.entry {
            Entry::Connect => {
                let tunnel = tokio::select! {
                    tunnel = open_tunnel(stream, &self.ca, self.limits.header_timeout, self.era()) => tunnel,
                    () = shutdown.wait() => return,
                };
                if let Some((tls, host)) = tunnel {
                    self.serve(tls, host).await;
                }
            }
            Entry::Sni => {
                let accepted = tokio::select! {
                    accepted = tokio::time::timeout(HANDSHAKE_TIMEOUT, self.ca.accept_named(stream)) => accepted,
                    () = shutdown.wait() => return,
                };
                match accepted {
                    Ok(Ok((tls, name))) => match host_named(&name) {
                        Some(host) if host.answers_in(self.era()) => self.serve(tls, host).await,
                        _ => tracing::debug!("https: no Gandi host named {name:?}"),
                    },
                    Ok(Err(e)) => tracing::debug!("https: TLS handshake refused or failed: {e}"),
                    Err(_) => tracing::debug!("https: TLS handshake timed out"),
                }
            }
        }
    }

    /// HTTP/1.1 (keep-alive) over the tunnel, until the client closes or shutdown.
    async fn serve<IO>(&mut self, tls: IO, host: &'static GandiHost)
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let router = self.router.clone();
        let journal = self.journal.clone();
        let every_path = self.every_path;
        let service = hyper::service::service_fn(move |request| {
            let router = router.clone();
            let journal = journal.clone();
            async move { Ok::<_, Infallible>(answer(request, host, every_path, router, &journal).await) }
        });
        let what = format!("proxy to {}", host.name);
        crate::listen::serve_http(&what, tls, service, self.limits, self.shutdown.clone()).await;
    }
}

/// One request inside the tunnel: marked as proxied, given a Host if it had none, then the
/// router if the path belongs to the host the client connected to (or `every_path`).
async fn answer(
    mut request: http::Request<Incoming>,
    host: &'static GandiHost,
    every_path: bool,
    router: Router,
    journal: &Journal,
) -> Response {
    request.extensions_mut().insert(Proxied);
    // HTTP/1.0 clients may omit Host; the hrefs and the journal need the host the client
    // addressed, which the CONNECT target names.
    if !request.headers().contains_key(HOST) {
        request
            .headers_mut()
            .insert(HOST, HeaderValue::from_static(host.name));
    }
    if every_path || host.serves(request.uri().path()) {
        return match router.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
    }
    // Wrong host for this path (e.g. /xmlrpc/ on api.gandi.net): the real host has no such
    // route, so answer what the router answers for any unknown path. The journal layer lives
    // inside the router, so this one request is journaled here.
    let time = OffsetDateTime::now_utc();
    let entry_host = request_host(request.headers(), request.uri()).to_string();
    let (scheme, content_type) = (
        crate::journal::auth_scheme(request.headers()),
        crate::journal::content_type(request.headers()),
    );
    let method = request.method().clone();
    let uri = request.uri().clone();
    let response = crate::livedns::unknown_route(method.clone(), uri.clone()).await;
    journal.record_request(RequestEntry {
        time,
        // It reached no API.
        api: Api::Other,
        host: entry_host,
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().map(str::to_string),
        xmlrpc_method: None,
        status: response.status().as_u16(),
        fault_code: None,
        auth: None,
        scheme,
        content_type,
        proxied: true,
        fault: None,
        body: None,
        abandoned: false,
        closed: None,
        rate_limited: false,
    });
    response
}

/// Reads the CONNECT head and answers it; on success, completes the TLS handshake. Every
/// refusal is answered and the connection closed here.
async fn open_tunnel(
    stream: TcpStream,
    ca: &MockCa,
    head_timeout: Duration,
    era: Era,
) -> Option<(
    impl AsyncRead + AsyncWrite + Unpin + Send + 'static,
    &'static GandiHost,
)> {
    // A BufReader, not raw reads: the client may send its TLS ClientHello right behind the
    // head; whatever was read past the head stays buffered and goes to the TLS handshake.
    let mut io = tokio::io::BufReader::new(stream);
    let decision = match tokio::time::timeout(head_timeout, read_head(&mut io)).await {
        Ok(read) => decide_head(read),
        Err(_) => Err(Some(Refusal::timeout())),
    };
    // A host of another time is any other name today.
    let decision = decision.and_then(|(host, version)| {
        if host.answers_in(era) {
            Ok((host, version))
        } else {
            Err(Some(Refusal::not_open(version)))
        }
    });
    let (host, version) = match decision {
        Ok(target) => target,
        Err(None) => return None,
        Err(Some(refusal)) => {
            refuse(&mut io, &refusal).await;
            return None;
        }
    };
    // The status line echoes the client's version: HTTP/1.0 clients (Python's http.client)
    // get an HTTP/1.0 answer; both Python and Go accept either, but echoing is what proxies do.
    let established = format!("{} 200 Connection established\r\n\r\n", version.as_str());
    if io.write_all(established.as_bytes()).await.is_err() || io.flush().await.is_err() {
        return None;
    }
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, ca.accept(io)).await {
        Ok(Ok(tls)) => Some((tls, host)),
        Ok(Err(e)) => {
            tracing::debug!("proxy: TLS handshake for {} failed: {e}", host.name);
            None
        }
        Err(_) => {
            tracing::debug!("proxy: TLS handshake for {} timed out", host.name);
            None
        }
    }
}
