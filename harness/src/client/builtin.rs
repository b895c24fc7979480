//! The built-in ACME client: instant-acme for ACME, and Rust copies of lego's two Gandi
//! providers for DNS. It follows lego's order: present every challenge, then validate, then
//! clean every challenge up, and reports errors with lego's texts.

use std::time::Duration;

use instant_acme::{
    Account, AuthorizationStatus, ChallengeType, Identifier, NewAccount, NewOrder, OrderStatus,
    RetryPolicy,
};

use super::gandi_v4::GandiV4;
use super::gandi_v5::GandiV5;
use super::http::HttpClient;
use super::types::{ClientContext, ClientRun, ProviderName};

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
}

/// An issued certificate.
#[derive(Debug, Clone)]
pub struct Issued {
    pub chain_pem: String,
    pub key_pem: String,
    /// Clean-up errors: lego logs them as warnings and still succeeds.
    pub warnings: Vec<String>,
}

/// The built-in client's failure, with lego's text.
pub type Failure = String;

fn provider(name: ProviderName, ctx: &ClientContext<'_>) -> Result<Provider, Failure> {
    let env = ctx.env;
    let http = HttpClient::new(Duration::from_secs(10));
    Ok(match name {
        ProviderName::Gandi => Provider::V4(GandiV4::from_env(
            env,
            format!("{}/xmlrpc/", ctx.mock_api),
            ctx.mock_dns,
            http,
        )?),
        ProviderName::Gandiv5 => Provider::V5(GandiV5::from_env(
            env,
            format!("{}/v5/livedns", ctx.mock_api),
            ctx.mock_dns,
            http,
        )?),
    })
}

/// One presented challenge, to validate and clean up later.
struct Presented {
    /// The name without `*.`: the TXT record goes to `_acme-challenge.<domain>`.
    domain: String,
    /// The identifier as lego prints it (`*.example.com` for a wildcard).
    shown: String,
}

/// Runs one issuance as a client run: lego's error text and warnings are its output.
pub async fn run(name: ProviderName, ctx: &ClientContext<'_>) -> ClientRun {
    let client = format!("builtin {}", name.as_str());
    match issue(name, ctx).await {
        Ok(issued) => {
            let warnings: Vec<String> = issued
                .warnings
                .iter()
                .map(|w| format!("[WARN] {w}"))
                .collect();
            ClientRun {
                client,
                ended: None,
                result: Ok(()),
                output: warnings.join("\n"),
                error_lines: warnings,
                certificate: Ok(issued.chain_pem),
            }
        }
        Err(e) => ClientRun {
            client,
            ended: None,
            result: Err(e.clone()),
            error_lines: e.lines().map(str::to_string).collect(),
            output: e,
            certificate: Err("the issuance failed".into()),
        },
    }
}

/// Runs one issuance for `ctx.domains` with the provider `name` configured from `ctx.env`.
pub async fn issue(name: ProviderName, ctx: &ClientContext<'_>) -> Result<Issued, Failure> {
    let provider = provider(name, ctx)?;
    let timeout = ctx.timeout;
    tokio::time::timeout(timeout, issue_with(&provider, ctx))
        .await
        .map_err(|_| format!("the issuance did not finish within {}s", timeout.as_secs()))?
}

