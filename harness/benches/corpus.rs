//! The scenario suite's wall time as users run it: the `harness run` binary over the corpus,
//! `--jobs 1` and `--jobs 2`, with Pebble lanes and with `--fresh-ca`, per CA backend; each the
//! median of a few runs. By default the built-in client's scenarios (the ones whose time is the
//! harness's own); `CORPUS_ALL=1` for every scenario, real clients included.
//!
//! `cargo bench -p harness --bench corpus` (`BENCH_RUNS=N`, default 3).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn run(args: &[&str]) -> (Duration, String) {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .arg("run")
        .args(args)
        .arg(&corpus)
        .output()
        .expect("harness runs");
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default().to_string();
    assert!(
        out.status.success(),
        "harness run {args:?} failed: {last}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (elapsed, last)
}

fn main() {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let all = std::env::var_os("CORPUS_ALL").is_some();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for (ca, kind) in [
        ("process", harness::CaKind::Process),
        ("container", harness::CaKind::Container),
    ] {
        if let Err(e) = rt.block_on(harness::check_available(kind)) {
            println!("{ca}: not available ({e})");
            continue;
        }
        println!(
            "{ca} Pebble, {} scenarios, median of {runs}:",
            if all { "all" } else { "builtin" }
        );
        let mut baseline = None;
        for (jobs, fresh) in [("1", true), ("1", false), ("2", true), ("2", false)] {
            let mut args = vec!["--ca", ca, "--jobs", jobs];
            if !all {
                args.extend(["--client", "builtin"]);
            }
            if fresh {
                args.push("--fresh-ca");
            }
            let mut times = Vec::new();
            let mut last = String::new();
            for _ in 0..runs {
                let (t, l) = run(&args);
                times.push(t);
                last = l;
            }
            times.sort();
            let median = times[times.len() / 2];
            let ratio = match baseline {
                None => {
                    baseline = Some(median);
                    String::new()
                }
                Some(b) => format!(
                    ", {:.2} of --jobs 1 --fresh-ca",
                    median.as_secs_f64() / b.as_secs_f64()
                ),
            };
            println!(
                "  --jobs {jobs} {:<12} {:>7.2} s (min {:.2}, max {:.2}){ratio}  [{last}]",
                if fresh { "--fresh-ca" } else { "lanes" },
                median.as_secs_f64(),
                times[0].as_secs_f64(),
                times[times.len() - 1].as_secs_f64(),
            );
        }
    }
}
