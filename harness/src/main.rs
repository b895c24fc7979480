//! `harness run|check|list|merge-reports`: the scenario suite from the command line.
//!
//! Exit codes: 0 every scenario passed (or every file is valid), 1 a scenario failed (or a file
//! is invalid), 2 usage or environment error (no Pebble, unreadable paths, a bad
//! `--partition`), 130 interrupted.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use harness::client::{KIND_NAMES, ProgramOverrides};
use harness::partition::Partition;
use harness::progress::Progress;
use harness::runner::{RunOptions, ScenarioReport, run_scenario_with, scenario_deadline};
use harness::sandbox::Network;
use harness::scenario::{Scenario, ScenarioError, discover};
use harness::{CaKind, CaSource, Lanes};
use harness::{failure, report};

/// `println!` that ignores a closed stdout (`harness list | head`): the output was not wanted.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

#[derive(Parser)]
#[command(
    name = "harness",
    version,
    about = "Runs Gandi DNS-01 scenarios against mock-gandi and Pebble"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run scenarios (files or folders; default: scenarios/).
    Run(RunArgs),
    /// Check scenario files without running them.
    Check(Paths),
    /// List scenarios with their descriptions.
    List(Paths),
    /// Write a scenario made from a recording (`mock-gandi record`, or any format
    /// `mock-gandi replay` reads) on stdout: the seed the recording implies, the client the
    /// flags name (default: a `command` whose curl sends the recorded requests again) and the
    /// calls and error texts that happened.
    Scaffold(harness::scaffold::ScaffoldArgs),
    /// Merge the JSON reports of several runs (the jobs of a `--partition` matrix) into one
    /// run's JUnit, JSON and HTML reports.
    MergeReports(MergeArgs),
}

