//! `harness run --untrusted` as a user runs someone else's scenario: a command that writes
//! outside its work folder, reads the caller's home or opens the Docker socket fails with a
//! clear error, as root and as an ordinary user; what a scenario legitimately does (write in
//! its work folder, call Gandi's names, read its own folder) still works. The same files
//! without `--untrusted` do what they say (as root), so the confinement is what stops them.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use harness::CaKind;

const DOCKER_SOCKET: &str = "/var/run/docker.sock";

/// Pebble, a sandbox and bubblewrap, or a skip (a failure in CI).
fn available() -> bool {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    if !runtime.block_on(harness::require::pebble(CaKind::Process)) {
        return false;
    }
    for (what, check) in [
        (
            "a sandbox (network namespaces)",
            runtime.block_on(harness::sandbox::check_available()),
        ),
        (
            "bubblewrap (apt-get install bubblewrap)",
            runtime.block_on(harness::client::confine::check_available()),
        ),
    ] {
        if let Err(e) = check {
            harness::require::skip_or_fail(what, &e);
            return false;
        }
    }
    if !Path::new(DOCKER_SOCKET).exists() {
        harness::require::skip_or_fail(
            "a Docker socket to hide",
            &format!("{DOCKER_SOCKET} is not here (a Docker engine makes it)"),
        );
        return false;
    }
    true
}

/// Everything one trial needs, readable (and where it must be, writable) by an ordinary user:
/// the scenarios' folder, a folder outside every work folder, and a home with an SSH key.
struct Setup {
    _root: tempfile::TempDir,
    scenarios: PathBuf,
    outside: PathBuf,
    home: PathBuf,
}

fn open_to_all(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn setup() -> Setup {
    // Not under /tmp (hidden whole) nor in the repository: a home of its own, as a user's.
    let root = tempfile::Builder::new()
        .prefix("untrusted-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    open_to_all(root.path(), 0o755);
    // The scenarios were downloaded into the home: their folder is put back, the rest of the
    // home stays hidden.
    let home = root.path().join("home");
    let scenarios = home.join("Downloads");
    let outside = root.path().join("outside");
    for dir in [&home, &home.join(".ssh"), &scenarios, &outside] {
        std::fs::create_dir(dir).unwrap();
        open_to_all(dir, 0o755);
    }
    // Anyone may write here: only the confinement stops the write.
    open_to_all(&outside, 0o777);
    let key = home.join(".ssh/id_ed25519");
    std::fs::write(&key, "not a real key\n").unwrap();
    open_to_all(&key, 0o644);
    let scenario = |name: &str, script: &str| {
        let text = format!(
            r#"description = "{name}"

[[gandi.domain]]
fqdn = "stubber.chat"

[client]
kind = "command"
domains = ["stubber.chat"]
argv = ["sh", "-c", '''{script}''']

[expect]
outcome = "success"
"#
        );
        let file = scenarios.join(format!("{name}.toml"));
        std::fs::write(&file, text).unwrap();
        open_to_all(&file, 0o644);
    };
    scenario(
        "writes-outside",
        &format!(
            "echo mine > in-workdir && cat in-workdir && echo owned > {}/owned",
            outside.display()
        ),
    );
    scenario(
        "reads-home",
        &format!("cat {}/.ssh/id_ed25519", home.display()),
    );
    scenario(
        "opens-docker",
        &format!("curl -sS --unix-socket {DOCKER_SOCKET} http://docker/version"),
    );
    // What a scenario does for its work: all allowed.
    scenario(
        "does-its-work",
        &format!(
            "echo mine > in-workdir && cat in-workdir && cat {}/does-its-work.toml >/dev/null && \
             curl -sS -o /dev/null -w '%{{http_code}}' https://api.gandi.net/v5/livedns/domains \
             | grep -q 401",
            scenarios.display()
        ),
    );
    Setup {
        _root: root,
        scenarios,
        outside,
        home,
    }
}

/// `harness` with the setup's home as `$HOME`, as this process's user or as an ordinary one
/// (`runuser` sets `HOME` itself: `env` sets it again).
fn harness(setup: &Setup, ordinary_user: bool) -> Option<Command> {
    let env = Path::new("/usr/bin/env");
    let mut command = if ordinary_user {
        harness::require::as_ordinary_user(env)?
    } else {
        Command::new(env)
    };
    command
        .arg(format!("HOME={}", setup.home.display()))
        .arg(env!("CARGO_BIN_EXE_harness"));
    Some(command)
}

/// The JSON report of `harness run ARGS FOLDER`.
fn run(mut command: Command, args: &[&str], setup: &Setup) -> serde_json::Value {
    let json = setup.outside.join(format!("report-{}.json", args.len()));
    let _ = std::fs::remove_file(&json);
    let out = command
        .args(["run", "--ca", "process", "--jobs", "2", "--json"])
        .arg(&json)
        .args(args)
        .arg(&setup.scenarios)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{stdout}\n{stderr}"
    );
    let text = std::fs::read_to_string(&json)
        .unwrap_or_else(|e| panic!("no report ({e}): {stdout}\n{stderr}"));
    serde_json::from_str(&text).unwrap()
}

/// The report of scenario `name`.
fn scenario<'r>(report: &'r serde_json::Value, name: &str) -> &'r serde_json::Value {
    report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {report}"))
}

