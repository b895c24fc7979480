//! The sandbox network as users run it: no way out of it, Gandi's names leading only to the
//! mock, sandbox scenarios passing as an ordinary user, and a sandbox that cannot be made being
//! an environment error, never a quiet fallback to the proxy.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use harness::CaKind;
use harness::sandbox::Network;
use harness::scenario::Scenario;

fn harness() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_harness"));
    c.current_dir(repository());
    c
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Pebble and a sandbox, or a skip (a failure in CI).
fn sandbox_available(runtime: &tokio::runtime::Runtime) -> bool {
    if !runtime.block_on(harness::require::pebble(CaKind::Process)) {
        return false;
    }
    if let Err(e) = runtime.block_on(harness::sandbox::check_available()) {
        harness::require::skip_or_fail("a sandbox (network namespaces)", &e);
        return false;
    }
    true
}

#[test]
fn from_inside_a_sandbox_public_addresses_fail_at_once_and_gandi_names_are_the_mock() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    if !sandbox_available(&runtime) {
        return;
    }
    // Every check is the script's; it says which failed (Python's own `{word}` is written
    // `{{word}}`: a lowercase word in braces is a placeholder of the harness). Each network attempt is timed: a
    // refusal must come at once, not after a timeout (the script's own bound is 5 s).
    let text = r#"description = "inside a sandbox"
network = "sandbox"

[[gandi.domain]]
fqdn = "stubber.chat"

[client]
kind = "command"
domains = ["stubber.chat"]
requires = ["python3", "getent"]
argv = ["python3", "-c", """
import os, socket, subprocess, time

def fail(what):
    raise SystemExit('FAILED: ' + what)

for name in ['api.gandi.net', 'rpc.gandi.net', 'dns.api.gandi.net', 'rpc.ote.gandi.net', 'api.sandbox.gandi.net']:
    addresses = {a[4][0] for a in socket.getaddrinfo(name, 443)}
    if addresses != {'127.0.0.1'}:
        fail(f'{{name}} resolves to {{addresses}}')
for proxy in ['HTTPS_PROXY', 'https_proxy']:
    if proxy in os.environ:
        fail(proxy + ' is set in a sandbox')

def attempt(what, f):
    started = time.monotonic()
    try:
        f()
    except OSError as e:
        took = time.monotonic() - started
        print(f'{{what}}: {type(e).__name__} after {took:.3f}s')
        if took > 1:
            fail(f'{{what}} took {took:.1f}s to fail')
        return
    fail(what + ' got through')

def connect(address):
    socket.create_connection(address, timeout=5).close()

attempt('connect 1.1.1.1:443', lambda: connect(('1.1.1.1', 443)))
attempt('connect 8.8.8.8:53', lambda: connect(('8.8.8.8', 53)))
attempt('connect [2606:4700::1111]:443', lambda: connect(('2606:4700::1111', 443)))
attempt('resolve example.com', lambda: socket.getaddrinfo('example.com', 443))
attempt('resolve letsencrypt.org', lambda: socket.getaddrinfo('acme-v02.api.letsencrypt.org', 443))
# The real Gandi name answers, and it is the mock: its journal has the request.
answer = subprocess.run(['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}',
                         'https://api.gandi.net/v5/livedns/domains'], capture_output=True, text=True)
if answer.stdout != '401':
    fail('api.gandi.net answered ' + answer.stdout + answer.stderr)
print('all good')
"""]

[expect]
outcome = "success"
calls = ["GET /v5/livedns/domains -> 401"]
"#;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("inside.toml");
    std::fs::write(&file, text).unwrap();
    assert_eq!(
        Scenario::load(&file).unwrap().request.network,
        Network::Sandbox
    );
    let json = dir.path().join("report.json");
    let started = Instant::now();
    let out = harness()
        .args(["run", "--ca", "process", "--json"])
        .arg(&json)
        .arg(&file)
        .output()
        .unwrap();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    let report = &report["scenarios"][0];
    let (output, transcript) = (
        report["output"].as_str().unwrap_or_default(),
        report["transcript"].as_str().unwrap_or_default(),
    );
    assert_eq!(report["passed"], true, "{}\n{output}", report["failures"]);
    assert!(output.contains("all good"), "{output}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert!(
        transcript.contains("A example.com -> REFUSED []"),
        "the names went to the mock's DNS: {transcript}"
    );
}

