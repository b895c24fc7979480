//! Drives the router in memory (no socket) and renders answers as text for snapshots.

#![allow(dead_code)]

pub mod model;
pub mod process;
pub mod wire;

use axum::body::Body;
use http::Request;
use http_body_util::BodyExt;
use mock_gandi::{AppState, Seed, ZoneStore, router};
use tower::ServiceExt;

/// A PAT without organization: reaches domains without one, others only with `sharing_id`.
pub const PAT: &str = "0123456789abcdef0123456789abcdef01234567";
/// A PAT of the `acme` organization.
pub const PAT_ACME: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
/// A PAT limited to stubber.chat.
pub const PAT_SCOPED: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
/// A PAT that may only read.
pub const PAT_READ_ONLY: &str = "cccccccccccccccccccccccccccccccccccccccc";
/// A PAT that expired in 2020.
pub const PAT_EXPIRED: &str = "dddddddddddddddddddddddddddddddddddddddd";
/// A LiveDNS API key.
pub const APIKEY: &str = "AbCdEfGhIjKlMnOpQrStUvWx";
/// A legacy v4 key: not valid on LiveDNS.
pub const V4KEY: &str = "abcdefghijklmnopqrstuv12";

pub const SEED: &str = r#"
[[domain]]
fqdn = "stubber.chat"
[[domain.record]]
name = "@"
type = "A"
ttl = 600
values = ["192.0.2.10"]
[[domain.record]]
name = "@"
type = "AAAA"
ttl = 600
values = ["2001:db8::10"]
[[domain.record]]
name = "www"
type = "CNAME"
ttl = 86400
values = ["stubber.chat."]
[[domain.record]]
name = "_acme-challenge"
type = "TXT"
ttl = 300
values = ["token1"]
[[domain.record]]
name = "docs"
type = "MX"
ttl = 3600
values = ["10 mail.stubber.chat."]

[[domain]]
fqdn = "legacy.example"
dns = "legacy"

[[domain]]
fqdn = "acme.example"
organization = "acme"

[[domain]]
fqdn = "globex.example"
organization = "globex"

[[credential]]
kind = "pat"
secret = "0123456789abcdef0123456789abcdef01234567"

[[credential]]
kind = "pat"
secret = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
organization = "acme"

[[credential]]
kind = "pat"
secret = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
domains = ["stubber.chat"]

[[credential]]
kind = "pat"
secret = "cccccccccccccccccccccccccccccccccccccccc"
permissions = ["dns:read"]

[[credential]]
kind = "pat"
secret = "dddddddddddddddddddddddddddddddddddddddd"
expires = "2020-01-01T00:00:00Z"

[[credential]]
kind = "apikey"
secret = "AbCdEfGhIjKlMnOpQrStUvWx"

[[credential]]
kind = "v4-key"
secret = "abcdefghijklmnopqrstuv12"
"#;

/// One answer, kept whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Status, the headers clients read, body length and body bytes.
    pub fn render(&self) -> String {
        let mut out = format!("{}\n", self.status);
        for name in ["content-type", "location", "total-count", "allow"] {
            if let Some(v) = self.header(name) {
                out.push_str(&format!("{name}: {v}\n"));
            }
        }
        out.push_str(&format!(
            "body ({} bytes): {}\n",
            self.body.len(),
            self.text()
        ));
        out
    }
}

/// The router over a store holding [`SEED`].
pub struct Api {
    pub state: AppState,
}

impl Api {
    pub fn new() -> Self {
        Self::with_seed(SEED)
    }

    pub fn with_seed(seed: &str) -> Self {
        let store = ZoneStore::new(Seed::from_toml(seed).unwrap());
        Self {
            state: AppState::new(store),
        }
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Body>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
            request = request.header("host", "api.gandi.net");
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = router(self.state.clone())
            .oneshot(request.body(body.into()).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    /// A call on the current host with a Bearer PAT.
    pub async fn pat(&self, method: &str, path: &str, body: &str) -> Reply {
        let auth = format!("Bearer {PAT}");
        self.send(
            method,
            &format!("/v5/livedns{path}"),
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            body.to_string(),
        )
        .await
    }
}

/// A transcript of calls and answers, for one snapshot per behaviour.
#[derive(Default)]
pub struct Transcript(String);

impl Transcript {
    pub fn add(&mut self, call: &str, reply: &Reply) {
        self.0.push_str(&format!("> {call}\n{}\n", reply.render()));
    }

    pub fn text(&self) -> &str {
        &self.0
    }
}
