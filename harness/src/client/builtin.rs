//! The built-in ACME client: instant-acme for ACME, and Rust copies of lego v5's two Gandi
//! providers for DNS, driven the way lego v5 drives them (`certificate/certificates.go`
//! `Certifier.Obtain`, `challenge/resolver/prober.go` `parallelSolve`,
//! `challenge/dns01/dns_challenge.go`):
//!
//! 1. present every challenge (`PreSolve`), recording each failure against its name;
//! 2. for each name that presented, in turn: find the record's name again (CNAME), wait one
//!    polling interval, check that the resolver serves the value (until the propagation
//!    timeout), then tell the CA and poll that authorization;
//! 3. clean up every challenge (before finalization; a failure is a warning);
//! 4. if any name failed: deactivate the authorizations that are not valid and fail with
//!    `obtain certificate: resolver: one or more domains had a problem: [name: error] ...`;
//!    else finalize and download the chain.
//!
//! Two deliberate differences, both about time, not about what is sent: names are taken in the
//! order they were asked for (lego takes the CA's order, which Pebble does not keep stable from
//! run to run), and the CA is polled every few milliseconds (lego waits the `Retry-After`, or
//! 5 s when the CA sends none, as Pebble 2.4 does). The polling interval before a propagation
//! check is 0 unless the scenario sets `GANDI_POLLING_INTERVAL` / `GANDIV5_POLLING_INTERVAL`,
//! as for the `lego` kind: the mock has no lag.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use instant_acme::{
    Account, AuthorizationStatus, ChallengeType, Identifier, NewAccount, NewOrder, OrderStatus,
    Problem, RetryPolicy,
};

use super::gandi_v4::GandiV4;
use super::gandi_v5::GandiV5;
use super::http::Route;
use super::lego_env::LegoEnv;
use super::types::{ClientContext, ClientRun, ProviderName};
use super::zone::Dns01;
use crate::sandbox::Network;

/// A configured provider.
enum Provider {
    V4(GandiV4),
    V5(GandiV5),
}

impl Provider {
    async fn present(&self, domain: &str, value: &str) -> Result<(), String> {
        match self {
            Provider::V4(p) => p.present(domain, value).await,
            Provider::V5(p) => p.present(domain, value).await,
        }
    }

    async fn cleanup(&self, domain: &str) -> Result<(), String> {
        match self {
            Provider::V4(p) => p.cleanup(domain).await,
            Provider::V5(p) => p.cleanup(domain).await,
        }
    }

    /// `Timeout()`: (propagation timeout, polling interval).
    fn propagation(&self) -> (Duration, Duration) {
        match self {
            Provider::V4(p) => p.propagation,
            Provider::V5(p) => p.propagation,
        }
    }

    fn warnings(&self) -> &[String] {
        match self {
            Provider::V4(p) => &p.warnings,
            Provider::V5(p) => &p.warnings,
        }
    }
}

/// An issued certificate.
#[derive(Debug, Clone)]
pub struct Issued {
    pub chain_pem: String,
    pub key_pem: String,
    /// What lego logs as warnings (clean-up failures, deprecations) and still succeeds.
    pub warnings: Vec<String>,
}

/// The built-in client's failure: lego's text, then its warnings.
#[derive(Debug, Clone)]
pub struct Failure {
    pub error: String,
    pub warnings: Vec<String>,
}

impl From<String> for Failure {
    fn from(error: String) -> Self {
        Failure {
            error,
            warnings: Vec::new(),
        }
    }
}

/// How long the CA is polled between two looks at an authorization or the order.
const ACME_POLL: Duration = Duration::from_millis(20);
/// The shortest wait between two propagation checks (lego's wait.For would spin at 0).
const MIN_PROPAGATION_POLL: Duration = Duration::from_millis(50);

