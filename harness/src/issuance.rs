//! One issuance, end to end: a mock seeded as asked, a Pebble pointed at the mock's DNS, a
//! client pointed at both. The outcome carries the client's result, the verification of an
//! issued chain, and both journals of the mock.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use mock_gandi::{DnsEntry, MockGandi, RequestEntry, Seed};

use crate::ca::{CaBackend, CaKind, CaOptions, start_ca};
pub use crate::client::ClientKind;
use crate::client::{ClientContext, ClientRun};
use crate::sandbox::{self, Network};

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
    /// Where the client runs: the proxy network, or (when this process is the inside of a
    /// sandbox) the sandbox, where the mock listens on 127.0.0.1:53 and :443.
    pub network: Network,
}

/// What happened.
#[derive(Debug)]
pub struct IssuanceOutcome {
    /// What ran (`lego 4.9.1 gandi`), as [`ClientRun::client`].
    pub client: String,
    /// How a program ended (`exit 1`), as [`ClientRun::ended`].
    pub ended: Option<String>,
    /// `Ok` when the client reported success; else why not.
    pub result: Result<Completion, String>,
    /// What the client printed; `error_contains` is matched against it.
    pub output: String,
    /// The lines of the output that say what went wrong, for the transcript.
    pub error_lines: Vec<String>,
    pub requests: Vec<RequestEntry>,
    pub dns_queries: Vec<DnsEntry>,
    pub elapsed: Duration,
}

/// A successful client run: a certificate that was checked, or none to check.
#[derive(Debug, Clone)]
pub enum Completion {
    Issued(Issued),
    /// The client succeeded and left no certificate (why, in words).
    NoCertificate(String),
}

impl IssuanceOutcome {
    /// The checked certificate, when one was issued.
    pub fn issued(&self) -> Option<&Issued> {
        match &self.result {
            Ok(Completion::Issued(issued)) => Some(issued),
            _ => None,
        }
    }
}

/// A certificate that was issued and checked.
#[derive(Debug, Clone)]
pub struct Issued {
    pub chain_pem: String,
    /// The SANs of the leaf (lowercase).
    pub names: BTreeSet<String>,
    /// What the checks found wrong: empty when the chain verifies against Pebble's root and
    /// the names equal the requested ones.
    pub problems: Vec<String>,
    /// Challenge TXT records still in DNS after the client finished (name, values): a failure
    /// unless the scenario says what DNS must answer at that name.
    pub leftovers: Vec<(String, Vec<String>)>,
}

/// Why an issuance could not even be attempted.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("cannot start mock-gandi: {0}")]
    Mock(#[from] mock_gandi::StartError),
    #[error("cannot start Pebble: {0}")]
    Ca(#[from] crate::ca::CaError),
    #[error(
        "a sandbox scenario runs inside a sandbox: use runner::run_scenario, which makes one \
         (here the mock would take this machine's ports 53 and 443)"
    )]
    NotInSandbox,
}

/// Runs one issuance with a Pebble of `ca_kind` started for it (Pebble's `-dnsserver` is
/// fixed at start, so each mock needs its own Pebble).
pub async fn run(
    request: &IssuanceRequest,
    ca_kind: CaKind,
) -> Result<IssuanceOutcome, HarnessError> {
    if request.network == Network::Sandbox && std::env::var_os(sandbox::CHILD_ENV).is_none() {
        return Err(HarnessError::NotInSandbox);
    }
    let mock = start_mock(request).await?;
    let ca = start_ca(ca_kind, &CaOptions::new(mock.dns_addr())).await?;
    Ok(run_with(request, &mock, ca.as_ref()).await)
}