async fn issue_with(provider: &Provider, ctx: &ClientContext<'_>) -> Result<Issued, Failure> {
    let (domains, timeout) = (ctx.domains, ctx.timeout);
    let acme = |e: instant_acme::Error| format!("acme: error: {e}");
    let (account, _) = Account::builder_with_root(ctx.acme_ca)
        .map_err(acme)?
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
        .map_err(acme)?;
    let identifiers: Vec<Identifier> = domains.iter().map(|d| Identifier::Dns(d.clone())).collect();
    let mut order = account
        .new_order(&NewOrder::new(&identifiers))
        .await
        .map_err(acme)?;

    // Present every pending challenge first, as lego does with DNS-01, in the order the names
    // were asked for (the CA's order of authorizations is not stable, the transcript must be).
    let mut pending = Vec::new();
    let mut failures = Vec::new();
    let mut authorizations = order.authorizations();
    while let Some(authz) = authorizations.next().await {
        let mut authz = authz.map_err(acme)?;
        if authz.status != AuthorizationStatus::Pending {
            continue;
        }
        let identifier = authz.identifier();
        let shown = identifier.to_string();
        let Identifier::Dns(domain) = identifier.identifier.clone() else {
            continue;
        };
        let Some(challenge) = authz.challenge(ChallengeType::Dns01) else {
            failures.push(format!("[{shown}] acme: could not find solver for: dns-01"));
            continue;
        };
        let value = challenge.key_authorization().dns_value();
        pending.push((Presented { domain, shown }, value));
    }
    pending.sort_by_key(|(p, _)| {
        domains
            .iter()
            .position(|d| d.eq_ignore_ascii_case(&p.shown))
    });
    let mut presented = Vec::new();
    for (p, value) in pending {
        match provider.present(&p.domain, &value).await {
            Ok(()) => presented.push(p),
            Err(e) => failures.push(format!("[{}] acme: error presenting token: {e}", p.shown)),
        }
    }

    let result = if failures.is_empty() {
        validate_and_finalize(&mut order, timeout).await
    } else {
        Err(failures.join("\n"))
    };

    // Clean up everything that was presented, whatever happened.
    let mut warnings = Vec::new();
    for p in &presented {
        if let Err(e) = provider.cleanup(&p.domain).await {
            warnings.push(format!("[{}] acme: cleaning up failed: {e}", p.shown));
        }
    }
    result.map(|(chain_pem, key_pem)| Issued {
        chain_pem,
        key_pem,
        warnings,
    })
}

async fn validate_and_finalize(
    order: &mut instant_acme::Order,
    timeout: Duration,
) -> Result<(String, String), Failure> {
    let acme = |e: instant_acme::Error| format!("acme: error: {e}");
    let mut authorizations = order.authorizations();
    while let Some(authz) = authorizations.next().await {
        let mut authz = authz.map_err(acme)?;
        if authz.status != AuthorizationStatus::Pending {
            continue;
        }
        if let Some(mut challenge) = authz.challenge(ChallengeType::Dns01) {
            challenge.set_ready().await.map_err(acme)?;
        }
    }
    let retries = RetryPolicy::new()
        .initial_delay(Duration::from_millis(20))
        .backoff(1.25)
        .timeout(timeout);
    // An invalid order comes back as an error or as a status, depending on the server's
    // answer; either way the reasons are in the authorizations.
    match order.poll_ready(&retries).await {
        Ok(OrderStatus::Ready) => {}
        Ok(_) => return Err(describe_invalid(order, None).await),
        Err(e) => return Err(describe_invalid(order, Some(acme(e))).await),
    }
    let key_pem = order.finalize().await.map_err(acme)?;
    let chain_pem = order.poll_certificate(&retries).await.map_err(acme)?;
    Ok((chain_pem, key_pem))
}

/// lego's rendering of failed authorizations:
/// `[name] acme: error: 403 :: urn:ietf:params:acme:error:unauthorized :: detail`.
async fn describe_invalid(order: &mut instant_acme::Order, error: Option<Failure>) -> Failure {
    let mut lines = Vec::new();
    let mut authorizations = order.authorizations();
    while let Some(authz) = authorizations.next().await {
        let Ok(authz) = authz else { continue };
        if authz.status == AuthorizationStatus::Valid {
            continue;
        }
        let shown = authz.identifier().to_string();
        for challenge in &authz.challenges {
            if let Some(problem) = &challenge.error {
                lines.push(format!(
                    "[{shown}] acme: error: {} :: {} :: {}",
                    problem.status.unwrap_or(403),
                    problem.r#type.as_deref().unwrap_or(""),
                    problem.detail.as_deref().unwrap_or("")
                ));
            }
        }
    }
    if lines.is_empty() {
        error.unwrap_or_else(|| "acme: error: the order became invalid".to_string())
    } else {
        lines.join("\n")
    }
}
