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
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt,
};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

use crate::era::Era;
use crate::journal::{Api, Journal, RequestEntry};
use crate::proxy_hosts::{GandiHost, allowed_targets, host_named};
use crate::state::{AppState, Limits, Proxied, Shutdown, request_host};
use crate::tls::MockCa;

/// A request head longer than this is refused (431). Real CONNECT heads are a few hundred
/// bytes; the bound keeps a misbehaving client from growing a buffer without end.
const MAX_HEAD: usize = 8 * 1024;
/// Time for the TLS handshake after `200 Connection established`.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// After a refusal, how long unread input is drained before closing: closing a socket with
/// unread bytes sends a reset, which can destroy the refusal before the client reads it.
const LINGER: Duration = Duration::from_millis(500);
const LINGER_BYTES: usize = 64 * 1024;

/// How a connection names the Gandi host it wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// `CONNECT host:443`, then TLS (the proxy).
    Connect,
    /// TLS straight away, the host in SNI (the transparent HTTPS listener, for clients that
    /// resolve Gandi's names to the mock). No or another name: a TLS alert.
    Sni,
}

/// Serves the proxy (or the HTTPS listener) on `listener` until `shutdown`, then waits for
/// open connections to end (the handle bounds that wait).
pub async fn run(
    listener: TcpListener,
    state: AppState,
    ca: Arc<MockCa>,
    entry: Entry,
    shutdown: Shutdown,
) {
    let router = crate::server::gandi_router(state.clone());
    let limits = state.limits;
    let what = match entry {
        Entry::Connect => "proxy",
        Entry::Sni => "https",
    };
    crate::listen::accept_loop(what, listener, limits, shutdown.clone(), |stream| {
        let connection = Connection {
            entry,
            ca: ca.clone(),
            router: router.clone(),
            journal: state.journal.clone(),
            store: state.store.clone(),
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
    /// For the era, which decides whether the beta host answers.
    store: Arc<crate::store::ZoneStore>,
    shutdown: Shutdown,
    limits: Limits,
}

impl Connection {
    async fn handle(mut self, stream: TcpStream) {
        let mut shutdown = self.shutdown.clone();
        match self.entry {
            Entry::Connect => {
                let tunnel = tokio::select! {
                    tunnel = open_tunnel(stream, &self.ca, self.limits.header_timeout, self.store.read(|s| s.era())) => tunnel,
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
                        Some(host) if host.answers_in(self.store.read(|s| s.era())) => {
                            self.serve(tls, host).await;
                        }
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
        let service = hyper::service::service_fn(move |request| {
            let router = router.clone();
            let journal = journal.clone();
            async move { Ok::<_, Infallible>(answer(request, host, router, &journal).await) }
        });
        let what = format!("proxy to {}", host.name);
        crate::listen::serve_http(&what, tls, service, self.limits, self.shutdown.clone()).await;
    }
}

/// One request inside the tunnel: marked as proxied, given a Host if it had none, then the
/// router if the path belongs to the host the client connected to.
async fn answer(
    mut request: http::Request<Incoming>,
    host: &'static GandiHost,
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
    if host.serves(request.uri().path()) {
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

fn first_line(head: &[u8]) -> String {
    let end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    String::from_utf8_lossy(&head[..end]).trim_end().to_string()
}

#[derive(Debug, PartialEq, Eq)]
enum HeadError {
    /// The client closed (or reset) before sending a whole head.
    Closed,
    Malformed,
    TooLarge,
}

/// Reads up to and including the empty line that ends the head, never past it. Bytes that
/// cannot appear in an HTTP head (a TLS ClientHello sent to the proxy by mistake, say) are
/// refused as soon as they arrive rather than after a timeout.
async fn read_head<R: AsyncBufRead + Unpin>(io: &mut R) -> Result<Vec<u8>, HeadError> {
    let mut head = Vec::with_capacity(512);
    let mut in_request_line = true;
    loop {
        let buf = io.fill_buf().await.map_err(|_| HeadError::Closed)?;
        if buf.is_empty() {
            return Err(HeadError::Closed);
        }
        let mut used = 0;
        let mut outcome = None;
        for &b in buf {
            used += 1;
            let allowed = match b {
                b'\t' | b'\r' | b'\n' | 0x20..=0x7e => true,
                // obs-text may appear in header values, never in the request line.
                0x80..=0xff => !in_request_line,
                _ => false,
            };
            if !allowed {
                outcome = Some(Err(HeadError::Malformed));
                break;
            }
            head.push(b);
            if head.len() > MAX_HEAD {
                outcome = Some(Err(HeadError::TooLarge));
                break;
            }
            if b == b'\n' {
                in_request_line = false;
                if head.ends_with(b"\n\r\n") || head.ends_with(b"\n\n") {
                    outcome = Some(Ok(()));
                    break;
                }
            }
        }
        io.consume(used);
        match outcome {
            Some(Ok(())) => return Ok(head),
            Some(Err(e)) => return Err(e),
            None => {}
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    Http10,
    Http11,
}

impl Version {
    fn as_str(self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        }
    }
}

/// A refusal as it goes on the wire; always followed by closing the connection.
#[derive(Debug, PartialEq, Eq)]
struct Refusal {
    version: Version,
    status: u16,
    reason: &'static str,
    body: String,
    /// `Allow: CONNECT` (required with 405).
    allow_connect: bool,
}

impl Refusal {
    /// A target that is not a Gandi host (of the store's time): this is no open proxy.
    fn not_open(version: Version) -> Self {
        Self::new(
            version,
            403,
            "Forbidden",
            format!(
                "mock-gandi proxy: not an open proxy; CONNECT is allowed to {} only\n",
                allowed_targets()
            ),
        )
    }

    fn new(version: Version, status: u16, reason: &'static str, body: String) -> Self {
        Self {
            version,
            status,
            reason,
            body,
            allow_connect: false,
        }
    }

    fn malformed(why: &str) -> Self {
        Self::new(
            Version::Http11,
            400,
            "Bad Request",
            format!("mock-gandi proxy: {why}\n"),
        )
    }

    fn too_large() -> Self {
        Self::new(
            Version::Http11,
            431,
            "Request Header Fields Too Large",
            format!("mock-gandi proxy: the request head is longer than {MAX_HEAD} bytes\n"),
        )
    }

    fn timeout() -> Self {
        Self::new(
            Version::Http11,
            408,
            "Request Timeout",
            "mock-gandi proxy: no complete request head in time\n".to_string(),
        )
    }

    fn bytes(&self) -> Vec<u8> {
        let allow = if self.allow_connect {
            "Allow: CONNECT\r\n"
        } else {
            ""
        };
        format!(
            "{} {} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n{allow}Connection: close\r\n\r\n{}",
            self.version.as_str(),
            self.status,
            self.reason,
            self.body.len(),
            self.body
        )
        .into_bytes()
    }
}

/// What a head read from a client decides: the Gandi host and the client's HTTP version, or
/// the refusal to send (`None`: the client went away before a whole head).
fn decide_head(
    read: Result<Vec<u8>, HeadError>,
) -> Result<(&'static GandiHost, Version), Option<Refusal>> {
    match read {
        Ok(head) => judge(&head).map_err(|refusal| {
            tracing::info!("proxy: refused {:?}: {}", first_line(&head), refusal.status);
            Some(refusal)
        }),
        Err(HeadError::Closed) => Err(None),
        Err(HeadError::Malformed) => Err(Some(Refusal::malformed("not an HTTP/1.x request head"))),
        Err(HeadError::TooLarge) => Err(Some(Refusal::too_large())),
    }
}

/// What the proxy decides for the bytes a client sends first, without the socket: the status
/// of its answer (200: the tunnel opens), `None` when the bytes end before a head does. The
/// same reading and deciding a connection goes through (the fuzz target and its stand-in).
pub(crate) async fn decide(bytes: &[u8]) -> Option<u16> {
    let mut io = bytes;
    match decide_head(read_head(&mut io).await) {
        Ok(_) => Some(200),
        Err(None) => None,
        Err(Some(refusal)) => {
            // What would go on the wire is built too: it must not fail either.
            let _ = refusal.bytes();
            Some(refusal.status)
        }
    }
}

/// Decides on a complete head: the Gandi host to tunnel to and the client's HTTP version, or
/// the refusal to send.
fn judge(head: &[u8]) -> Result<(&'static GandiHost, Version), Refusal> {
    // read_head admits only ASCII in the request line; header values may carry obs-text,
    // which no decision here reads.
    let text = String::from_utf8_lossy(head);
    let mut lines = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line));
    let request_line = lines.next().unwrap_or_default();
    let parts: Vec<&str> = request_line.split(' ').collect();
    let [method, target, version] = parts[..] else {
        return Err(Refusal::malformed("malformed request line"));
    };
    let version = match version {
        "HTTP/1.1" => Version::Http11,
        "HTTP/1.0" => Version::Http10,
        v if is_http_version(v) => {
            return Err(Refusal::new(
                Version::Http11,
                505,
                "HTTP Version Not Supported",
                "mock-gandi proxy: only HTTP/1.0 and HTTP/1.1 are supported\n".to_string(),
            ));
        }
        _ => return Err(Refusal::malformed("malformed HTTP version")),
    };
    if method.is_empty() || !method.bytes().all(is_tchar) || target.is_empty() {
        return Err(Refusal::malformed("malformed request line"));
    }
    for line in lines.filter(|l| !l.is_empty()) {
        let valid = line.split_once(':').is_some_and(|(name, _)| {
            !name.is_empty() && name.bytes().all(is_tchar) && !line.contains('\r')
        });
        if !valid {
            return Err(Refusal::new(
                version,
                400,
                "Bad Request",
                "mock-gandi proxy: malformed header line\n".to_string(),
            ));
        }
    }
    if method != "CONNECT" {
        return Err(Refusal {
            allow_connect: true,
            ..Refusal::new(
                version,
                405,
                "Method Not Allowed",
                format!(
                    "mock-gandi proxy: only CONNECT is supported, to {}\n",
                    allowed_targets()
                ),
            )
        });
    }
    let Some((host, port)) = split_authority(target) else {
        return Err(Refusal::new(
            version,
            400,
            "Bad Request",
            "mock-gandi proxy: the CONNECT target must be host:port\n".to_string(),
        ));
    };
    match host_named(host) {
        Some(known) if port == 443 => Ok((known, version)),
        _ => Err(Refusal::not_open(version)),
    }
}

/// `host:port` or `[v6]:port`, with a decimal port.
fn split_authority(target: &str) -> Option<(&str, u16)> {
    let (host, port) = match target.strip_prefix('[') {
        Some(rest) => rest.split_once("]:")?,
        None => target.rsplit_once(':')?,
    };
    if host.is_empty() || (host.contains(':') && !target.starts_with('[')) {
        return None;
    }
    if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((host, port.parse().ok()?))
}

/// `HTTP/d.d`: well formed, whether or not supported.
fn is_http_version(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 8
        && v.starts_with("HTTP/")
        && b[5].is_ascii_digit()
        && b[6] == b'.'
        && b[7].is_ascii_digit()
}

/// RFC 9110 token characters (methods and header names).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Sends the refusal and closes, draining what the client still sends for a moment so the
/// refusal is not lost to a reset.
async fn refuse<S: AsyncRead + AsyncWrite + Unpin>(io: &mut S, refusal: &Refusal) {
    if io.write_all(&refusal.bytes()).await.is_err() || io.flush().await.is_err() {
        return;
    }
    let _ = io.shutdown().await;
    let _ = tokio::time::timeout(LINGER, async {
        let mut sink = [0u8; 4096];
        let mut total = 0;
        while total < LINGER_BYTES {
            match io.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy_hosts::HOSTS;

    fn status(head: &str) -> u16 {
        match judge(head.as_bytes()) {
            Ok(_) => 200,
            Err(refusal) => refusal.status,
        }
    }

    #[test]
    fn connect_to_each_gandi_host_on_443_is_accepted() {
        for host in HOSTS {
            let head = format!(
                "CONNECT {}:443 HTTP/1.1\r\nHost: {}:443\r\n\r\n",
                host.name, host.name
            );
            assert_eq!(status(&head), 200, "{}", host.name);
        }
    }

    #[test]
    fn hosts_match_without_regard_to_case_or_a_root_dot() {
        assert_eq!(status("CONNECT API.Gandi.NET:443 HTTP/1.0\r\n\r\n"), 200);
        assert_eq!(status("CONNECT api.gandi.net.:443 HTTP/1.0\r\n\r\n"), 200);
    }

    #[test]
    fn the_clients_http_version_is_kept() {
        let (_, v) = judge(b"CONNECT rpc.gandi.net:443 HTTP/1.0\r\n\r\n").unwrap();
        assert_eq!(v, Version::Http10);
        let (host, v) = judge(b"CONNECT rpc.gandi.net:443 HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!((host.name, v), ("rpc.gandi.net", Version::Http11));
    }

    #[test]
    fn other_hosts_and_ports_are_forbidden() {
        assert_eq!(status("CONNECT example.com:443 HTTP/1.1\r\n\r\n"), 403);
        assert_eq!(status("CONNECT api.gandi.net:80 HTTP/1.1\r\n\r\n"), 403);
        assert_eq!(
            status("CONNECT api.gandi.net.evil.com:443 HTTP/1.1\r\n\r\n"),
            403
        );
        assert_eq!(status("CONNECT [::1]:443 HTTP/1.1\r\n\r\n"), 403);
        assert_eq!(status("CONNECT 127.0.0.1:443 HTTP/1.1\r\n\r\n"), 403);
    }

    #[test]
    fn the_forbidden_answer_names_the_allowed_hosts() {
        let refusal = judge(b"CONNECT example.com:443 HTTP/1.0\r\n\r\n").unwrap_err();
        let text = String::from_utf8(refusal.bytes()).unwrap();
        assert!(text.starts_with("HTTP/1.0 403 Forbidden\r\n"), "{text}");
        assert!(text.contains("api.gandi.net:443"), "{text}");
        assert!(text.contains("Connection: close\r\n"), "{text}");
    }

    #[test]
    fn methods_other_than_connect_are_not_allowed() {
        let refusal = judge(b"GET http://api.gandi.net/ HTTP/1.1\r\nHost: api.gandi.net\r\n\r\n")
            .unwrap_err();
        assert_eq!(refusal.status, 405);
        assert!(
            String::from_utf8(refusal.bytes())
                .unwrap()
                .contains("Allow: CONNECT\r\n")
        );
    }

    #[test]
    fn malformed_heads_are_bad_requests() {
        for head in [
            "hello\r\n\r\n",
            "CONNECT api.gandi.net:443\r\n\r\n",
            "CONNECT  api.gandi.net:443 HTTP/1.1\r\n\r\n",
            "CONNECT api.gandi.net HTTP/1.1\r\n\r\n",
            "CONNECT api.gandi.net:https HTTP/1.1\r\n\r\n",
            "CONNECT api.gandi.net:99999 HTTP/1.1\r\n\r\n",
            "CONNECT api.gandi.net:443 HTTP/1.1\r\nno colon here\r\n\r\n",
            "CONNECT api.gandi.net:443 HTTP/1.1\r\n: empty name\r\n\r\n",
            "CONNECT api.gandi.net:443 FTP/1.1\r\n\r\n",
            "\r\n",
        ] {
            assert_eq!(status(head), 400, "{head:?}");
        }
        assert_eq!(status("CONNECT api.gandi.net:443 HTTP/2.0\r\n\r\n"), 505);
    }

    #[tokio::test]
    async fn a_head_is_read_up_to_its_empty_line_and_no_further() {
        let mut input: &[u8] = b"CONNECT api.gandi.net:443 HTTP/1.1\r\nHost: x\r\n\r\n\x16\x03\x01";
        let head = read_head(&mut input).await.unwrap();
        assert!(head.ends_with(b"\r\n\r\n"));
        assert_eq!(input, b"\x16\x03\x01");
    }

    #[tokio::test]
    async fn binary_input_is_refused_without_waiting_for_a_line_end() {
        let mut input: &[u8] = b"\x16\x03\x01\x02\x00";
        assert_eq!(read_head(&mut input).await, Err(HeadError::Malformed));
    }

    #[tokio::test]
    async fn an_endless_head_is_too_large() {
        let long = format!(
            "CONNECT api.gandi.net:443 HTTP/1.1\r\nX: {}\r\n\r\n",
            "a".repeat(MAX_HEAD)
        );
        let mut input = long.as_bytes();
        assert_eq!(read_head(&mut input).await, Err(HeadError::TooLarge));
    }

    #[test]
    fn each_host_serves_only_its_own_api() {
        let api = &HOSTS[3];
        assert!(api.serves("/v5/livedns/domains"));
        assert!(api.serves("/v5/livedns"));
        assert!(!api.serves("/v5/livednsx"));
        assert!(api.serves("/v5/domain/domains"));
        assert!(api.serves("/v5/organization/user-info"));
        assert!(!api.serves("/v5/domainx"));
        assert!(!api.serves("/xmlrpc/"));
        assert!(HOSTS[0].serves("/xmlrpc/"));
        assert!(!HOSTS[0].serves("/v5/livedns/domains"));
        assert!(HOSTS[2].serves("/api/v5/domains"));
    }
}
