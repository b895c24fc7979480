//! The `harness` binary as a user runs it: `check` naming the file, line and key of a broken
//! scenario, `list`, `run` with its reports and exit codes, and Ctrl-C leaving nothing running.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use harness::CaKind;

fn harness() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_harness"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(name)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn check_names_the_file_line_and_key_of_a_broken_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(corpus("ttl-below-300.toml")).unwrap();
    write(dir.path(), "good.toml", &good);
    let broken = write(
        dir.path(),
        "broken.toml",
        &good.replace("[expect]\n", "[expect]\nretries = 2\n"),
    );
    let line = good.lines().position(|l| l == "[expect]").unwrap() + 2;
    let out = harness().arg("check").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "{}:{line}: unknown field `retries`",
            broken.display()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("1 valid, 1 invalid"), "{stdout}");

    // `run` refuses to start on an invalid file: a usage error, not a failed scenario.
    let out = harness().arg("run").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn check_lists_every_program_a_file_would_run_and_runs_none() {
    let dir = tempfile::tempdir().unwrap();
    // Programs that leave a mark when they run (certbot's probes would run its `#!` line's
    // interpreter, lego's its `--version`).
    let marks = dir.path().join("marks");
    std::fs::create_dir(&marks).unwrap();
    let script = |name: &str| {
        let path = write(
            dir.path(),
            name,
            &format!("#!/bin/sh\ntouch {}/{name}\n", marks.display()),
        );
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        path
    };
    let (tool, lego, python) = (script("tool"), script("lego"), script("python"));
    // A certbot whose `#!` names that python: asking certbot's Python for its plugin would
    // run it.
    let certbot = write(dir.path(), "certbot", &format!("#!{}\n", python.display()));
    std::fs::set_permissions(
        &certbot,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let scenario = |name: &str, client: &str| {
        write(
            dir.path(),
            &format!("{name}.toml"),
            &format!(
                "description = \"{name}\"\n\n[[gandi.domain]]\nfqdn = \"stubber.chat\"\n\n\
                 [client]\n{client}\n\n[expect]\noutcome = \"failure\"\n"
            ),
        )
    };
    scenario(
        "a-command",
        "kind = \"command\"\ndomains = [\"stubber.chat\"]\nenv = { LD_PRELOAD = \"./evil.so\" }\n\
         requires = [\"curl\"]\nargv = [\"./tool\", \"--flag\", \"\"\"\nline one\nline two\n\"\"\"]",
    );
    scenario(
        "a-certbot",
        "kind = \"certbot\"\ndomains = [\"stubber.chat\"]\nauthenticator = \"dns-gandi\"\nbinary = \"./certbot\"\n\
         args = [\"--no-autorenew\"]\ncredentials = { token = \"x\" }",
    );
    scenario(
        "a-lego",
        "kind = \"lego\"\ndomains = [\"stubber.chat\"]\nprovider = \"gandiv5\"\nbinary = \"./lego\"",
    );
    let out = harness().arg("check").arg(dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let expected = [
        format!("{}/a-command.toml runs:", dir.path().display()),
        format!(
            "  {} ({}, a script for `/bin/sh`)",
            tool.display(),
            tool.display()
        ),
        "    arg --flag".to_string(),
        "    arg (a script):".to_string(),
        "    | line one".to_string(),
        "    | line two".to_string(),
    ];
    let lines: Vec<&str> = stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == expected[0])
        .unwrap_or_else(|| panic!("{stdout}"));
    assert_eq!(&lines[at..at + expected.len()], expected, "{stdout}");
    assert!(
        stdout.contains("and, by its own account, curl (/"),
        "{stdout}"
    );
    assert!(
        stdout.contains("with the file's env: LD_PRELOAD=./evil.so"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "  certbot ({}, a script for `{}`), the code of its `dns-gandi` plugin, with \
             the harness's flags, then the file's: --no-autorenew",
            certbot.display(),
            python.display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "  lego ({}, a script for `/bin/sh`), provider gandiv5, with the harness's flags",
            lego.display()
        )),
        "{stdout}"
    );
    // Nothing ran.
    let ran: Vec<_> = std::fs::read_dir(&marks).unwrap().flatten().collect();
    assert!(ran.is_empty(), "check ran {ran:?}");
}

