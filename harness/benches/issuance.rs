//! One full issuance (apex + wildcard through gandiv5) per CA backend, repeated; prints the
//! median and the spread. Bounded: a few runs per backend, loopback only.
//!
//! `cargo bench -p harness --bench issuance` (`BENCH_RUNS=N` to change the count).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use harness::client::ProviderName;
use harness::issuance::{ClientKind, IssuanceRequest, run_with};
use harness::{CaKind, CaOptions, check_available, start_ca};
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
                let ca = start_ca(kind, &CaOptions::new(mock.dns_addr()))
                    .await
                    .expect("pebble");
                run_with(&request(), &mock, ca.as_ref()).await
            });
            whole.push(started.elapsed());
            client_only.push(outcome.elapsed);
            let issued = outcome.issued().expect("issued");
            assert!(issued.problems.is_empty(), "{:?}", issued.problems);
        }
        let (min, max) = (
            whole.iter().min().copied().unwrap_or_default(),
            whole.iter().max().copied().unwrap_or_default(),
        );
        println!(
            "{kind}: {runs} issuances (apex + wildcard): median {:.3}s with start-up (min {:.3}s, max {:.3}s), median {:.3}s for the client alone",
            median(whole).as_secs_f64(),
            min.as_secs_f64(),
            max.as_secs_f64(),
            median(client_only).as_secs_f64(),
        );
    }
}