/// The mock for `request`: on any free ports, or, inside a sandbox, on the system resolver's
/// port and Gandi's HTTPS port, where unmodified clients find them by name. (Outside a sandbox
/// those binds would take the host's ports 53 and 443: run a sandbox scenario through
/// `runner::run_scenario`, which makes the sandbox first.)
pub async fn start_mock(request: &IssuanceRequest) -> Result<MockGandi, mock_gandi::StartError> {
    let builder = MockGandi::builder().seed(request.seed.clone());
    let builder = match request.network {
        Network::Proxy => builder,
        Network::Sandbox => builder
            .dns_addr(sandbox::DNS_ADDR)
            .https_addr(sandbox::HTTPS_ADDR),
    };
    builder.start().await
}

/// Runs one issuance against a mock and a CA that are already running.
pub async fn run_with(
    request: &IssuanceRequest,
    mock: &MockGandi,
    ca: &dyn CaBackend,
) -> IssuanceOutcome {
    let started = Instant::now();
    let (api, proxy) = (mock.api_url(), mock.proxy_url());
    // The client's own folder (certificates, HOME, the CA bundle), removed when it is done.
    let workdir = tempfile::Builder::new().prefix("gandi-e2e-").tempdir();
    let run = match &workdir {
        Ok(workdir) => {
            let ctx = ClientContext {
                domains: &request.domains,
                env: &request.env,
                timeout: request.timeout,
                acme_directory: ca.directory_url(),
                acme_ca: ca.ca_bundle_path(),
                mock_api: &api,
                mock_dns: mock.dns_addr(),
                mock_proxy: &proxy,
                mock_ca: mock.ca_cert_path(),
                workdir: workdir.path(),
                network: request.network,
            };
            request.client.run(&ctx).await
        }
        Err(e) => ClientRun::not_started(
            request.client.name().to_string(),
            format!("cannot create a work folder: {e}"),
        ),
    };
    // The journals as the client left them, before the checks below ask DNS themselves.
    let requests = mock.requests();
    let dns_queries = mock.dns_queries();
    // Under a propagation lag, the checks below judge what DNS serves once the client's last
    // write has propagated (a clean-up made just before the end is not a record left behind).
    if let Some(propagation) = &request.seed.propagation {
        tokio::time::sleep(Duration::from_millis(propagation.delay_ms)).await;
    }
    let result = match (run.result, run.certificate) {
        (Err(e), _) => Err(e),
        (Ok(()), Err(why)) => Ok(Completion::NoCertificate(why)),
        (Ok(()), Ok(chain_pem)) => Ok(Completion::Issued(
            check_certificate(chain_pem, &request.domains, mock, ca).await,
        )),
    };
    IssuanceOutcome {
        client: run.client,
        ended: run.ended,
        result,
        output: run.output,
        error_lines: run.error_lines,
        requests,
        dns_queries,
        elapsed: started.elapsed(),
    }
}

/// Verifies an issued chain against Pebble's root, its names against the request, and that no
/// challenge record is left in DNS.
async fn check_certificate(
    chain_pem: String,
    domains: &[String],
    mock: &MockGandi,
    ca: &dyn CaBackend,
) -> Issued {
    let mut problems = Vec::new();
    let names = match ca.root_pem().await {
        Ok(root) => match crate::verify::verify_chain(&chain_pem, &root) {
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
    let wanted: BTreeSet<String> = domains.iter().map(|d| d.to_ascii_lowercase()).collect();
    if problems.is_empty() && names != wanted {
        problems.push(format!(
            "the certificate names {names:?}, the request asked for {wanted:?}"
        ));
    }
    let mut leftovers = Vec::new();
    for name in challenge_names(domains) {
        match crate::client::txt_values(&name, mock.dns_addr()).await {
            Ok(values) if values.is_empty() => {}
            Ok(values) => leftovers.push((name, values)),
            Err(e) => problems.push(format!("cannot ask DNS for {name}: {e}")),
        }
    }
    Issued {
        chain_pem,
        names,
        problems,
        leftovers,
    }
}

/// `_acme-challenge.<name>.` of every name asked for, once.
fn challenge_names(domains: &[String]) -> BTreeSet<String> {
    domains
        .iter()
        .map(|d| format!("_acme-challenge.{}.", d.trim_start_matches("*.")))
        .collect()
}
