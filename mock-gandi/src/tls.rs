//! The mock's own certificate authority and the one certificate it mints for every Gandi
//! hostname. All rcgen, rustls and tokio-rustls calls live here (DESIGN: one file per unstable
//! dependency), so the proxy only sees "a stream in, a TLS stream out".

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};
use tokio::io::{AsyncRead, AsyncWrite};

/// The Gandi API hosts (gandi-wire.md §1): the names the HTTPS listener accepts in SNI.
pub(crate) const GANDI_NAMES: &[&str] = &[
    "rpc.gandi.net",
    "rpc.ote.gandi.net",
    "dns.api.gandi.net",
    // The beta host of 2015–2017 (`crate::era::Era::beta_host`): the proxy decides whether
    // it answers.
    "dns.beta.gandi.net",
    "api.gandi.net",
    "api.sandbox.gandi.net",
];

/// Also in the certificate, so that a client pointed straight at the TLS side of the proxy can
/// verify it too (never accepted in SNI).
const LOOPBACK_NAMES: &[&str] = &["localhost", "127.0.0.1"];

/// Presents the certificate only to a client that names a Gandi host in SNI; any other name,
/// or none, gets no certificate, so rustls ends the handshake with an alert.
#[derive(Debug)]
struct GandiNamesOnly(Arc<rustls::sign::CertifiedKey>);

impl rustls::server::ResolvesServerCert for GandiNamesOnly {
    fn resolve(
        &self,
        hello: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        let name = hello.server_name()?;
        GANDI_NAMES
            .iter()
            .any(|g| g.eq_ignore_ascii_case(name))
            .then(|| self.0.clone())
    }
}

/// A CA generated at start-up (a new key every start, so a leaked `ca.pem` trusts nothing
/// beyond that one run) and the TLS server configuration for the leaf it signed.
#[derive(Debug)]
pub struct MockCa {
    /// The CA certificate; clients trust it through `SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE` or
    /// `CURL_CA_BUNDLE`.
    pub cert_pem: String,
    config: Arc<rustls::ServerConfig>,
    /// The same certificate, for Gandi names in SNI only (the transparent HTTPS listener).
    sni_config: Arc<rustls::ServerConfig>,
}

impl MockCa {
    /// A fresh CA and one leaf for all of [`GANDI_NAMES`] and [`LOOPBACK_NAMES`]. ECDSA P-256 throughout: key
    /// generation and signing take well under a millisecond, which keeps the handle's
    /// start-up fast (RSA generation would take tens of milliseconds or more).
    pub fn generate() -> Result<Self, String> {
        let now = OffsetDateTime::now_utc();
        // A day back absorbs clock skew between the mock and a client in a container; a year
        // ahead outlives any test run or long-lived `mock-gandi serve`.
        let not_before = now - Duration::days(1);
        let not_after = now + Duration::days(365);

        let ca_key = KeyPair::generate().map_err(|e| format!("CA key: {e}"))?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new())
            .map_err(|e| format!("CA parameters: {e}"))?;
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "mock-gandi test CA");
        ca_params
            .distinguished_name
            .push(DnType::OrganizationName, "mock-gandi");
        // Path length 0: this CA signs leaves only, never another CA.
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        // OpenSSL's strict mode (Python 3.13's default context) wants key usage on a CA.
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        ca_params.not_before = not_before;
        ca_params.not_after = not_after;
        let ca_cert = ca_params
            .self_signed(&ca_key)
            .map_err(|e| format!("CA certificate: {e}"))?;
        let issuer = Issuer::new(ca_params, ca_key);

        let leaf_key = KeyPair::generate().map_err(|e| format!("leaf key: {e}"))?;
        let names: Vec<String> = GANDI_NAMES
            .iter()
            .chain(LOOPBACK_NAMES)
            .map(|n| n.to_string())
            .collect();
        let mut leaf_params =
            CertificateParams::new(names).map_err(|e| format!("leaf parameters: {e}"))?;
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "mock-gandi proxy");
        leaf_params.is_ca = IsCa::ExplicitNoCa;
        // Strict verifiers (OpenSSL's X509_STRICT) reject a leaf without an authority key id.
        leaf_params.use_authority_key_identifier_extension = true;
        leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf_params.not_before = not_before;
        leaf_params.not_after = not_after;
        let leaf_cert = leaf_params
            .signed_by(&leaf_key, &issuer)
            .map_err(|e| format!("leaf certificate: {e}"))?;

        // The provider is named, not taken from the process default, so that another crate
        // in the same binary enabling a second rustls backend cannot make this ambiguous.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        // The chain sent includes the CA, as public servers send their intermediates.
        let chain = vec![leaf_cert.der().clone(), ca_cert.der().clone()];
        let signing_key = provider
            .key_provider
            .load_private_key(key.clone_key())
            .map_err(|e| format!("TLS key: {e}"))?;
        let certified = Arc::new(rustls::sign::CertifiedKey::new(chain.clone(), signing_key));
        let builder = || {
            rustls::ServerConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .map_err(|e| format!("TLS versions: {e}"))
                .map(|b| b.with_no_client_auth())
        };
        let mut config = builder()?
            .with_single_cert(chain, key)
            .map_err(|e| format!("TLS certificate: {e}"))?;
        let mut sni_config = builder()?.with_cert_resolver(Arc::new(GandiNamesOnly(certified)));
        // The router speaks HTTP/1.1 only; a client offering h2 must not pick it.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        sni_config.alpn_protocols = vec![b"http/1.1".to_vec()];

        Ok(Self {
            cert_pem: ca_cert.pem(),
            config: Arc::new(config),
            sni_config: Arc::new(sni_config),
        })
    }

    /// Writes `ca.pem` into `dir`; returns its absolute path.
    pub fn write_to(&self, dir: &Path) -> std::io::Result<PathBuf> {
        let path = dir.join("ca.pem");
        std::fs::write(&path, &self.cert_pem)?;
        std::path::absolute(path)
    }

    /// The server side of a TLS handshake on `io`, presenting the Gandi certificate.
    pub async fn accept<IO>(
        &self,
        io: IO,
    ) -> std::io::Result<impl AsyncRead + AsyncWrite + Unpin + Send + 'static>
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        tokio_rustls::TlsAcceptor::from(self.config.clone())
            .accept(io)
            .await
    }

    /// The server side of a TLS handshake for a client that names a Gandi host in SNI, and the
    /// name it gave (lowercase). No name, or another one, ends the handshake with an alert.
    pub async fn accept_named<IO>(
        &self,
        io: IO,
    ) -> std::io::Result<(impl AsyncRead + AsyncWrite + Unpin + Send + 'static, String)>
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let tls = tokio_rustls::TlsAcceptor::from(self.sni_config.clone())
            .accept(io)
            .await?;
        let name = tls
            .get_ref()
            .1
            .server_name()
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        Ok((tls, name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_ca_is_a_pem_certificate() {
        let ca = MockCa::generate().unwrap();
        assert!(ca.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(ca.config.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }

    #[test]
    fn every_start_gets_a_new_ca() {
        let a = MockCa::generate().unwrap();
        let b = MockCa::generate().unwrap();
        assert_ne!(a.cert_pem, b.cert_pem);
    }
}
