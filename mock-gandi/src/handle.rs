//! The in-process handle: every listener of the mock, on its own thread and runtime, stopped
//! when the handle is dropped. `mock-gandi serve` is this handle in a process.

use std::net::{IpAddr, SocketAddr, TcpListener as StdTcpListener, UdpSocket as StdUdpSocket};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::journal::{DnsEntry, Journal, RequestEntry};
use crate::proxy::Entry;
use crate::state::{AppState, Shutdown, ShutdownTrigger};
use crate::store::{Seed, SeedError, ZoneStore};
use crate::tls::MockCa;

/// Why the mock could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr} ({what}): {source}")]
    Bind {
        what: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("invalid seed: {0}")]
    Seed(#[from] SeedError),
    #[error("cannot create the proxy CA: {0}")]
    Ca(String),
    #[error("cannot write the CA certificate: {0}")]
    CaWrite(std::io::Error),
    #[error("cannot start the server thread: {0}")]
    Thread(std::io::Error),
}

/// Configures a [`MockGandi`] before it starts.
#[derive(Debug)]
pub struct MockGandiBuilder {
    initial: Initial,
    api: SocketAddr,
    dns: SocketAddr,
    proxy: SocketAddr,
    https: Option<SocketAddr>,
    nameserver_ip: Option<IpAddr>,
    ca_dir: Option<PathBuf>,
    limits: crate::state::Limits,
    as_of: Option<crate::era::AsOf>,
}

/// What the store starts with: a seed, or a store already read from a seed's text.
#[derive(Debug)]
enum Initial {
    Seed(Seed),
    Store(ZoneStore),
}

impl Default for MockGandiBuilder {
    fn default() -> Self {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        Self {
            initial: Initial::Seed(Seed::default()),
            api: any,
            dns: any,
            proxy: any,
            https: None,
            nameserver_ip: None,
            ca_dir: None,
            limits: crate::state::Limits::default(),
            as_of: None,
        }
    }
}

impl MockGandiBuilder {
    /// What the store starts with (and returns to on reset).
    pub fn seed(mut self, seed: Seed) -> Self {
        self.initial = Initial::Seed(seed);
        self
    }

    /// The seed as TOML (or JSON) text, read into the store a part at a time (a large account
    /// is not held twice while it is read).
    pub fn seed_text(mut self, text: &str) -> Result<Self, SeedError> {
        self.initial = Initial::Store(ZoneStore::parse(text)?);
        Ok(self)
    }

    /// Gandi as of this date, whatever the seed's `as_of` says (see `crate::era`).
    pub fn as_of(mut self, as_of: crate::era::AsOf) -> Self {
        self.as_of = Some(as_of);
        self
    }

    /// Where the direct HTTP listener binds (default 127.0.0.1, any port).
    pub fn api_addr(mut self, addr: SocketAddr) -> Self {
        self.api = addr;
        self
    }

    /// Where DNS binds, UDP and TCP on the same port (default 127.0.0.1, any port).
    pub fn dns_addr(mut self, addr: SocketAddr) -> Self {
        self.dns = addr;
        self
    }

    /// Where the HTTPS proxy binds (default 127.0.0.1, any port).
    pub fn proxy_addr(mut self, addr: SocketAddr) -> Self {
        self.proxy = addr;
        self
    }

    /// Also serve the transparent HTTPS listener here (default: none): TLS straight away, the
    /// Gandi host named in SNI, for clients whose resolver sends Gandi's names to the mock
    /// (the sandbox binds it on 127.0.0.1:443).
    pub fn https_addr(mut self, addr: SocketAddr) -> Self {
        self.https = Some(addr);
        self
    }

    /// The address of `ns1` and `ns2.mock-gandi.test.` (default: the DNS listener's, or
    /// 127.0.0.1 when that is unspecified).
    pub fn nameserver_ip(mut self, ip: IpAddr) -> Self {
        self.nameserver_ip = Some(ip);
        self
    }

    /// What a client may hold of the mock: connections per listener, time to send a request
    /// head, body size, DNS-over-TCP idle time, journal entries (default: [`Limits::default`]).
    ///
    /// [`Limits::default`]: crate::Limits
    pub fn limits(mut self, limits: crate::state::Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Where `ca.pem` is written (default: a temporary folder removed with the handle).
    pub fn ca_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.ca_dir = Some(dir.into());
        self
    }

    /// Starts every listener; they are ready when this returns.
    pub async fn start(self) -> Result<MockGandi, StartError> {
        self.start_blocking()
    }

