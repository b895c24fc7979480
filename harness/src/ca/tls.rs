//! Every rcgen call of the CA backends: the per-run certificate authority that signs Pebble's
//! HTTPS certificate (the client that trusts it is built in `crate::http`).

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};

use super::CaError;

/// Names Pebble's HTTPS certificate is valid for: loopback by name and address (the process and
/// the host-networked container), and `pebble` for a container reached by its network alias.
pub(crate) const PEBBLE_TLS_NAMES: [&str; 4] = ["localhost", "127.0.0.1", "::1", "pebble"];

/// PEM text of a freshly generated CA and of a leaf it signed for [`PEBBLE_TLS_NAMES`].
pub(crate) struct PebbleTls {
    pub(crate) ca_cert_pem: String,
    pub(crate) leaf_cert_pem: String,
    pub(crate) leaf_key_pem: String,
}

fn tls_error(what: &str, err: impl std::fmt::Display) -> CaError {
    CaError::Tls(format!("{what}: {err}"))
}

/// Generates a CA and a leaf for Pebble's listeners. Both are new each run, so nothing trusts
/// them except the bundle the harness hands out; validity starts a day back to tolerate skew.
pub(crate) fn generate_pebble_tls() -> Result<PebbleTls, CaError> {
    let now = time::OffsetDateTime::now_utc();
    let not_before = now - time::Duration::days(1);
    let not_after = now + time::Duration::days(30);

    let mut ca_params = CertificateParams::default();
    ca_params.distinguished_name = DistinguishedName::new();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "gandi-e2e harness CA for Pebble");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca_params.not_before = not_before;
    ca_params.not_after = not_after;
    let ca_key = KeyPair::generate().map_err(|e| tls_error("generating the CA key", e))?;
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key)
        .map_err(|e| tls_error("signing the CA certificate", e))?;

    let names: Vec<String> = PEBBLE_TLS_NAMES.iter().map(|s| s.to_string()).collect();
    let mut leaf_params =
        CertificateParams::new(names).map_err(|e| tls_error("leaf certificate names", e))?;
    leaf_params.distinguished_name = DistinguishedName::new();
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    leaf_params.is_ca = IsCa::ExplicitNoCa;
    // An ECDSA key signs; it never enciphers keys.
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf_params.use_authority_key_identifier_extension = true;
    leaf_params.not_before = not_before;
    leaf_params.not_after = not_after;
    let leaf_key = KeyPair::generate().map_err(|e| tls_error("generating the leaf key", e))?;
    let leaf = leaf_params
        .signed_by(&leaf_key, &ca)
        .map_err(|e| tls_error("signing the leaf certificate", e))?;

    Ok(PebbleTls {
        ca_cert_pem: ca.pem(),
        leaf_cert_pem: leaf.pem(),
        leaf_key_pem: leaf_key.serialize_pem(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    #[test]
    fn generated_leaf_names_every_loopback_form_and_chains_to_the_ca() {
        let tls = generate_pebble_tls().unwrap();
        let leaf_der = CertificateDer::from_pem_slice(tls.leaf_cert_pem.as_bytes()).unwrap();
        let ca_der = CertificateDer::from_pem_slice(tls.ca_cert_pem.as_bytes()).unwrap();
        let (_, leaf) = x509_parser::parse_x509_certificate(&leaf_der).unwrap();
        let (_, ca) = x509_parser::parse_x509_certificate(&ca_der).unwrap();
        let sans: Vec<String> = leaf
            .subject_alternative_name()
            .unwrap()
            .unwrap()
            .value
            .general_names
            .iter()
            .map(|n| match n {
                x509_parser::extensions::GeneralName::DNSName(d) => d.to_string(),
                x509_parser::extensions::GeneralName::IPAddress(b) => match b.len() {
                    4 => std::net::IpAddr::from(<[u8; 4]>::try_from(*b).unwrap()).to_string(),
                    _ => std::net::IpAddr::from(<[u8; 16]>::try_from(*b).unwrap()).to_string(),
                },
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(sans, ["localhost", "127.0.0.1", "::1", "pebble"]);
        assert!(ca.is_ca());
        leaf.verify_signature(Some(ca.public_key())).unwrap();
        assert!(tls.leaf_key_pem.contains("PRIVATE KEY"));
    }
}
