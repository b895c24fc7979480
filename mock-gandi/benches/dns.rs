//! Queries per second over loopback UDP: the mock's DNS beside a bare tokio UDP socket that
//! answers every query with the mock's own answer bytes (id patched), measured in the same
//! run with the same client. The ratio is the cost of the mock's work per query (parse,
//! store lookup, encode, journal) over raw socket I/O.
//!
//! Measured in alternating rounds (see `common`): the ratio is the median of the rounds'.
//!
//! `cargo bench -p mock-gandi --bench dns`; `DNS_BENCH_SECS` sets each round's length
//! (default 1 s), `BENCH_ROUNDS` their number (default 7), `BENCH_ONLY=new` (or `repeated`)
//! runs only the cases whose name holds it (one case, for a profiler). Loopback only.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};
use mock_gandi::MockGandi;
use tokio::net::UdpSocket;

const SEED: &str = r#"
[[domain]]
fqdn = "stubber.chat"
[[domain.record]]
name = "_acme-challenge"
type = "TXT"
ttl = 300
values = ["apex-token-0123456789abcdef0123456789ab", "wildcard-token-0123456789abcdef012345"]
"#;

/// Client sockets, and queries each keeps in flight.
const CLIENTS: usize = 4;
const WINDOW: usize = 16;
/// After this long with nothing received, a client assumes its window was lost.
const STALL: Duration = Duration::from_millis(100);

fn query_for(name: &str) -> Vec<u8> {
    let mut m = Message::new(1, MessageType::Query, OpCode::Query);
    m.metadata.recursion_desired = true;
    m.add_query(Query::query(
        Name::from_ascii(name).unwrap(),
        RecordType::TXT,
    ));
    m.to_vec().unwrap()
}

fn query() -> Vec<u8> {
    query_for("_acme-challenge.stubber.chat.")
}

/// Questions no two alike within the answer cache's reach (it keeps 1,024 per loop): each is
/// looked up and encoded afresh, as every question after a write is.
fn distinct_queries() -> Vec<Vec<u8>> {
    (0..4096)
        .map(|i| query_for(&format!("_acme-challenge.h{i}.stubber.chat.")))
        .collect()
}

/// The baseline server: its own thread and two-worker runtime, like the mock's.
fn start_baseline(answer: Vec<u8>) -> SocketAddr {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_nonblocking(true).unwrap();
    let addr = socket.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let socket = Arc::new(UdpSocket::from_std(socket).unwrap());
            let answer = Arc::new(answer);
            let loops: Vec<_> = (0..2)
                .map(|_| {
                    let socket = socket.clone();
                    let answer = answer.clone();
                    tokio::spawn(async move {
                        let mut buf = vec![0u8; 65_535];
                        let mut out = answer.to_vec();
                        loop {
                            let Ok((n, peer)) = socket.recv_from(&mut buf).await else {
                                continue;
                            };
                            if n >= 2 {
                                out[..2].copy_from_slice(&buf[..2]);
                            }
                            let _ = socket.send_to(&out, peer).await;
                        }
                    })
                })
                .collect();
            for l in loops {
                let _ = l.await;
            }
        });
    });
    addr
}

/// One client: keeps WINDOW queries in flight until `until`, asking each of `queries` in
/// turn; returns answers received.
async fn client(server: SocketAddr, queries: Arc<Vec<Vec<u8>>>, until: Instant) -> u64 {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.connect(server).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let mut received = 0u64;
    let mut in_flight = 0usize;
    let mut next = 0usize;
    while Instant::now() < until {
        while in_flight < WINDOW {
            socket.send(&queries[next % queries.len()]).await.unwrap();
            next += 1;
            in_flight += 1;
        }
        match tokio::time::timeout(STALL, socket.recv(&mut buf)).await {
            Ok(Ok(_)) => {
                received += 1;
                in_flight -= 1;
            }
            _ => in_flight = 0,
        }
    }
    received
}

async fn rate(server: SocketAddr, queries: &Arc<Vec<Vec<u8>>>, secs: f64) -> f64 {
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(secs);
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|i| {
            // Each client starts elsewhere in the list.
            let mut mine = queries.as_ref().clone();
            mine.rotate_left(i * queries.len() / CLIENTS);
            tokio::spawn(client(server, Arc::new(mine), until))
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let secs: f64 = std::env::var("DNS_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let mock = MockGandi::builder()
            .seed_text(SEED)
            .unwrap()
            .start()
            .await
            .unwrap();
        let query = query();
        let probe = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        probe.send_to(&query, mock.dns_addr()).await.unwrap();
        let mut buf = vec![0u8; 4096];
        let (n, _) = probe.recv_from(&mut buf).await.unwrap();
        let answer = buf[..n].to_vec();
        let baseline = start_baseline(answer.clone());

        // Warm both up, then measure each in turn: the same question again and again (the
        // answer cache's case), then questions never repeated (every one computed).
        let rounds = common::rounds();
        let same = Arc::new(vec![query.clone()]);
        let distinct = Arc::new(distinct_queries());
        println!(
            "dns udp loopback, {CLIENTS} clients x {WINDOW} in flight, {}-byte query, {}-byte answer, median of {rounds} rounds of {secs} s each way",
            query.len(),
            answer.len()
        );
        let only = std::env::var("BENCH_ONLY").unwrap_or_default();
        for (what, queries) in [("one question repeated", &same), ("every question new", &distinct)] {
            if !what.contains(only.as_str()) {
                continue;
            }
            rate(baseline, queries, 0.3).await;
            rate(mock.dns_addr(), queries, 0.3).await;
            let (base, mock_rate, ratio) = common::paired(
                rounds,
                || rate(baseline, queries, secs),
                || rate(mock.dns_addr(), queries, secs),
            )
            .await;
            println!(
                "{what}: baseline (bare tokio UDP socket) {base:.0} queries/s, mock-gandi DNS {mock_rate:.0} queries/s, ratio {ratio:.2}"
            );
        }
        println!("journal entries recorded: {}", mock.dns_queries().len());
    });
}
