//! The types every client kind shares: what it is pointed at ([`ClientContext`]) and what it
//! produced ([`ClientRun`]).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::sandbox::Network;

/// lego's provider names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderName {
    /// Legacy v4 XML-RPC (`GANDI_API_KEY`).
    Gandi,
    /// LiveDNS (`GANDIV5_PERSONAL_ACCESS_TOKEN`, `GANDIV5_API_KEY`).
    Gandiv5,
}

impl ProviderName {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderName::Gandi => "gandi",
            ProviderName::Gandiv5 => "gandiv5",
        }
    }
}

/// Everything a client is pointed at for one run.
#[derive(Debug, Clone)]
pub struct ClientContext<'a> {
    /// The names to certify (`*.example.com` for a wildcard).
    pub domains: &'a [String],
    /// The scenario's `env`.
    pub env: &'a BTreeMap<String, String>,
    /// Bound on the client's whole run.
    pub timeout: Duration,
    /// The ACME directory URL (Pebble).
    pub acme_directory: &'a str,
    /// The CA that signed Pebble's HTTPS certificate (PEM file).
    pub acme_ca: &'a Path,
    /// The mock's direct listener, `http://127.0.0.1:P`.
    pub mock_api: &'a str,
    /// The mock's DNS (UDP and TCP).
    pub mock_dns: SocketAddr,
    /// The mock's HTTPS proxy, `http://127.0.0.1:P`.
    pub mock_proxy: &'a str,
    /// The CA that signs the proxy's certificates (PEM file).
    pub mock_ca: &'a Path,
    /// A folder of this run only, removed afterwards.
    pub workdir: &'a Path,
    /// The proxy (the client is told where the mock is) or a sandbox (Gandi's names and the
    /// system resolver are the mock; no proxy, no resolver flags).
    pub network: Network,
}

/// What a client run produced.
#[derive(Debug, Clone)]
pub struct ClientRun {
    /// What ran, for reports: `builtin gandiv5`, `lego 4.9.1 gandi`,
    /// `certbot 5.8.0 dns-multi (certbot-dns-multi 5.5.1)`, `command curl`.
    pub client: String,
    /// How a program ended (`exit 0`, `exit 1`, `killed: ...`); `None` for `builtin`.
    pub ended: Option<String>,
    /// `Ok` when the client reports success (a program: exit 0); else why not.
    pub result: Result<(), String>,
    /// What the client printed (a program: stdout and stderr interleaved; `builtin`: its error
    /// and warnings, as lego prints them). `error_contains` is matched against this.
    pub output: String,
    /// The lines of `output` that say what went wrong (each kind knows its noise), for the
    /// transcript.
    pub error_lines: Vec<String>,
    /// The issued chain (PEM, leaf first), or why there is none.
    pub certificate: Result<String, String>,
}

impl ClientRun {
    /// A run that could not start: the reason is the output too, so that it is seen.
    pub(crate) fn not_started(client: String, why: String) -> Self {
        ClientRun {
            client,
            ended: Some(format!("not started: {why}")),
            result: Err(why.clone()),
            error_lines: vec![why.clone()],
            output: why,
            certificate: Err("the client did not run".into()),
        }
    }
}