/// `setupDNS` in lego's CLI: the provider from the scenario's variables. The polling interval
/// is 0 unless the scenario gives one (the mock has no propagation lag).
fn provider(name: ProviderName, ctx: &ClientContext<'_>) -> Result<(Provider, Arc<Dns01>), String> {
    let mut env = ctx.env.clone();
    let interval = match name {
        ProviderName::Gandi => "GANDI_POLLING_INTERVAL",
        ProviderName::Gandiv5 => "GANDIV5_POLLING_INTERVAL",
    };
    env.entry(interval.to_string())
        .or_insert_with(|| "0".into());
    let lego = LegoEnv::new(&env);
    let dns = Arc::new(Dns01::new(
        ctx.mock_dns,
        !lego.bool("LEGO_DISABLE_CNAME_SUPPORT"),
    ));
    // Gandi's own names, through the mock's proxy as `HTTPS_PROXY` would send them (in a
    // sandbox, Gandi's names are the mock).
    let route = Route {
        proxy: (ctx.network == Network::Proxy).then(|| ctx.mock_proxy.to_string()),
        ca: Some(ctx.mock_ca.to_path_buf()),
    };
    let built = match name {
        ProviderName::Gandi => GandiV4::from_env(&lego, &route, dns.clone()).map(Provider::V4),
        ProviderName::Gandiv5 => GandiV5::from_env(&lego, &route, dns.clone()).map(Provider::V5),
    };
    built.map(|p| (p, dns)).map_err(|e| {
        format!("registration: set up client: setup challenges: DNS challenge provider: {e}")
    })
}

/// Runs one issuance as a client run: lego's error text and warnings are its output.
pub async fn run(name: ProviderName, ctx: &ClientContext<'_>) -> ClientRun {
    let client = format!("builtin {}", name.as_str());
    match issue(name, ctx).await {
        Ok(issued) => ClientRun {
            client,
            ended: None,
            result: Ok(()),
            output: issued.warnings.join("\n"),
            error_lines: issued.warnings,
            certificate: Ok(issued.chain_pem),
        },
        Err(failure) => {
            let mut lines: Vec<String> = failure.error.lines().map(str::to_string).collect();
            lines.extend(failure.warnings);
            ClientRun {
                client,
                ended: None,
                result: Err(failure.error),
                output: lines.join("\n"),
                error_lines: lines,
                certificate: Err("the issuance failed".into()),
            }
        }
    }
}

/// Runs one issuance for `ctx.domains` with the provider `name` configured from `ctx.env`.
pub async fn issue(name: ProviderName, ctx: &ClientContext<'_>) -> Result<Issued, Failure> {
    let (provider, dns) = provider(name, ctx)?;
    let timeout = ctx.timeout;
    let mut warnings = provider.warnings().to_vec();
    let outcome = tokio::time::timeout(timeout, obtain(&provider, &dns, ctx, &mut warnings)).await;
    let result = match outcome {
        Ok(result) => result,
        Err(_) => Err(format!(
            "the issuance did not finish within {}s",
            timeout.as_secs()
        )),
    };
    match result {
        Ok((chain_pem, key_pem)) => Ok(Issued {
            chain_pem,
            key_pem,
            warnings,
        }),
        Err(error) => Err(Failure { error, warnings }),
    }
}

/// One name to solve.
struct Solver {
    /// `challenge.GetTargetedDomain`: `*.example.com` for a wildcard.
    shown: String,
    /// `authz.Identifier.Value`: the name without `*.`.
    domain: String,
    /// The TXT value (the key authorization's digest).
    value: String,
}

/// `acme.ProblemDetails.Error()` for a problem embedded in a challenge (no method or URL).
fn problem_text(p: &Problem) -> String {
    let mut text = format!(
        "acme: error: {} :: {} :: {}",
        p.status.unwrap_or(0),
        p.r#type.as_deref().unwrap_or(""),
        p.detail.as_deref().unwrap_or("")
    );
    for sub in &p.subproblems {
        text.push_str(&format!(
            ", problem: {:?} :: {}",
            sub.r#type.as_deref().unwrap_or(""),
            sub.detail.as_deref().unwrap_or("")
        ));
    }
    text
}

/// An instant-acme error as lego would print the ACME error behind it.
fn acme_text(e: instant_acme::Error) -> String {
    match e {
        instant_acme::Error::Api(p) => problem_text(&p),
        other => format!("acme: error: {other}"),
    }
}

/// `errutils.DomainsError` with its prefix.
fn domains_error(prefix: &str, failures: &BTreeMap<String, String>) -> String {
    let mut text = format!("{prefix}: one or more domains had a problem:");
    for (domain, error) in failures {
        text.push_str(&format!(" [{domain}: {error}]"));
    }
    text
}

