//! Pebble, the ACME test CA, behind one trait.
//!
//! Two backends run the same Pebble configuration: [`PebbleProcess`] (a local binary) and
//! [`PebbleContainer`] (an image through testcontainers, host networking). [`start_ca`] picks one
//! for `--ca auto|container|process`. Each run gets a new HTTPS certificate for Pebble, signed by
//! a new CA whose PEM file ([`CaBackend::ca_bundle_path`]) is the only thing that trusts it.
//!
//! Every backend value owns what it started: dropping it stops Pebble and deletes its files.

mod container;
mod lanes;
mod process;
mod tls;

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

pub use container::{HOW_TO_GET_PEBBLE_IMAGE, LOCAL_PEBBLE_IMAGE, PebbleContainer};
pub use lanes::{CaLease, CaSource, LaneStats, Lanes};
pub use process::PebbleProcess;

/// Environment variable naming the Pebble binary for the process backend.
pub const PEBBLE_ENV: &str = "PEBBLE";
/// Environment variable naming the Pebble image (`NAME[:TAG]`) for the container backend.
pub const PEBBLE_IMAGE_ENV: &str = "PEBBLE_IMAGE";
/// The image used when [`PEBBLE_IMAGE_ENV`] is unset.
pub const DEFAULT_PEBBLE_IMAGE: &str = "ghcr.io/letsencrypt/pebble:2.10.1";

/// How to get the process backend, for error messages and skipped tests.
pub const HOW_TO_GET_PEBBLE_BINARY: &str =
    "install it with `apt-get install -y pebble`, or set PEBBLE=/path/to/pebble";

/// Pebble's environment for every backend. `VA_NOSLEEP` removes the random wait before each
/// validation; `WFE_NONCEREJECT=0` stops the 5% of rejected nonces; `AUTHZREUSE=0` makes every
/// order query DNS. `PEBBLE_VA_ALWAYS_VALID` is never set: it would skip DNS altogether.
const PEBBLE_ENVIRONMENT: [(&str, &str); 3] = [
    ("PEBBLE_VA_NOSLEEP", "1"),
    ("PEBBLE_WFE_NONCEREJECT", "0"),
    ("PEBBLE_AUTHZREUSE", "0"),
];

/// How long one readiness probe may take before it counts as "not yet".
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// Pause between readiness probes.
const PROBE_INTERVAL: Duration = Duration::from_millis(10);
/// Timeout of one request to a running Pebble.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Port races (another program took a port between our probe and Pebble's bind) are retried.
const START_ATTEMPTS: usize = 3;

/// Which CA backend to use (`--ca auto|container|process`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CaKind {
    /// The container when a Docker engine answers and the image can be had, else the process.
    #[default]
    Auto,
    Container,
    Process,
}

impl fmt::Display for CaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CaKind::Auto => "auto",
            CaKind::Container => "container",
            CaKind::Process => "process",
        })
    }
}

impl FromStr for CaKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(CaKind::Auto),
            "container" => Ok(CaKind::Container),
            "process" => Ok(CaKind::Process),
            other => Err(format!(
                "unknown CA backend `{other}` (expected auto, container or process)"
            )),
        }
    }
}

/// What a backend needs to start Pebble. Make it with [`CaOptions::new`], then set fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CaOptions {
    /// Where Pebble sends its dns-01 TXT queries (`-dnsserver`). Pebble 2.4–2.9 query over UDP
    /// only and 2.10+ over TCP only, so this server should answer both on the same port.
    pub dns_server: SocketAddr,
    /// Upper bound from starting the process or creating the container until Pebble answers
    /// `GET /dir` and `GET /roots/0`.
    pub start_timeout: Duration,
    /// Upper bound for pulling a missing image (container backend).
    pub pull_timeout: Duration,
    /// The Pebble binary; `None` means [`PEBBLE_ENV`], then `pebble` on `PATH`.
    pub pebble_binary: Option<PathBuf>,
    /// The image `NAME[:TAG]`; `None` means [`PEBBLE_IMAGE_ENV`], then [`DEFAULT_PEBBLE_IMAGE`].
    pub image: Option<String>,
}

impl CaOptions {
    /// Options with default timeouts (30 s to start, 120 s to pull) and the environment's choice
    /// of binary and image.
    pub fn new(dns_server: SocketAddr) -> Self {
        CaOptions {
            dns_server,
            start_timeout: Duration::from_secs(30),
            pull_timeout: Duration::from_secs(120),
            pebble_binary: None,
            image: None,
        }
    }
}

