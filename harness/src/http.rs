//! Every HTTP client of the harness is built here, on reqwest with rustls (ring): the built-in
//! providers' calls to Gandi (through the mock's proxy, as a client configured by
//! `HTTPS_PROXY` would), instant-acme's calls to Pebble, the probes and management calls of the
//! CA backends. One place sets what they share: the roots (only the PEM files given, never the
//! system's), the proxy (none unless given: the caller's `HTTPS_PROXY` is not read), the
//! timeout and `TCP_NODELAY` (so that no exchange waits on Nagle's algorithm). And one function
//! says a reqwest error the way Go's `net/http` says it, for the texts lego's errors carry.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// What a client is built with.
#[derive(Debug, Clone, Default)]
pub struct HttpOptions<'a> {
    /// PEM files whose certificates are the only roots trusted.
    pub roots: Vec<&'a Path>,
    /// An HTTP proxy every request goes through (`CONNECT` for `https://`), or none.
    pub proxy: Option<&'a str>,
    /// Bound on each whole exchange (Go's `http.Client.Timeout`), or none.
    pub timeout: Option<Duration>,
    /// The `User-Agent` sent unless a request sets its own.
    pub user_agent: Option<&'a str>,
}

/// A rustls configuration trusting exactly the certificates of `roots` (PEM files; none: it
/// trusts nothing, and every handshake fails). The ring
/// provider is named, so the result does not depend on which rustls features other crates of
/// the build enable.
pub fn tls_trusting(roots: &[&Path]) -> Result<rustls::ClientConfig, String> {
    let mut store = rustls::RootCertStore::empty();
    for bundle in roots {
        let before = store.len();
        let certs = CertificateDer::pem_file_iter(bundle)
            .map_err(|e| format!("reading {}: {e}", bundle.display()))?;
        for cert in certs {
            let cert = cert.map_err(|e| format!("parsing {}: {e}", bundle.display()))?;
            store
                .add(cert)
                .map_err(|e| format!("adding {} to the roots: {e}", bundle.display()))?;
        }
        if store.len() == before {
            return Err(format!("{} holds no certificate", bundle.display()));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS protocol versions: {e}"))?
        .with_root_certificates(store)
        .with_no_client_auth())
}

/// A client built with `options`: HTTP/1.1, `TCP_NODELAY`, no system proxy, no system root.
pub fn client(options: &HttpOptions<'_>) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .use_preconfigured_tls(tls_trusting(&options.roots)?)
        .tcp_nodelay(true)
        .no_proxy();
    if let Some(proxy) = options.proxy {
        builder =
            builder.proxy(reqwest::Proxy::all(proxy).map_err(|e| format!("proxy {proxy}: {e}"))?);
    }
    if let Some(timeout) = options.timeout {
        builder = builder.timeout(timeout);
    }
    if let Some(agent) = options.user_agent {
        builder = builder.user_agent(agent);
    }
    builder
        .build()
        .map_err(|e| format!("building an HTTP client: {e}"))
}

/// What came back: the status and the whole body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Bytes,
}

/// `GET url`, the whole body read.
pub async fn get(client: &reqwest::Client, url: &str) -> Result<Reply, String> {
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("GET {url}: {}", error_chain(&e)))?;
    let status = response.status().as_u16();
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("GET {url}: {}", error_chain(&e)))?;
    Ok(Reply { status, body })
}

/// A reqwest error with its causes, for the harness's own messages.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Go's `*url.Error` text for a failed request, as lego's errors carry it:
/// `Put "https://api.gandi.net/...": context deadline exceeded (Client.Timeout exceeded while
/// awaiting headers)`, `... dial tcp: connect: connection refused`, `... EOF`.
pub fn go_error(method: &str, url: &str, e: &reqwest::Error) -> String {
    // Go's url.Error names the method as `Get`, `Put`, `Delete`, `Post`.
    let op = method
        .chars()
        .take(1)
        .chain(method.chars().skip(1).flat_map(char::to_lowercase))
        .collect::<String>();
    format!("{op} \"{url}\": {}", go_cause(e))
}

