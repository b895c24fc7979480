//! `mock-gandi record`: the mock's proxy (and transparent HTTPS listener) in front of the real
//! Gandi. Each request a client sends to one of Gandi's hosts is forwarded to the upstream, the
//! answer given back unchanged, and the exchange written, secrets and account ids replaced, as
//! one line of the JSON-lines format `mock-gandi replay` reads.
//!
//! - `upstream`: where a request goes (Gandi, its sandbox, a base URL) and the HTTP client.
//! - `scrub`: the secrets and ids replaced before anything is written.
//!
//! The client is set up exactly as for the mock (its CA, `HTTPS_PROXY` to the proxy, or Gandi's
//! names resolved to the HTTPS listener). Nothing the client sent is logged: the log says the
//! method, the host, the scrubbed path and the status.

mod scrub;
mod upstream;

use crate::replay::{Exchange, header_pairs};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use tokio::net::TcpListener;

pub use scrub::{Kind, Scrubber};
pub use upstream::Upstream;

use crate::journal::Journal;
use crate::proxy::{Backend, Entry};
use crate::state::{Limits, Proxied, Shutdown, ShutdownTrigger, request_host};
use crate::tls::MockCa;

/// Request headers not forwarded: the connection's own, and `Accept-Encoding` (the recording
/// keeps bodies as text, so none is asked compressed).
const HOP_BY_HOP: &[&str] = &[
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "accept-encoding",
];

/// What `mock-gandi record` is started with.
#[derive(Debug, Clone)]
pub struct RecordOptions {
    pub upstream: Upstream,
    /// The recording (created, or emptied).
    pub out: PathBuf,
    pub proxy: SocketAddr,
    pub https: Option<SocketAddr>,
    /// Where `ca.pem` is written; `None`: a temporary folder removed on stop.
    pub ca_dir: Option<PathBuf>,
    /// Roots trusted for the upstream besides the system's.
    pub upstream_roots: Vec<PathBuf>,
}

/// A running recorder.
pub struct Recorder {
    proxy: SocketAddr,
    https: Option<SocketAddr>,
    ca_cert: PathBuf,
    out: PathBuf,
    trigger: ShutdownTrigger,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    _ca_dir: Option<tempfile::TempDir>,
}

struct Shared {
    upstream: Upstream,
    client: reqwest::Client,
    limits: Limits,
    /// The recording and the scrubber, behind one lock: lines are written in the order the
    /// answers came, each scrubbed with everything learned before it.
    out: Mutex<(std::fs::File, Scrubber)>,
}

impl Recorder {
    /// Binds the listeners, writes the CA and the recording's first line, and serves on the
    /// current runtime until [`Recorder::stop`].
    pub async fn start(options: RecordOptions) -> Result<Recorder, String> {
        let client = options.upstream.client(&options.upstream_roots).await?;
        let ca = Arc::new(MockCa::generate()?);
        let (ca_dir, temp) = match &options.ca_dir {
            Some(dir) => (dir.clone(), None),
            None => {
                let temp = tempfile::tempdir().map_err(|e| format!("temporary folder: {e}"))?;
                (temp.path().to_path_buf(), Some(temp))
            }
        };
        std::fs::create_dir_all(&ca_dir)
            .map_err(|e| format!("cannot create {}: {e}", ca_dir.display()))?;
        let ca_cert = ca
            .write_to(&ca_dir)
            .map_err(|e| format!("cannot write the CA into {}: {e}", ca_dir.display()))?;
        let mut file = std::fs::File::create(&options.out)
            .map_err(|e| format!("cannot create {}: {e}", options.out.display()))?;
        let started = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        writeln!(
            file,
            "# mock-gandi record {}, upstream {}, started {started}; secrets and account ids \
             replaced by placeholders",
            env!("CARGO_PKG_VERSION"),
            options.upstream
        )
        .map_err(|e| format!("cannot write {}: {e}", options.out.display()))?;
        let limits = Limits::default();
        let shared = Arc::new(Shared {
            upstream: options.upstream.clone(),
            client,
            limits,
            out: Mutex::new((file, Scrubber::default())),
        });
        let backend = Backend {
            router: Router::new().fallback(forward).with_state(shared),
            journal: Arc::new(Journal::with_capacity(limits.journal_entries)),
            limits,
            store: None,
            // What Gandi answers to a path on the wrong host is Gandi's to say: recorded.
            every_path: true,
        };
        let bind = |addr: SocketAddr, what: &str| {
            let what = what.to_string();
            async move {
                TcpListener::bind(addr)
                    .await
                    .map_err(|e| format!("cannot listen on {addr} ({what}): {e}"))
            }
        };
        let proxy = bind(options.proxy, "proxy").await?;
        let https = match options.https {
            Some(addr) => Some(bind(addr, "https").await?),
            None => None,
        };
        let local = |l: &TcpListener| l.local_addr().map_err(|e| format!("{e}"));
        let proxy_addr = local(&proxy)?;
        let https_addr = https.as_ref().map(local).transpose()?;
        let (trigger, shutdown) = Shutdown::new();
        let mut tasks = vec![tokio::spawn(crate::proxy::run(
            proxy,
            backend.clone(),
            ca.clone(),
            Entry::Connect,
            shutdown.clone(),
        ))];
        if let Some(https) = https {
            tasks.push(tokio::spawn(crate::proxy::run(
                https,
                backend,
                ca,
                Entry::Sni,
                shutdown,
            )));
        }
        Ok(Recorder {
            proxy: proxy_addr,
            https: https_addr,
            ca_cert,
            out: options.out,
            trigger,
            tasks,
            _ca_dir: temp,
        })
    }

