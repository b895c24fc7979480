//! Real client programs as scenarios run them: what every program gets (a clean environment,
//! the proxy, the CA bundle, its own `HOME`, the placeholders), that nothing it started
//! survives its timeout or a cancelled run, and that a missing program fails in one line.

use std::path::Path;
use std::time::{Duration, Instant};

use harness::CaKind;
use harness::issuance;
use harness::runner::run_scenario;
use harness::scenario::{Outcome, Scenario};

fn parse(text: &str) -> Scenario {
    Scenario::parse(Path::new("scenarios/test.toml"), text).unwrap()
}

async fn pebble() -> bool {
    harness::require::pebble(CaKind::Process).await
}

/// A command that records the pid of itself and of three descendants (one in the background,
/// one that left the process group with `setsid`, one that ignores SIGTERM), then waits.
fn lingering_command(pids: &Path, timeout_seconds: u64) -> String {
    format!(
        r#"description = "a command that starts processes and never ends"
timeout_seconds = {timeout_seconds}

[[gandi.domain]]
fqdn = "stubber.chat"

[client]
kind = "command"
domains = ["stubber.chat"]
env = {{ PIDS = "{pids}" }}
argv = ["sh", "-c", """
echo $$ >> "$PIDS"
sh -c 'echo $$ >> "$PIDS"; exec sleep 300' &
setsid sh -c 'echo $$ >> "$PIDS"; exec sleep 301' &
sh -c 'trap "" TERM; echo $$ >> "$PIDS"; sleep 302' &
sleep 303
"""]

[expect]
outcome = "success"
"#,
        pids = pids.display()
    )
}

fn alive(pid: u32) -> bool {
    // A killed orphan may stay a zombie until whatever adopted it reaps it: that is not alive.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(") ")
                .map(|(_, rest)| !rest.starts_with('Z'))
        })
        .unwrap_or(false)
}

