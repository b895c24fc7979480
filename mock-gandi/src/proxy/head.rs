//! The proxy's first bytes: reading a CONNECT head, deciding on it (the Gandi host to tunnel
//! to, or the refusal to send) and sending a refusal.

use std::time::Duration;

use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt,
};

use crate::proxy_hosts::{GandiHost, allowed_targets, host_named};

/// A request head longer than this is refused (431). Real CONNECT heads are a few hundred
/// bytes; the bound keeps a misbehaving client from growing a buffer without end.
const MAX_HEAD: usize = 8 * 1024;
/// After a refusal, how long unread input is drained before closing: closing a socket with
/// unread bytes sends a reset, which can destroy the refusal before the client reads it.
const LINGER: Duration = Duration::from_millis(500);
const LINGER_BYTES: usize = 64 * 1024;

fn first_line(head: &[u8]) -> String {
    let end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    String::from_utf8_lossy(&head[..end]).trim_end().to_string()
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum HeadError {
    /// The client closed (or reset) before sending a whole head.
    Closed,
    Malformed,
    TooLarge,
}

/// Reads up to and including the empty line that ends the head, never past it. Bytes that
/// cannot appear in an HTTP head (a TLS ClientHello sent to the proxy by mistake, say) are
/// refused as soon as they arrive rather than after a timeout.
pub(super) async fn read_head<R: AsyncBufRead + Unpin>(io: &mut R) -> Result<Vec<u8>, HeadError> {
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
pub(super) enum Version {
    Http10,
    Http11,
}

impl Version {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        }
    }
}

/// A refusal as it goes on the wire; always followed by closing the connection.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Refusal {
    version: Version,
    status: u16,
    reason: &'static str,
    body: String,
    /// `Allow: CONNECT` (required with 405).
    allow_connect: bool,
}

impl Refusal {
    /// A target that is not a Gandi host (of the store's time): this is no open proxy.
    pub(super) fn not_open(version: Version) -> Self {
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

    pub(super) fn timeout() -> Self {
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
pub(super) fn decide_head(
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
pub(super) async fn refuse<S: AsyncRead + AsyncWrite + Unpin>(io: &mut S, refusal: &Refusal) {
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
