//! A real client recorded, and the recording made a scenario: lego 4.9.1's gandiv5 provider
//! issues through Pebble with its Gandi calls going through `mock-gandi record`, whose upstream
//! is a second mock (its own seed, CA and secret: the recording is that mock's state, not the
//! recorder's). The recording holds no secret (nor does the recorder's log), replays clean,
//! and `harness scaffold` makes from it scenarios that `harness check` accepts and that pass
//! offline with the same calls: one with lego, one with curl sending the recorded requests.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use harness::{CaKind, CaOptions, start_ca};
use mock_gandi::MockGandi;
use mock_gandi::record::{RecordOptions, Recorder, Upstream};
use mock_gandi::replay::{Accepted, load, replay_file};

/// The upstream's LiveDNS API key (the "real" account's secret).
const KEY: &str = "upstreamkey0123456789xyz";

#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn harness(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .env_remove("HTTPS_PROXY")
        .output()
        .unwrap()
}

fn said(out: &std::process::Output) -> String {
    format!(
        "{}\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Scaffolds `recording` with `flags` into `dir/NAME.toml`; checks it and runs it.
fn scaffold_check_run(recording: &Path, dir: &Path, name: &str, flags: &[&str]) -> String {
    let mut args = vec!["scaffold", recording.to_str().unwrap()];
    args.extend(flags);
    let out = harness(&args);
    assert!(out.status.success(), "scaffold: {}", said(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let file: PathBuf = dir.join(format!("{name}.toml"));
    std::fs::write(&file, &text).unwrap();
    let check = harness(&["check", file.to_str().unwrap()]);
    assert!(check.status.success(), "check: {}\n{text}", said(&check));
    let run = harness(&["run", "--ca", "process", file.to_str().unwrap()]);
    assert!(run.status.success(), "run: {}\n{text}", said(&run));
    text
}

/// A second mock standing in for Gandi (`seed`, its own CA, its transparent HTTPS listener) and
/// a recorder in front of it writing `dir/NAME`.
async fn upstream_and_recorder(
    dir: &Path,
    seed: &str,
    name: &str,
) -> (MockGandi, Recorder, PathBuf) {
    let upstream = MockGandi::builder()
        .seed_text(seed)
        .unwrap()
        .https_addr("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let out = dir.join(name);
    let recorder = Recorder::start(RecordOptions {
        upstream: Upstream::Url {
            scheme: "https".into(),
            authority: upstream.https_addr().unwrap().to_string(),
        },
        out: out.clone(),
        proxy: "127.0.0.1:0".parse().unwrap(),
        https: None,
        ca_dir: Some(dir.join("recorder-ca")),
        upstream_roots: vec![upstream.ca_cert_path().to_path_buf()],
    })
    .await
    .unwrap();
    (upstream, recorder, out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lego_recorded_through_the_recorder_replays_and_scaffolds_a_scenario_that_passes() {
    if !harness::require::pebble(CaKind::Process).await {
        return;
    }
    let lego = Path::new("/usr/bin/lego");
    if !lego.exists() {
        harness::require::skip_or_fail("lego", "apt-get install -y lego");
        return;
    }
    let log = Log::default();
    let writer = log.clone();
    tracing_subscriber::fmt()
        .with_env_filter("trace")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();
    let dir = tempfile::tempdir().unwrap();
    let (upstream, recorder, out) = upstream_and_recorder(
        dir.path(),
        &format!(
            "[[domain]]\nfqdn = \"stubber.chat\"\n[[domain.record]]\nname = \"www\"\ntype = \"A\"\nvalues = [\"192.0.2.10\"]\n[[credential]]\nkind = \"apikey\"\nsecret = \"{KEY}\"\n"
        ),
        "lego.jsonl",
    )
    .await;
    let pebble = start_ca(CaKind::Process, &CaOptions::new(upstream.dns_addr()))
        .await
        .unwrap();
    // Go's TLS roots: the recorder's CA (Gandi's names) and Pebble's (its directory).
    let bundle = dir.path().join("bundle.pem");
    let mut pem = std::fs::read_to_string(pebble.ca_bundle_path()).unwrap();
    pem.push('\n');
    pem.push_str(&std::fs::read_to_string(recorder.ca_cert_path()).unwrap());
    std::fs::write(&bundle, pem).unwrap();
    let mut command = Command::new(lego);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .env("GANDIV5_API_KEY", KEY)
        .env("GANDIV5_POLLING_INTERVAL", "0")
        .env("LEGO_CA_CERTIFICATES", pebble.ca_bundle_path())
        .env("SSL_CERT_FILE", &bundle)
        .env("HTTPS_PROXY", recorder.proxy_url())
        .env("NO_PROXY", "127.0.0.1,localhost")
        .args(["--server", pebble.directory_url(), "--accept-tos"])
        .args(["--email", "gandi-e2e@example.com", "--path"])
        .arg(dir.path().join("lego"))
        .args(["--dns", "gandiv5", "--dns.resolvers"])
        .arg(upstream.dns_addr().to_string())
        .args(["--dns.disable-cp", "--domains", "stubber.chat", "run"]);
    let lego_out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    pebble.stop().await;
    recorder.stop().await;
    assert!(lego_out.status.success(), "lego: {}", said(&lego_out));
    assert!(
        dir.path()
            .join("lego/certificates/stubber.chat.crt")
            .exists()
    );

    let recording = std::fs::read_to_string(&out).unwrap();
    let logged = String::from_utf8_lossy(&log.0.lock().unwrap()).into_owned();
    assert!(!recording.contains(KEY), "{recording}");
    assert!(!logged.contains(KEY), "the key is in the log");
    assert!(logged.contains("record: PUT https://dns.api.gandi.net/api/v5/domains/stubber.chat/records/_acme-challenge/TXT -> 201"), "{logged}");
    let exchanges = load(&out).unwrap();
    let calls: Vec<String> = exchanges.iter().map(harness::scaffold::call_line).collect();
    assert_eq!(
        calls,
        [
            "GET /api/v5/domains/stubber.chat/records/_acme-challenge/TXT -> 404",
            "PUT /api/v5/domains/stubber.chat/records/_acme-challenge/TXT -> 201",
            "DELETE /api/v5/domains/stubber.chat/records/_acme-challenge/TXT -> 204",
        ],
        "{recording}"
    );
    let replayed = replay_file(&out, &Accepted::builtin()).await.unwrap();
    assert_eq!(replayed.different(), 0, "{}", replayed.render());
    assert_eq!(replayed.same(), 3);

    // Scaffolded twice: with lego as the client, and with curl sending the recorded requests.
    let scenarios = dir.path().join("scenarios");
    std::fs::create_dir(&scenarios).unwrap();
    let with_lego = scaffold_check_run(
        &out,
        &scenarios,
        "lego-recorded",
        &[
            "--client",
            "lego",
            "--provider",
            "gandiv5",
            "--env",
            "GANDIV5_API_KEY={apikey}",
        ],
    );
    let with_curl = scaffold_check_run(&out, &scenarios, "curl-recorded", &[]);
    for text in [&with_lego, &with_curl] {
        assert!(!text.contains(KEY), "{text}");
        for call in &calls {
            assert!(
                text.contains(&format!("\"{call}\"")),
                "{call} not in\n{text}"
            );
        }
    }
    assert!(with_lego.contains("outcome = \"issued\""), "{with_lego}");
    assert!(with_curl.contains("kind = \"command\""), "{with_curl}");
}

/// A recording whose upstream answered an error (lego#2473's v4 fault, the credential refused
/// by pattern): the curl scenario sends the recorded credential again, expects the fault's call
/// line and its text, and passes offline.
#[tokio::test]
async fn a_recorded_error_becomes_the_failure_text_of_the_scaffolded_scenario() {
    if !harness::require::pebble(CaKind::Process).await {
        return;
    }
    let recording =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../recorded/bug-reports/lego-2473.jsonl");
    let dir = tempfile::tempdir().unwrap();
    let text = scaffold_check_run(&recording, dir.path(), "lego-2473", &[]);
    assert!(text.contains("outcome = \"failure\""), "{text}");
    assert!(text.contains("\"domain.info -> fault 500037\""), "{text}");
    assert!(text.contains("does not match '^[a-z0-9]{24}$'"), "{text}");
    assert!(
        text.contains("[[gandi.domain]]\ndns = \"legacy\"\nfqdn = \"stubber.chat\""),
        "{text}"
    );
}

/// A v4 zone edit recorded from an account whose zone ids are not the ones the offline mock
/// gives (two other legacy domains come first upstream): the scaffolded curl script reads the
/// zone id and the new version's number from the mock's answers and sends those, so the
/// scenario passes offline with the recorded calls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scaffolded_v4_script_sends_the_ids_the_mock_gave_not_the_recorded_ones() {
    use mock_gandi::xmlrpc::{MethodResponse, Value, encode_method_call, parse_method_response};
    if !harness::require::pebble(CaKind::Process).await {
        return;
    }
    const V4: &str = "upstreamv4key0123456789a";
    let dir = tempfile::tempdir().unwrap();
    let (_upstream, recorder, out) = upstream_and_recorder(
        dir.path(),
        &format!(
            "[[domain]]\nfqdn = \"first.fr\"\ndns = \"legacy\"\n\
             [[domain]]\nfqdn = \"second.fr\"\ndns = \"legacy\"\n\
             [[domain]]\nfqdn = \"stubber.chat\"\ndns = \"legacy\"\n\
             [[credential]]\nkind = \"v4-key\"\nsecret = \"{V4}\"\n"
        ),
        "v4.jsonl",
    )
    .await;
    // The client: curl through the recorder, each call built from the last answer.
    let (proxy, ca) = (recorder.proxy_url(), recorder.ca_cert_path().to_path_buf());
    let call = move |method: &str, params: Vec<Value>| {
        let body = encode_method_call(method, &params);
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "20", "--proxy", &proxy, "--cacert"])
            .arg(&ca)
            .args(["-H", "Content-Type: text/xml", "--data-binary", &body])
            .arg("https://rpc.gandi.net/xmlrpc/")
            .output()
            .unwrap();
        match parse_method_response(&out.stdout) {
            Ok(MethodResponse::Success(v)) => v,
            other => panic!("{method}: {other:?}"),
        }
    };
    let key = || Value::string(V4);
    let (zone, version) = tokio::task::spawn_blocking(move || {
        let info = call("domain.info", vec![key(), Value::string("stubber.chat")]);
        let Some(Value::Int(zone)) = info.member("zone_id").cloned() else {
            panic!("{info:?}")
        };
        let Value::Int(version) = call("domain.zone.version.new", vec![key(), Value::Int(zone)])
        else {
            panic!("no version")
        };
        let record = Value::Struct(vec![
            ("name".into(), Value::string("_acme-challenge")),
            ("type".into(), Value::string("TXT")),
            ("value".into(), Value::string("\"token-v4\"")),
            ("ttl".into(), Value::Int(300)),
        ]);
        call(
            "domain.zone.record.add",
            vec![key(), Value::Int(zone), Value::Int(version), record],
        );
        call(
            "domain.zone.version.set",
            vec![key(), Value::Int(zone), Value::Int(version)],
        );
        (zone, version)
    })
    .await
    .unwrap();
    recorder.stop().await;
    // Upstream, the domain's zone is the third one made.
    assert_eq!(zone, 1_000_002);
    assert_eq!(version, 2);

    let text = scaffold_check_run(&out, dir.path(), "v4-ids", &[]);
    assert!(text.contains(&format!("ID_{zone}=$(")), "{text}");
    assert!(
        text.contains(&format!("<int>${{ID_{zone}:-{zone}}}</int>")),
        "{text}"
    );
    assert!(
        text.contains(&format!("<int>${{ID_{version}:-{version}}}</int>")),
        "{text}"
    );
    for line in [
        "domain.info -> ok",
        "domain.zone.version.new -> ok",
        "domain.zone.record.add -> ok",
        "domain.zone.version.set -> ok",
    ] {
        assert!(
            text.contains(&format!("\"{line}\"")),
            "{line} not in\n{text}"
        );
    }
    assert!(!text.contains(V4), "{text}");
}

/// certbot with certbot-dns-gandi and a personal access token, run by the harness's own certbot
/// client pointed at the recorder instead of a mock (the same proxy variables, CA bundle and
/// flags as in a scenario), issues through Pebble; the recording holds no token, replays clean,
/// and `harness scaffold --client certbot` (authenticator and credentials by default) makes a
/// scenario that passes offline with the same calls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certbot_recorded_through_the_recorder_scaffolds_a_certbot_scenario_that_passes() {
    use harness::client::ClientContext;
    use harness::sandbox::Network;
    if !harness::require::pebble(CaKind::Process).await {
        return;
    }
    const PAT: &str = "5b1e0c3f9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f";
    let scenario = harness::scenario::Scenario::parse(
        Path::new("scenarios/certbot-recorded.toml"),
        &format!(
            "description = \"certbot through the recorder\"\n[[gandi.domain]]\nfqdn = \"stubber.chat\"\n\
             [client]\nkind = \"certbot\"\nauthenticator = \"dns-gandi\"\ndomains = [\"stubber.chat\"]\n\
             credentials = {{ token = \"{PAT}\" }}\n[expect]\noutcome = \"issued\"\n"
        ),
    )
    .unwrap();
    if let Err(e) = scenario.request.client.check_program().await {
        harness::require::skip_or_fail("certbot with certbot-dns-gandi", &e);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (upstream, recorder, out) = upstream_and_recorder(
        dir.path(),
        &format!(
            "[[domain]]\nfqdn = \"stubber.chat\"\n[[credential]]\nkind = \"pat\"\nsecret = \"{PAT}\"\n"
        ),
        "certbot.jsonl",
    )
    .await;
    let pebble = start_ca(CaKind::Process, &CaOptions::new(upstream.dns_addr()))
        .await
        .unwrap();
    let workdir = dir.path().join("work");
    std::fs::create_dir(&workdir).unwrap();
    let proxy = recorder.proxy_url();
    let ctx = ClientContext {
        domains: &scenario.request.domains,
        env: &scenario.request.env,
        timeout: std::time::Duration::from_secs(60),
        acme_directory: pebble.directory_url(),
        acme_ca: pebble.ca_bundle_path(),
        mock_api: "http://127.0.0.1:9",
        mock_dns: upstream.dns_addr(),
        mock_proxy: &proxy,
        mock_ca: recorder.ca_cert_path(),
        workdir: &workdir,
        network: Network::Proxy,
    };
    let run = scenario.request.client.run(&ctx).await;
    pebble.stop().await;
    recorder.stop().await;
    assert!(
        run.result.is_ok(),
        "certbot: {:?}\n{}",
        run.result,
        run.output
    );
    assert!(run.certificate.is_ok(), "{:?}", run.certificate);

    let recording = std::fs::read_to_string(&out).unwrap();
    assert!(!recording.contains(PAT), "{recording}");
    let exchanges = load(&out).unwrap();
    let calls: Vec<String> = exchanges.iter().map(harness::scaffold::call_line).collect();
    assert!(
        calls.contains(
            &"PUT /v5/livedns/domains/stubber.chat/records/_acme-challenge/TXT -> 201".to_string()
        ),
        "{calls:?}"
    );
    let replayed = replay_file(&out, &Accepted::builtin()).await.unwrap();
    assert_eq!(replayed.different(), 0, "{}", replayed.render());

    let text = scaffold_check_run(
        &out,
        dir.path(),
        "certbot-recorded",
        &["--client", "certbot"],
    );
    assert!(text.contains("authenticator = \"dns-gandi\""), "{text}");
    assert!(text.contains("[client.credentials]\ntoken = \""), "{text}");
    assert!(text.contains("outcome = \"issued\""), "{text}");
    for call in &calls {
        assert!(
            text.contains(&format!("\"{call}\"")),
            "{call} not in\n{text}"
        );
    }
    assert!(!text.contains(PAT), "{text}");
}