#[derive(Args)]
struct MergeArgs {
    /// JSON reports written by `harness run --json FILE`.
    #[arg(required = true)]
    reports: Vec<PathBuf>,
    /// Write the merged JUnit XML report.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write the merged JSON report.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write the merged HTML report.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

#[derive(Args)]
struct Paths {
    /// Scenario files or folders.
    #[arg(default_value = "scenarios")]
    paths: Vec<PathBuf>,
    /// Only scenarios whose name, description or reproduced report (`reproduces`) contains
    /// this text: `--filter lego#2473`.
    #[arg(long)]
    filter: Option<String>,
    /// Only scenarios that reproduce this report (`reproduces`, e.g. `go-acme/lego#2473`;
    /// `lego#2473` matches too; case-insensitive).
    #[arg(long, value_name = "REF")]
    reproduces: Option<String>,
    /// Only scenarios of this client kind: builtin, lego, certbot or command.
    #[arg(long, value_name = "KIND", value_parser = clap::builder::PossibleValuesParser::new(KIND_NAMES))]
    client: Option<String>,
    /// Run every lego scenario with this lego binary (a provider developer's own build).
    #[arg(long, value_name = "PATH")]
    lego: Option<PathBuf>,
    /// Run every certbot scenario with this certbot program.
    #[arg(long, value_name = "PATH")]
    certbot: Option<PathBuf>,
    /// Only share K of N (1 <= K <= N) of the scenarios, by a stable hash of their names:
    /// N jobs with 1/N .. N/N run each scenario exactly once.
    #[arg(long, value_name = "K/N")]
    partition: Option<Partition>,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    paths: Paths,
    /// Scenarios run at once (default: the number of cores).
    #[arg(long, short)]
    jobs: Option<usize>,
    /// Where Pebble runs: auto (container if a Docker engine answers, else a process),
    /// container, or process.
    #[arg(long, default_value = "auto")]
    ca: CaKind,
    /// Start a new Pebble for every scenario instead of lending long-lived ones (one per job,
    /// each with its own DNS relay pointed at the current scenario's mock).
    #[arg(long)]
    fresh_ca: bool,
    /// Print the scenarios that would run (as `harness list`) and run nothing.
    #[arg(long)]
    list: bool,
    /// Write a JUnit XML report.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write a JSON report.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write a self-contained HTML report: failures first, each scenario as a sequence
    /// diagram (client, Gandi API, DNS, CA) with its transcript and client output.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Run every scenario in this network, whatever its file says: proxy (the mock's HTTPS
    /// proxy) or sandbox (a private network namespace where Gandi's names are the mock).
    #[arg(long, value_name = "NETWORK")]
    network: Option<Network>,
    /// Run every builtin scenario a second time through lego v5's own provider code (certbot
    /// with certbot-dns-multi) and fail it where the two send or ask something different.
    #[arg(long)]
    twin: bool,
    /// The files are someone else's: run every scenario in the sandbox network and every
    /// program it starts under bubblewrap, the filesystem read-only but for its own work
    /// folder, no home, no /run (Docker socket), no /tmp, no capability.
    #[arg(long)]
    untrusted: bool,
}

fn main() -> ExitCode {
    // Inside a sandbox this process runs one scenario and nothing else.
    if let Some(code) = harness::runner::sandbox_child() {
        return code;
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HARNESS_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("harness: cannot start a runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let code = runtime.block_on(async {
        match cli.command {
            Command::Check(paths) => check(&paths).await,
            Command::List(paths) => list(&paths),
            Command::Run(args) if args.list => list(&args.paths),
            Command::Run(args) => run(args).await,
            Command::MergeReports(args) => merge_reports(&args),
            Command::Scaffold(args) => harness::scaffold::main(&args),
        }
    });
    ExitCode::from(code)
}

/// Loads every scenario under `paths`; the errors come separately, one per bad file.
fn load(paths: &Paths) -> Result<(Vec<Scenario>, Vec<ScenarioError>), u8> {
    let files = discover(&paths.paths).map_err(|e| {
        eprintln!("harness: {e}");
        2
    })?;
    if files.is_empty() {
        eprintln!(
            "harness: no scenario files (*.toml) under {:?}",
            paths.paths
        );
        return Err(2);
    }
    // Paths on the command line are relative to the folder the user is in.
    let absolute = |p: &Option<PathBuf>| {
        p.as_ref()
            .map(|p| std::path::absolute(p).unwrap_or(p.clone()))
    };
    let overrides = ProgramOverrides {
        lego: absolute(&paths.lego),
        certbot: absolute(&paths.certbot),
    };
    let mut scenarios = Vec::new();
    let mut errors = Vec::new();
    for file in files {
        match Scenario::load(&file) {
            Ok(mut s) => {
                let keep = paths.filter.as_deref().is_none_or(|f| {
                    s.name.contains(f)
                        || s.description.contains(f)
                        || s.reproduces.as_deref().is_some_and(|r| r.contains(f))
                }) && paths
                    .reproduces
                    .as_deref()
                    .is_none_or(|wanted| reproduces(&s, wanted))
                    && paths
                        .client
                        .as_deref()
                        .is_none_or(|k| s.request.client.name() == k)
                    && paths.partition.is_none_or(|p| p.contains(&s.name));
                if keep {
                    s.request.client.apply_overrides(&overrides);
                    scenarios.push(s);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    Ok((scenarios, errors))
}

async fn check(paths: &Paths) -> u8 {
    let (scenarios, errors) = match load(paths) {
        Ok(x) => x,
        Err(code) => return code,
    };
    for e in &errors {
        say!("{e}");
    }
    // The mock's former permission words still work, but a seed should say Gandi's.
    for w in scenarios.iter().flat_map(Scenario::warnings) {
        say!("warning: {w}");
    }
    // What each file would run: a scenario from someone else is code. Found, never started.
    for s in &scenarios {
        say!("{} runs:", s.path.display());
        for line in harness::client::listing::programs(&s.request.client, &s.request.env) {
            say!("  {line}");
        }
    }
    // A missing program does not make a file invalid, but its scenarios will fail: say so now.
    let mut missing = 0;
    for s in &scenarios {
        if let Err(e) = s.request.client.find_program() {
            missing += 1;
            say!("warning: {}: {e}", s.path.display());
        }
    }
    if scenarios
        .iter()
        .any(|s| s.request.network == Network::Sandbox)
        && let Err(e) = harness::sandbox::check_available().await
    {
        missing += 1;
        say!("warning: the sandbox scenarios cannot run here: {e}");
    }
    let warnings = if missing > 0 {
        format!(" ({missing} cannot run here: see the warnings)")
    } else {
        String::new()
    };
    say!(
        "{} valid, {} invalid{warnings}",
        scenarios.len(),
        errors.len()
    );
    u8::from(!errors.is_empty())
}

/// Whether `scenario` reproduces the report `wanted`: the same reference, case-insensitive,
/// or its end after an owner (`lego#2473` for `go-acme/lego#2473`).
fn reproduces(scenario: &Scenario, wanted: &str) -> bool {
    let Some(reference) = scenario.reproduces.as_deref() else {
        return false;
    };
    let (reference, wanted) = (reference.to_lowercase(), wanted.trim().to_lowercase());
    !wanted.is_empty() && (reference == wanted || reference.ends_with(&format!("/{wanted}")))
}

fn list(paths: &Paths) -> u8 {
    let (scenarios, errors) = match load(paths) {
        Ok(x) => x,
        Err(code) => return code,
    };
    for s in &scenarios {
        let source = s
            .reproduces
            .as_deref()
            .map(|r| format!(" [{r}]"))
            .unwrap_or_default();
        say!(
            "{:<48} {:<8} {}{source}",
            s.name,
            s.request.client.name(),
            s.description
        );
    }
    for e in &errors {
        eprintln!("{e}");
    }
    u8::from(!errors.is_empty())
}

async fn run(args: RunArgs) -> u8 {
    let (scenarios, errors) = match load(&args.paths) {
        Ok(x) => x,
        Err(code) => return code,
    };
    if !errors.is_empty() {
        for e in &errors {
            eprintln!("{e}");
        }
        eprintln!(
            "harness: {} invalid scenario file(s); see `harness check`",
            errors.len()
        );
        return 2;
    }
    let mut scenarios = scenarios;
    if args.untrusted {
        if args.network == Some(Network::Proxy) {
            eprintln!(
                "harness: --untrusted runs every scenario in the sandbox network;                  --network proxy contradicts it"
            );
            return 2;
        }
        if let Err(e) = harness::client::confine::check_available().await {
            eprintln!("harness: {e}");
            return 2;
        }
    }
    if let Some(network) = args.network.or(args.untrusted.then_some(Network::Sandbox)) {
        for s in &mut scenarios {
            s.request.network = network;
        }
    }
    let sandboxed = scenarios
        .iter()
        .filter(|s| s.request.network == Network::Sandbox)
        .count();
    if sandboxed < scenarios.len()
        && let Err(e) = harness::check_available(args.ca).await
    {
        eprintln!("harness: {e}");
        return 2;
    }
    // A scenario that asks for a sandbox runs in one or not at all: never quietly elsewhere.
    if sandboxed > 0 {
        if args.ca == CaKind::Container {
            eprintln!(
                "harness: {sandboxed} scenario(s) run in a sandbox, where the container backend \
                 cannot (Pebble must share the scenario's network namespace): use --ca process \
                 or --ca auto"
            );
            return 2;
        }
        if let Err(e) = harness::check_available(CaKind::Process).await {
            eprintln!(
                "harness: {sandboxed} scenario(s) run in a sandbox, which needs Pebble as a process: {e}"
            );
            return 2;
        }
        if let Err(e) = harness::sandbox::check_available().await {
            eprintln!(
                "harness: {sandboxed} scenario(s) need a sandbox, which cannot be made here: {e}"
            );
            return 2;
        }
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1);
    let total = scenarios.len();
    let reports = [&args.json, &args.junit, &args.html]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    let progress = Arc::new(Progress::new(total, failure::ReportPaths(reports)));
    let started = Instant::now();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(jobs));
    // Lanes live as long as this function: returning (done or interrupted) stops them.
    let ca = if args.fresh_ca {
        CaSource::Fresh(args.ca)
    } else {
        CaSource::Lanes(Lanes::new(args.ca))
    };
    let mut set = tokio::task::JoinSet::new();
    for (index, scenario) in scenarios.into_iter().enumerate() {
        let semaphore = semaphore.clone();
        let progress = progress.clone();
        let options = RunOptions {
            ca: ca.clone(),
            twin: args.twin,
            untrusted: args.untrusted,
        };
        set.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            progress.started(&scenario.name);
            let mut deadline = scenario_deadline(&scenario);
            if options.twin {
                // The twin is a second client run of the same bound.
                deadline += scenario.request.timeout;
            }
            let report =
                match tokio::time::timeout(deadline, run_scenario_with(&scenario, options)).await {
                    Ok(report) => report,
                    Err(_) => timed_out(&scenario, deadline),
                };
            progress.finished(&report, &scenario.expect.error_contains);
            (index, report)
        });
    }
    let mut reports: Vec<Option<ScenarioReport>> = vec![None; total];
    let interrupted = loop {
        tokio::select! {
            next = set.join_next() => match next {
                Some(Ok((index, report))) => reports[index] = Some(report),
                Some(Err(e)) => eprintln!("harness: a scenario task failed: {e}"),
                None => break false,
            },
            _ = tokio::signal::ctrl_c() => break true,
        }
    };
    if interrupted {
        // Dropping the tasks drops their mocks and Pebbles, which stops them.
        set.shutdown().await;
        progress.clear();
        eprintln!("harness: interrupted; every mock and Pebble started was stopped");
        return 130;
    }
    progress.clear();
    if let CaSource::Lanes(lanes) = &ca {
        tracing::info!("Pebble lanes: {:?}", lanes.stats());
        lanes.stop().await;
    }
    let reports: Vec<ScenarioReport> = reports.into_iter().flatten().collect();
    let passed = reports.iter().filter(|r| r.passed).count();
    let failed = reports.len() - passed;
    let elapsed = started.elapsed();
    if let Err(code) = write_reports(&reports, elapsed, &args.junit, &args.json, &args.html) {
        return code;
    }
    say!("{passed} passed, {failed} failed");
    u8::from(failed > 0)
}

/// Writes the reports asked for; `Err(2)` (said on stderr) when one cannot be written.
fn write_reports(
    reports: &[ScenarioReport],
    elapsed: std::time::Duration,
    junit: &Option<PathBuf>,
    json: &Option<PathBuf>,
    html: &Option<PathBuf>,
) -> Result<(), u8> {
    let write = |path: &Option<PathBuf>, render: &dyn Fn() -> String| match path {
        Some(path) => std::fs::write(path, render()).map_err(|e| {
            eprintln!("harness: cannot write {}: {e}", path.display());
            2
        }),
        None => Ok(()),
    };
    write(junit, &|| report::junit(reports, elapsed))?;
    write(json, &|| report::json(reports, elapsed))?;
    write(html, &|| harness::html::render(reports, elapsed))
}

fn merge_reports(args: &MergeArgs) -> u8 {
    if args.junit.is_none() && args.json.is_none() && args.html.is_none() {
        eprintln!("harness: merge-reports writes nothing: give --junit, --json or --html FILE");
        return 2;
    }
    let (reports, elapsed) = match harness::merge::merge(&args.reports) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("harness: {e}");
            return 2;
        }
    };
    if let Err(code) = write_reports(&reports, elapsed, &args.junit, &args.json, &args.html) {
        return code;
    }
    let passed = reports.iter().filter(|r| r.passed).count();
    say!(
        "{passed} passed, {} failed ({} reports merged)",
        reports.len() - passed,
        args.reports.len()
    );
    u8::from(passed < reports.len())
}

fn timed_out(scenario: &Scenario, deadline: std::time::Duration) -> ScenarioReport {
    ScenarioReport {
        failures: vec![format!(
            "the scenario did not finish within {}s; everything it started was stopped",
            deadline.as_secs()
        )],
        seconds: deadline.as_secs_f64(),
        ..harness::runner::empty_report(scenario)
    }
}