fn failures(s: &serde_json::Value) -> String {
    s["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The four scenarios under `--untrusted`: three fail, each saying why, and nothing was written.
fn confined(command: Command, setup: &Setup) {
    let report = run(command, &["--untrusted"], setup);
    let work = scenario(&report, "does-its-work");
    assert_eq!(
        work["passed"],
        true,
        "{}\n{}",
        failures(work),
        work["output"]
    );
    assert_eq!(work["network"], "sandbox");

    let writes = scenario(&report, "writes-outside");
    assert_eq!(writes["passed"], false);
    let why = failures(writes);
    assert!(
        why.contains("read-only except the work folder")
            && why.contains("tried to write elsewhere"),
        "{why}"
    );
    let output = writes["output"].as_str().unwrap();
    assert!(
        output.starts_with("mine\n"),
        "the work folder is writable: {output}"
    );
    assert!(output.contains("Read-only file system"), "{output}");
    assert!(!setup.outside.join("owned").exists());

    let reads = scenario(&report, "reads-home");
    assert_eq!(reads["passed"], false);
    let why = failures(reads);
    assert!(
        why.contains(&format!("{} is an empty folder", setup.home.display())),
        "{why}"
    );
    assert!(!reads["output"].as_str().unwrap().contains("not a real key"));

    let docker = scenario(&report, "opens-docker");
    assert_eq!(docker["passed"], false);
    let why = failures(docker);
    assert!(why.contains("no Docker socket"), "{why}");
}

#[test]
fn untrusted_scenarios_cannot_write_outside_read_the_home_or_reach_docker_as_root() {
    if !available() {
        return;
    }
    let setup = setup();
    if rustix::process::geteuid().is_root() {
        // Without --untrusted the same files do what they say: the confinement is what stops
        // them below.
        let report = run(harness(&setup, false).unwrap(), &[], &setup);
        for name in [
            "writes-outside",
            "reads-home",
            "opens-docker",
            "does-its-work",
        ] {
            let s = scenario(&report, name);
            assert_eq!(
                s["passed"],
                true,
                "{name}: {}\n{}",
                failures(s),
                s["output"]
            );
        }
        assert!(setup.outside.join("owned").exists());
        std::fs::remove_file(setup.outside.join("owned")).unwrap();
    }
    confined(harness(&setup, false).unwrap(), &setup);
}

#[test]
fn untrusted_scenarios_are_confined_as_an_ordinary_user() {
    if !available() {
        return;
    }
    let setup = setup();
    let Some(command) = harness(&setup, true) else {
        return;
    };
    confined(command, &setup);
}

#[test]
fn untrusted_refuses_the_proxy_network() {
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args([
            "run",
            "--untrusted",
            "--network",
            "proxy",
            "--ca",
            "process",
        ])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/ttl-below-300.toml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--network proxy contradicts it"),
        "{stderr}"
    );
}

#[test]
fn real_clients_of_the_corpus_pass_untrusted_and_are_shown_as_without_it() {
    if !available() {
        return;
    }
    // lego, certbot with its plugin, a Python tool from the venv, a shell script with
    // dehydrated and curl.
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let files: Vec<PathBuf> = [
        "lego-4-9-pat-to-gandiv5",
        "certbot-dns-gandi-pat-issues",
        "gandi-cli-v4-shared-zone-cannot-be-edited",
        "acme-sh-2017-apex-and-wildcard-single-value-put",
    ]
    .iter()
    .map(|name| corpus.join(format!("{name}.toml")))
    .collect();
    let report = |untrusted: bool| {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("report.json");
        let out = Command::new(env!("CARGO_BIN_EXE_harness"))
            .args(["run", "--ca", "process", "--jobs", "2", "--json"])
            .arg(&json)
            .args(untrusted.then_some("--untrusted"))
            .args(&files)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "untrusted: {untrusted}\n{stdout}"
        );
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        report["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let network = s["network"].as_str().unwrap().to_string();
                (
                    s["name"].as_str().unwrap().to_string(),
                    s["client"].clone(),
                    network,
                )
            })
            .collect::<Vec<_>>()
    };
    let (plain, confined) = (report(false), report(true));
    assert_eq!(plain.len(), files.len());
    for ((name, client, _), (name_u, client_u, network)) in plain.iter().zip(&confined) {
        assert_eq!(name, name_u);
        // The probes that ask a program its version ran confined too, and still answered.
        assert_eq!(client, client_u, "{name}");
        assert_eq!(network, "sandbox", "{name}");
    }
}
