//! A connection storm against `mock-gandi serve` as a process: thousands of half-open
//! connections on the API, the proxy and DNS over TCP at once. The mock holds no more than its
//! limit of them, its memory stays bounded while they last, and once they are gone it answers
//! normally and its memory comes back down. Figures are printed (`--nocapture`).
//!
//! Run twice: as the container image runs it (`GLIBC_TUNABLES=glibc.malloc.mmap_threshold=4096`:
//! connection buffers are mapped, and returned to the system when freed, so memory comes back
//! to its idle level) and with glibc's defaults (memory stays near its high-water mark, which
//! the connection limit bounds).
//!
//! `STORM_CONNECTIONS` (default 1000 per listener) sets the size.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use common::process::{rss_and_fds, serve_with};

fn health(api: &str) -> Option<Duration> {
    let started = Instant::now();
    let mut s = TcpStream::connect(api).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    s.write_all(b"GET /_mock/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.starts_with("HTTP/1.1 200").then(|| started.elapsed())
}

/// What the image sets (ci/build-mock-image).
const TUNABLES: &str = "glibc.malloc.mmap_threshold=4096";

#[test]
fn after_a_connection_storm_the_mock_answers_and_its_memory_comes_back_down() {
    let (idle, after) = storm(Some(TUNABLES));
    assert!(
        after <= idle + 6 * 1024,
        "{after} KiB after the storm, {idle} KiB idle"
    );
}

#[test]
fn with_glibc_defaults_the_memory_a_storm_leaves_is_bounded() {
    let (idle, after) = storm(None);
    assert!(
        after <= idle + 32 * 1024,
        "{after} KiB after the storm, {idle} KiB idle"
    );
}

/// One storm; resident memory (KiB) idle before it and after it.
fn storm(tunables: Option<&str>) -> (u64, u64) {
    let per_listener: usize = std::env::var("STORM_CONNECTIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let mut command = Command::new(env!("CARGO_BIN_EXE_mock-gandi"));
    match tunables {
        Some(t) => command.env("GLIBC_TUNABLES", t),
        None => command.env_remove("GLIBC_TUNABLES"),
    };
    let serve = serve_with(
        command,
        &[
            "--max-connections",
            "256",
            "--header-timeout",
            "2",
            "--dns-tcp-idle",
            "2",
        ],
    );
    let pid = serve.pid();
    let (api, proxy, dns) = (serve.api(), serve.proxy(), serve.dns());

    // Warm up every path once, so that idle is idle after first use.
    for _ in 0..20 {
        health(&api).expect("answers before the storm");
    }
    std::thread::sleep(Duration::from_millis(300));
    let (idle_rss, idle_fds) = rss_and_fds(pid);

    // The storm: half a request head on the API, half a CONNECT head on the proxy, a length
    // prefix and nothing more on DNS over TCP.
    let mut held = Vec::new();
    let started = Instant::now();
    for (addr, bytes) in [
        (&api, &b"GET /_mock/health HTTP/1.1\r\nHo"[..]),
        (&proxy, &b"CONNECT api.gandi.net:443 HTTP/1.1\r\n"[..]),
        (&dns, &b"\x00\x20"[..]),
    ] {
        for _ in 0..per_listener {
            match TcpStream::connect(addr.as_str()) {
                Ok(mut s) => {
                    let _ = s.write_all(bytes);
                    held.push(s);
                }
                Err(e) => panic!("connect {addr} after {} connections: {e}", held.len()),
            }
        }
    }
    let opened = held.len();
    std::thread::sleep(Duration::from_millis(500));
    let (storm_rss, storm_fds) = rss_and_fds(pid);
    // A normal request during the storm is served once a slot frees (the header timeout).
    let during = health(&api);

    drop(held);
    std::thread::sleep(Duration::from_secs(3));
    let after_answer = health(&api);
    std::thread::sleep(Duration::from_millis(500));
    let (after_rss, after_fds) = rss_and_fds(pid);
    eprintln!(
        "storm (GLIBC_TUNABLES={tunables:?}): {opened} connections in {:?}; resident {idle_rss} KiB idle, {storm_rss} KiB during, \
         {after_rss} KiB after; descriptors {idle_fds} idle, {storm_fds} during, {after_fds} after; \
         a request during the storm answered in {during:?}, after it in {after_answer:?}",
        started.elapsed()
    );

    // Bounded: at most 256 connections per listener are held, whatever the storm.
    assert!(
        storm_fds <= idle_fds + 3 * 256 + 8,
        "{storm_fds} descriptors"
    );
    assert!(
        storm_rss <= idle_rss + 64 * 1024,
        "{storm_rss} KiB during the storm, {idle_rss} KiB idle"
    );
    assert!(during.is_some(), "a request during the storm is answered");
    assert!(after_answer.is_some_and(|d| d < Duration::from_secs(1)));
    assert!(
        after_fds <= idle_fds + 2,
        "{after_fds} descriptors after, {idle_fds} idle"
    );
    (idle_rss, after_rss)
}