#[test]
fn check_and_list_accept_the_corpus() {
    let out = harness().args(["check", "../scenarios"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = harness().args(["list", "../scenarios"]).output().unwrap();
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        listing.contains("pat-to-legacy-gandi-provider"),
        "{listing}"
    );
    assert!(listing.contains("[go-acme/lego#2473]"), "{listing}");
}

#[test]
fn a_missing_path_is_a_usage_error() {
    let out = harness().args(["run", "no/such/folder"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/folder"));
}

#[test]
fn run_reports_passes_and_failures_with_exit_codes_and_reports() {
    if !tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(harness::require::pebble(CaKind::Process))
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pass = std::fs::read_to_string(corpus("pat-to-legacy-gandi-provider.toml")).unwrap();
    write(dir.path(), "passes.toml", &pass);
    // The same run with a wrong expectation must fail.
    write(
        dir.path(),
        "fails.toml",
        &pass.replace(
            "calls = [\"domain.info -> fault 500037\"]",
            "calls = [\"domain.info -> ok\"]",
        ),
    );
    let junit = dir.path().join("report.xml");
    let json = dir.path().join("report.json");
    let out = harness()
        .args(["run", "--ca", "process", "--jobs", "2", "--junit"])
        .arg(&junit)
        .arg("--json")
        .arg(&json)
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("PASS passes"), "{stdout}");
    assert!(stdout.contains("FAIL fails"), "{stdout}");
    assert!(
        stdout.contains("no API call matches \"domain.info -> ok\""),
        "{stdout}"
    );
    assert_eq!(stdout.lines().last(), Some("1 passed, 1 failed"));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(
        (report["passed"].as_u64(), report["failed"].as_u64()),
        (Some(1), Some(1))
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("tests=\"2\" failures=\"1\""), "{xml}");

    let out = harness()
        .args(["run", "--ca", "process"])
        .arg(dir.path().join("passes.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

fn pebble_children_of(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        let Some((comm, rest)) = stat.split_once(") ") else {
            continue;
        };
        if comm.ends_with("(pebble") && rest.split(' ').nth(1) == Some(&pid.to_string()) {
            found.push(child);
        }
    }
    found
}

#[test]
fn ctrl_c_stops_the_run_and_every_pebble_it_started() {
    if !tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(harness::require::pebble(CaKind::Process))
    {
        return;
    }
    let mut child = harness()
        .args(["run", "--ca", "process", "--jobs", "2", "../scenarios"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let pebbles = loop {
        let found = pebble_children_of(child.id());
        if !found.is_empty() {
            break found;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no Pebble was started"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    for pid in pebbles {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "Pebble {pid} outlived the interrupted run"
        );
    }
}

/// `lego` and certbot as the scenario tests find them, or a skip (a failure in CI).
fn programs_available(runtime: &tokio::runtime::Runtime, scenarios: &[&str]) -> bool {
    if !runtime.block_on(harness::require::pebble(CaKind::Process)) {
        return false;
    }
    for name in scenarios {
        let s = harness::scenario::Scenario::load(&corpus(name)).unwrap();
        if let Err(e) = runtime.block_on(s.request.client.check_program()) {
            harness::require::skip_or_fail(s.request.client.name(), &e);
            return false;
        }
    }
    true
}

#[test]
fn check_warns_about_a_missing_program_and_list_selects_by_client_kind() {
    let out = harness()
        .args(["check", "--lego", "/nonexistent/lego", "../scenarios"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Still valid files: a missing program is a warning here, a failure when run.
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    // The seeds that still say the mock's former permission words are warned about, with
    // their file and line.
    let (aliases, warnings): (Vec<&str>, Vec<&str>) = stdout
        .lines()
        .filter(|l| l.starts_with("warning: "))
        .partition(|l| l.contains("is an alias"));
    assert!(
        aliases.contains(
            &"warning: ../scenarios/pat-without-write-permission.toml:9: \
              gandi.credential.permissions: 'dns:read' is an alias; Gandi's token form says 'See \
              and renew domain names', 'Manage domain name technical configurations', 'View \
              Organization' (the README's permission table)"
        ),
        "{stdout}"
    );
    assert!(!warnings.is_empty(), "{stdout}");
    for w in &warnings {
        assert!(
            w.contains("/lego-"),
            "only lego scenarios are warned about: {w}"
        );
        assert!(w.contains("lego is missing: `/nonexistent/lego`"), "{w}");
        assert!(w.contains("ci/setup"), "{w}");
    }
    assert!(stdout.contains("cannot run here"), "{stdout}");

    let out = harness()
        .args(["list", "--client", "certbot", "../scenarios"])
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(listing.lines().count() >= 5, "{listing}");
    // Each line is the name, the client kind, the description.
    assert!(
        listing
            .lines()
            .all(|l| l.split_whitespace().nth(1) == Some("certbot")),
        "{listing}"
    );
    let out = harness()
        .args(["list", "--client", "caddy", "../scenarios"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown kind is a usage error"
    );
}

#[test]
fn run_with_lego_path_runs_that_build() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    if !programs_available(&runtime, &["lego-pat-to-gandi-provider.toml"]) {
        return;
    }
    // A "build" of lego that leaves a mark, then is the installed lego.
    let dir = tempfile::tempdir().unwrap();
    let mark = dir.path().join("called");
    let installed = std::process::Command::new("sh")
        .args(["-c", "command -v lego"])
        .output()
        .unwrap();
    let installed = String::from_utf8_lossy(&installed.stdout)
        .trim()
        .to_string();
    let wrapper = write(
        dir.path(),
        "my-lego",
        &format!(
            "#!/bin/sh\necho \"$@\" >> '{}'\nexec '{}' \"$@\"\n",
            mark.display(),
            std::env::var("LEGO").unwrap_or(installed)
        ),
    );
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&wrapper)
        .status()
        .unwrap();
    let out = harness()
        .args(["run", "--ca", "process", "--client", "lego", "--lego"])
        .arg(&wrapper)
        .arg(corpus("lego-pat-to-gandi-provider.toml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let calls = std::fs::read_to_string(&mark).unwrap_or_default();
    assert!(
        calls.contains("--version"),
        "the build's version was asked: {calls}"
    );
    assert!(
        calls.contains("--dns gandi") && calls.contains("run"),
        "the build ran the scenario: {calls}"
    );
}

#[test]
fn a_scenario_of_each_kind_failing_on_purpose_shows_the_client_s_own_words() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    if !programs_available(
        &runtime,
        &[
            "lego-pat-to-gandi-provider.toml",
            "certbot-dns-multi-read-only-pat.toml",
        ],
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // A wrong error_contains in a lego and a certbot scenario of the corpus.
    for (name, right) in [
        (
            "lego-pat-to-gandi-provider.toml",
            "does not match '^[a-z0-9]{24}$'",
        ),
        (
            "certbot-dns-multi-read-only-pat.toml",
            "Access was denied to this resource.",
        ),
    ] {
        let text = std::fs::read_to_string(corpus(name)).unwrap();
        let wrong = text.replacen(
            "error_contains = [",
            "error_contains = [\"no such words\", ",
            1,
        );
        assert_ne!(text, wrong);
        assert!(text.contains(right));
        write(dir.path(), name, &wrong);
    }
    write(
        dir.path(),
        "command-fails.toml",
        r#"description = "a command that fails with its own words"

[[gandi.domain]]
fqdn = "stubber.chat"

[client]
kind = "command"
domains = ["stubber.chat"]
argv = ["sh", "-c", "echo 'step one done'; echo 'step two: permission denied' >&2; exit 3"]

[expect]
outcome = "failure"
error_contains = ["no such words"]
"#,
    );
    let junit = dir.path().join("report.xml");
    let out = harness()
        .args(["run", "--ca", "process", "--junit"])
        .arg(&junit)
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert_eq!(
        stdout.lines().last(),
        Some("0 passed, 3 failed"),
        "{stdout}"
    );
    for (scenario, client, said) in [
        (
            "lego-pat-to-gandi-provider",
            "[lego 4.9.1 gandi]",
            "acme: error presenting token: gandi: Gandi DNS: RPC Error: (500037)",
        ),
        (
            "certbot-dns-multi-read-only-pat",
            "[certbot ",
            "403: request failed: Access was denied to this resource.",
        ),
        (
            "command-fails",
            "[command sh]",
            "step two: permission denied",
        ),
    ] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("FAIL {scenario} ")))
            .unwrap_or_else(|| panic!("no FAIL line for {scenario}: {stdout}"));
        assert!(line.contains(client), "{line}");
        // The unmet expectation, then the client's own output.
        let section = &stdout[stdout.find(line).unwrap()..];
        assert!(
            section.contains("the client's output does not contain \"no such words\""),
            "{section}"
        );
        assert!(section.contains("--- client output, "), "{section}");
        assert!(
            section.contains(&format!("| {said}")) || section.contains(said),
            "{section}"
        );
    }
    // The lego scenario's token is in lego's error line: the reasons quote it redacted, as the
    // output does.
    let token = "23e501f7a1b2c3d4e5f60718293a4b5c6d7e960b";
    assert!(!stdout.contains(token), "{stdout}");
    assert!(
        stdout.contains("[string '[GANDI_API_KEY]' does not match"),
        "{stdout}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(!xml.contains(token), "{xml}");
    assert!(xml.contains("--- client output ---"), "{xml}");
    assert!(xml.contains("step two: permission denied"), "{xml}");
    assert!(xml.contains("client: lego 4.9.1 gandi"), "{xml}");
}

/// The scenario names of `harness list` (or `run --list`): the first word of each line.
fn listed(out: &std::process::Output) -> Vec<String> {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn a_report_is_one_command_away() {
    let report = "go-acme/lego#2473";
    let mut expected: Vec<String> = std::fs::read_dir("../scenarios")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .contains(&format!("reproduces = \"{report}\""))
        })
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    expected.sort();
    assert!(expected.len() >= 3, "{expected:?}");
    let list = |args: &[&str]| {
        let mut all = vec!["list"];
        all.extend_from_slice(args);
        all.push("../scenarios");
        listed(&harness().args(&all).output().unwrap())
    };
    assert_eq!(list(&["--reproduces", report]), expected);
    // The reference without its owner, in any case, names the same report.
    assert_eq!(list(&["--reproduces", "LEGO#2473"]), expected);
    // A number alone is not a reference.
    assert_eq!(list(&["--reproduces", "2473"]), Vec::<String>::new());
    // `--filter` finds the report's scenarios too (among others whose text says it).
    let filtered = list(&["--filter", "lego#2473"]);
    assert!(
        expected.iter().all(|e| filtered.contains(e)),
        "{filtered:?} lacks some of {expected:?}"
    );
    // `run --list` selects as `list` does.
    let run_list = listed(
        &harness()
            .args(["run", "--list", "--reproduces", report, "../scenarios"])
            .output()
            .unwrap(),
    );
    assert_eq!(run_list, expected);
}

#[test]
fn partitions_split_the_corpus_exactly_and_run_list_selects_as_list_does() {
    let all = listed(&harness().args(["list", "../scenarios"]).output().unwrap());
    assert!(all.len() >= 50, "{all:?}");
    for n in [1, 2, 3, 7] {
        let mut seen = BTreeSet::new();
        for k in 1..=n {
            let share = listed(
                &harness()
                    .args(["list", "--partition", &format!("{k}/{n}"), "../scenarios"])
                    .output()
                    .unwrap(),
            );
            assert!(!share.is_empty(), "share {k}/{n} is empty");
            for name in share {
                assert!(seen.insert(name.clone()), "{name} is in two shares of {n}");
            }
        }
        assert_eq!(seen, all.iter().cloned().collect(), "the shares of {n}");
    }
    // `run --list` runs nothing and lists what `run` would, with the same selection.
    let by_run = listed(
        &harness()
            .args([
                "run",
                "--list",
                "--partition",
                "2/3",
                "--client",
                "builtin",
                "../scenarios",
            ])
            .output()
            .unwrap(),
    );
    let by_list = listed(
        &harness()
            .args([
                "list",
                "--partition",
                "2/3",
                "--client",
                "builtin",
                "../scenarios",
            ])
            .output()
            .unwrap(),
    );
    assert!(!by_run.is_empty());
    assert_eq!(by_run, by_list);
}

#[test]
fn a_bad_partition_is_a_usage_error_that_says_what_is_expected() {
    for bad in ["0/3", "4/3", "x", "3", "1/0"] {
        for command in ["run", "list", "check"] {
            let out = harness()
                .args([command, "--partition", bad, "../scenarios"])
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{command} {bad}: {stderr}");
            assert!(stderr.contains("--partition"), "{stderr}");
            assert!(
                stderr.contains("K/N") || stderr.contains("between 1 and N"),
                "{stderr}"
            );
        }
    }
}

fn report(name: &str, passed: bool, output: &str) -> harness::runner::ScenarioReport {
    harness::runner::ScenarioReport {
        name: name.into(),
        path: format!("scenarios/{name}.toml"),
        description: format!("what {name} shows"),
        reproduces: None,
        quote: None,
        client: "command sh".into(),
        passed,
        failures: if passed {
            vec![]
        } else {
            vec!["the client failed".into()]
        },
        unmet: if passed {
            vec![]
        } else {
            vec!["outcome".into()]
        },
        transcript: "client: command sh\napi:\ndns:\noutcome:\n  ended: exit 1\n".into(),
        steps: vec![],
        output: output.into(),
        network: Default::default(),
        twin: None,
        seconds: 0.25,
    }
}

#[test]
fn merge_reports_makes_the_shares_one_run_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let elapsed = Duration::from_secs(2);
    let one = write(
        dir.path(),
        "1.json",
        &harness::report::json(&[report("beta", true, "")], elapsed),
    );
    let two = write(
        dir.path(),
        "2.json",
        &harness::report::json(
            &[
                report("alpha", false, "alpha's own <words>"),
                report("gamma", true, ""),
            ],
            elapsed,
        ),
    );
    let (junit, json, html) = (
        dir.path().join("all.xml"),
        dir.path().join("all.json"),
        dir.path().join("all.html"),
    );
    let out = harness()
        .arg("merge-reports")
        .args([&one, &two])
        .arg("--junit")
        .arg(&junit)
        .arg("--json")
        .arg(&json)
        .arg("--html")
        .arg(&html)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    // A failed scenario in a share fails the merge, as it fails the run.
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert_eq!(stdout.trim(), "2 passed, 1 failed (2 reports merged)");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("tests=\"3\" failures=\"1\""), "{xml}");
    assert!(xml.contains("alpha&apos;s own &lt;words&gt;"), "{xml}");
    let merged: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let names: Vec<&str> = merged["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alpha", "beta", "gamma"]);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("1 failed") && page.contains("2 passed"),
        "{page}"
    );
    assert!(page.contains("alpha&#39;s own &lt;words&gt;"), "{page}");

    // The same share twice, or no output asked for: usage errors.
    let out = harness()
        .arg("merge-reports")
        .args([&one, &one])
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("scenario `beta` is in both"));
    let out = harness().arg("merge-reports").arg(&one).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_failing_client_that_prints_thousands_of_lines_gets_a_bounded_fail() {
    if !tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(harness::require::pebble(CaKind::Process))
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "noisy.toml",
        r#"description = "a client run with --debug: five thousand lines, then its error"

[[gandi.domain]]
fqdn = "stubber.chat"

[client]
kind = "command"
domains = ["stubber.chat"]
argv = ["sh", "-c", """
i=1
while [ $i -le 5000 ]; do echo "debug $i: nothing to see here"; i=$((i+1)); done
echo "error: gandiv5: 403 Forbidden"
exit 1
"""]

[expect]
outcome = "failure"
error_contains = ["gandiv5: 401 Unauthorized"]
"#,
    );
    let json = dir.path().join("report.json");
    let out = harness()
        .args(["run", "--ca", "process", "--json"])
        .arg(&json)
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    // The FAIL line, the expectation, the closest line marked, 40 lines of output, the totals.
    assert!(
        stdout.lines().count() < 60,
        "{} lines:\n{stdout}",
        stdout.lines().count()
    );
    assert!(stdout.starts_with("FAIL noisy [command sh]"), "{stdout}");
    assert!(
        stdout.contains(
            "error_contains[0]: the client's output does not contain \"gandiv5: 401 Unauthorized\""
        ),
        "{stdout}"
    );
    let lines: Vec<&str> = stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.ends_with("5001 | error: gandiv5: 403 Forbidden"))
        .unwrap_or_else(|| panic!("no closest line: {stdout}"));
    // The caret stands under the first character that differs: "3" of "403".
    let line = lines[at];
    let mark = lines[at + 1];
    let column = line.find("error:").unwrap() + "error: gandiv5: 40".len();
    assert_eq!(mark.find('^'), Some(column), "{line}\n{mark}");
    assert!(
        mark.contains("the fragment goes on with \"1 Unauthorized\""),
        "{mark}"
    );
    assert!(
        stdout.contains(&format!(
            "--- client output, lines 4962-5001 of 5001; the whole output is in {} ---",
            json.display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("| debug 4962: nothing to see here"),
        "{stdout}"
    );
    assert!(!stdout.contains("| debug 4961:"), "{stdout}");
    // The report keeps everything.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let output = report["scenarios"][0]["output"].as_str().unwrap();
    assert_eq!(output.lines().count(), 5001);
    assert!(output.starts_with("debug 1: nothing to see here\n"));
}

/// A corpus scenario that names its program by `{venv}` (dns-lexicon, in a sandbox), copied
/// into a folder of its own.
const PORTABLE: &str = "lexicon-rpc-and-rest-one-token-sandbox.toml";

#[test]
fn a_scenario_copied_to_another_folder_runs_from_there() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let venv = std::path::absolute(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv")).unwrap();
    let text = std::fs::read_to_string(corpus(PORTABLE)).unwrap();
    assert!(
        text.contains("\"{venv}/bin/python\""),
        "the scenario names {{venv}}"
    );

    // In a folder that is no repository, `{venv}` is $VIRTUAL_ENV or nothing: the error names
    // the file, the line and the key.
    let loose = tempfile::tempdir().unwrap();
    let copy = write(loose.path(), PORTABLE, &text);
    let out = harness()
        .env_remove("VIRTUAL_ENV")
        .args(["check"])
        .arg(&copy)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let line = text.lines().position(|l| l.starts_with("argv = ")).unwrap() + 1;
    assert!(
        stdout.contains(&format!(
            "{}:{line}: client.argv: `{{venv}}`: VIRTUAL_ENV is unset",
            copy.display()
        )),
        "{stdout}"
    );
    let out = harness()
        .env("VIRTUAL_ENV", &venv)
        .args(["check"])
        .arg(&copy)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // In a repository of its own (a `.git` and a `.venv`), run from yet another folder.
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(repo.path().join(".git")).unwrap();
    std::fs::create_dir_all(repo.path().join("my-scenarios")).unwrap();
    std::os::unix::fs::symlink(&venv, repo.path().join(".venv")).unwrap();
    let copy = write(&repo.path().join("my-scenarios"), PORTABLE, &text);
    let elsewhere = tempfile::tempdir().unwrap();
    let s = harness::scenario::Scenario::load(&copy).unwrap();
    if !runtime.block_on(harness::require::pebble(CaKind::Process)) {
        return;
    }
    if let Err(e) = runtime.block_on(s.request.client.check_program()) {
        harness::require::skip_or_fail("dns-lexicon in .venv", &e);
        return;
    }
    if let Err(e) = runtime.block_on(harness::sandbox::check_available()) {
        harness::require::skip_or_fail("a sandbox", &e);
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .current_dir(elsewhere.path())
        .env_remove("VIRTUAL_ENV")
        .args(["run", "--ca", "process"])
        .arg(&copy)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("PASS lexicon-rpc-and-rest-one-token-sandbox"),
        "{stdout}"
    );
}

#[test]
fn the_workflow_example_runs_the_corpus_as_a_matrix_and_merges_the_reports() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ci/github-workflow.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    let workflow: yaml_serde::Value = yaml_serde::from_str(&text).unwrap();
    let jobs = &workflow["jobs"];
    let shares = jobs["scenarios"]["strategy"]["matrix"]["k"]
        .as_sequence()
        .expect("a matrix of shares")
        .iter()
        .map(|k| k.as_u64().unwrap())
        .collect::<Vec<_>>();
    let n = shares.len() as u64;
    assert!(
        n >= 2 && shares == (1..=n).collect::<Vec<_>>(),
        "{shares:?}"
    );
    let runs = |job: &str| -> Vec<String> {
        jobs[job]["steps"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(|s| s["run"].as_str().map(str::to_string))
            .collect()
    };
    assert!(
        runs("scenarios")
            .iter()
            .any(|r| r.contains(&format!("--partition ${{{{ matrix.k }}}}/{n}"))),
        "{:?}",
        runs("scenarios")
    );
    assert!(
        runs("report")
            .iter()
            .any(|r| r.contains("merge-reports") && r.contains("--junit") && r.contains("--html")),
        "{:?}",
        runs("report")
    );
    assert_eq!(jobs["report"]["needs"].as_str(), Some("scenarios"));
    assert!(runs("tests").iter().any(|r| r.contains("ci/setup --tests")));
}
