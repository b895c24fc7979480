//! Runs scenarios and judges them against their expectations.

use std::time::{Duration, Instant};

use mock_gandi::MockGandi;
use serde::Serialize;

use crate::ca::{CaKind, CaOptions, start_ca};
use crate::client::ClientKind;
use crate::issuance::{self, Completion, IssuanceOutcome};
use crate::scenario::{Outcome, Scenario};
use crate::transcript::{self, Redactor};

/// The verdict on one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    pub name: String,
    pub path: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reproduces: Option<String>,
    /// What ran: `builtin gandiv5`, `lego 4.9.1 gandi`, `certbot 5.8.0 dns-multi (...)`.
    pub client: String,
    pub passed: bool,
    /// Why it failed: each unmet expectation, or the environment error.
    pub failures: Vec<String>,
    /// The normalized transcript (empty when the run could not start).
    pub transcript: String,
    /// Everything the client printed, secrets redacted (a program: stdout and stderr).
    pub output: String,
    pub seconds: f64,
}

/// Runs one scenario: its own mock, its own Pebble (Pebble's DNS server is fixed at its start
/// and every scenario has its own mock DNS), the client, then the checks.
pub async fn run_scenario(scenario: &Scenario, ca_kind: CaKind) -> ScenarioReport {
    let started = Instant::now();
    let result = async {
        // A missing program is this scenario's failure, said in one line, before anything starts.
        scenario.request.client.check_program().await?;
        let mock = MockGandi::builder()
            .seed(scenario.request.seed.clone())
            .start()
            .await
            .map_err(|e| format!("cannot start mock-gandi: {e}"))?;
        let ca = start_ca(ca_kind, &CaOptions::new(mock.dns_addr()))
            .await
            .map_err(|e| format!("cannot start Pebble: {e}"))?;
        let outcome = issuance::run_with(&scenario.request, &mock, ca.as_ref()).await;
        let dns_now = dns_answers(scenario, &mock).await;
        Ok::<_, String>((outcome, dns_now))
    }
    .await;
    let mut report = ScenarioReport {
        name: scenario.name.clone(),
        path: scenario.path.display().to_string(),
        description: scenario.description.clone(),
        reproduces: scenario.reproduces.clone(),
        client: scenario.request.client.name().to_string(),
        passed: false,
        failures: Vec::new(),
        transcript: String::new(),
        output: String::new(),
        seconds: 0.0,
    };
    match result {
        Ok((outcome, dns_now)) => {
            let redactor = redactor(scenario);
            report.failures = judge(scenario, &outcome, &dns_now);
            report.transcript = transcript::render(&outcome, &redactor);
            report.output = redactor.secrets_only(&outcome.output);
            report.client = outcome.client;
        }
        Err(e) => report.failures.push(e),
    }
    report.passed = report.failures.is_empty();
    report.seconds = started.elapsed().as_secs_f64();
    report
}

/// Secrets of a scenario: by the name of the variable or credential that carries them, then
/// every secret of the seed by its kind (`[pat]`), for those a client got some other way.
pub fn redactor(scenario: &Scenario) -> Redactor {
    let secret_name = |k: &str| {
        let k = k.to_ascii_uppercase();
        ["KEY", "TOKEN", "SECRET", "PASSWORD"]
            .iter()
            .any(|s| k.ends_with(s))
    };
    let mut secrets: Vec<(String, String)> = scenario
        .request
        .env
        .iter()
        .filter(|(k, _)| secret_name(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let ClientKind::Certbot(certbot) = &scenario.request.client {
        secrets.extend(
            certbot
                .credentials
                .iter()
                .filter(|(k, _)| secret_name(k))
                .map(|(k, v)| (k.clone(), v.clone())),
        );
    }
    secrets.extend(
        scenario
            .request
            .seed
            .credential
            .iter()
            .map(|c| (c.kind.as_str().to_string(), c.secret.clone())),
    );
    Redactor::new(secrets)
}

/// The answers to every `[[expect.dns]]` question, asked over real DNS after the run.
async fn dns_answers(scenario: &Scenario, mock: &MockGandi) -> Vec<Result<Vec<String>, String>> {
    let mut answers = Vec::new();
    for q in &scenario.expect.dns {
        let name = format!("{}.", q.name.trim_end_matches('.'));
        answers.push(if q.rtype.eq_ignore_ascii_case("TXT") {
            crate::client::txt_values(&name, mock.dns_addr()).await
        } else {
            Err(format!(
                "expect.dns: only TXT questions are supported, not {}",
                q.rtype
            ))
        });
    }
    answers
}

/// Every unmet expectation, in words.
pub fn judge(
    scenario: &Scenario,
    outcome: &IssuanceOutcome,
    dns_now: &[Result<Vec<String>, String>],
) -> Vec<String> {
    let expect = &scenario.expect;
    let mut failures = Vec::new();
    match (&outcome.result, expect.outcome) {
        (Ok(Completion::Issued(issued)), Outcome::Issued) => {
            failures.extend(issued.problems.iter().map(|p| format!("issued, but {p}")));
        }
        (Ok(Completion::NoCertificate(why)), Outcome::Issued) => {
            failures.push(format!(
                "expected a certificate, but the client succeeded without one: {why}"
            ));
        }
        (Ok(_), Outcome::Success) => {}
        (Ok(Completion::Issued(_)), Outcome::Failure) => {
            failures.push("expected a failure, but a certificate was issued".into());
        }
        (Ok(Completion::NoCertificate(_)), Outcome::Failure) => {
            failures.push("expected a failure, but the client succeeded".into());
        }
        (Err(e), Outcome::Issued | Outcome::Success) => {
            let wanted = if expect.outcome == Outcome::Issued {
                "a certificate"
            } else {
                "success"
            };
            failures.push(format!("expected {wanted}, but the client failed: {e}"));
        }
        (Err(_), Outcome::Failure) => {
            for fragment in &expect.error_contains {
                if !outcome.output.contains(fragment.as_str()) {
                    failures.push(format!(
                        "the client's output does not contain {fragment:?}; its error lines: {:?}",
                        outcome.error_lines
                    ));
                }
            }
        }
    }
    let lines: Vec<String> = outcome.requests.iter().map(transcript::call_line).collect();
    for wanted in &expect.calls {
        if !lines.iter().any(|l| l.contains(wanted.as_str())) {
            failures.push(format!(
                "no API call matches {wanted:?}; the calls were: {lines:?}"
            ));
        }
    }
    for unwanted in &expect.no_calls {
        if let Some(l) = lines.iter().find(|l| l.contains(unwanted.as_str())) {
            failures.push(format!("an API call matches {unwanted:?}: {l}"));
        }
    }
    for (q, answer) in expect.dns.iter().zip(dns_now) {
        match answer {
            Ok(values) => {
                let mut got = values.clone();
                let mut want = q.values.clone();
                got.sort();
                want.sort();
                if got != want {
                    failures.push(format!(
                        "DNS {} {} answers {got:?}, expected {want:?}",
                        q.rtype, q.name
                    ));
                }
            }
            Err(e) => failures.push(format!("DNS {} {}: {e}", q.rtype, q.name)),
        }
    }
    failures
}

/// Bounded wall time of a whole scenario (client timeout plus start-up of the mock and CA).
pub fn scenario_deadline(scenario: &Scenario) -> Duration {
    scenario.request.timeout + Duration::from_secs(60)
}