    /// The same as [`MockGandiBuilder::start`], from synchronous code.
    pub fn start_blocking(self) -> Result<MockGandi, StartError> {
        if let Initial::Seed(seed) = &self.initial {
            seed.check()
                .map_err(|d| StartError::Seed(SeedError::Duplicate(d)))?;
        }
        let bind = |what, addr| {
            let l = listen(addr).map_err(|source| StartError::Bind { what, addr, source })?;
            l.set_nonblocking(true)
                .map_err(|source| StartError::Bind { what, addr, source })?;
            Ok::<_, StartError>(l)
        };
        let api = bind("api", self.api)?;
        let proxy = bind("proxy", self.proxy)?;
        let https = self.https.map(|a| bind("https", a)).transpose()?;
        let (dns_udp, dns_tcp) = bind_dns(self.dns)?;
        let api_addr = local(&api, "api", self.api)?;
        let proxy_addr = local(&proxy, "proxy", self.proxy)?;
        let dns_addr = local(&dns_tcp, "dns", self.dns)?;
        let https_addr = match (&https, self.https) {
            (Some(l), Some(a)) => Some(local(l, "https", a)?),
            _ => None,
        };

        let ca = Arc::new(MockCa::generate().map_err(StartError::Ca)?);
        let (ca_dir, temp) = match self.ca_dir {
            Some(dir) => {
                std::fs::create_dir_all(&dir).map_err(StartError::CaWrite)?;
                (dir, None)
            }
            None => {
                let t = tempfile::Builder::new()
                    .prefix("mock-gandi-")
                    .tempdir()
                    .map_err(StartError::CaWrite)?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        let ca_cert = ca.write_to(&ca_dir).map_err(StartError::CaWrite)?;

        let store = match self.initial {
            Initial::Seed(seed) => ZoneStore::new(seed),
            Initial::Store(store) => store,
        };
        let store = match self.as_of {
            Some(as_of) => store.with_as_of(as_of),
            None => store,
        };
        store.set_nameserver_ip(self.nameserver_ip.unwrap_or(match dns_addr.ip() {
            ip if ip.is_unspecified() => IpAddr::from([127, 0, 0, 1]),
            ip => ip,
        }));
        let state = AppState::with(store, self.limits, Some(ca.cert_pem.clone()));
        let (trigger, shutdown) = Shutdown::new();
        let thread_state = state.clone();
        let thread = std::thread::Builder::new()
            .name("mock-gandi".into())
            .spawn(move || {
                let listeners = Listeners {
                    api,
                    proxy,
                    https,
                    dns_udp,
                    dns_tcp,
                };
                serve(thread_state, ca, listeners, shutdown)
            })
            .map_err(StartError::Thread)?;

        Ok(MockGandi {
            api_addr,
            dns_addr,
            proxy_addr,
            https_addr,
            ca_cert,
            state,
            trigger,
            thread: Some(thread),
            _temp: temp,
        })
    }
}

fn local(
    l: &StdTcpListener,
    what: &'static str,
    addr: SocketAddr,
) -> Result<SocketAddr, StartError> {
    l.local_addr()
        .map_err(|source| StartError::Bind { what, addr, source })
}

/// Binds TCP and UDP on one port. With port 0 the kernel picks the TCP port, which may be
/// taken on UDP: try again a few times.
/// Connections the kernel completes and queues while every slot of a listener is taken
/// (`Limits::max_connections`): they wait there for their turn instead of their SYN being
/// dropped and retried seconds later. The kernel caps it at `net.core.somaxconn`.
const BACKLOG: i32 = 1024;

/// A TCP listener on `addr` with [`BACKLOG`] (std's `bind` gives 128).
fn listen(addr: SocketAddr) -> std::io::Result<StdTcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    // As std does on Unix: a port in TIME_WAIT from a previous run can be bound again.
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

fn bind_dns(addr: SocketAddr) -> Result<(StdUdpSocket, StdTcpListener), StartError> {
    let err = |source| StartError::Bind {
        what: "dns",
        addr,
        source,
    };
    let mut last = None;
    for _ in 0..20 {
        let tcp = listen(addr).map_err(err)?;
        let port = tcp.local_addr().map_err(err)?.port();
        match StdUdpSocket::bind(SocketAddr::new(addr.ip(), port)) {
            Ok(udp) => {
                tcp.set_nonblocking(true).map_err(err)?;
                udp.set_nonblocking(true).map_err(err)?;
                return Ok((udp, tcp));
            }
            Err(e) if addr.port() == 0 => last = Some(e),
            Err(e) => return Err(err(e)),
        }
    }
    Err(err(
        last.unwrap_or_else(|| std::io::Error::other("no free port"))
    ))
}

/// Every socket the server thread serves, bound before it starts.
struct Listeners {
    api: StdTcpListener,
    proxy: StdTcpListener,
    https: Option<StdTcpListener>,
    dns_udp: StdUdpSocket,
    dns_tcp: StdTcpListener,
}

/// The server thread: one runtime, every listener, until shutdown.
fn serve(state: AppState, ca: Arc<MockCa>, listeners: Listeners, shutdown: Shutdown) {
    let Listeners {
        api,
        proxy,
        https,
        dns_udp,
        dns_tcp,
    } = listeners;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("mock-gandi-worker")
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("cannot start the mock's runtime: {e}");
            return;
        }
    };
    runtime.block_on(async move {
        let (api, proxy, https, udp, tcp) = match (
            tokio::net::TcpListener::from_std(api),
            tokio::net::TcpListener::from_std(proxy),
            https.map(tokio::net::TcpListener::from_std).transpose(),
            tokio::net::UdpSocket::from_std(dns_udp),
            tokio::net::TcpListener::from_std(dns_tcp),
        ) {
            (Ok(a), Ok(p), Ok(h), Ok(u), Ok(t)) => (a, p, h, u, t),
            _ => {
                tracing::error!("cannot register the mock's sockets with the runtime");
                return;
            }
        };
        let direct = crate::server::Direct::new(state.clone());
        let limits = state.limits;
        let api_task = {
            let shutdown = shutdown.clone();
            crate::listen::accept_loop("api", api, limits, shutdown.clone(), move |stream| {
                crate::listen::serve_direct(stream, direct.clone(), limits, shutdown.clone())
            })
        };
        let dns_task = crate::dns::run(
            udp,
            tcp,
            state.store.clone(),
            state.journal.clone(),
            limits,
            shutdown.clone(),
        );
        let mut grace = shutdown.clone();
        let backend = crate::proxy::Backend {
            router: crate::server::gandi_router(state.clone()),
            journal: state.journal.clone(),
            limits: state.limits,
            store: Some(state.store.clone()),
            every_path: false,
        };
        let https_task = {
            let (backend, ca, shutdown) = (backend.clone(), ca.clone(), shutdown.clone());
            async move {
                if let Some(https) = https {
                    crate::proxy::run(https, backend, ca, Entry::Sni, shutdown).await;
                }
            }
        };
        let proxy_task = crate::proxy::run(proxy, backend, ca, Entry::Connect, shutdown);
        let all = async {
            tokio::join!(api_task, dns_task, proxy_task, https_task);
        };
        // Open connections get a moment to finish; then the runtime is dropped with them.
        tokio::select! {
            () = all => {}
            () = async { grace.wait().await; tokio::time::sleep(std::time::Duration::from_secs(1)).await } => {}
        }
    });
    // Connections still open (keep-alive clients) must not keep the thread alive.
    drop(runtime);
}