/// The result of an asynchronous backend call; boxed so that `dyn CaBackend` works.
pub type CaFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, CaError>> + Send + 'a>>;
/// What [`CaBackend::stop`] returns.
pub type StopFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A running Pebble, whichever way it was started. Dropping the value stops it.
pub trait CaBackend: Send + Sync + fmt::Debug {
    /// [`CaKind::Process`] or [`CaKind::Container`].
    fn kind(&self) -> CaKind;
    /// The ACME directory, `https://127.0.0.1:P/dir`.
    fn directory_url(&self) -> &str;
    /// The management listener, `https://127.0.0.1:P` (no trailing slash).
    fn management_url(&self) -> &str;
    /// A PEM file with the CA that signed Pebble's HTTPS certificate (for both listeners).
    /// It trusts nothing else; ACME clients need it to reach the directory.
    fn ca_bundle_path(&self) -> &Path;
    /// Pebble's issuing root (`GET /roots/0`, PEM). Pebble makes a new one at every start.
    fn root_pem(&self) -> CaFuture<'_, String>;
    /// Pebble's intermediate (`GET /intermediates/0`, PEM).
    fn intermediate_pem(&self) -> CaFuture<'_, String>;
    /// One readiness probe: both listeners answer. A lane is checked with it before each use.
    fn check(&self) -> CaFuture<'_, ()>;
    /// What Pebble logged so far (the last 64 KiB for a process).
    fn log(&self) -> CaFuture<'_, String>;
    /// Stops it, as dropping it does; a container's removal is awaited instead of holding a
    /// thread, so several stop at once when their futures are awaited together.
    fn stop(self: Box<Self>) -> StopFuture;
}

/// Both backends keep their files and addresses in a `run: PebbleRun` field; this writes the
/// same `CaBackend` impl for each.
macro_rules! impl_ca_backend {
    ($backend:ty, $kind:expr) => {
        impl CaBackend for $backend {
            fn kind(&self) -> CaKind {
                $kind
            }
            fn directory_url(&self) -> &str {
                &self.run.directory_url
            }
            fn management_url(&self) -> &str {
                &self.run.management_url
            }
            fn ca_bundle_path(&self) -> &Path {
                &self.run.bundle_path
            }
            fn root_pem(&self) -> CaFuture<'_, String> {
                Box::pin(self.run.management_text("/roots/0"))
            }
            fn intermediate_pem(&self) -> CaFuture<'_, String> {
                Box::pin(self.run.management_text("/intermediates/0"))
            }
            fn check(&self) -> CaFuture<'_, ()> {
                Box::pin(async move { self.run.probe().await.map_err(CaError::Http) })
            }
            fn log(&self) -> CaFuture<'_, String> {
                Box::pin(async move { Ok(self.log_text().await) })
            }
            fn stop(self: Box<Self>) -> $crate::ca::StopFuture {
                Box::pin(self.stop_now())
            }
        }
    };
}
pub(crate) use impl_ca_backend;

/// Errors of the CA backends. Messages say what to do when something is missing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaError {
    #[error("Pebble binary not found: {reason}; {HOW_TO_GET_PEBBLE_BINARY}")]
    BinaryNotFound { reason: String },
    #[error("no Docker engine answers: {reason}")]
    NoDocker { reason: String },
    #[error("Pebble image {image} is not available: {reason}; {HOW_TO_GET_PEBBLE_IMAGE}")]
    ImageUnavailable { image: String, reason: String },
    #[error(
        "no Pebble to run. Container: {container}. Process: {process}. Get either: \
         `apt-get install -y pebble` (or set PEBBLE=/path/to/pebble), or a Docker engine with \
         the image (build one with `ci/build-pebble-image` and set \
         PEBBLE_IMAGE=pebble-local:2.4.0 where no registry can be reached)"
    )]
    NoBackend { container: String, process: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    #[error("TLS: {0}")]
    Tls(String),
    #[error("{0}")]
    Http(String),
    #[error("GET {url} answered {status}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error("Docker: {0}")]
    Docker(String),
    #[error("Pebble exited before it was ready ({status}); its output:\n{output}")]
    Exited { status: String, output: String },
    #[error(
        "Pebble was not ready within {after:?} (last probe: {last_error}); its output:\n{output}"
    )]
    Timeout {
        after: Duration,
        last_error: String,
        output: String,
    },
    #[error("{0}")]
    Unsupported(String),
}

