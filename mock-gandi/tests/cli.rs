//! `mock-gandi serve` as a user runs it: a real process, its ready line parsed, HTTP and DNS
//! spoken to it over sockets, SIGTERM and SIGINT stopping it, a bad seed refused with its line.

mod common;

use common::process::serve;
use common::wire::{http, txt_over_udp};
use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::process::Command;
use std::time::Duration;

use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};

const PAT: &str = "0123456789abcdef0123456789abcdef01234567";

fn seed_file() -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    write!(
        f,
        r#"
[[domain]]
fqdn = "stubber.chat"
[[domain.record]]
name = "www"
type = "A"
ttl = 300
values = ["192.0.2.10"]
[[credential]]
kind = "pat"
secret = "{PAT}"
"#
    )
    .unwrap();
    f
}

#[test]
fn serve_prints_one_ready_line_then_serves_http_and_dns_from_the_seed() {
    let seed = seed_file();
    let ca_dir = tempfile::tempdir().unwrap();
    let s = serve(&[
        "--seed",
        seed.path().to_str().unwrap(),
        "--ca-dir",
        ca_dir.path().to_str().unwrap(),
    ]);
    // The keys in the documented order.
    let keys: Vec<usize> = ["\"api\"", "\"dns\"", "\"proxy\"", "\"ca_cert\""]
        .iter()
        .map(|k| s.raw.find(k).expect(k))
        .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "{}", s.raw);
    let api = s.ready["api"].as_str().unwrap();
    let dns = s.ready["dns"].as_str().unwrap();
    let ca = s.ready["ca_cert"].as_str().unwrap();
    assert!(std::path::Path::new(ca).is_absolute());
    assert!(
        std::fs::read_to_string(ca)
            .unwrap()
            .contains("BEGIN CERTIFICATE")
    );
    assert!(ca.starts_with(ca_dir.path().to_str().unwrap()));

    let auth = format!("Bearer {PAT}");
    let (status, body) = http(
        api,
        "PUT",
        "/v5/livedns/domains/stubber.chat/records/_acme-challenge/TXT",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        r#"{"rrset_ttl":300,"rrset_values":["token-1"]}"#,
    );
    assert_eq!(
        (status, body.as_str()),
        (201, r#"{"message":"DNS Record Created"}"#)
    );
    assert_eq!(
        txt_over_udp(dns, "_acme-challenge.stubber.chat."),
        (ResponseCode::NoError, vec!["token-1".to_string()])
    );

    let (status, body) = http(api, "GET", "/_mock/requests", &[], "");
    assert_eq!(status, 200);
    let journal: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(journal[0]["method"], "PUT");
    assert_eq!(journal[0]["auth"], "pat");
    assert!(!body.contains(PAT), "the journal never shows a secret");

    // Reset goes back to the seed: the record written above is gone.
    assert_eq!(http(api, "POST", "/_mock/reset", &[], "").0, 204);
    assert_eq!(
        txt_over_udp(dns, "_acme-challenge.stubber.chat.").0,
        ResponseCode::NXDomain
    );
}

#[test]
fn sigterm_and_sigint_stop_serve_cleanly() {
    for signal in ["-TERM", "-INT"] {
        let mut s = serve(&[]);
        let status = Command::new("kill")
            .args([signal, &s.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let mut waited = 0;
        let exit = loop {
            if let Some(exit) = s.child.try_wait().unwrap() {
                break exit;
            }
            assert!(waited < 100, "serve did not stop on {signal}");
            std::thread::sleep(Duration::from_millis(50));
            waited += 1;
        };
        assert!(exit.success(), "{signal}: {exit}");
    }
}

#[test]
fn a_bad_seed_file_is_refused_with_its_name_line_and_key() {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    write!(f, "[[domain]]\nfqdn = \"stubber.chat\"\nzone = 1\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mock-gandi"))
        .args(["serve", "--seed", f.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "no ready line");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(f.path().to_str().unwrap()), "{err}");
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("zone"), "{err}");
}

#[test]
fn serve_with_https_and_ns_ip_adds_the_listener_to_the_ready_line_and_the_address_to_dns() {
    let s = serve(&["--https", "127.0.0.1:0", "--ns-ip", "192.0.2.53"]);
    let https = s.ready["https"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", s.raw));
    assert!(https.starts_with("127.0.0.1:"), "{https}");
    // Something listens there (the TLS side is tested in tests/proxy.rs).
    TcpStream::connect(https).unwrap();
    let dns = s.ready["dns"].as_str().unwrap();
    let mut q = Message::query();
    q.add_query(Query::query(
        Name::from_ascii("ns2.mock-gandi.test.").unwrap(),
        RecordType::A,
    ));
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    sock.send_to(&q.to_vec().unwrap(), dns).unwrap();
    let mut buf = [0u8; 512];
    let n = sock.recv(&mut buf).unwrap();
    let reply = Message::from_vec(&buf[..n]).unwrap();
    assert_eq!(
        reply.answers[0].data,
        RData::A("192.0.2.53".parse().unwrap())
    );
    // Without --https the key is absent, as before.
    let plain = serve(&[]);
    assert!(plain.ready.get("https").is_none(), "{}", plain.raw);
}

/// `mock-gandi health` (the container's HEALTHCHECK) exits 0 and prints the health document
/// when a mock answers, 1 with the reason when nothing does.
#[test]
fn health_exits_by_whether_a_mock_answers() {
    let seed = seed_file();
    let mock = serve(&["--seed", seed.path().to_str().unwrap()]);
    let api = mock.ready["api"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://");
    let out = Command::new(env!("CARGO_BIN_EXE_mock-gandi"))
        .args(["health", "--api", api])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let health: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["domains"], 1);
    assert_eq!(health["credentials"], 1);

    // A port nothing listens on: bound, then released.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = free.local_addr().unwrap().to_string();
    drop(free);
    let out = Command::new(env!("CARGO_BIN_EXE_mock-gandi"))
        .args(["health", "--api", &addr])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("nothing answers on {addr}")),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
