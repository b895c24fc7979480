//! Checks an issued chain for real: every signature up to the CA's root, the validity period,
//! and the names. All x509-parser calls of the harness are here.

use std::collections::BTreeSet;

use x509_parser::extensions::GeneralName;
use x509_parser::pem::Pem;
use x509_parser::prelude::X509Certificate;

fn pems(text: &str) -> Result<Vec<Pem>, String> {
    Pem::iter_from_buffer(text.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("cannot read PEM: {e}"))
}

fn parse(pem: &Pem) -> Result<X509Certificate<'_>, String> {
    pem.parse_x509()
        .map_err(|e| format!("cannot parse certificate: {e}"))
}

/// Verifies `chain_pem` (leaf first) against `root_pem` and returns the leaf's DNS names.
pub fn verify_chain(chain_pem: &str, root_pem: &str) -> Result<BTreeSet<String>, String> {
    let chain = pems(chain_pem)?;
    let roots = pems(root_pem)?;
    if chain.is_empty() {
        return Err("the certificate chain is empty".into());
    }
    let root = roots.first().ok_or("the root PEM holds no certificate")?;
    let root = parse(root)?;
    let certs = chain.iter().map(parse).collect::<Result<Vec<_>, _>>()?;
    for (i, cert) in certs.iter().enumerate() {
        if !cert.validity().is_valid() {
            return Err(format!(
                "certificate {i} ({}) is not valid now",
                cert.subject()
            ));
        }
        let issuer = certs.get(i + 1).unwrap_or(&root);
        cert.verify_signature(Some(issuer.public_key()))
            .map_err(|e| {
                format!(
                    "certificate {i} ({}) is not signed by {}: {e}",
                    cert.subject(),
                    issuer.subject()
                )
            })?;
    }
    // The last certificate of the chain must be signed by the root itself.
    let last = certs.last().ok_or("the certificate chain is empty")?;
    if last.issuer() != root.subject() {
        return Err(format!(
            "the chain ends at {} but the root is {}",
            last.issuer(),
            root.subject()
        ));
    }
    let leaf = &certs[0];
    let names = leaf
        .subject_alternative_name()
        .map_err(|e| format!("cannot read the SAN extension: {e}"))?
        .map(|ext| {
            ext.value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    GeneralName::DNSName(d) => Some(d.to_ascii_lowercase()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(names)
}
