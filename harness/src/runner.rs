//! Runs scenarios and judges them against their expectations.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mock_gandi::MockGandi;
use serde::{Deserialize, Serialize};

use crate::ca::{CaKind, CaSource};
use crate::client::{ClientKind, Locations, confine};
use crate::issuance::{self, Completion, IssuanceOutcome};
use crate::sandbox::{self, Network};
use crate::scenario::{DnsAnswer, Expectation, Outcome, Scenario};
use crate::transcript::{self, Redactor};
use crate::twin;

/// The verdict on one scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioReport {
    pub name: String,
    pub path: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reproduces: Option<String>,
    /// The report's own line the run shows (the scenario's `quote`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    /// What ran: `builtin gandiv5`, `lego 4.9.1 gandi`, `certbot 5.8.0 dns-multi (...)`.
    pub client: String,
    pub passed: bool,
    /// Why it failed: each unmet expectation, or the environment error.
    pub failures: Vec<String>,
    /// The expectations that were not met, named as the file writes them (`calls[0]`,
    /// `error_contains[1]`, `outcome`, `expect.dns[0]`); empty when the run could not start.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmet: Vec<String>,
    /// The normalized transcript (empty when the run could not start).
    pub transcript: String,
    /// The transcript's API calls and DNS questions in the order they happened (the HTML
    /// report's sequence diagram).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<transcript::Step>,
    /// Everything the client printed, secrets redacted (a program: stdout and stderr).
    pub output: String,
    /// Where the client ran.
    #[serde(default)]
    pub network: Network,
    /// A twin run's verdict (`agrees with certbot 5.8.0 dns-multi (...)`), when one ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub twin: Option<String>,
    pub seconds: f64,
}

/// Runs one scenario: its own mock, its own Pebble (Pebble's DNS server is fixed at its start
/// and every scenario has its own mock DNS), the client, then the checks. A sandbox scenario
/// runs all of it in a sandbox of its own (see [`crate::sandbox`]).
pub async fn run_scenario(scenario: &Scenario, ca_kind: CaKind) -> ScenarioReport {
    run_scenario_with(
        scenario,
        RunOptions {
            ca: ca_kind.into(),
            twin: false,
            untrusted: false,
        },
    )
    .await
}

/// How scenarios are run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunOptions {
    /// Where Pebble comes from: a new one per scenario, or a lane of a shared set (see
    /// [`crate::Lanes`]). A sandbox always runs a new one, as a process, inside it.
    #[serde(skip)]
    pub ca: CaSource,
    /// A `builtin` scenario is run a second time through lego v5's own provider code and the
    /// two are compared (see [`crate::twin`]).
    pub twin: bool,
    /// The scenario's programs are someone else's code: it runs in a sandbox, and every
    /// program it starts is confined there (see [`crate::client::confine`]).
    #[serde(default)]
    pub untrusted: bool,
}

/// [`run_scenario`] with every option.
pub async fn run_scenario_with(scenario: &Scenario, options: RunOptions) -> ScenarioReport {
    match scenario.request.network {
        // An untrusted scenario runs in a sandbox, whatever its file says.
        Network::Proxy if !options.untrusted => run_here(scenario, options).await,
        _ => run_in_sandbox(scenario, options).await,
    }
}

/// Names the executable that runs the inside of a sandbox, when it is not this one.
pub const HARNESS_BIN_ENV: &str = "HARNESS_BIN";

/// What the inside of a sandbox needs to run a scenario: the file as written, and the client
/// as the command line left it (`--lego` and `--certbot` applied).
#[derive(Debug, Serialize, Deserialize)]
struct SandboxRequest {
    path: PathBuf,
    source: String,
    client: ClientKind,
    options: RunOptions,
}

async fn run_in_sandbox(scenario: &Scenario, options: RunOptions) -> ScenarioReport {
    let ca_kind = options.ca.kind();
    let started = Instant::now();
    let failed = |why: String| ScenarioReport {
        failures: vec![why],
        seconds: started.elapsed().as_secs_f64(),
        ..empty_report(scenario)
    };
    if ca_kind == CaKind::Container {
        return failed(
            "the container backend cannot run in a sandbox (Pebble must share the scenario's \
             network namespace): use --ca process or --ca auto"
                .into(),
        );
    }
    let request = SandboxRequest {
        path: scenario.path.clone(),
        source: scenario.source.clone(),
        client: scenario.request.client.clone(),
        options,
    };
    let program = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            return failed(format!(
                "cannot find this executable to run it in a sandbox: {e}"
            ));
        }
    };
    let answer = match serde_json::to_vec(&request) {
        Ok(bytes) => sandbox::spawn(&program, &bytes, scenario_deadline(scenario)).await,
        Err(e) => Err(format!("cannot write the sandbox's request: {e}")),
    };
    match answer.and_then(|out| {
        serde_json::from_slice::<ScenarioReport>(&out)
            .map_err(|e| format!("the sandbox's report cannot be read: {e}"))
    }) {
        Ok(report) => report,
        Err(e) => failed(e),
    }
}