async fn obtain(
    provider: &Provider,
    dns: &Dns01,
    ctx: &ClientContext<'_>,
    warnings: &mut Vec<String>,
) -> Result<(String, String), String> {
    let http = crate::http::client(&crate::http::HttpOptions {
        roots: vec![ctx.acme_ca],
        ..Default::default()
    })
    .map_err(|e| format!("registration: {e}"))?;
    let (account, _) = Account::builder_with_http(Box::new(crate::http::AcmeHttp(http)))
        .create(
            &NewAccount {
                contact: &[],
                terms_of_service_agreed: true,
                only_return_existing: false,
            },
            ctx.acme_directory.to_string(),
            None,
        )
        .await
        .map_err(|e| format!("registration: {}", acme_text(e)))?;
    let identifiers: Vec<Identifier> = ctx
        .domains
        .iter()
        .map(|d| Identifier::Dns(d.clone()))
        .collect();
    let mut order = account
        .new_order(&NewOrder::new(&identifiers))
        .await
        .map_err(|e| format!("obtain certificate: {}", acme_text(e)))?;

    // The prober's first pass: one solver per authorization that is not valid yet.
    let mut failures = BTreeMap::new();
    let mut solvers = Vec::new();
    let mut authorizations = order.authorizations();
    while let Some(authz) = authorizations.next().await {
        let mut authz = authz.map_err(|e| format!("obtain certificate: {}", acme_text(e)))?;
        let shown = authz.identifier().to_string();
        if authz.status == AuthorizationStatus::Valid {
            continue;
        }
        let Identifier::Dns(domain) = authz.identifier().identifier.clone() else {
            continue;
        };
        match authz.challenge(ChallengeType::Dns01) {
            Some(challenge) => solvers.push(Solver {
                shown,
                domain,
                value: challenge.key_authorization().dns_value(),
            }),
            None => {
                failures.insert(shown, "prober: could not determine solvers".to_string());
            }
        }
    }
    solvers.sort_by_key(|s| {
        ctx.domains
            .iter()
            .position(|d| d.eq_ignore_ascii_case(&s.shown))
    });

    // parallelSolve: present everything first.
    for s in &solvers {
        if let Err(e) = provider.present(&s.domain, &s.value).await {
            failures.insert(
                s.shown.clone(),
                format!("dns01: error presenting token ({}): {e}", s.shown),
            );
        }
    }
    // Then solve what presented, one name at a time.
    for s in &solvers {
        if failures.contains_key(&s.shown) {
            continue;
        }
        if let Err(e) = solve(provider, dns, &mut order, s).await {
            failures.insert(s.shown.clone(), e);
        }
    }
    // The deferred clean-up, for every name, before anything else.
    for s in &solvers {
        if let Err(e) = provider.cleanup(&s.domain).await {
            warnings.push(format!(
                "level=WARN msg=\"Cleaning up failed.\" domain={} error={e:?}",
                s.shown
            ));
        }
    }
    if !failures.is_empty() {
        deactivate_authorizations(&mut order, ctx.domains, warnings).await;
        return Err(format!(
            "obtain certificate: {}",
            domains_error("resolver", &failures)
        ));
    }
    finalize(&mut order, ctx).await.map_err(|e| {
        let all: BTreeMap<String, String> = solvers
            .iter()
            .map(|s| (s.shown.clone(), e.clone()))
            .collect();
        format!(
            "obtain certificate: {}",
            domains_error("certificates", &all)
        )
    })
}

/// dns01's `Solve` for one name: the effective FQDN again, one polling interval, the
/// propagation check until the timeout, then `validate`.
async fn solve(
    provider: &Provider,
    dns: &Dns01,
    order: &mut instant_acme::Order,
    s: &Solver,
) -> Result<(), String> {
    let fqdn = dns.effective_fqdn(&s.domain).await;
    let (timeout, interval) = provider.propagation();
    tokio::time::sleep(interval).await;
    // `wait.For`: check, else wait an interval, until the time is up.
    let started = Instant::now();
    let mut last_error = None;
    loop {
        if started.elapsed() >= timeout {
            return Err(match last_error {
                Some(e) => format!("dns01: time limit exceeded: last error: {e}"),
                None => "dns01: time limit exceeded".into(),
            });
        }
        match dns.check_propagation(&fqdn, &s.value).await {
            Ok(()) => break,
            Err(e) => last_error = Some(e),
        }
        tokio::time::sleep(interval.max(MIN_PROPAGATION_POLL)).await;
    }
    validate(order, &s.shown).await
}

