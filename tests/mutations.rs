//! Every scenario must fail if the behaviour it pins changes. For each scenario of the corpus,
//! the real outcome is judged (it passes), then mutated copies of it are judged (each must
//! fail): the other outcome, another error text, each expected API call answered otherwise.
//! And one mutation of the mock's behaviour itself: the token of the issuing scenario loses
//! its write permission, and the scenario fails.

use std::path::PathBuf;

use harness::issuance::{self, IssuanceOutcome};
use harness::runner::judge;
use harness::scenario::{Outcome, Scenario, discover};
use harness::{CaKind, check_available};

fn corpus() -> Vec<Scenario> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    discover(&[root])
        .unwrap()
        .iter()
        .map(|p| Scenario::load(p).unwrap())
        .collect()
}

fn dns_as_expected(s: &Scenario) -> Vec<Result<Vec<String>, String>> {
    s.expect
        .dns
        .iter()
        .map(|q| match &q.answer {
            harness::scenario::DnsAnswer::Values(v) => Ok(v.clone()),
            harness::scenario::DnsAnswer::Count(n) => Ok(vec!["x".to_string(); *n]),
        })
        .collect()
}

fn mutants(s: &Scenario, real: &IssuanceOutcome) -> Vec<(String, IssuanceOutcome)> {
    let copy = |result, output: String| IssuanceOutcome {
        client: real.client.clone(),
        ended: real.ended.clone(),
        result,
        error_lines: output.lines().map(str::to_string).collect(),
        output,
        requests: real.requests.clone(),
        dns_queries: real.dns_queries.clone(),
        elapsed: real.elapsed,
    };
    let mut out = Vec::new();
    match &real.result {
        Ok(_) => {
            let text = "[stubber.chat] acme: error presenting token: changed".to_string();
            out.push((
                "the client fails".to_string(),
                copy(Err(text.clone()), text),
            ))
        }
        Err(e) => {
            if !s.expect.error_contains.is_empty() {
                out.push((
                    "another error text".to_string(),
                    copy(
                        Err(e.clone()),
                        real.output
                            .replace(&s.expect.error_contains[0], "something else"),
                    ),
                ));
            }
        }
    }
    for wanted in &s.expect.calls {
        let mut m = copy(real.result.clone(), real.output.clone());
        for r in &mut m.requests {
            if harness::transcript::call_line(r).contains(wanted.as_str()) {
                // The same call, answered otherwise.
                r.status = if r.status == 500 { 418 } else { 500 };
                r.fault_code = Some(r.fault_code.map_or(1, |c| c + 1));
            }
        }
        out.push((format!("the call {wanted:?} answered otherwise"), m));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_fails_when_the_behaviour_it_pins_changes() {
    if let Err(e) = check_available(CaKind::Process).await {
        harness::require::skip_or_fail("Pebble (process backend)", &e.to_string());
        return;
    }
    for s in corpus() {
        // A sandbox scenario runs in a process of its own (runner::run_scenario); its verdict
        // comes from the same `judge`, mutated here through the proxy scenarios.
        if s.request.network == harness::sandbox::Network::Sandbox {
            continue;
        }
        if let Err(e) = s.request.client.check_program().await {
            harness::require::skip_or_fail(s.request.client.name(), &e);
            continue;
        }
        let real = issuance::run(&s.request, CaKind::Process).await.unwrap();
        let verdict = judge(&s, &real, &dns_as_expected(&s));
        assert!(
            verdict.is_empty(),
            "{}: the real run must pass: {verdict:?}",
            s.name
        );
        let mutants = mutants(&s, &real);
        assert!(
            !mutants.is_empty(),
            "{}: pins nothing beyond its outcome; add error_contains or calls",
            s.name
        );
        for (what, mutant) in mutants {
            assert!(
                !judge(&s, &mutant, &dns_as_expected(&s)).is_empty(),
                "{}: still passes when {what}",
                s.name
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_issuing_scenario_fails_when_the_mock_refuses_writes() {
    if let Err(e) = check_available(CaKind::Process).await {
        harness::require::skip_or_fail("Pebble (process backend)", &e.to_string());
        return;
    }
    let mut s = corpus()
        .into_iter()
        .find(|s| s.name == "pat-to-gandiv5-issues")
        .unwrap();
    assert_eq!(s.expect.outcome, Outcome::Issued);
    for c in &mut s.request.seed.credential {
        c.permissions
            .retain(|p| *p != mock_gandi::store::Permission::Write);
    }
    let outcome = issuance::run(&s.request, CaKind::Process).await.unwrap();
    let verdict = judge(&s, &outcome, &dns_as_expected(&s));
    assert!(
        verdict.iter().any(|v| v.contains("expected a certificate")),
        "{verdict:?}"
    );
}