    /// `http://ADDR`, for `HTTPS_PROXY`.
    pub fn proxy_url(&self) -> String {
        format!("http://{}", self.proxy)
    }

    pub fn https_addr(&self) -> Option<SocketAddr> {
        self.https
    }

    pub fn ca_cert_path(&self) -> &Path {
        &self.ca_cert
    }

    /// The line `mock-gandi record` prints when it is ready.
    pub fn ready_line(&self) -> String {
        serde_json::json!({
            "proxy": self.proxy_url(),
            "https": self.https.map(|a| a.to_string()),
            "ca_cert": self.ca_cert.display().to_string(),
            "out": self.out.display().to_string(),
        })
        .to_string()
    }

    /// Stops the listeners and waits for open connections to end.
    pub async fn stop(self) {
        self.trigger.trigger();
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// One request: forwarded, answered with the upstream's answer, written scrubbed.
async fn forward(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let scheme = if request.extensions().get::<Proxied>().is_some() {
        "https"
    } else {
        "http"
    };
    let host = request_host(request.headers(), request.uri())
        .split(':')
        .next()
        .unwrap_or_default()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let path_and_query = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let method = request.method().clone();
    let headers = header_pairs(request.headers());
    let body = match axum::body::to_bytes(request.into_body(), shared.limits.max_body).await {
        Ok(b) => b,
        Err(e) => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the request body could not be read: {e}"),
            );
        }
    };
    let target = match shared.upstream.url(&host, &path_and_query) {
        Ok(t) => t,
        Err(e) => return refuse(StatusCode::BAD_GATEWAY, e),
    };
    let mut upstream = shared.client.request(method.clone(), &target);
    for (name, value) in &headers {
        if !HOP_BY_HOP.contains(&name.to_ascii_lowercase().as_str()) {
            upstream = upstream.header(name.as_str(), value.as_str());
        }
    }
    let answer = match upstream.body(body.clone()).send().await {
        Ok(a) => a,
        Err(e) => {
            // reqwest's text names the URL, never a header.
            tracing::warn!("record: {method} {host}: the upstream did not answer: {e}");
            return refuse(
                StatusCode::BAD_GATEWAY,
                format!("the upstream did not answer: {e}"),
            );
        }
    };
    let status = answer.status();
    let response_headers = header_pairs(
        answer
            .headers()
            .iter()
            .filter(|(n, _)| !HOP_BY_HOP.contains(&n.as_str())),
    );
    let mut back = Response::builder().status(status);
    for (name, value) in answer.headers() {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            back = back.header(name, value);
        }
    }
    let answer_body = match answer.bytes().await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!("record: {method} {host}: the upstream's answer broke off: {e}");
            return refuse(
                StatusCode::BAD_GATEWAY,
                format!("the upstream's answer broke off: {e}"),
            );
        }
    };
    let written = Exchange {
        method: method.to_string(),
        url: format!("{scheme}://{host}{path_and_query}"),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        status: status.as_u16(),
        response_headers,
        response_body: String::from_utf8_lossy(&answer_body).into_owned(),
    };
    write(&shared, written);
    back.body(Body::from(answer_body))
        .unwrap_or_else(|e| refuse(StatusCode::BAD_GATEWAY, format!("the answer: {e}")))
}

/// Scrubs the exchange and appends it to the recording; logs what was written (scrubbed).
fn write(shared: &Shared, written: Exchange) {
    let mut guard = match shared.out.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    let (file, scrubber) = &mut *guard;
    let w = scrubber.scrub(written);
    let object = |headers: &[(String, String)]| {
        let mut map = serde_json::Map::new();
        for (name, value) in headers {
            let name = name.to_ascii_lowercase();
            match map.get_mut(&name) {
                Some(serde_json::Value::String(existing)) => {
                    existing.push_str(", ");
                    existing.push_str(value);
                }
                _ => {
                    map.insert(name, value.clone().into());
                }
            }
        }
        serde_json::Value::Object(map)
    };
    let line = serde_json::json!({
        "request": {
            "method": w.method,
            "url": w.url,
            "headers": object(&w.headers),
            "body": w.body,
        },
        "response": {
            "status": w.status,
            "headers": object(&w.response_headers),
            "body": w.response_body,
        },
    });
    let written = writeln!(file, "{line}").and_then(|()| file.flush());
    match written {
        Ok(()) => tracing::info!("record: {} {} -> {}", w.method, w.url, w.status),
        Err(e) => tracing::error!(
            "record: cannot write the exchange {} {}: {e}",
            w.method,
            w.url
        ),
    }
}

/// The recorder's own refusal (nothing is recorded: Gandi said nothing).
fn refuse(status: StatusCode, why: String) -> Response {
    tracing::warn!("record: answered {status}: {why}");
    (status, format!("mock-gandi record: {why}\n")).into_response()
}
