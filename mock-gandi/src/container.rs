//! mock-gandi as a testcontainers [`Image`]: the `mock-gandi:local` image that
//! `ci/build-mock-image` builds (no registry needed), with an optional seed copied in.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use mock_gandi::container::MockGandiImage;
//! use testcontainers::runners::AsyncRunner;
//!
//! let mock = MockGandiImage::default()
//!     .with_seed("[[domain]]\nfqdn = \"stubber.chat\"\n")
//!     .start()
//!     .await?;
//! let api = MockGandiImage::api_url(&mock).await?; // http://127.0.0.1:PORT
//! let dns = MockGandiImage::dns_addr(&mock).await?; // 127.0.0.1:PORT (UDP)
//! # Ok(()) }
//! ```

use std::borrow::Cow;
use std::net::SocketAddr;

use testcontainers::core::{ContainerPort, WaitFor};
use testcontainers::{ContainerAsync, CopyToContainer, Image};

/// The API (and `/_mock`) port inside the container.
pub const API_PORT: ContainerPort = ContainerPort::Tcp(8080);
/// The DNS port inside the container, UDP and TCP.
pub const DNS_UDP_PORT: ContainerPort = ContainerPort::Udp(53);
pub const DNS_TCP_PORT: ContainerPort = ContainerPort::Tcp(53);
/// The HTTPS proxy port inside the container.
pub const PROXY_PORT: ContainerPort = ContainerPort::Tcp(8443);

/// Where a seed given to [`MockGandiImage::with_seed`] is copied in the container.
const SEED_PATH: &str = "/etc/mock-gandi/seed.toml";

/// The mock-gandi image: `mock-gandi:local` unless told otherwise (`MOCK_GANDI_IMAGE` is read
/// by [`Default`], as `name:tag`).
#[derive(Debug, Clone)]
pub struct MockGandiImage {
    name: String,
    tag: String,
    seed: Option<CopyToContainer>,
    env: Vec<(String, String)>,
}

impl Default for MockGandiImage {
    fn default() -> Self {
        let reference =
            std::env::var("MOCK_GANDI_IMAGE").unwrap_or_else(|_| "mock-gandi:local".into());
        let (name, tag) = match reference.rsplit_once(':') {
            Some((name, tag)) if !tag.contains('/') => (name.to_string(), tag.to_string()),
            _ => (reference.clone(), "latest".to_string()),
        };
        Self {
            name,
            tag,
            seed: None,
            env: Vec::new(),
        }
    }
}

impl MockGandiImage {
    /// Another image reference than `mock-gandi:local`.
    pub fn with_image(mut self, name: impl Into<String>, tag: impl Into<String>) -> Self {
        self.name = name.into();
        self.tag = tag.into();
        self
    }

    /// A seed (TOML or JSON, the seed file's schema) the mock starts with and resets to.
    pub fn with_seed(mut self, seed: impl Into<String>) -> Self {
        self.seed = Some(CopyToContainer::new(
            seed.into().into_bytes(),
            SEED_PATH.to_string(),
        ));
        self.env
            .push(("MOCK_GANDI_SEED".to_string(), SEED_PATH.to_string()));
        self
    }

    /// An environment variable for the mock (`MOCK_GANDI_LOG=debug`, ...).
    pub fn with_env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// The direct listener as the host reaches it: `http://HOST:PORT`.
    pub async fn api_url(
        container: &ContainerAsync<MockGandiImage>,
    ) -> testcontainers::core::error::Result<String> {
        let host = container.get_host().await?;
        let port = container.get_host_port_ipv4(API_PORT).await?;
        Ok(format!("http://{host}:{port}"))
    }

    /// The DNS listener (UDP) as the host reaches it.
    pub async fn dns_addr(
        container: &ContainerAsync<MockGandiImage>,
    ) -> testcontainers::core::error::Result<SocketAddr> {
        Self::addr(container, DNS_UDP_PORT).await
    }

    /// The HTTPS proxy as the host reaches it: `http://HOST:PORT`, for `HTTPS_PROXY`.
    pub async fn proxy_url(
        container: &ContainerAsync<MockGandiImage>,
    ) -> testcontainers::core::error::Result<String> {
        let host = container.get_host().await?;
        let port = container.get_host_port_ipv4(PROXY_PORT).await?;
        Ok(format!("http://{host}:{port}"))
    }

    async fn addr(
        container: &ContainerAsync<MockGandiImage>,
        port: ContainerPort,
    ) -> testcontainers::core::error::Result<SocketAddr> {
        let port = container.get_host_port_ipv4(port).await?;
        // Docker publishes on every host interface; loopback is always one of them.
        Ok(SocketAddr::from(([127, 0, 0, 1], port)))
    }
}

impl Image for MockGandiImage {
    fn name(&self) -> &str {
        &self.name
    }

    fn tag(&self) -> &str {
        &self.tag
    }

    /// The ready line (`{"api": ...}`) is printed once every listener is bound.
    fn ready_conditions(&self) -> Vec<WaitFor> {
        vec![WaitFor::message_on_stdout("\"ca_cert\"")]
    }

    fn env_vars(
        &self,
    ) -> impl IntoIterator<Item = (impl Into<Cow<'_, str>>, impl Into<Cow<'_, str>>)> {
        self.env.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    fn copy_to_sources(&self) -> impl IntoIterator<Item = &CopyToContainer> {
        self.seed.iter()
    }

    fn expose_ports(&self) -> &[ContainerPort] {
        &[API_PORT, DNS_UDP_PORT, DNS_TCP_PORT, PROXY_PORT]
    }
}
