//! Nothing outlives an issuance: after a failed one and after one cut short by a timeout, no
//! Pebble process started by this test binary is left, and no container of ours either. This
//! file holds one test so that no other test's Pebble is counted.

use std::time::Duration;

use harness::CaKind;
use harness::runner::run_scenario;
use harness::scenario::Scenario;

fn pebble_children() -> Vec<u32> {
    let me = std::process::id();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // comm is in parentheses; the parent pid is the second field after it.
        let Some((comm, rest)) = stat.split_once(") ") else {
            continue;
        };
        let ppid = rest.split(' ').nth(1).and_then(|p| p.parse::<u32>().ok());
        if comm.ends_with("(pebble") && ppid == Some(me) {
            found.push(pid);
        }
    }
    found
}

fn docker_containers_of_ours() -> Option<usize> {
    let out = std::process::Command::new("docker")
        .args(["ps", "-aq", "--filter", "label=dev.gandi-e2e.pebble-run"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).lines().count())
}

fn scenario(env_line: &str) -> Scenario {
    let text = format!(
        r#"description = "cleanup check"
[[gandi.domain]]
fqdn = "stubber.chat"
[[gandi.credential]]
kind = "pat"
secret = "23e501f7a1b2c3d4e5f60718293a4b5c6d7e960b"
permissions = ["dns:read"]
[client]
kind = "builtin"
provider = "gandiv5"
domains = ["stubber.chat"]
env = {{ {env_line} }}
[expect]
outcome = "failure"
"#
    );
    Scenario::parse(std::path::Path::new("cleanup.toml"), &text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_left_running_after_a_failed_or_timed_out_issuance() {
    for kind in [CaKind::Process, CaKind::Container] {
        if !harness::require::pebble(kind).await {
            continue;
        }
        let containers_before = docker_containers_of_ours();
        let failing = scenario(
            r#"GANDIV5_PERSONAL_ACCESS_TOKEN = "23e501f7a1b2c3d4e5f60718293a4b5c6d7e960b""#,
        );
        let report = run_scenario(&failing, kind).await;
        assert!(report.passed, "{:?}", report.failures);
        nothing_left(kind, containers_before, "a failed issuance").await;

        // Cut a run short once its Pebble exists: the future is dropped mid-flight, as the
        // runner does on its per-scenario timeout and on Ctrl-C.
        let pebble_appeared = async {
            loop {
                let up = match kind {
                    CaKind::Container => docker_containers_of_ours() > containers_before,
                    _ => !pebble_children().is_empty(),
                };
                if up {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        let cut = tokio::select! {
            _ = run_scenario(&failing, kind) => false,
            () = pebble_appeared => true,
        };
        assert!(cut, "{kind}: the run finished before its Pebble was seen");
        nothing_left(kind, containers_before, "an issuance cut short").await;
    }
}

/// After each step, for either backend: no Pebble process of ours and no container of ours
/// beyond those there before. Container removal happens on a helper thread: a few seconds
/// are allowed.
async fn nothing_left(kind: CaKind, containers_before: Option<usize>, after: &str) {
    for _ in 0..50 {
        if pebble_children().is_empty() && docker_containers_of_ours() == containers_before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        pebble_children().is_empty(),
        "{kind}: a Pebble process outlived {after}"
    );
    assert_eq!(
        docker_containers_of_ours(),
        containers_before,
        "{kind}: a container outlived {after}"
    );
}
