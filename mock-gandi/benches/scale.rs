//! How mock-gandi grows with the account: for an empty account, then 1k and 10k domains of 20
//! rrsets each (100k with `SCALE_DOMAINS=1000,10000,100000`), a seed generated here (as TOML,
//! then the same as JSON), then `mock-gandi serve`: the time to its ready line, resident
//! memory idle (and above the empty account's, per rrset), `GET /_mock/state` (its size, time
//! and the memory after it), and DNS answers per query at that size. The ready time is the
//! median of `SCALE_RUNS` starts (default 3). Loopback only, bounded;
//! the process is killed at the end of each size.
//!
//! `cargo bench -p mock-gandi --bench scale`

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const RRSETS_PER_DOMAIN: usize = 20;

/// The rrsets of domain `d`: (name, type, value as TOML/JSON string literal).
fn records(r: usize) -> (String, &'static str, String) {
    let (rtype, value) = match r % 4 {
        0 => ("A", format!("\"192.0.2.{}\"", r + 1)),
        1 => ("AAAA", format!("\"2001:db8::{r:x}\"")),
        2 => (
            "TXT",
            format!("\"\\\"v=spf1 include:_spf{r}.example.net ~all\\\"\""),
        ),
        _ => ("CNAME", "\"target.example.net.\"".to_string()),
    };
    (format!("host{r}"), rtype, value)
}

/// The seed, written straight as TOML or JSON (never parsed here: at 100k domains a parsed
/// TOML document would take gigabytes).
fn seed(domains: usize, kind: &str) -> String {
    let mut text = String::with_capacity(domains * RRSETS_PER_DOMAIN * 70);
    if kind == "json" {
        text.push_str("{\"domain\": [");
    }
    for d in 0..domains {
        if kind == "json" {
            if d > 0 {
                text.push(',');
            }
            text.push_str(&format!(
                "\n{{\"fqdn\": \"d{d}.example.com\", \"record\": ["
            ));
        } else {
            text.push_str(&format!("[[domain]]\nfqdn = \"d{d}.example.com\"\n"));
        }
        for r in 0..RRSETS_PER_DOMAIN {
            let (name, rtype, value) = records(r);
            if kind == "json" {
                let comma = if r > 0 { "," } else { "" };
                text.push_str(&format!(
                    "{comma}{{\"name\": \"{name}\", \"type\": \"{rtype}\", \"values\": [{value}]}}"
                ));
            } else {
                text.push_str(&format!(
                    "[[domain.record]]\nname = \"{name}\"\ntype = \"{rtype}\"\nvalues = [{value}]\n"
                ));
            }
        }
        if kind == "json" {
            text.push_str("]}");
        }
    }
    if kind == "json" {
        text.push_str("]}\n");
    }
    text
}

/// The process's resident set and its peak, in MB (`/proc/PID/status`).
fn memory(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `GET /_mock/state`: (bytes of body, seconds).
fn get_state(api: SocketAddr) -> (usize, f64) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(api).expect("connect to the API");
    stream
        .write_all(b"GET /_mock/state HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut body = Vec::new();
    stream.read_to_end(&mut body).unwrap();
    let head_end = body
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(0, |p| p + 4);
    assert!(body.starts_with(b"HTTP/1.1 200"), "GET /_mock/state failed");
    (body.len() - head_end, started.elapsed().as_secs_f64())
}

/// Microseconds per TXT question (UDP, one at a time, names spread over every domain).
fn dns_per_query(dns: SocketAddr, domains: usize, queries: usize) -> f64 {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    socket.connect(dns).unwrap();
    let mut buf = [0u8; 1500];
    let started = Instant::now();
    for i in 0..queries {
        let d = (i * 7919) % domains;
        let mut q = vec![(i >> 8) as u8, i as u8, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        for label in [
            "host2".to_string(),
            format!("d{d}"),
            "example".into(),
            "com".into(),
        ] {
            q.push(label.len() as u8);
            q.extend(label.as_bytes());
        }
        q.extend([0, 0, 16, 0, 1]);
        socket.send(&q).unwrap();
        let n = socket.recv(&mut buf).expect("a DNS answer");
        assert!(n > 12 && buf[3] & 0x0F == 0, "NOERROR");
        assert_eq!(u16::from_be_bytes([buf[6], buf[7]]), 1, "one answer");
    }
    started.elapsed().as_secs_f64() * 1e6 / queries as f64
}

fn main() {
    let sizes: Vec<usize> = std::env::var("SCALE_DOMAINS")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000, 10_000]);
    let dir = tempfile::tempdir().unwrap();
    println!(
        "{:>8} {:>5} {:>9} {:>10} {:>10} {:>9} {:>12} {:>9} {:>12} {:>10}",
        "domains",
        "seed",
        "ready s",
        "idle MB",
        "peak MB",
        "B/rrset",
        "state bytes",
        "state s",
        "after MB",
        "µs/query"
    );
    // An empty account first: what the process costs before any domain.
    let mut base = [0.0f64; 2];
    for (domains, kind) in [0]
        .iter()
        .chain(&sizes)
        .flat_map(|&n| [(n, "toml"), (n, "json")])
    {
        let path = dir.path().join(format!("seed-{domains}.{kind}"));
        std::fs::write(&path, seed(domains, kind)).unwrap();
        // The ready time is the median of `SCALE_RUNS` starts (default 3); the last process
        // stays up for the rest.
        let runs: usize = std::env::var("SCALE_RUNS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|&n| n > 0)
            .unwrap_or(3);
        let mut readies = Vec::new();
        let (child, line) = loop {
            let started = Instant::now();
            let child = Command::new(env!("CARGO_BIN_EXE_mock-gandi"))
                .args(["serve", "--seed"])
                .arg(&path)
                .env("MOCK_GANDI_LOG", "warn")
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("mock-gandi");
            let mut child = Killed(child);
            let mut line = String::new();
            BufReader::new(child.0.stdout.take().unwrap())
                .read_line(&mut line)
                .unwrap();
            readies.push(started.elapsed().as_secs_f64());
            if readies.len() == runs {
                break (child, line);
            }
        };
        readies.sort_by(f64::total_cmp);
        let ready = readies[readies.len() / 2];
        let ready_line: serde_json::Value = serde_json::from_str(&line).expect("the ready line");
        let api: SocketAddr = ready_line["api"]
            .as_str()
            .unwrap()
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .unwrap();
        let dns: SocketAddr = ready_line["dns"].as_str().unwrap().parse().unwrap();
        std::thread::sleep(Duration::from_millis(300));
        let pid = child.0.id();
        let (idle, _) = memory(pid);
        let slot = usize::from(kind == "json");
        if domains == 0 {
            base[slot] = idle;
        }
        let per_rrset = if domains == 0 {
            0.0
        } else {
            (idle - base[slot]) * 1024.0 * 1024.0 / (domains * RRSETS_PER_DOMAIN) as f64
        };
        let per_query = if domains == 0 {
            0.0
        } else {
            dns_per_query(dns, domains, 20_000)
        };
        let (state_bytes, state_secs) = get_state(api);
        std::thread::sleep(Duration::from_millis(300));
        let (after, peak) = memory(pid);
        println!(
            "{domains:>8} {kind:>5} {ready:>9.3} {idle:>10.1} {peak:>10.1} {per_rrset:>9.0} {state_bytes:>12} {state_secs:>9.3} {after:>12.1} {per_query:>10.1}"
        );
    }
}
