//! Long runs against `mock-gandi serve` as a process, over real sockets, stopping by
//! themselves:
//!
//! - the soak replays the LiveDNS reference model (`common/model.rs`): random writes, valid
//!   and not, each status the one the model predicts, the listing and DNS over UDP equal to the
//!   model. It opens a new connection every [`REQUESTS_PER_CONNECTION`] requests, and samples
//!   resident memory and open descriptors at every connection cycle: after a warm-up the
//!   descriptors must never exceed the warm-up's (a descriptor kept per connection shows at
//!   once) and memory must stay flat (a leak per connection shows as growth over hundreds of
//!   cycles). `SOAK_SECS` (default 60) sets its length: `SOAK_SECS=3600 cargo test -p
//!   mock-gandi --release --test soak -- --nocapture` is the hour-long one.
//! - the load test runs 64 clients at once (`LOAD_CLIENTS`) for `LOAD_SECS` (default 15),
//!   each writing its own rrset through LiveDNS and reading it back, asking DNS for it, and
//!   calling the v4 API: no update lost, no unexpected status; memory and descriptors are
//!   sampled before and after and must come back within bounds once the clients are gone; the
//!   throughput must stay above a floor far below what this machine measures (see
//!   [`LOAD_FLOOR_PER_SECOND`]); throughput and p50/p99 latency are printed.

mod common;

use std::time::{Duration, Instant};

use common::model::{Model, dns_over_udp, listing_as_model, op_strategy, request, sorted, step};
use common::process::{Serve, rss_and_fds};
use common::wire::{KeepAlive, txt_over_udp};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

const PAT: &str = "0123456789abcdef0123456789abcdef01234567";
const V4_KEY: &str = "0123456789abcdefghijklmn";

fn serve() -> Serve {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.toml");
    std::fs::write(
        &seed,
        format!(
            "{}\n[[domain]]\nfqdn = \"stubber.chat\"\n[[domain]]\nfqdn = \"legacy.example\"\ndns = \"legacy\"\n[[credential]]\nkind = \"v4-key\"\nsecret = \"{V4_KEY}\"\n",
            common::model::SEED
        ),
    )
    .unwrap();
    // A small journal, so that it is full early and its bound is part of what stays flat.
    common::process::serve(&[
        "--seed",
        seed.to_str().unwrap(),
        "--journal-entries",
        "2000",
    ])
}

fn seconds(var: &str, default: u64) -> Duration {
    Duration::from_secs(
        std::env::var(var)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default),
    )
}

/// A new connection every this many requests: hundreds of connection cycles in a minute.
const REQUESTS_PER_CONNECTION: u64 = 50;

