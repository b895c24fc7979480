//! The mock's own certificate authority and the certificates it mints for the Gandi hostnames
//! (placeholder: filled by the proxy work). All rcgen and rustls calls live here.

use std::path::{Path, PathBuf};

/// A CA generated at start-up; the proxy presents certificates it signs.
#[derive(Debug)]
pub struct MockCa {
    pub cert_pem: String,
}

impl MockCa {
    pub fn generate() -> Result<Self, String> {
        Ok(Self {
            cert_pem: String::new(),
        })
    }

    /// Writes `ca.pem` into `dir`; returns its absolute path.
    pub fn write_to(&self, dir: &Path) -> std::io::Result<PathBuf> {
        let path = dir.join("ca.pem");
        std::fs::write(&path, &self.cert_pem)?;
        std::path::absolute(path)
    }
}
