//! The built-in providers' HTTP, as lego's Go client makes it: to Gandi's own names
//! (`https://api.gandi.net`, `https://rpc.gandi.net`) through the mock's proxy, as a client
//! configured by `HTTPS_PROXY` does (in a sandbox, straight: Gandi's names are the mock there),
//! trusting the mock's CA only; Go's headers; Go's error texts.

use std::path::PathBuf;
use std::time::Duration;

use http::Method;

pub use crate::http::Reply;
use crate::http::{HttpOptions, client, go_error};

/// How the providers reach Gandi in this run.
#[derive(Debug, Clone, Default)]
pub struct Route {
    /// The mock's HTTPS proxy, or none (a sandbox).
    pub proxy: Option<String>,
    /// The CA that signs the mock's certificates for Gandi's names (none: trust nothing).
    pub ca: Option<PathBuf>,
}

/// A reusable client (keep-alive, like Go's), bounded like Go's `http.Client.Timeout`.
#[derive(Clone, Debug)]
pub struct HttpClient {
    inner: reqwest::Client,
}

impl HttpClient {
    pub fn new(route: &Route, timeout: Duration) -> Result<Self, String> {
        let inner = client(&HttpOptions {
            roots: route.ca.iter().map(PathBuf::as_path).collect(),
            proxy: route.proxy.as_deref(),
            timeout: Some(timeout),
            user_agent: Some("Go-http-client/1.1"),
        })?;
        Ok(Self { inner })
    }

    /// Sends one request. The error is the text Go's client would give in the same spot.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, String)],
        body: Option<Vec<u8>>,
    ) -> Result<Reply, String> {
        // What Go's transport adds by itself: gzip, and a zero length on a bodiless request
        // that is neither GET nor HEAD.
        let mut request = self
            .inner
            .request(method.clone(), url)
            .header("accept-encoding", "gzip");
        let body = body.unwrap_or_default();
        if body.is_empty() && method != Method::GET && method != Method::HEAD {
            request = request.header("content-length", "0");
        }
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        if !body.is_empty() {
            request = request.body(body);
        }
        let fail = |e: reqwest::Error| go_error(method.as_str(), url, &e);
        let response = request.send().await.map_err(fail)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(fail)?;
        Ok(Reply { status, body })
    }
}