impl CaError {
    fn io(context: impl Into<String>, source: io::Error) -> Self {
        CaError::Io {
            context: context.into(),
            source,
        }
    }
}

/// Starts Pebble with the backend `kind` asks for.
///
/// `Auto` takes the container when a Docker engine answers a ping and the image is present or
/// can be pulled; else the process when a binary is found; else [`CaError::NoBackend`], which
/// says how to get either. A container that is available but then fails to start is an error,
/// not a reason to fall back: it points at a real problem.
pub async fn start_ca(kind: CaKind, options: &CaOptions) -> Result<Box<dyn CaBackend>, CaError> {
    match kind {
        CaKind::Process => Ok(Box::new(PebbleProcess::start(options).await?)),
        CaKind::Container => Ok(Box::new(PebbleContainer::start(options).await?)),
        CaKind::Auto => match PebbleContainer::probe(options).await {
            Ok(_) => Ok(Box::new(PebbleContainer::start(options).await?)),
            Err(container) => match PebbleProcess::locate(options) {
                Ok(_) => {
                    tracing::info!("CA backend: process ({container})");
                    Ok(Box::new(PebbleProcess::start(options).await?))
                }
                Err(process) => Err(CaError::NoBackend {
                    container: container.to_string(),
                    process: process.to_string(),
                }),
            },
        },
    }
}

/// Runs `start` again, with new ports, when Pebble exits because another program took one of
/// its ports between our probe and its bind; at most [`START_ATTEMPTS`] times.
async fn retry_port_races<T, F, Fut>(mut start: F) -> Result<T, CaError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, CaError>>,
{
    let mut attempt = 1;
    loop {
        match start().await {
            Err(CaError::Exited { output, .. })
                if attempt < START_ATTEMPTS && lost_port_race(&output) =>
            {
                tracing::debug!("Pebble lost a port race, retrying with new ports");
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Whether `kind` can start at all, without starting it: the harness checks this once before
/// a run so that a missing Pebble is one environment error, not a failure per scenario.
pub async fn check_available(kind: CaKind) -> Result<(), CaError> {
    // The DNS address does not matter for a probe.
    let options = CaOptions::new(SocketAddr::from(([127, 0, 0, 1], 53)));
    match kind {
        CaKind::Process => PebbleProcess::locate(&options).map(|_| ()),
        CaKind::Container => PebbleContainer::probe(&options).await.map(|_| ()),
        CaKind::Auto => match PebbleContainer::probe(&options).await {
            Ok(_) => Ok(()),
            Err(container) => PebbleProcess::locate(&options)
                .map(|_| ())
                .map_err(|process| CaError::NoBackend {
                    container: container.to_string(),
                    process: process.to_string(),
                }),
        },
    }
}

/// The files and addresses of one Pebble run, shared by both backends. The temporary folder
/// (certificate, key, configuration, CA bundle) lives as long as this value.
struct PebbleRun {
    dir: tempfile::TempDir,
    /// The folder of what Pebble reads (configuration, certificate, key): the run folder for
    /// a process; for a container, a subfolder readable by any user, copied in as one.
    pebble_files: PathBuf,
    bundle_path: PathBuf,
    listen: SocketAddr,
    management: SocketAddr,
    directory_url: String,
    management_url: String,
    /// The client of the probes and management calls: Pebble's CA its only root.
    http: reqwest::Client,
}

impl fmt::Debug for PebbleRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PebbleRun")
            .field("dir", &self.dir.path())
            .field("directory_url", &self.directory_url)
            .field("management_url", &self.management_url)
            .finish_non_exhaustive()
    }
}

/// The subfolder of the run folder copied into a container (as its `/pebble`).
const CONTAINER_FILES: &str = "pebble";
/// File names inside the run folder (and inside the container's `/pebble`).
const CONFIG_FILE: &str = "pebble-config.json";
const CERT_FILE: &str = "cert.pem";
const KEY_FILE: &str = "key.pem";
const BUNDLE_FILE: &str = "ca.pem";

/// Sets `folder` to 0755 and the files in it to 0644.
fn readable_by_all(folder: &Path) -> Result<(), CaError> {
    use std::os::unix::fs::PermissionsExt;
    let set = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| CaError::io(format!("setting the mode of {}", path.display()), e))
    };
    set(folder, 0o755)?;
    let entries = std::fs::read_dir(folder)
        .map_err(|e| CaError::io(format!("reading {}", folder.display()), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| CaError::io(format!("reading {}", folder.display()), e))?;
        set(&entry.path(), 0o644)?;
    }
    Ok(())
}