fn recorded(pids: &Path) -> Vec<u32> {
    std::fs::read_to_string(pids)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_program_killed_by_its_timeout_leaves_no_process_behind() {
    if !pebble().await {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    let scenario = parse(&lingering_command(&pids, 2));
    let started = Instant::now();
    let outcome = issuance::run(&scenario.request, CaKind::Process)
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the timeout was not enforced: {:?}",
        started.elapsed()
    );
    let error = outcome.result.expect_err("a killed program has failed");
    assert!(
        error.contains("did not finish within 2s: killed with every process it started"),
        "{error}"
    );
    let started_pids = recorded(&pids);
    assert_eq!(started_pids.len(), 4, "the command started its processes");
    for pid in started_pids {
        assert!(!alive(pid), "process {pid} outlived its scenario");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_run_leaves_no_process_behind() {
    if !pebble().await {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    let scenario = parse(&lingering_command(&pids, 60));
    // Dropping the run (as Ctrl-C does to a running `harness run`) must stop the program.
    let run = issuance::run(&scenario.request, CaKind::Process);
    let cut = tokio::time::timeout(Duration::from_secs(20), async {
        tokio::pin!(run);
        loop {
            tokio::select! {
                _ = &mut run => panic!("the command ended by itself"),
                _ = tokio::time::sleep(Duration::from_millis(20)) => {
                    if recorded(&pids).len() == 4 {
                        break;
                    }
                }
            }
        }
    })
    .await;
    assert!(cut.is_ok(), "the command never started its processes");
    let started_pids = recorded(&pids);
    for pid in started_pids {
        assert!(!alive(pid), "process {pid} outlived the cancelled run");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_program_gets_a_clean_environment_the_proxy_the_bundle_and_the_placeholders() {
    if !pebble().await {
        return;
    }
    // Every check is the script's: it exits 1 with the name of the first one that fails.
    let scenario = parse(
        r#"description = "what a program gets"

[[gandi.domain]]
fqdn = "stubber.chat"

[client]
kind = "command"
domains = ["stubber.chat", "*.stubber.chat"]
env = { GIVEN = "dns={dns}", JSON = '{"a": {"b": 1}}' }
argv = ["sh", "-c", """
fail() { echo "FAILED: $1"; exit 1; }
[ "$HTTPS_PROXY" = "{proxy}" ] && [ "$https_proxy" = "{proxy}" ] || fail proxy
[ "$NO_PROXY" = "127.0.0.1,localhost" ] || fail no_proxy
for v in SSL_CERT_FILE REQUESTS_CA_BUNDLE CURL_CA_BUNDLE; do
  eval "[ \\"\\$$v\\" = '{ca_bundle}' ]" || fail "$v"
done
[ "$(grep -c 'BEGIN CERTIFICATE' '{ca_bundle}')" = 2 ] || fail bundle
[ -f '{acme_ca}' ] || fail acme_ca
[ "$HOME" = '{workdir}/home' ] && [ -d "$HOME" ] || fail home
[ "$(pwd)" = '{workdir}' ] || fail cwd
[ "{dns_host}:{dns_port}" = "{dns}" ] || fail dns
[ "$GIVEN" = "dns={dns}" ] || fail env_placeholder
[ "$JSON" = '{"a": {"b": 1}}' ] || fail json
[ "{domain}" = stubber.chat ] && [ "{domains}" = "stubber.chat,*.stubber.chat" ] || fail domains
[ "{{domain}}" = '{'domain'}' ] || fail literal
[ -z "$SECRET_OF_THE_CALLER" ] || fail leaked
case "{acme_directory}" in https://127.0.0.1:*/dir) ;; *) fail acme_directory ;; esac
curl -sS -o /dev/null -w '%{http_code}' '{api}/_mock/state' | grep -q 200 || fail api
curl -sS -o /dev/null '{acme_directory}' || fail acme_reachable
curl -sS -o /dev/null -w '%{http_code}' https://api.gandi.net/v5/livedns/domains | grep -q 401 || fail through_proxy
echo all good
"""]

[expect]
outcome = "success"
"#,
    );
    let report = run_scenario(&scenario, CaKind::Process).await;
    assert!(report.passed, "{:?}\n{}", report.failures, report.output);
    assert!(report.output.contains("all good"), "{}", report.output);
    assert_eq!(report.client, "command sh");
    // The request through the proxy is in the transcript with the host the client named.
    assert!(
        report
            .transcript
            .contains("GET /v5/livedns/domains -> 401 (auth: -, host: api.gandi.net)"),
        "{}",
        report.transcript
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_programs_output_is_in_the_order_it_wrote_it_on_both_streams() {
    if !pebble().await {
        return;
    }
    // Lines alternate between stdout and stderr, from a shell and from Python printing without
    // flushing (a pipe is block-buffered unless the harness says otherwise); read from two pipes
    // they would come in any order.
    let scenario = parse(
        r#"description = "two streams, one order"

[[gandi.domain]]
fqdn = "stubber.chat"

[client]
kind = "command"
domains = ["stubber.chat"]
argv = ["sh", "-c", """
i=0
while [ $i -lt 40 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done
exec python3 -c 'import sys
print("python out")
sys.stderr.write("python err\\n")
print("python out again")
sys.exit("python exits")'
"""]

[expect]
outcome = "failure"
"#,
    );
    let report = run_scenario(&scenario, CaKind::Process).await;
    let mut expected: Vec<String> = (0..40)
        .flat_map(|i| [format!("out {i}"), format!("err {i}")])
        .collect();
    expected.extend(
        [
            "python out",
            "python err",
            "python out again",
            "python exits",
        ]
        .map(String::from),
    );
    let lines: Vec<&str> = report.output.lines().collect();
    assert_eq!(lines, expected, "{}", report.output);
    assert!(report.passed, "{:?}", report.failures);
}

#[tokio::test]
async fn a_missing_program_fails_the_scenario_in_one_line_before_anything_starts() {
    let scenario = parse(
        r#"description = "lego that is not there"

[[gandi.domain]]
fqdn = "stubber.chat"

[client]
kind = "lego"
provider = "gandiv5"
binary = "/nonexistent/lego"
domains = ["stubber.chat"]

[expect]
outcome = "issued"
"#,
    );
    assert_eq!(scenario.expect.outcome, Outcome::Issued);
    // No Pebble is needed to say so: nothing starts.
    let report = run_scenario(&scenario, CaKind::Process).await;
    assert!(!report.passed);
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    let line = &report.failures[0];
    assert!(line.contains("lego is missing"), "{line}");
    assert!(line.contains("/nonexistent/lego"), "{line}");
    assert!(line.contains("ci/setup"), "{line}");
    assert!(!line.contains('\n'), "{line}");
}
