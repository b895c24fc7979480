//! API requests per second over loopback: `GET` and `PUT` of one rrset on the current LiveDNS
//! host, each beside a baseline measured in the same run: a bare axum handler returning a fixed
//! body of the same size, served the same way (its own thread and runtime). Prints the rates
//! and the ratios. Then the cost of fault rules: the same `PUT` on a mock with ten armed rules
//! that match nothing, beside the mock without rules. Bounded: a fixed time per measurement,
//! loopback only.
//!
//! Each pair is measured in alternating rounds (see `common`): the ratio is the median of
//! the rounds' ratios.
//!
//! `cargo bench -p mock-gandi --bench api` (`BENCH_SECONDS=N` per round, default 1;
//! `BENCH_ROUNDS=N`, default 7; `BENCH_CONNECTIONS=N`, default 8; `BENCH_ONLY=PUT` runs only the cases whose name holds
//! it, for a profiler).

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use mock_gandi::MockGandi;

const PAT: &str = "0123456789abcdef0123456789abcdef01234567";
const RRSET: &str = "/v5/livedns/domains/stubber.chat/records/www/TXT";

fn seed() -> String {
    format!(
        r#"
[[domain]]
fqdn = "stubber.chat"
[[domain.record]]
name = "www"
type = "TXT"
ttl = 300
values = ["hello"]
[[credential]]
kind = "pat"
secret = "{PAT}"
"#
    )
}

/// A bare axum server answering GET with `get` and PUT with `put`, on its own thread.
fn baseline(get: &'static str, put: &'static str) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let fixed = |body: &'static str| {
                move || async move { ([("content-type", "application/json; charset=utf-8")], body) }
            };
            let app = axum::Router::new()
                .route("/{*path}", axum::routing::get(fixed(get)).put(fixed(put)));
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    addr
}

/// Requests per second: `connections` keep-alive clients sending as fast as answers come.
async fn rate(
    url: String,
    method: hyper::Method,
    body: &'static str,
    seconds: f64,
    connections: usize,
) -> f64 {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(connections)
        .build_http();
    let count = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (client, url, method, count) =
            (client.clone(), url.clone(), method.clone(), count.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let request = hyper::Request::builder()
                    .method(method.clone())
                    .uri(&url)
                    .header("authorization", format!("Bearer {PAT}"))
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from_static(body.as_bytes())))
                    .unwrap();
                let response = client.request(request).await.unwrap();
                assert!(response.status().is_success(), "{}", response.status());
                response.into_body().collect().await.unwrap();
                count.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let started = Instant::now();
    for t in tasks {
        t.await.unwrap();
    }
    count.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let seconds: f64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0);
    let rounds = common::rounds();
    let connections: usize = std::env::var("BENCH_CONNECTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let mock = MockGandi::builder()
        .seed_text(&seed())
        .unwrap()
        .start_blocking()
        .unwrap();
    let get_body = r#"{"rrset_type":"TXT","rrset_ttl":300,"rrset_name":"www","rrset_href":"http://127.0.0.1:1/v5/livedns/domains/stubber.chat/records/www/TXT","rrset_values":["\"hello\""]}"#;
    let base = baseline(get_body, r#"{"message":"DNS Record Created"}"#);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let put_body = r#"{"rrset_ttl":300,"rrset_values":["hello","world"]}"#;
        let cases = [
            ("GET rrset", hyper::Method::GET, ""),
            ("PUT rrset", hyper::Method::PUT, put_body),
        ];
        let only = std::env::var("BENCH_ONLY").unwrap_or_default();
        for (name, method, body) in cases {
            if !name.contains(only.as_str()) {
                continue;
            }
            let (base_rate, mock_rate, ratio) = common::paired(
                rounds,
                || rate(format!("http://{base}{RRSET}"), method.clone(), body, seconds, connections),
                || rate(format!("{}{RRSET}", mock.api_url()), method.clone(), body, seconds, connections),
            )
            .await;
            println!(
                "{name}: mock {mock_rate:.0} req/s, bare axum handler {base_rate:.0} req/s, ratio {ratio:.2} (median of {rounds} rounds of {seconds} s each way, {connections} connections)"
            );
        }
        if !only.is_empty() {
            return;
        }
        // Every rule is matched against every request (the body is read whole to do it).
        let rules: String = (0..10)
            .map(|i| format!("[[fault]]\nmethod = \"DELETE\"\npath = \"/nothing/{i}/*\"\nstatus = 502\n"))
            .collect();
        let armed = MockGandi::builder()
            .seed_text(&format!("{}\n{rules}", seed()))
            .unwrap()
            .start()
            .await
            .unwrap();
        let put_body = r#"{"rrset_ttl":300,"rrset_values":["hello","world"]}"#;
        let (without, with, ratio) = common::paired(
            rounds,
            || rate(format!("{}{RRSET}", mock.api_url()), hyper::Method::PUT, put_body, seconds, connections),
            || rate(format!("{}{RRSET}", armed.api_url()), hyper::Method::PUT, put_body, seconds, connections),
        )
        .await;
        println!(
            "PUT rrset with 10 fault rules armed (none matching): {with:.0} req/s, without rules {without:.0} req/s, ratio {ratio:.2}"
        );
    });
}
