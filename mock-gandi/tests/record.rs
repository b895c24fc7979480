//! `mock-gandi record` as a user runs it, against a second mock standing in for Gandi (its own
//! seed and CA, reached through its transparent HTTPS listener, as `--upstream URL` allows):
//! real clients (curl for every credential header, dns-lexicon's Gandi provider for v4 keys
//! inside XML-RPC bodies) through the recorder's proxy and its HTTPS listener. The recording
//! replays clean with `mock-gandi replay`, and no secret reaches the recording or the recorder's
//! log (at trace level).

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use common::process::{ready_line, serve_with};

const PAT: &str = "23e501f7a1b2c3d4e5f60718293a4b5c6d7e960b";
const APIKEY: &str = "k3ylivedns0api0secret000";
const V4KEY: &str = "v4secretkey0000000abcdef";
/// The password inside a Basic credential.
const BASIC: &str = "basicpassword-s3cret";
const ORG: &str = "7f3c0d52-1e2f-4bb1-9f00-0a1b2c3d4e5f";

/// dns-lexicon's Gandi provider, as its users drive it from Python (the CLI would resolve the
/// zone through the system's DNS first).
const LEXICON: &str = r#"
import logging
logging.disable(logging.WARNING)
from lexicon.client import Client
from lexicon.config import ConfigResolver
config = ConfigResolver().with_env().with_dict(
    {"provider_name": "gandi", "domain": "stubber.chat", "gandi": {"api_protocol": "rest"}})
with Client(config) as ops:
    ops.create_record("TXT", "_acme-challenge", "lexicon-was-here")
    print("after create:", sorted(r["content"] for r in ops.list_records("TXT", "_acme-challenge")))
    ops.delete_record(rtype="TXT", name="_acme-challenge", content="lexicon-was-here")
"#;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_mock-gandi")
}

/// The upstream's seed: a LiveDNS domain with a record, a legacy domain with its zone, one
/// credential of each kind.
fn upstream_seed(dir: &Path) -> PathBuf {
    let path = dir.join("upstream.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[[domain]]
fqdn = "stubber.chat"
[[domain.record]]
name = "www"
type = "A"
ttl = 300
values = ["192.0.2.10"]

[[domain]]
fqdn = "legacy-zone.fr"
dns = "legacy"
[[domain.record]]
name = "mail"
type = "A"
ttl = 1800
values = ["192.0.2.25"]

[[credential]]
kind = "pat"
secret = "{PAT}"
[[credential]]
kind = "apikey"
secret = "{APIKEY}"
[[credential]]
kind = "v4-key"
secret = "{V4KEY}"
"#
        ),
    )
    .unwrap();
    path
}

struct Recording {
    child: Child,
    ready: serde_json::Value,
    log: PathBuf,
    out: PathBuf,
}

impl Recording {
    fn proxy(&self) -> String {
        self.ready["proxy"].as_str().unwrap().to_string()
    }
    fn https(&self) -> String {
        self.ready["https"].as_str().unwrap().to_string()
    }
    fn ca(&self) -> String {
        self.ready["ca_cert"].as_str().unwrap().to_string()
    }

    /// SIGTERM, then the recording and the log.
    fn stop(mut self) -> (String, String) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "record exited {status}");
        (
            std::fs::read_to_string(&self.out).unwrap(),
            std::fs::read_to_string(&self.log).unwrap(),
        )
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn record(dir: &Path, upstream: &str, upstream_ca: &str) -> Recording {
    let out = dir.join("recorded.jsonl");
    let log = dir.join("record.log");
    let mut child = Command::new(bin())
        .args([
            "record",
            "--upstream",
            upstream,
            "--upstream-ca",
            upstream_ca,
        ])
        .arg("--out")
        .arg(&out)
        .args(["--https", "127.0.0.1:0"])
        .env("MOCK_GANDI_LOG", "trace")
        // The recorder's own upstream leg: no proxy of the caller's.
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let (ready, _) = ready_line(&mut child);
    Recording {
        child,
        ready,
        log,
        out,
    }
}

fn ok(out: Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what}: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// curl through the recorder's proxy.
fn curl(rec: &Recording, args: &[&str]) -> String {
    let out = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "20",
            "--proxy",
            &rec.proxy(),
            "--cacert",
        ])
        .arg(rec.ca())
        .args(args)
        .output()
        .unwrap();
    ok(out, &format!("curl {args:?}"))
}

