//! One full issuance (apex + wildcard through gandiv5) per CA backend, repeated; prints the
//! median and the spread. Bounded: a few runs per backend, loopback only.
//!
//! `cargo bench -p harness --bench issuance` (`BENCH_RUNS=N` to change the count).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use harness::client::ProviderName;
use harness::issuance::{ClientKind, IssuanceRequest, run_with};
use harness::{CaKind, CaSource, Lanes, check_available};
use mock_gandi::{MockGandi, Seed};

const PAT: &str = "23e501f7a1b2c3d4e5f60718293a4b5c6d7e960b";

fn request() -> IssuanceRequest {
    IssuanceRequest {
        seed: Seed::from_toml(&format!(
            "[[domain]]\nfqdn = \"stubber.chat\"\n[[credential]]\nkind = \"pat\"\nsecret = \"{PAT}\"\n"
        ))
        .expect("seed"),
        client: ClientKind::Builtin {
            provider: ProviderName::Gandiv5,
        },
        domains: vec!["stubber.chat".into(), "*.stubber.chat".into()],
        env: BTreeMap::from([("GANDIV5_PERSONAL_ACCESS_TOKEN".into(), PAT.into())]),
        timeout: Duration::from_secs(60),
        network: harness::sandbox::Network::Proxy,
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// `runs` issuances, each with a new mock and a Pebble from `ca`: the wall times (mock, CA,
/// client, checks) and the client's own.
fn issuances(
    rt: &tokio::runtime::Runtime,
    ca: &CaSource,
    runs: usize,
) -> (Vec<Duration>, Vec<Duration>) {
    let mut whole = Vec::new();
    let mut client_only = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let outcome = rt.block_on(async {
            let mock = MockGandi::builder()
                .seed(request().seed)
                .start()
                .await
                .expect("mock");
            let lease = ca.acquire(mock.dns_addr()).await.expect("pebble");
            let outcome = run_with(&request(), &mock, lease.backend()).await;
            lease.release();
            outcome
        });
        whole.push(started.elapsed());
        client_only.push(outcome.elapsed);
        let issued = outcome.issued().expect("issued");
        assert!(issued.problems.is_empty(), "{:?}", issued.problems);
    }
    (whole, client_only)
}

fn main() {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for kind in [CaKind::Process, CaKind::Container] {
        if let Err(e) = rt.block_on(check_available(kind)) {
            println!("{kind}: not available ({e})");
            continue;
        }
        let (fresh, client_fresh) = issuances(&rt, &CaSource::Fresh(kind), runs);
        let lanes = Lanes::new(kind);
        let source = CaSource::Lanes(lanes.clone());
        // The lane's first start is paid once, outside the figures, as a long run pays it.
        let _ = issuances(&rt, &source, 1);
        let (lane, client_lane) = issuances(&rt, &source, runs);
        assert_eq!(lanes.stats().started, 1, "one lane served every run");
        let spread = |v: &[Duration]| {
            (
                v.iter().min().copied().unwrap_or_default(),
                v.iter().max().copied().unwrap_or_default(),
            )
        };
        let (fresh_min, fresh_max) = spread(&fresh);
        let (lane_min, lane_max) = spread(&lane);
        let (fresh_median, lane_median) = (median(fresh), median(lane));
        println!(
            "{kind}: {runs} issuances (apex + wildcard) each way\n  \
             fresh Pebble: median {:.3}s (min {:.3}s, max {:.3}s), client alone {:.3}s\n  \
             warm lane:    median {:.3}s (min {:.3}s, max {:.3}s), client alone {:.3}s\n  \
             lane / fresh: {:.2}",
            secs(fresh_median),
            secs(fresh_min),
            secs(fresh_max),
            secs(median(client_fresh)),
            secs(lane_median),
            secs(lane_min),
            secs(lane_max),
            secs(median(client_lane)),
            secs(lane_median) / secs(fresh_median),
        );
    }
}