fn go_cause(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return if e.is_body() {
            "context deadline exceeded (Client.Timeout or context cancellation while reading body)"
                .into()
        } else {
            "context deadline exceeded (Client.Timeout exceeded while awaiting headers)".into()
        };
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::ConnectionRefused => {
                    "dial tcp: connect: connection refused".into()
                }
                std::io::ErrorKind::ConnectionReset => "read: connection reset by peer".into(),
                std::io::ErrorKind::UnexpectedEof => "EOF".into(),
                _ => io.to_string(),
            };
        }
        source = err.source();
    }
    if e.is_connect() {
        return format!("dial tcp: {}", error_chain(e));
    }
    // A connection closed before the answer: Go says EOF.
    if e.is_request() && error_chain(e).contains("connection closed") {
        return "EOF".into();
    }
    error_chain(e)
}

/// instant-acme's HTTP client, on a client of this module (so that ACME exchanges have the
/// same socket options as everything else).
pub struct AcmeHttp(pub reqwest::Client);

impl instant_acme::HttpClient for AcmeHttp {
    fn request(
        &self,
        req: http::Request<instant_acme::BodyWrapper<Bytes>>,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<
                    Output = Result<instant_acme::BytesResponse, instant_acme::Error>,
                > + Send,
        >,
    > {
        let client = self.0.clone();
        Box::pin(async move {
            use http_body_util::BodyExt;
            let (parts, body) = req.into_parts();
            let body = match body.collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(never) => match never {},
            };
            let url = parts.uri.to_string();
            let response = client
                .request(parts.method, url)
                .headers(parts.headers)
                .body(body)
                .send()
                .await
                .map_err(|e| instant_acme::Error::Other(Box::new(e)))?;
            Ok(instant_acme::BytesResponse::from(http::Response::from(
                response,
            )))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain() -> reqwest::Client {
        client(&HttpOptions {
            timeout: Some(Duration::from_millis(300)),
            ..Default::default()
        })
        .unwrap()
    }

    #[tokio::test]
    async fn a_timeout_reads_as_go_s_client_timeout() {
        // A listener that accepts and never answers.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v5/livedns/x", silent.local_addr().unwrap());
        let keep = tokio::spawn(async move {
            let (_s, _) = silent.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(5)).await;
        });
        let e = plain().put(&url).send().await.unwrap_err();
        assert_eq!(
            go_error("PUT", &url, &e),
            format!(
                "Put \"{url}\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
            )
        );
        keep.abort();
    }

    #[tokio::test]
    async fn a_refused_connection_and_a_closed_one_read_as_go_s() {
        // A port nothing listens on.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let url = format!("http://127.0.0.1:{port}/xmlrpc/");
        let e = plain().post(&url).send().await.unwrap_err();
        assert_eq!(
            go_error("POST", &url, &e),
            format!("Post \"{url}\": dial tcp: connect: connection refused")
        );
        // A server that reads the request and closes without answering.
        let closing = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v5/livedns/x", closing.local_addr().unwrap());
        tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            let (mut s, _) = closing.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
        });
        let e = plain().get(&url).send().await.unwrap_err();
        assert_eq!(go_error("GET", &url, &e), format!("Get \"{url}\": EOF"));
    }

    #[test]
    fn roots_come_only_from_the_files_given() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        assert!(
            tls_trusting(&[&empty])
                .unwrap_err()
                .contains("holds no certificate")
        );
        assert!(tls_trusting(&[]).is_ok(), "trusts nothing");
        let ca = rcgen::generate_simple_self_signed(vec!["x".to_string()]).unwrap();
        let one = dir.path().join("one.pem");
        std::fs::write(&one, ca.cert.pem()).unwrap();
        assert!(tls_trusting(&[&one]).is_ok());
    }
}
