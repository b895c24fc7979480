//! Every scenario file is a test: it runs end to end (mock-gandi, Pebble, the client) and its
//! normalized transcript must equal its snapshot in `tests/snapshots/`. A `builtin` scenario is
//! also twinned: run again through lego v5's own provider code and compared.
//!
//! The CA backend comes from `HARNESS_CA` (auto, container or process; default auto). Without
//! Pebble, or without the program a scenario runs (lego, certbot and its plugin, a command), the
//! tests skip with a reason, except when `GANDI_E2E_REQUIRE_ALL` is set (CI).

use std::path::{Path, PathBuf};

use harness::CaKind;
use harness::runner::{RunOptions, run_scenario_with};
use harness::sandbox::Network;
use harness::scenario::Scenario;
use libtest_mimic::{Failed, Trial};

mod common;

fn ca_kind() -> CaKind {
    std::env::var("HARNESS_CA")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CaKind::Auto)
}

fn run_one(path: &Path, shared: &common::Shared) -> Result<(), Failed> {
    let runtime = &shared.runtime;
    let scenario = Scenario::load(path).map_err(|e| Failed::from(e.to_string()))?;
    // A sandbox holds Pebble as a process: the container backend cannot be inside it.
    let kind = if scenario.request.network == Network::Sandbox {
        CaKind::Process
    } else {
        ca_kind()
    };
    if !common::ready(&scenario, kind, runtime) {
        return Ok(());
    }
    // Every builtin scenario is twinned: run again through lego v5's own provider code
    // (certbot-dns-multi) and compared (harness::twin).
    let twin = match harness::twin::twin_of(&scenario) {
        Some(twin) => match runtime.block_on(twin.request.client.check_program()) {
            Ok(()) => true,
            Err(e) => {
                harness::require::skip_or_fail("certbot-dns-multi (twin runs)", &e);
                false
            }
        },
        None => false,
    };
    let report = runtime.block_on(run_scenario_with(
        &scenario,
        RunOptions {
            ca: shared.ca(kind),
            twin,
            untrusted: false,
        },
    ));
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_description(scenario.description.clone());
    settings.set_omit_expression(true);
    let snapshot = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_snapshot!(scenario.name.clone(), report.transcript));
    }));
    if !report.passed {
        return Err(format!(
            "{}\n{}\ntranscript:\n{}",
            scenario.path.display(),
            report.failures.join("\n"),
            report.transcript
        )
        .into());
    }
    snapshot.map_err(|_| Failed::from("the transcript differs from its snapshot (see above)"))
}

/// Every scenario has its snapshot, and every snapshot (or pending `.snap.new`) its scenario:
/// a renamed or deleted scenario cannot leave a stale snapshot behind, nor a new one pass
/// without one.
fn snapshots_match_scenarios() -> Result<(), Failed> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let names = |dir: &Path, ext: &str| -> std::collections::BTreeSet<String> {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.strip_suffix(ext).map(str::to_string)
            })
            .collect()
    };
    let scenarios = names(&root.join("scenarios"), ".toml");
    let snapshots = names(&root.join("tests/snapshots"), ".snap");
    let pending = names(&root.join("tests/snapshots"), ".snap.new");
    let mut problems = Vec::new();
    for s in scenarios.difference(&snapshots) {
        problems.push(format!(
            "scenarios/{s}.toml has no snapshot tests/snapshots/{s}.snap"
        ));
    }
    for s in snapshots.difference(&scenarios) {
        problems.push(format!(
            "tests/snapshots/{s}.snap is an orphan: no scenarios/{s}.toml"
        ));
    }
    for s in &pending {
        problems.push(format!(
            "tests/snapshots/{s}.snap.new is pending: review it (cargo insta review) or delete it"
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n").into())
    }
}

fn main() {
    common::run_per_scenario(
        "scenario",
        run_one,
        vec![Trial::test(
            "snapshots::every_scenario_has_one_and_none_is_an_orphan",
            snapshots_match_scenarios,
        )],
    )
}
