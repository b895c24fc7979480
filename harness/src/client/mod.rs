//! ACME clients. `builtin` is instant-acme with Rust copies of lego's Gandi providers; the
//! real programs (lego, certbot, any command) come behind the same interface.

pub mod builtin;
mod gandi_v4;
mod gandi_v5;
mod http;
mod zone;

use serde::{Deserialize, Serialize};

pub use zone::{find_zone, txt_values};

/// lego's provider names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderName {
    /// Legacy v4 XML-RPC (`GANDI_API_KEY`).
    Gandi,
    /// LiveDNS (`GANDIV5_PERSONAL_ACCESS_TOKEN`, `GANDIV5_API_KEY`).
    Gandiv5,
}

/// A configured provider.
pub(crate) enum Provider {
    V4(gandi_v4::GandiV4),
    V5(gandi_v5::GandiV5),
}

impl Provider {
    pub(crate) async fn present(&self, domain: &str, value: &str) -> Result<(), String> {
        match self {
            Provider::V4(p) => p.present(domain, value).await,
            Provider::V5(p) => p.present(domain, value).await,
        }
    }

    pub(crate) async fn cleanup(&self, domain: &str) -> Result<(), String> {
        match self {
            Provider::V4(p) => p.cleanup(domain).await,
            Provider::V5(p) => p.cleanup(domain).await,
        }
    }
}
