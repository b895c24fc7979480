//! Runs scenarios and judges them against their expectations.

use std::time::{Duration, Instant};

use mock_gandi::MockGandi;
use serde::Serialize;

use crate::ca::{CaKind, CaOptions, start_ca};
use crate::issuance::{self, IssuanceOutcome};
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
    pub passed: bool,
    /// Why it failed: each unmet expectation, or the environment error.
    pub failures: Vec<String>,
    /// The normalized transcript (empty when the run could not start).
    pub transcript: String,
    pub seconds: f64,
}

/// Runs one scenario: its own mock, its own Pebble (Pebble's DNS server is fixed at its start
/// and every scenario has its own mock DNS), the client, then the checks.
pub async fn run_scenario(scenario: &Scenario, ca_kind: CaKind) -> ScenarioReport {
    let started = Instant::now();
    let result = async {
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
        passed: false,
        failures: Vec::new(),
        transcript: String::new(),
        seconds: 0.0,
    };
    match result {
        Ok((outcome, dns_now)) => {
            report.failures = judge(scenario, &outcome, &dns_now);
            report.transcript = transcript::render(&outcome, &redactor(scenario));
        }
        Err(e) => report.failures.push(e),
    }
    report.passed = report.failures.is_empty();
    report.seconds = started.elapsed().as_secs_f64();
    report
}

/// Secrets of a scenario, by the name of the variable that carries them.
pub fn redactor(scenario: &Scenario) -> Redactor {
    Redactor::new(
        scenario
            .request
            .env
            .iter()
            .filter(|(k, _)| k.ends_with("_KEY") || k.ends_with("_TOKEN"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
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
        (Ok(issued), Outcome::Issued) => {
            failures.extend(issued.problems.iter().map(|p| format!("issued, but {p}")));
        }
        (Ok(_), Outcome::Failure) => {
            failures.push("expected a failure, but a certificate was issued".into());
        }
        (Err(e), Outcome::Issued) => {
            failures.push(format!(
                "expected a certificate, but the client failed: {e}"
            ));
        }
        (Err(e), Outcome::Failure) => {
            for fragment in &expect.error_contains {
                if !e.contains(fragment.as_str()) {
                    failures.push(format!(
                        "the error does not contain {fragment:?}; the error was: {e}"
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
