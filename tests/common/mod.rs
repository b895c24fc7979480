//! What the corpus-wide tests share: one trial per scenario file, and the checks that skip (or,
//! in CI, fail) a scenario whose parts are missing here.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use harness::sandbox::Network;
use harness::scenario::{Scenario, discover};
use harness::{CaKind, CaSource, Lanes};
use libtest_mimic::{Arguments, Failed, Trial};

/// Every scenario file of `scenarios/`.
pub fn corpus() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    discover(&[root]).expect("scenarios/ is readable")
}

/// What every trial of a binary shares: one runtime, and one set of Pebble lanes per backend
/// kind (as `harness run` lends them), stopped when the trials are done.
pub struct Shared {
    pub runtime: tokio::runtime::Runtime,
    lanes: std::sync::Mutex<Vec<Arc<Lanes>>>,
}

impl Shared {
    /// Lanes of `kind`, shared by every trial of this binary.
    pub fn ca(&self, kind: CaKind) -> CaSource {
        let mut sets = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
        let lanes = match sets.iter().find(|l| l.kind() == kind) {
            Some(lanes) => lanes.clone(),
            None => {
                let lanes = Lanes::new(kind);
                sets.push(lanes.clone());
                lanes
            }
        };
        CaSource::Lanes(lanes)
    }
}

/// Runs `each` as one trial per scenario file (`<prefix>::<name>`), then `extra`. A sandbox
/// scenario runs this test binary again inside its sandbox: that call never returns here.
pub fn run_per_scenario(
    prefix: &str,
    each: fn(&Path, &Shared) -> Result<(), Failed>,
    extra: Vec<Trial>,
) -> ! {
    if let Some(code) = harness::runner::sandbox_child() {
        std::process::exit(i32::from(code != std::process::ExitCode::SUCCESS));
    }
    let args = Arguments::from_args();
    let shared = Arc::new(Shared {
        runtime: tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime"),
        lanes: std::sync::Mutex::new(Vec::new()),
    });
    let mut trials: Vec<Trial> = corpus()
        .into_iter()
        .map(|path| {
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let shared = shared.clone();
            Trial::test(format!("{prefix}::{name}"), move || each(&path, &shared))
        })
        .collect();
    trials.extend(extra);
    let conclusion = libtest_mimic::run(&args, trials);
    // Every trial is done: stop the lanes (inside the runtime, which a container's removal
    // needs) before the process exits, which would not drop them.
    {
        let _inside = shared.runtime.enter();
        shared
            .lanes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
    conclusion.exit()
}

/// Whether everything `scenario` needs is here with `kind` of Pebble (a sandbox holds Pebble
/// as a process, whatever `kind` says). When not: skipped with the reason, or (CI) a panic.
pub fn ready(scenario: &Scenario, kind: CaKind, runtime: &tokio::runtime::Runtime) -> bool {
    let sandboxed = scenario.request.network == Network::Sandbox;
    let kind = if sandboxed { CaKind::Process } else { kind };
    if !runtime.block_on(harness::require::pebble(kind)) {
        return false;
    }
    if sandboxed && let Err(e) = runtime.block_on(harness::sandbox::check_available()) {
        harness::require::skip_or_fail("a sandbox (user and network namespaces)", &e);
        return false;
    }
    // A real client (lego, certbot, a command) that is not installed: skip locally, fail in CI.
    if let Err(e) = runtime.block_on(scenario.request.client.check_program()) {
        harness::require::skip_or_fail(scenario.request.client.name(), &e);
        return false;
    }
    true
}