#[test]
fn soak_the_reference_model_with_flat_memory_and_descriptors() {
    let length = seconds("SOAK_SECS", 60);
    let mock = serve();
    let pid = mock.pid();
    let auth = format!("Bearer {PAT}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let dns = mock.dns().parse().unwrap();
    let mut client = KeepAlive::new(&mock.api());
    // The same sequence every run: a fixed generator seed.
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let ops = op_strategy();
    let mut model = Model::new();
    let started = Instant::now();
    // One sample per connection cycle: (time, resident KiB, descriptors).
    let mut samples: Vec<(Duration, u64, usize)> =
        vec![(Duration::ZERO, rss_and_fds(pid).0, rss_and_fds(pid).1)];
    let (mut writes, mut checks, mut requests) = (0u64, 0u64, 0u64);
    while started.elapsed() < length {
        let op = ops.new_tree(&mut runner).unwrap().current();
        let expected = step(&mut model, &op);
        let (method, path, body) = request(&op);
        let (status, answer) = client.send(method, &format!("/v5/livedns{path}"), &headers, &body);
        assert_eq!(status, expected, "write {writes} {op:?}: {answer}");
        writes += 1;
        let (status, listing) = client.send(
            "GET",
            &format!("/v5/livedns/domains/{}/records", common::model::ZONE),
            &headers,
            "",
        );
        assert_eq!(status, 200);
        assert_eq!(
            listing_as_model(&serde_json::from_str(&listing).unwrap()),
            model,
            "listing after write {writes}"
        );
        requests += 2;
        if writes.is_multiple_of(20) {
            assert_eq!(
                sorted(&dns_over_udp(dns)),
                sorted(&model),
                "DNS after write {writes}"
            );
            checks += 1;
        }
        if requests.is_multiple_of(REQUESTS_PER_CONNECTION) {
            // The old connection closed, a new one open: sampled with one connection again.
            client = KeepAlive::new(&mock.api());
            let (rss, fds) = rss_and_fds(pid);
            samples.push((started.elapsed(), rss, fds));
        }
    }
    let cycles = samples.len() - 1;
    let warm_index = cycles / 5;
    let warm = samples[warm_index];
    let end = samples[samples.len() - 1];
    let peak = samples.iter().map(|s| s.1).max().unwrap();
    let most_fds = samples[warm_index..].iter().map(|s| s.2).max().unwrap();
    let after_warm = (cycles - warm_index).max(1) as u64;
    let per_cycle = end.1.saturating_sub(warm.1) * 1024 / after_warm;
    eprintln!(
        "soak: {writes} writes ({} per second), {checks} DNS comparisons, {cycles} connection \
         cycles in {:?}; resident KiB / descriptors: start {} / {}, after warm-up {} / {}, end \
         {} / {}, peak {peak} KiB, most descriptors after warm-up {most_fds}; growth per cycle \
         after warm-up {per_cycle} bytes",
        writes / started.elapsed().as_secs().max(1),
        started.elapsed(),
        samples[0].1,
        samples[0].2,
        warm.1,
        warm.2,
        end.1,
        end.2,
    );
    // Enough cycles for a leak per connection to add up (a minute gives hundreds).
    assert!(
        cycles >= 50,
        "only {cycles} connection cycles: too few to show a leak"
    );
    // Each sample is taken with one connection open, the one before just closed: one more
    // descriptor while the server notices, never one more per cycle.
    assert!(
        most_fds <= warm.2 + 2,
        "descriptors grew with the connections: {} after warm-up, {most_fds} later ({:?})",
        warm.2,
        samples[warm_index..]
            .iter()
            .map(|s| s.2)
            .collect::<Vec<_>>()
    );
    // A leak per connection of 4 KiB over the run's cycles after warm-up (hundreds) would
    // pass neither bound; the allocator's own noise stays under both.
    assert!(
        end.1 <= warm.1 + 4 * 1024,
        "memory grew after the warm-up: {} KiB -> {} KiB over {after_warm} connection cycles",
        warm.1,
        end.1
    );
    assert!(
        per_cycle < 4096 || end.1 <= warm.1 + 1024,
        "memory grew {per_cycle} bytes per connection cycle after the warm-up ({} KiB -> {} KiB)",
        warm.1,
        end.1
    );
}

/// The load test's throughput floor, in requests per second over all clients. Measured on
/// this project's 2-core machine while other builds ran: 7,898 per second (debug build, 64
/// clients); 1,000 is nearly 8x below that, so load on the machine does not fail the test,
/// yet a request path serialized on anything that takes a millisecond (a lock held across a
/// sleep, a blocking write or lookup on a runtime thread) falls under it.
const LOAD_FLOOR_PER_SECOND: f64 = 1000.0;

/// What the mock may keep after the load (KiB): the journal filled to its bound (2,000
/// entries), 64 rrsets and the allocator's high-water mark. Measured: 3.6 to 5.4 MB more;
/// 16 MiB is 3x that. Connections' buffers kept past their close would exceed it.
const LOAD_MEMORY_BOUND_KIB: u64 = 16 * 1024;

/// One request of each kind the load test sends, on a connection then closed.
fn warm_up(mock: &Serve) {
    let auth = format!("Bearer {PAT}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let path = "/v5/livedns/domains/stubber.chat/records/warm-up/TXT";
    let mut client = KeepAlive::new(&mock.api());
    let body = r#"{"rrset_values": ["w"], "rrset_ttl": 300}"#;
    assert_eq!(client.send("PUT", path, &headers, body).0, 201);
    assert_eq!(client.send("GET", path, &headers, "").0, 200);
    let info = v4_info();
    let xml = [("content-type", "text/xml")];
    assert_eq!(client.send("POST", "/xmlrpc/", &xml, &info).0, 200);
    drop(client);
    txt_over_udp(&mock.dns(), "warm-up.stubber.chat.");
    std::thread::sleep(Duration::from_millis(200));
}

/// A v4 `domain.info` call for the legacy domain.
fn v4_info() -> String {
    format!(
        "<?xml version='1.0'?>\n<methodCall>\n<methodName>domain.info</methodName>\n<params>\n<param>\n<value><string>{V4_KEY}</string></value>\n</param>\n<param>\n<value><string>legacy.example</string></value>\n</param>\n</params>\n</methodCall>\n"
    )
}

#[test]
fn load_many_clients_lose_no_update_and_get_no_unexpected_status() {
    let length = seconds("LOAD_SECS", 15);
    let clients: usize = std::env::var("LOAD_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let mock = serve();
    let pid = mock.pid();
    // "Before" is after one request of each kind on a connection since closed: the server's
    // lazily made parts (runtime threads, sockets) are counted in both samples.
    warm_up(&mock);
    let before = rss_and_fds(pid);
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|i| {
            let (api, dns) = (mock.api(), mock.dns());
            std::thread::spawn(move || {
                let auth = format!("Bearer {PAT}");
                let headers = [
                    ("authorization", auth.as_str()),
                    ("content-type", "application/json"),
                ];
                let path = format!("/v5/livedns/domains/stubber.chat/records/load-{i}/TXT");
                let info = v4_info();
                let mut client = KeepAlive::new(&api);
                let mut latencies: Vec<(&'static str, Duration)> = Vec::new();
                let mut n = 0u64;
                while started.elapsed() < length {
                    n += 1;
                    let value = format!("v{n}");
                    let t = Instant::now();
                    let (status, body) = client.send(
                        "PUT",
                        &path,
                        &headers,
                        &format!(r#"{{"rrset_values": ["{value}"], "rrset_ttl": 300}}"#),
                    );
                    latencies.push(("livedns PUT", t.elapsed()));
                    assert_eq!(status, 201, "client {i}: {body}");
                    let t = Instant::now();
                    let (status, body) = client.send("GET", &path, &headers, "");
                    latencies.push(("livedns GET", t.elapsed()));
                    assert_eq!(status, 200, "client {i}: {body}");
                    let read: serde_json::Value = serde_json::from_str(&body).unwrap();
                    assert_eq!(
                        read["rrset_values"],
                        serde_json::json!([format!("\"{value}\"")]),
                        "client {i} lost its update {n}"
                    );
                    let t = Instant::now();
                    let (rcode, texts) = txt_over_udp(&dns, &format!("load-{i}.stubber.chat."));
                    latencies.push(("dns TXT", t.elapsed()));
                    assert_eq!(
                        (rcode, texts),
                        (
                            hickory_proto::op::ResponseCode::NoError,
                            vec![value.clone()]
                        ),
                        "client {i}: DNS after update {n}"
                    );
                    if n.is_multiple_of(4) {
                        let t = Instant::now();
                        let (status, body) =
                            client.send("POST", "/xmlrpc/", &[("content-type", "text/xml")], &info);
                        latencies.push(("v4 domain.info", t.elapsed()));
                        assert_eq!(status, 200);
                        assert!(!body.contains("<fault>"), "client {i}: {body}");
                    }
                }
                latencies
            })
        })
        .collect();
    let mut all: Vec<(&'static str, Duration)> = Vec::new();
    for w in workers {
        all.extend(w.join().expect("a client failed"));
    }
    let elapsed = started.elapsed();
    let mut report = format!(
        "load: {clients} clients, {} requests in {elapsed:.1?} ({:.0} per second)",
        all.len(),
        all.len() as f64 / elapsed.as_secs_f64()
    );
    for kind in [
        "livedns PUT",
        "livedns GET",
        "dns TXT",
        "v4 domain.info",
        "all",
    ] {
        let mut l: Vec<Duration> = all
            .iter()
            .filter(|(k, _)| kind == "all" || *k == kind)
            .map(|(_, d)| *d)
            .collect();
        l.sort();
        if l.is_empty() {
            continue;
        }
        let p = |q: f64| l[((l.len() - 1) as f64 * q) as usize];
        report.push_str(&format!(
            "\n  {kind}: {} requests, p50 {:.2?}, p99 {:.2?}, max {:.2?}",
            l.len(),
            p(0.5),
            p(0.99),
            l[l.len() - 1]
        ));
    }
    // The clients are gone: their connections close as the server notices.
    let settle = Instant::now();
    let mut after = rss_and_fds(pid);
    while after.1 > before.1 + 2 && settle.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
        after = rss_and_fds(pid);
    }
    let per_second = all.len() as f64 / elapsed.as_secs_f64();
    report.push_str(&format!(
        "\n  resident KiB / descriptors: before {} / {}, after {} / {}",
        before.0, before.1, after.0, after.1
    ));
    eprintln!("{report}");
    assert!(
        after.1 <= before.1 + 2,
        "descriptors held after the clients left: {report}"
    );
    assert!(
        after.0 <= before.0 + LOAD_MEMORY_BOUND_KIB,
        "memory held after the clients left: {report}"
    );
    assert!(
        per_second >= LOAD_FLOOR_PER_SECOND,
        "throughput under the floor of {LOAD_FLOOR_PER_SECOND} requests per second: {report}"
    );
}
