//! One issuance, end to end: a mock seeded as asked, a Pebble pointed at the mock's DNS, a
//! client pointed at both. The outcome carries the client's result, the verification of an
//! issued chain, and both journals of the mock.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use mock_gandi::{DnsEntry, MockGandi, RequestEntry, Seed};

use crate::ca::{CaBackend, CaKind, CaOptions, start_ca};
use crate::client::ProviderName;
use crate::client::builtin::{self, BuiltinTargets};

/// Which client runs the issuance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientKind {
    /// instant-acme with Rust copies of lego's providers.
    Builtin { provider: ProviderName },
}

/// Everything one issuance needs.
#[derive(Debug, Clone)]
pub struct IssuanceRequest {
    pub seed: Seed,
    pub client: ClientKind,
    /// The names to certify (`*.example.com` for a wildcard).
    pub domains: Vec<String>,
    /// The client's environment (`GANDIV5_PERSONAL_ACCESS_TOKEN`, ...).
    pub env: BTreeMap<String, String>,
    /// Bound on the client's whole run.
    pub timeout: Duration,
}

/// What happened.
#[derive(Debug)]
pub struct IssuanceOutcome {
    /// `Ok` with the verified names, or the client's error text.
    pub result: Result<Issued, String>,
    pub requests: Vec<RequestEntry>,
    pub dns_queries: Vec<DnsEntry>,
    pub elapsed: Duration,
}

/// A certificate that was issued and checked.
#[derive(Debug, Clone)]
pub struct Issued {
    pub chain_pem: String,
    /// The SANs of the leaf (lowercase).
    pub names: BTreeSet<String>,
    /// What the checks found wrong: empty when the chain verifies against Pebble's root, the
    /// names equal the requested ones and no challenge record is left in DNS.
    pub problems: Vec<String>,
    /// Clean-up errors the client logged as warnings.
    pub warnings: Vec<String>,
}

/// Why an issuance could not even be attempted.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("cannot start mock-gandi: {0}")]
    Mock(#[from] mock_gandi::StartError),
    #[error("cannot start Pebble: {0}")]
    Ca(#[from] crate::ca::CaError),
}

/// Runs one issuance with a Pebble of `ca_kind` started for it (Pebble's `-dnsserver` is
/// fixed at start, so each mock needs its own Pebble).
pub async fn run(
    request: &IssuanceRequest,
    ca_kind: CaKind,
) -> Result<IssuanceOutcome, HarnessError> {
    let mock = MockGandi::builder()
        .seed(request.seed.clone())
        .start()
        .await?;
    let ca = start_ca(ca_kind, &CaOptions::new(mock.dns_addr())).await?;
    Ok(run_with(request, &mock, ca.as_ref()).await)
}

/// Runs one issuance against a mock and a CA that are already running.
pub async fn run_with(
    request: &IssuanceRequest,
    mock: &MockGandi,
    ca: &dyn CaBackend,
) -> IssuanceOutcome {
    let started = Instant::now();
    let api = mock.api_url();
    let targets = BuiltinTargets {
        directory_url: ca.directory_url(),
        acme_trust: ca.ca_bundle_path(),
        mock_api: &api,
        mock_dns: mock.dns_addr(),
    };
    let ClientKind::Builtin { provider } = request.client;
    let client_result = builtin::issue(
        provider,
        &request.domains,
        &request.env,
        &targets,
        request.timeout,
    )
    .await;
    // The journals as the client left them, before the checks below ask DNS themselves.
    let requests = mock.requests();
    let dns_queries = mock.dns_queries();
    let result = match client_result {
        Err(e) => Err(e),
        Ok(issued) => {
            let mut problems = Vec::new();
            let names = match ca.root_pem().await {
                Ok(root) => match crate::verify::verify_chain(&issued.chain_pem, &root) {
                    Ok(names) => names,
                    Err(e) => {
                        problems.push(e);
                        BTreeSet::new()
                    }
                },
                Err(e) => {
                    problems.push(format!("cannot fetch Pebble's root: {e}"));
                    BTreeSet::new()
                }
            };
            let wanted: BTreeSet<String> = request
                .domains
                .iter()
                .map(|d| d.to_ascii_lowercase())
                .collect();
            if problems.is_empty() && names != wanted {
                problems.push(format!(
                    "the certificate names {names:?}, the request asked for {wanted:?}"
                ));
            }
            problems.extend(leftover_challenges(&request.domains, mock).await);
            Ok(Issued {
                chain_pem: issued.chain_pem,
                names,
                problems,
                warnings: issued.warnings,
            })
        }
    };
    IssuanceOutcome {
        result,
        requests,
        dns_queries,
        elapsed: started.elapsed(),
    }
}

/// Challenge TXT records still published after the client finished, asked over real DNS.
async fn leftover_challenges(domains: &[String], mock: &MockGandi) -> Vec<String> {
    let names: BTreeSet<String> = domains
        .iter()
        .map(|d| format!("_acme-challenge.{}.", d.trim_start_matches("*.")))
        .collect();
    let mut problems = Vec::new();
    for name in names {
        match crate::client::txt_values(&name, mock.dns_addr()).await {
            Ok(values) if values.is_empty() => {}
            Ok(values) => problems.push(format!(
                "challenge records left in DNS at {name}: {values:?}"
            )),
            Err(e) => problems.push(format!("cannot ask DNS for {name}: {e}")),
        }
    }
    problems
}