impl PebbleRun {
    /// Generates the TLS files and the configuration for two free loopback ports. `files_at`
    /// is the folder the configuration names for the certificate and key, as Pebble sees it:
    /// `None` for this run's folder (process), `Some("/pebble")` for a container.
    fn prepare(files_at: Option<&str>) -> Result<Self, CaError> {
        let dir = tempfile::Builder::new()
            .prefix("pebble-")
            .tempdir()
            .map_err(|e| CaError::io("creating a temporary folder for Pebble", e))?;
        let pebble_files = match files_at {
            None => dir.path().to_path_buf(),
            Some(_) => {
                let folder = dir.path().join(CONTAINER_FILES);
                std::fs::create_dir(&folder)
                    .map_err(|e| CaError::io(format!("creating {}", folder.display()), e))?;
                folder
            }
        };
        let pem = tls::generate_pebble_tls()?;
        let [listen_port, management_port] =
            free_loopback_ports().map_err(|e| CaError::io("finding free ports on 127.0.0.1", e))?;
        let listen = SocketAddr::from(([127, 0, 0, 1], listen_port));
        let management = SocketAddr::from(([127, 0, 0, 1], management_port));

        let seen = |name: &str| match files_at {
            Some(folder) => format!("{folder}/{name}"),
            None => dir.path().join(name).display().to_string(),
        };
        // Keys are case-insensitive and unknown keys are ignored, so this one file serves every
        // Pebble version. Ports 5002/5001 are only dialled for http-01/tls-alpn-01, never bound.
        let config = serde_json::json!({
            "pebble": {
                "listenAddress": listen.to_string(),
                "managementListenAddress": management.to_string(),
                "certificate": seen(CERT_FILE),
                "privateKey": seen(KEY_FILE),
                "httpPort": 5002,
                "tlsPort": 5001,
                "ocspResponderURL": "",
                "externalAccountBindingRequired": false,
            }
        });
        let write = |path: PathBuf, text: &str| {
            std::fs::write(&path, text)
                .map_err(|e| CaError::io(format!("writing {}", path.display()), e))
        };
        write(pebble_files.join(CERT_FILE), &pem.leaf_cert_pem)?;
        write(pebble_files.join(KEY_FILE), &pem.leaf_key_pem)?;
        write(pebble_files.join(CONFIG_FILE), &format!("{config:#}\n"))?;
        let bundle_path = dir.path().join(BUNDLE_FILE);
        write(bundle_path.clone(), &pem.ca_cert_pem)?;
        if files_at.is_some() {
            // Whatever user the image runs as reads them (the umask may say otherwise); the
            // run folder around them stays private to this user.
            readable_by_all(&pebble_files)?;
        }

        let http = crate::http::client(&crate::http::HttpOptions {
            roots: vec![bundle_path.as_path()],
            // Pebble 2.10+ refuses requests without a User-Agent.
            user_agent: Some("gandi-e2e-harness"),
            ..Default::default()
        })
        .map_err(CaError::Tls)?;
        Ok(PebbleRun {
            pebble_files,
            bundle_path,
            listen,
            management,
            directory_url: format!("https://{listen}/dir"),
            management_url: format!("https://{management}"),
            http,
            dir,
        })
    }

    /// One of the files Pebble reads.
    fn file(&self, name: &str) -> PathBuf {
        self.pebble_files.join(name)
    }

    async fn get(
        &self,
        at: SocketAddr,
        path: &str,
        timeout: Duration,
    ) -> Result<(u16, Vec<u8>), CaError> {
        let url = format!("https://{at}{path}");
        let reply = tokio::time::timeout(timeout, crate::http::get(&self.http, &url))
            .await
            .map_err(|_| CaError::Http(format!("GET {url}: no answer within {timeout:?}")))?
            .map_err(CaError::Http)?;
        Ok((reply.status, reply.body.to_vec()))
    }

    /// `GET` on the management listener, expecting 200 and a text body.
    async fn management_text(&self, path: &str) -> Result<String, CaError> {
        let (status, body) = self.get(self.management, path, REQUEST_TIMEOUT).await?;
        let body = String::from_utf8_lossy(&body).into_owned();
        if status != 200 {
            return Err(CaError::Status {
                url: format!("{}{path}", self.management_url),
                status,
                body,
            });
        }
        Ok(body)
    }