/// The inside of a sandbox, when this process is one ([`sandbox::CHILD_ENV`] is set): reads
/// the request on stdin, enters the sandbox, runs the scenario (Pebble as a process), prints
/// the report on stdout. Call it first thing in `main` of every binary that runs scenarios:
/// `None` means this process is not a sandbox.
pub fn sandbox_child() -> Option<std::process::ExitCode> {
    std::env::var_os(sandbox::CHILD_ENV)?;
    let code = match sandbox_child_run() {
        Ok(report) => {
            println!("{report}");
            0
        }
        Err(e) => {
            eprintln!("sandbox: {e}");
            2
        }
    };
    Some(std::process::ExitCode::from(code))
}

fn sandbox_child_run() -> Result<String, String> {
    let mut input = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut input)
        .map_err(|e| format!("cannot read the request: {e}"))?;
    let request: SandboxRequest =
        serde_json::from_str(&input).map_err(|e| format!("cannot read the request: {e}"))?;
    let folder = tempfile::Builder::new()
        .prefix("gandi-e2e-sandbox-")
        .tempdir()
        .map_err(|e| format!("cannot create a folder: {e}"))?;
    let mut scenario =
        Scenario::parse(&request.path, &request.source).map_err(|e| e.to_string())?;
    let era = mock_gandi::era::Era::new(scenario.request.seed.as_of);
    sandbox::enter(folder.path(), &mock_gandi::gandi_names_in(era))?;
    scenario.request.client = request.client;
    scenario.request.network = Network::Sandbox;
    if request.options.untrusted {
        confine::confine_every_program(confinement_of(&scenario)?)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))?;
    let options = RunOptions {
        ca: CaKind::Process.into(),
        ..request.options
    };
    let report = runtime.block_on(run_here(&scenario, options));
    serde_json::to_string(&report).map_err(|e| format!("cannot write the report: {e}"))
}

/// How an untrusted scenario's programs are confined: what they may read from under the hidden
/// folders is the scenario's own folder, `{repo}`, `{venv}` and the programs it names.
fn confinement_of(scenario: &Scenario) -> Result<confine::Confinement, String> {
    let file = std::path::absolute(&scenario.path).unwrap_or_else(|_| scenario.path.clone());
    let mut folders: Vec<PathBuf> = file.parent().map(Path::to_path_buf).into_iter().collect();
    folders.extend(Locations::of_file(&file).known());
    let home = std::env::var_os("HOME").map(PathBuf::from);
    confine::Confinement::new(
        home.as_deref(),
        &folders,
        &scenario.request.client.program_paths(),
    )
}

/// Runs `twin` (the same scenario through lego v5's provider code) on a mock and a CA of its
/// own, and compares it with the built-in run: a summary, and the differences as failures.
async fn run_twin(
    twin: &Scenario,
    builtin: &IssuanceOutcome,
    redactor: &Redactor,
    ca: &CaSource,
) -> (String, Vec<String>) {
    if let Err(e) = twin.request.client.check_program().await {
        return (format!("not run: {e}"), vec![format!("twin run: {e}")]);
    }
    let outcome = async {
        let mock = issuance::start_mock(&twin.request)
            .await
            .map_err(|e| format!("cannot start mock-gandi: {e}"))?;
        let ca = ca
            .acquire(mock.dns_addr())
            .await
            .map_err(|e| format!("cannot start Pebble: {e}"))?;
        let outcome = issuance::run_with(&twin.request, &mock, ca.backend()).await;
        ca.release();
        Ok::<_, String>(outcome)
    }
    .await;
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => return (format!("not run: {e}"), vec![format!("twin run: {e}")]),
    };
    let (mut ours, mut theirs) = (
        twin::fingerprint(builtin, redactor),
        twin::fingerprint(&outcome, redactor),
    );
    // certbot stops at the first name that fails to present (see harness::twin).
    if outcome.result.is_err() && !theirs.zones.is_empty() {
        ours = twin::restrict(&ours, &theirs.zones);
        theirs = twin::restrict(&theirs, &theirs.zones.clone());
    }
    let differences = twin::differences(&ours, &theirs);
    if differences.is_empty() {
        return (format!("agrees with {}", outcome.client), Vec::new());
    }
    let mut failures = vec![format!(
        "the twin run ({}) differs from the built-in provider:",
        outcome.client
    )];
    failures.extend(differences.into_iter().map(|d| format!("  {d}")));
    failures.extend(
        twin::render_both(&ours, &theirs)
            .lines()
            .map(|l| format!("  {l}")),
    );
    (format!("differs from {}", outcome.client), failures)
}