/// `validate`: tell the CA the challenge is ready, then poll this authorization.
async fn validate(order: &mut instant_acme::Order, shown: &str) -> Result<(), String> {
    {
        let mut authorizations = order.authorizations();
        while let Some(authz) = authorizations.next().await {
            let mut authz = authz.map_err(acme_text)?;
            if authz.identifier().to_string() != shown {
                continue;
            }
            let Some(mut challenge) = authz.challenge(ChallengeType::Dns01) else {
                return Err("prober: could not determine solvers".into());
            };
            challenge.set_ready().await.map_err(|e| match e {
                instant_acme::Error::Api(p) => format!("invalid challenge: {}", problem_text(&p)),
                other => format!("failed to initiate the challenge: {}", acme_text(other)),
            })?;
            break;
        }
    }
    loop {
        let mut authorizations = order.authorizations();
        while let Some(authz) = authorizations.next().await {
            let mut authz = authz.map_err(acme_text)?;
            if authz.identifier().to_string() != shown {
                continue;
            }
            let state = authz.refresh().await.map_err(acme_text)?;
            match state.status {
                AuthorizationStatus::Valid => return Ok(()),
                AuthorizationStatus::Pending => {}
                AuthorizationStatus::Invalid => {
                    let problem = state
                        .challenges
                        .iter()
                        .find_map(|c| c.error.as_ref().map(problem_text));
                    return Err(match problem {
                        Some(p) => format!("invalid authorization: {p}"),
                        None => "invalid authorization".into(),
                    });
                }
                other => {
                    return Err(format!(
                        "the authorization state {}",
                        format!("{other:?}").to_ascii_lowercase()
                    ));
                }
            }
        }
        tokio::time::sleep(ACME_POLL).await;
    }
}

/// `deactivateAuthorizations`: every authorization that is not valid is deactivated, with
/// lego's log lines (in the order the names were asked for, for a stable transcript).
async fn deactivate_authorizations(
    order: &mut instant_acme::Order,
    domains: &[String],
    warnings: &mut Vec<String>,
) {
    let mut lines = Vec::new();
    let mut authorizations = order.authorizations();
    while let Some(authz) = authorizations.next().await {
        let Ok(mut authz) = authz else { continue };
        let shown = authz.identifier().to_string();
        let position = domains.iter().position(|d| d.eq_ignore_ascii_case(&shown));
        let url = authz.url().to_string();
        let status = match authz.refresh().await {
            Ok(state) => state.status,
            Err(_) => {
                lines.push((
                    position,
                    format!("level=WARN msg=\"Unable to get the authorization.\" url={url}"),
                ));
                continue;
            }
        };
        if status == AuthorizationStatus::Valid {
            lines.push((
                position,
                format!(
                    "level=INFO msg=\"Skipping deactivating of valid authorization.\" url={url}"
                ),
            ));
            continue;
        }
        lines.push((
            position,
            format!("level=INFO msg=\"Deactivating authorization.\" url={url}"),
        ));
        // instant-acme sends the request for a pending authorization only (an invalid one
        // cannot be deactivated; lego's request for it would be refused the same way).
        if authz.deactivate().await.is_err() {
            lines.push((
                position,
                format!("level=WARN msg=\"Unable to deactivate the authorization.\" url={url}"),
            ));
        }
    }
    lines.sort_by_key(|(position, _)| *position);
    warnings.extend(lines.into_iter().map(|(_, line)| line));
}

/// Finalization and the chain (lego: `getForOrder`).
async fn finalize(
    order: &mut instant_acme::Order,
    ctx: &ClientContext<'_>,
) -> Result<(String, String), String> {
    let retries = RetryPolicy::new()
        .initial_delay(ACME_POLL)
        .backoff(1.25)
        .timeout(ctx.timeout);
    match order.poll_ready(&retries).await.map_err(acme_text)? {
        OrderStatus::Ready => {}
        other => return Err(format!("the order is {other:?}, not ready")),
    }
    let key_pem = order.finalize().await.map_err(acme_text)?;
    let chain_pem = order.poll_certificate(&retries).await.map_err(acme_text)?;
    Ok((chain_pem, key_pem))
}