    /// One readiness probe: the directory answers 200 and so does the management listener
    /// (Pebble starts them separately, and logs "available" before either listens).
    async fn probe(&self) -> Result<(), String> {
        for (at, path) in [(self.listen, "/dir"), (self.management, "/roots/0")] {
            match self.get(at, path, PROBE_TIMEOUT).await {
                Ok((200, _)) => {}
                Ok((status, _)) => return Err(format!("GET https://{at}{path} answered {status}")),
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(())
    }
}

/// Distinct free TCP ports on 127.0.0.1, held together while chosen so they differ. Pebble
/// binds them a moment later; the rare port race is retried by the backends.
fn free_loopback_ports<const N: usize>() -> io::Result<[u16; N]> {
    let listeners = (0..N)
        .map(|_| TcpListener::bind(("127.0.0.1", 0)))
        .collect::<io::Result<Vec<_>>>()?;
    let mut ports = [0u16; N];
    for (port, listener) in ports.iter_mut().zip(&listeners) {
        *port = listener.local_addr()?.port();
    }
    Ok(ports)
}

/// Whether Pebble's output says it could not bind a port (then a new pair is tried).
fn lost_port_race(output: &str) -> bool {
    output.contains("address already in use")
}

/// Keeps the last `MAX` bytes of Pebble's output for error messages.
#[derive(Debug, Default, Clone)]
struct OutputTail(Arc<std::sync::Mutex<String>>);

impl OutputTail {
    const MAX: usize = 64 * 1024;

    fn push_line(&self, line: &str) {
        // A poisoned lock only means another reader panicked; the text is still usable.
        let mut text = self.0.lock().unwrap_or_else(|e| e.into_inner());
        text.push_str(line);
        text.push('\n');
        if text.len() > Self::MAX {
            let mut cut = text.len() - Self::MAX;
            while !text.is_char_boundary(cut) {
                cut += 1;
            }
            text.drain(..cut);
        }
    }

    fn text(&self) -> String {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_kind_parses_the_three_cli_values_and_rejects_others() {
        for kind in [CaKind::Auto, CaKind::Container, CaKind::Process] {
            assert_eq!(kind.to_string().parse::<CaKind>(), Ok(kind));
        }
        assert!("docker".parse::<CaKind>().unwrap_err().contains("docker"));
    }

    #[test]
    fn prepared_run_names_its_files_where_pebble_will_see_them() {
        use std::os::unix::fs::PermissionsExt;
        let run = PebbleRun::prepare(Some("/pebble")).unwrap();
        let config: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(run.file(CONFIG_FILE)).unwrap()).unwrap();
        // The container gets one folder (one upload): what Pebble reads, readable whatever
        // user the image runs as; the bundle is the harness's and stays out of it.
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&run.pebble_files), 0o755);
        let mut inside: Vec<(String, u32)> = std::fs::read_dir(&run.pebble_files)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    mode(&e.path()),
                )
            })
            .collect();
        inside.sort();
        assert_eq!(
            inside,
            [(CERT_FILE, 0o644), (KEY_FILE, 0o644), (CONFIG_FILE, 0o644)]
                .map(|(f, m)| (f.to_string(), m))
        );
        assert!(!run.bundle_path.starts_with(&run.pebble_files));
        let pebble = &config["pebble"];
        assert_eq!(pebble["certificate"], "/pebble/cert.pem");
        assert_eq!(pebble["privateKey"], "/pebble/key.pem");
        assert_eq!(pebble["listenAddress"], run.listen.to_string());
        assert_ne!(run.listen.port(), run.management.port());
        assert!(run.listen.ip().is_loopback() && run.management.ip().is_loopback());

        let local = PebbleRun::prepare(None).unwrap();
        let config = std::fs::read_to_string(local.file(CONFIG_FILE)).unwrap();
        assert!(config.contains(&local.file(CERT_FILE).display().to_string()));
        let dir = local.dir.path().to_path_buf();
        drop(local);
        assert!(!dir.exists(), "the run folder is removed with the run");
    }

    #[test]
    fn output_tail_keeps_the_end() {
        let tail = OutputTail::default();
        for i in 0..20_000 {
            tail.push_line(&format!("line {i}"));
        }
        let text = tail.text();
        assert!(text.len() <= OutputTail::MAX);
        assert!(text.ends_with("line 19999\n"));
    }
}