/// A running mock: every address, the CA, the store and the journals. Dropping it stops every
/// listener and waits for the server thread.
#[derive(Debug)]
pub struct MockGandi {
    api_addr: SocketAddr,
    dns_addr: SocketAddr,
    proxy_addr: SocketAddr,
    https_addr: Option<SocketAddr>,
    ca_cert: PathBuf,
    state: AppState,
    trigger: ShutdownTrigger,
    thread: Option<JoinHandle<()>>,
    _temp: Option<tempfile::TempDir>,
}

impl MockGandi {
    /// Starts an empty mock on ephemeral loopback ports. Panics if it cannot start, like
    /// other test servers; use [`MockGandi::builder`] to handle the error.
    pub async fn start() -> Self {
        Self::builder()
            .start()
            .await
            .expect("mock-gandi could not start")
    }

    pub fn builder() -> MockGandiBuilder {
        MockGandiBuilder::default()
    }

    /// `http://127.0.0.1:PORT`: the direct listener (Gandi APIs by path, and `/_mock`).
    pub fn api_url(&self) -> String {
        format!("http://{}", self.api_addr)
    }

    pub fn api_addr(&self) -> SocketAddr {
        self.api_addr
    }

    /// DNS, UDP and TCP on this one address.
    pub fn dns_addr(&self) -> SocketAddr {
        self.dns_addr
    }

    /// `http://127.0.0.1:PORT`: the HTTPS proxy, as `HTTPS_PROXY` takes it.
    pub fn proxy_url(&self) -> String {
        format!("http://{}", self.proxy_addr)
    }

    pub fn proxy_addr(&self) -> SocketAddr {
        self.proxy_addr
    }

    /// The transparent HTTPS listener, when one was asked for.
    pub fn https_addr(&self) -> Option<SocketAddr> {
        self.https_addr
    }

    /// The PEM file of the CA that signs the proxy's certificates.
    pub fn ca_cert_path(&self) -> &Path {
        &self.ca_cert
    }

    pub fn ca_pem(&self) -> &str {
        self.state.ca_pem.as_deref().map_or("", String::as_str)
    }

    pub fn store(&self) -> &ZoneStore {
        &self.state.store
    }

    pub fn journal(&self) -> &Journal {
        &self.state.journal
    }

    pub fn requests(&self) -> Vec<RequestEntry> {
        self.state.journal.requests()
    }

    pub fn dns_queries(&self) -> Vec<DnsEntry> {
        self.state.journal.dns_queries()
    }

    /// The shared state, for serving the same mock on another listener.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The ready line of `mock-gandi serve`.
    pub fn ready_line(&self) -> String {
        #[derive(serde::Serialize)]
        struct Ready {
            api: String,
            dns: String,
            proxy: String,
            #[serde(skip_serializing_if = "Option::is_none")]
            https: Option<String>,
            ca_cert: String,
        }
        serde_json::to_string(&Ready {
            api: self.api_url(),
            dns: self.dns_addr.to_string(),
            proxy: self.proxy_url(),
            https: self.https_addr.map(|a| a.to_string()),
            ca_cert: self.ca_cert.display().to_string(),
        })
        .unwrap_or_default()
    }

    /// Stops every listener and waits for them.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.trigger.trigger();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for MockGandi {
    fn drop(&mut self) {
        self.shutdown();
    }
}
