//! Where the recorder sends each request: the real Gandi, its sandbox, or any base URL (a
//! second mock in tests), over real TLS with the system's roots, through `HTTPS_PROXY` when
//! it is set.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// Bound on one whole exchange with the upstream.
const TIMEOUT: Duration = Duration::from_secs(120);

/// The upstream the recorder forwards to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upstream {
    /// `api.gandi.net`, `dns.api.gandi.net`, `rpc.gandi.net`.
    Gandi,
    /// `api.sandbox.gandi.net`, `rpc.ote.gandi.net`.
    Sandbox,
    /// Every Gandi host sent to this `http://` or `https://` base (`host:port`): the client's
    /// host name is kept (Host header, TLS server name), the connection goes to the base.
    Url { scheme: String, authority: String },
}

impl std::str::FromStr for Upstream {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "gandi" => return Ok(Upstream::Gandi),
            "sandbox" => return Ok(Upstream::Sandbox),
            _ => {}
        }
        let (scheme, rest) = text.split_once("://").ok_or_else(|| {
            format!("{text:?} is neither gandi, sandbox nor an http(s)://host:port URL")
        })?;
        if !matches!(scheme, "http" | "https") {
            return Err(format!("{text:?}: only http:// and https:// upstreams"));
        }
        let authority = rest.trim_end_matches('/');
        if authority.is_empty() || authority.contains(['/', '@', '?', '#']) {
            return Err(format!(
                "{text:?}: give a base as scheme://host:port, without path or user"
            ));
        }
        Ok(Upstream::Url {
            scheme: scheme.into(),
            authority: authority.into(),
        })
    }
}

impl std::fmt::Display for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Upstream::Gandi => f.write_str("gandi"),
            Upstream::Sandbox => f.write_str("sandbox"),
            Upstream::Url { scheme, authority } => write!(f, "{scheme}://{authority}"),
        }
    }
}

impl Upstream {
    /// The URL a request the client sent to `host` goes to, or why it cannot be forwarded.
    /// Production and sandbox hosts are each other's counterparts (gandi-wire.md §1); the
    /// sandbox has no counterpart of the old LiveDNS host (inferred: Gandi documents none).
    pub fn url(&self, host: &str, path_and_query: &str) -> Result<String, String> {
        let target = match self {
            Upstream::Url { scheme, .. } => {
                return Ok(format!("{scheme}://{host}{path_and_query}"));
            }
            Upstream::Gandi => match host {
                "api.sandbox.gandi.net" => "api.gandi.net",
                "rpc.ote.gandi.net" => "rpc.gandi.net",
                other => other,
            },
            Upstream::Sandbox => match host {
                "api.gandi.net" | "api.sandbox.gandi.net" => "api.sandbox.gandi.net",
                "rpc.gandi.net" | "rpc.ote.gandi.net" => "rpc.ote.gandi.net",
                other => {
                    return Err(format!("Gandi's sandbox has no counterpart of {other}"));
                }
            },
        };
        Ok(format!("https://{target}{path_and_query}"))
    }

    /// The HTTP client: the system's roots (`SSL_CERT_FILE`, `SSL_CERT_DIR` honoured) and
    /// `extra_roots`, the proxy of `HTTPS_PROXY` / `NO_PROXY`, no redirect followed (the client
    /// sees Gandi's answer as it is), no decompression (none is asked for).
    pub async fn client(&self, extra_roots: &[PathBuf]) -> Result<reqwest::Client, String> {
        let mut store = rustls::RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        for error in &native.errors {
            tracing::warn!("record: a system root could not be read: {error}");
        }
        let (added, _) = store.add_parsable_certificates(native.certs);
        for path in extra_roots {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("reading {}: {e}", path.display()))?;
            for cert in certs {
                let cert = cert.map_err(|e| format!("parsing {}: {e}", path.display()))?;
                store
                    .add(cert)
                    .map_err(|e| format!("adding {} to the roots: {e}", path.display()))?;
            }
        }
        if store.is_empty() {
            return Err("no trusted root: the system has none (SSL_CERT_FILE, SSL_CERT_DIR) and none was given".into());
        }
        tracing::debug!("record: {added} system roots, {} given", extra_roots.len());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS protocol versions: {e}"))?
            .with_root_certificates(store)
            .with_no_client_auth();
        let mut builder = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .tcp_nodelay(true);
        if let Upstream::Url { authority, .. } = self {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host(authority.as_str())
                .await
                .map_err(|e| format!("the upstream {authority} does not resolve: {e}"))?
                .collect();
            for host in crate::tls::GANDI_NAMES {
                builder = builder.resolve_to_addrs(host, &addrs);
            }
        }
        builder
            .build()
            .map_err(|e| format!("building the upstream client: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_upstream_sends_each_host_where_it_should() {
        let url = |u: &str, host: &str| u.parse::<Upstream>().unwrap().url(host, "/x?y=1");
        assert_eq!(
            url("gandi", "rpc.gandi.net").unwrap(),
            "https://rpc.gandi.net/x?y=1"
        );
        assert_eq!(
            url("gandi", "api.sandbox.gandi.net").unwrap(),
            "https://api.gandi.net/x?y=1"
        );
        assert_eq!(
            url("sandbox", "api.gandi.net").unwrap(),
            "https://api.sandbox.gandi.net/x?y=1"
        );
        assert_eq!(
            url("sandbox", "rpc.gandi.net").unwrap(),
            "https://rpc.ote.gandi.net/x?y=1"
        );
        assert!(url("sandbox", "dns.api.gandi.net").is_err());
        assert_eq!(
            url("https://127.0.0.1:8443/", "dns.api.gandi.net").unwrap(),
            "https://dns.api.gandi.net/x?y=1"
        );
        for bad in [
            "ftp://x:1",
            "https://u:p@x:1",
            "https://x:1/base",
            "gandy",
            "https://",
        ] {
            assert!(bad.parse::<Upstream>().is_err(), "{bad}");
        }
    }
}