/// The sandbox scenarios of the corpus.
fn sandbox_corpus() -> Vec<PathBuf> {
    harness::scenario::discover(&[repository().join("scenarios")])
        .unwrap()
        .into_iter()
        .filter(|p| Scenario::load(p).is_ok_and(|s| s.request.network == Network::Sandbox))
        .collect()
}

#[test]
fn the_sandbox_scenarios_pass_as_an_ordinary_user() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    if !sandbox_available(&runtime) {
        return;
    }
    let corpus = sandbox_corpus();
    assert!(corpus.len() >= 3, "{corpus:?}");
    // Root makes the sandbox without a user namespace; an ordinary user needs one.
    let Some(mut command) =
        harness::require::as_ordinary_user(Path::new(env!("CARGO_BIN_EXE_harness")))
    else {
        return;
    };
    command.current_dir(repository());
    let out = command
        .args(["run", "--ca", "process"])
        .args(&corpus)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().last(),
        Some(format!("{} passed, 0 failed", corpus.len()).as_str())
    );
    assert!(stdout.lines().filter(|l| l.contains(", sandbox)")).count() == corpus.len());
}

#[test]
fn a_sandbox_that_cannot_be_made_is_an_environment_error_not_a_fallback() {
    // No `unshare` on PATH (PEBBLE names Pebble, so that check passes).
    let dir = tempfile::tempdir().unwrap();
    let scenario = repository().join("scenarios/no-way-out-of-the-sandbox.toml");
    let out = harness()
        .env("PATH", dir.path())
        .env("PEBBLE", "/usr/bin/pebble")
        .args(["run", "--ca", "process"])
        .arg(&scenario)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !Path::new("/usr/bin/pebble").exists() {
        harness::require::skip_or_fail("Pebble at /usr/bin/pebble", "apt-get install -y pebble");
        return;
    }
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("need a sandbox, which cannot be made here"),
        "{stderr}"
    );
    assert!(stderr.contains("`unshare` (util-linux)"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing ran");

    // The container backend cannot be inside a sandbox: said before anything starts.
    let out = harness()
        .args(["run", "--ca", "container"])
        .arg(&scenario)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("the container backend") || stderr.contains("Docker"),
        "{stderr}"
    );
}

#[test]
fn run_network_sandbox_runs_a_proxy_scenario_in_a_sandbox() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    if !sandbox_available(&runtime) {
        return;
    }
    let out = harness()
        .args([
            "run",
            "--ca",
            "process",
            "--network",
            "sandbox",
            "scenarios/curl-put-without-ttl.toml",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("PASS curl-put-without-ttl [command sh] ("),
        "{stdout}"
    );
    assert!(stdout.contains(", sandbox)"), "{stdout}");
}

/// Live processes whose command line holds `needle` (zombies are not alive).
fn alive_with(needle: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| s.rsplit_once(") ").map(|(_, r)| r.starts_with('Z')))
            .unwrap_or(true);
        if !zombie && String::from_utf8_lossy(&cmdline).contains(needle) {
            found.push(pid);
        }
    }
    found
}

#[test]
fn ctrl_c_ends_everything_a_sandbox_started() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    if !sandbox_available(&runtime) {
        return;
    }
    // A command that starts a daemon out of its process group, then waits: only the end of the
    // sandbox's PID namespace can stop the daemon.
    let needle = format!("300.{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hangs.toml");
    std::fs::write(
        &file,
        format!(
            r#"description = "hangs"
network = "sandbox"
[[gandi.domain]]
fqdn = "stubber.chat"
[client]
kind = "command"
domains = ["stubber.chat"]
argv = ["sh", "-c", "setsid sleep {needle} & sleep {needle}"]
[expect]
outcome = "success"
"#
        ),
    )
    .unwrap();
    let mut child = harness()
        .args(["run", "--ca", "process"])
        .arg(&file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while alive_with(&needle).len() < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the sandboxed command never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    assert_eq!(child.wait().unwrap().code(), Some(130));
    let deadline = Instant::now() + Duration::from_secs(5);
    while !alive_with(&needle).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        alive_with(&needle),
        Vec::<u32>::new(),
        "outlived the interrupted run"
    );
}