/// A report of `scenario` with nothing run yet.
pub fn empty_report(scenario: &Scenario) -> ScenarioReport {
    ScenarioReport {
        name: scenario.name.clone(),
        path: scenario.path.display().to_string(),
        description: scenario.description.clone(),
        reproduces: scenario.reproduces.clone(),
        quote: scenario.quote.clone(),
        client: scenario.request.client.name().to_string(),
        passed: false,
        failures: Vec::new(),
        unmet: Vec::new(),
        transcript: String::new(),
        steps: Vec::new(),
        output: String::new(),
        network: scenario.request.network,
        twin: None,
        seconds: 0.0,
    }
}

/// Runs one scenario in this process's network.
async fn run_here(scenario: &Scenario, options: RunOptions) -> ScenarioReport {
    let started = Instant::now();
    let result = async {
        // A missing program is this scenario's failure, said in one line, before anything starts.
        scenario.request.client.check_program().await?;
        let mock = issuance::start_mock(&scenario.request)
            .await
            .map_err(|e| format!("cannot start mock-gandi: {e}"))?;
        let ca = options
            .ca
            .acquire(mock.dns_addr())
            .await
            .map_err(|e| format!("cannot start Pebble: {e}"))?;
        let outcome = issuance::run_with(&scenario.request, &mock, ca.backend()).await;
        ca.release();
        let dns_now = dns_answers(scenario, &mock).await;
        Ok::<_, String>((outcome, dns_now))
    }
    .await;
    let mut report = empty_report(scenario);
    match result {
        Ok((outcome, dns_now)) => {
            let redactor = redactor(scenario);
            let unmet = judge(scenario, &outcome, &dns_now);
            report.unmet = unmet.iter().map(|u| u.expectation.to_string()).collect();
            // The reasons quote the client's lines: its secrets go as in the output.
            report.failures = unmet
                .into_iter()
                .map(|u| redactor.secrets_only(&u.why))
                .collect();
            report.transcript = transcript::render(&outcome, &redactor);
            report.steps = transcript::steps(&outcome, &redactor);
            report.output = redactor.secrets_only(&outcome.output);
            report.client = outcome.client.clone();
            if options.twin
                && let Some(twin) = twin::twin_of(scenario)
            {
                let (summary, differences) =
                    run_twin(&twin, &outcome, &redactor, &options.ca).await;
                report.twin = Some(summary);
                report.failures.extend(differences);
            }
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

/// An expectation the run did not meet, and why, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmet {
    pub expectation: Expectation,
    pub why: String,
}

/// Every unmet expectation.
pub fn judge(
    scenario: &Scenario,
    outcome: &IssuanceOutcome,
    dns_now: &[Result<Vec<String>, String>],
) -> Vec<Unmet> {
    let expect = &scenario.expect;
    let mut failures = Vec::new();
    let mut unmet = |expectation, why: String| failures.push(Unmet { expectation, why });
    match (&outcome.result, expect.outcome) {
        (Ok(Completion::Issued(issued)), Outcome::Issued) => {
            for p in &issued.problems {
                unmet(Expectation::Outcome, format!("issued, but {p}"));
            }
            for (name, values) in &issued.leftovers {
                if !expect.dns.iter().any(|q| q.is_about(name)) {
                    unmet(
                        Expectation::Outcome,
                        format!("issued, but challenge records left in DNS at {name}: {values:?}"),
                    );
                }
            }
        }
        (Ok(Completion::NoCertificate(why)), Outcome::Issued) => unmet(
            Expectation::Outcome,
            format!("expected a certificate, but the client succeeded without one: {why}"),
        ),
        (Ok(_), Outcome::Success) => {}
        (Ok(Completion::Issued(_)), Outcome::Failure) => unmet(
            Expectation::Outcome,
            "expected a failure, but a certificate was issued".into(),
        ),
        (Ok(Completion::NoCertificate(_)), Outcome::Failure) => unmet(
            Expectation::Outcome,
            "expected a failure, but the client succeeded".into(),
        ),
        (Err(e), Outcome::Issued | Outcome::Success) => {
            let wanted = if expect.outcome == Outcome::Issued {
                "a certificate"
            } else {
                "success"
            };
            unmet(
                Expectation::Outcome,
                format!("expected {wanted}, but the client failed: {e}"),
            );
        }
        (Err(_), Outcome::Failure) => {
            for (i, fragment) in expect.error_contains.iter().enumerate() {
                if !outcome.output.contains(fragment.as_str()) {
                    // The closest line, not every line: a client run with `--debug` prints
                    // thousands (the report's `output` keeps them all).
                    let closest = match crate::failure::closest(&outcome.output, fragment) {
                        Some(c) => format!(
                            "; the closest line ({}): {:?}",
                            c.index + 1,
                            crate::failure::clip(c.line, 200)
                        ),
                        None => "; no line of its output comes close".to_string(),
                    };
                    unmet(
                        Expectation::ErrorContains(i),
                        format!("the client's output does not contain {fragment:?}{closest}"),
                    );
                }
            }
        }
    }
    let lines: Vec<String> = outcome.requests.iter().map(transcript::call_line).collect();
    for (i, wanted) in expect.calls.iter().enumerate() {
        if !lines.iter().any(|l| l.contains(wanted.as_str())) {
            unmet(
                Expectation::Call(i),
                format!("no API call matches {wanted:?}; the calls were: {lines:?}"),
            );
        }
    }
    for (i, unwanted) in expect.no_calls.iter().enumerate() {
        if let Some(l) = lines.iter().find(|l| l.contains(unwanted.as_str())) {
            unmet(
                Expectation::NoCall(i),
                format!("an API call matches {unwanted:?}: {l}"),
            );
        }
    }
    for (i, (q, answer)) in expect.dns.iter().zip(dns_now).enumerate() {
        match answer {
            Ok(values) => {
                let mut got = values.clone();
                got.sort();
                let wrong = match &q.answer {
                    DnsAnswer::Values(want) => {
                        let mut want = want.clone();
                        want.sort();
                        (got != want).then(|| format!("expected {want:?}"))
                    }
                    DnsAnswer::Count(n) => {
                        (got.len() != *n).then(|| format!("expected {n} value(s)"))
                    }
                };
                if let Some(wanted) = wrong {
                    unmet(
                        Expectation::Dns(i),
                        format!("DNS {} {} answers {got:?}, {wanted}", q.rtype, q.name),
                    );
                }
            }
            Err(e) => unmet(
                Expectation::Dns(i),
                format!("DNS {} {}: {e}", q.rtype, q.name),
            ),
        }
    }
    if let Some(quote) = &expect.quote {
        let shown = shown_text(outcome);
        if !shown.contains(quote.as_str()) {
            let closest = match crate::failure::closest(&shown, quote) {
                Some(c) => format!(
                    "; the closest line: {:?}",
                    crate::failure::clip(c.line, 200)
                ),
                None => "; no line comes close".to_string(),
            };
            unmet(
                Expectation::Quote,
                format!(
                    "the report's quote {quote:?} is not in the client's output or the \
                     transcript{closest}"
                ),
            );
        }
    }
    failures
}

/// Everything a run shows, where a report's quote is looked for: the client's output, the
/// transcript (call lines, DNS questions, the outcome) and every request's body, unredacted
/// (a quote carries no secret of the seed: the comparison only reads).
fn shown_text(outcome: &IssuanceOutcome) -> String {
    let mut shown = outcome.output.clone();
    shown.push('\n');
    shown.push_str(&transcript::render(outcome, &Redactor::new(Vec::new())));
    for r in &outcome.requests {
        if let Some(body) = transcript::body_text(r) {
            shown.push_str(&body);
            shown.push('\n');
        }
    }
    shown
}

/// Bounded wall time of a whole scenario (client timeout plus start-up of the mock and CA).
pub fn scenario_deadline(scenario: &Scenario) -> Duration {
    scenario.request.timeout + Duration::from_secs(60)
}
