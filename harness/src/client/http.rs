//! A small HTTP/1.1 client for the built-in providers: plain HTTP to the mock's direct
//! listener, one request at a time, bounded in time.

use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// What came back.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Bytes,
}

/// A reusable client (keep-alive, like Go's and Python's default clients).
#[derive(Clone, Debug)]
pub struct HttpClient {
    inner: Client<HttpConnector, Full<Bytes>>,
    timeout: Duration,
}

impl HttpClient {
    pub fn new(timeout: Duration) -> Self {
        Self {
            inner: Client::builder(TokioExecutor::new()).build_http(),
            timeout,
        }
    }

    /// Sends one request. The error is the text Go's client would give in the same spot.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, String)],
        body: Option<Vec<u8>>,
    ) -> Result<Reply, String> {
        // What Go's transport adds by itself: its User-Agent, gzip, and a zero length on a
        // bodiless request that is neither GET nor HEAD.
        let mut builder = Request::builder()
            .method(method.clone())
            .uri(url)
            .header("user-agent", "Go-http-client/1.1")
            .header("accept-encoding", "gzip");
        if body.as_ref().is_none_or(|b| b.is_empty())
            && method != Method::GET
            && method != Method::HEAD
        {
            builder = builder.header("content-length", "0");
        }
        for (name, value) in headers {
            builder = builder.header(*name, value);
        }
        // Go's `url.Error` names the method as `Get`, `Put`, `Delete`, `Post`.
        let op = {
            let m = method.as_str();
            format!("{}{}", &m[..1], m[1..].to_ascii_lowercase())
        };
        let request = builder
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| format!("unable to create request: {e}"))?;
        let fut = async {
            let response = self
                .inner
                .request(request)
                .await
                .map_err(|e| format!("{op} \"{url}\": {}", go_transport_error(&e)))?;
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| format!("failed to read body: {e}"))?
                .to_bytes();
            Ok(Reply {
                status: parts.status.as_u16(),
                body,
            })
        };
        tokio::time::timeout(self.timeout, fut)
            .await
            .map_err(|_| {
                format!(
                    "{op} \"{url}\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
                )
            })?
    }
}

/// Go's text for the transport errors clients meet (`dial tcp ...: connect: connection
/// refused`, `EOF`), else hyper's.
fn go_transport_error(e: &(dyn std::error::Error + 'static)) -> String {
    let mut source = Some(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::ConnectionRefused => "connect: connection refused".into(),
                std::io::ErrorKind::ConnectionReset => "read: connection reset by peer".into(),
                std::io::ErrorKind::UnexpectedEof => "EOF".into(),
                _ => io.to_string(),
            };
        }
        source = err.source();
    }
    e.to_string()
}