#[test]
fn a_recording_through_the_recorder_replays_clean_and_holds_no_secret() {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    if Command::new("curl").arg("--version").output().is_err() {
        mock_gandi::require::skip_or_fail("curl", "apt-get install -y curl");
        return;
    }
    if !venv.exists() {
        mock_gandi::require::skip_or_fail("dns-lexicon in .venv", "ci/setup");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ca_dir = dir.path().join("upstream-ca");
    let mut command = Command::new(bin());
    command.env_remove("MOCK_GANDI_LOG");
    let seed = upstream_seed(dir.path());
    let upstream = serve_with(
        command,
        &[
            "--seed",
            seed.to_str().unwrap(),
            "--https",
            "127.0.0.1:0",
            "--ca-dir",
            ca_dir.to_str().unwrap(),
        ],
    );
    let upstream_https = upstream.ready["https"].as_str().unwrap().to_string();
    let upstream_ca = upstream.ready["ca_cert"].as_str().unwrap().to_string();
    let rec = record(
        dir.path(),
        &format!("https://{upstream_https}"),
        &upstream_ca,
    );

    // LiveDNS on the current host with a PAT, then an API key; the old host with X-Api-Key.
    let bearer = format!("Authorization: Bearer {PAT}");
    let listed = curl(
        &rec,
        &[
            "-H",
            &bearer,
            "https://api.gandi.net/v5/livedns/domains/stubber.chat/records",
        ],
    );
    assert!(listed.contains("192.0.2.10"), "{listed}");
    let apikey = format!("Authorization: Apikey {APIKEY}");
    curl(
        &rec,
        &[
            "-X",
            "PUT",
            "-H",
            &apikey,
            "-H",
            "Content-Type: application/json",
            "--data",
            r#"{"rrset_ttl": 300, "rrset_values": ["\"token-1\""]}"#,
            "https://api.gandi.net/v5/livedns/domains/stubber.chat/records/_acme-challenge/TXT",
        ],
    );
    let x_api_key = format!("X-Api-Key: {APIKEY}");
    let old = curl(
        &rec,
        &[
            "-H",
            &x_api_key,
            "https://dns.api.gandi.net/api/v5/domains/stubber.chat/records/_acme-challenge/TXT",
        ],
    );
    assert!(old.contains("token-1"), "{old}");
    // A Basic credential Gandi does not take, and a sharing_id naming an organization.
    curl(
        &rec,
        &[
            "-u",
            &format!("someone:{BASIC}"),
            "https://api.gandi.net/v5/livedns/domains",
        ],
    );
    curl(
        &rec,
        &[
            "-H",
            &bearer,
            &format!("https://api.gandi.net/v5/livedns/domains?sharing_id={ORG}"),
        ],
    );
    // A client that ignores proxies, its resolver sending api.gandi.net to the HTTPS listener.
    let ignoring = Command::new("curl")
        .args(["-sS", "--max-time", "20", "--noproxy", "*", "--cacert"])
        .arg(rec.ca())
        .args([
            "--connect-to",
            &format!("api.gandi.net:443:{}", rec.https()),
            "-H",
            &bearer,
            "https://api.gandi.net/v5/livedns/domains/stubber.chat/records/_acme-challenge",
        ])
        .output()
        .unwrap();
    assert!(ok(ignoring, "curl --connect-to").contains("token-1"));
    // dns-lexicon's Gandi provider over LiveDNS (REST, the API key), through HTTPS_PROXY.
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    let out = Command::new(&python)
        .args(["-c", LEXICON])
        .env("LEXICON_GANDI_AUTH_TOKEN", APIKEY)
        .env("HTTPS_PROXY", rec.proxy())
        .env("REQUESTS_CA_BUNDLE", rec.ca())
        .output()
        .unwrap();
    let said = ok(out, "lexicon gandi rest");
    assert!(
        said.contains("after create: ['lexicon-was-here', 'token-1']"),
        "{said}"
    );
    // The v4 API (Python's xmlrpc.client ignores proxies, so curl speaks it): the key is the
    // first parameter of every call, and a wrong key is refused.
    let call = |method: &str, params: &[String]| {
        let params: String = params
            .iter()
            .map(|p| format!("<param><value>{p}</value></param>"))
            .collect();
        let body = format!(
            "<?xml version='1.0'?><methodCall><methodName>{method}</methodName><params>{params}</params></methodCall>"
        );
        curl(
            &rec,
            &[
                "-H",
                "Content-Type: text/xml",
                "--data-binary",
                &body,
                "https://rpc.gandi.net/xmlrpc/",
            ],
        )
    };
    let key = format!("<string>{V4KEY}</string>");
    let info = call(
        "domain.info",
        &[key.clone(), "<string>legacy-zone.fr</string>".into()],
    );
    let zone = info
        .split("<name>zone_id</name>")
        .nth(1)
        .and_then(|rest| rest.split("<int>").nth(1))
        .and_then(|rest| rest.split("</int>").next())
        .unwrap_or_else(|| panic!("no zone_id in {info}"))
        .to_string();
    let listed = call(
        "domain.zone.record.list",
        &[key, format!("<int>{zone}</int>"), "<int>0</int>".into()],
    );
    assert!(listed.contains("192.0.2.25"), "{listed}");
    let wrong = format!("{V4KEY}-wrong");
    let refused = call(
        "domain.info",
        &[
            format!("<string>{wrong}</string>"),
            "<string>legacy-zone.fr</string>".into(),
        ],
    );
    assert!(refused.contains("faultCode"), "{refused}");
    // A path on the wrong host (the v4 API asked of api.gandi.net): what Gandi answers there is
    // Gandi's to say, so it is forwarded and recorded, not answered by the recorder.
    let out = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "20",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
        ])
        .args(["--proxy", &rec.proxy(), "--cacert"])
        .arg(rec.ca())
        .args([
            "-H",
            "Content-Type: text/xml",
            "--data-binary",
            "<methodCall/>",
        ])
        .arg("https://api.gandi.net/xmlrpc/")
        .output()
        .unwrap();
    assert_eq!(ok(out, "curl to the wrong host"), "404");

    let (recording, log) = rec.stop();
    assert!(
        recording.contains("\"url\":\"https://api.gandi.net/xmlrpc/\""),
        "the wrong host's exchange is not recorded:\n{recording}"
    );
    let basic64 = "c29tZW9uZTpiYXNpY3Bhc3N3b3JkLXMzY3JldA==";
    for secret in [PAT, APIKEY, V4KEY, wrong.as_str(), BASIC, basic64] {
        assert!(
            !recording.contains(secret),
            "{secret} in the recording:\n{recording}"
        );
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
    }
    assert!(!recording.contains(ORG), "{recording}");
    for placeholder in [
        "Bearer recordedpat",
        "Apikey recordedapikey",
        "\"x-api-key\":\"recordedapikey",
        "Basic recordedsecret",
        "<string>recordedvfourkey",
        // The wrong key, quoted by the fault, has a placeholder of its own and of its length.
        "[string 'recordedvfourkey00000000000002' does not match",
        "sharing_id=00000000-0000-4000-8000-000000000001",
    ] {
        assert!(
            recording.contains(placeholder),
            "no {placeholder} in\n{recording}"
        );
    }
    // The same API key has one placeholder in both headers.
    assert!(
        !recording.contains("recordedapikey0000000002"),
        "{recording}"
    );
    let exchanges = recording
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .count();
    assert!(exchanges >= 9, "{exchanges} exchanges:\n{recording}");
    assert!(log.contains("record: PUT https://api.gandi.net/v5/livedns/domains/stubber.chat/records/_acme-challenge/TXT -> 201"), "{log}");

    let mut file = std::fs::File::create(dir.path().join("copy.jsonl")).unwrap();
    file.write_all(recording.as_bytes()).unwrap();
    let replay = Command::new(bin())
        .arg("replay")
        .arg(dir.path().join("copy.jsonl"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&replay.stdout);
    assert!(
        replay.status.success(),
        "{report}{}\n{recording}",
        String::from_utf8_lossy(&replay.stderr)
    );
    assert!(
        report.contains(&format!("{exchanges} same, 0 different")),
        "{report}"
    );
}

#[test]
fn a_bad_upstream_is_refused_before_listening() {
    let out = Command::new(bin())
        .args(["record", "--upstream", "ftp://x:1", "--out", "/dev/null"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("only http:// and https:// upstreams"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
