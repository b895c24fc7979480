//! A reference-model state machine: random sequences of LiveDNS v5 writes, valid and not,
//! against a `BTreeMap`. After every step the API's listing and what DNS would serve
//! (`ZoneStore::zone_for`) both equal the model, and every status is the one the model
//! predicts. Random fault plans ride along (a rule armed through `POST /_mock/faults` for one
//! write: `apply = "never"` leaves the model as it was, `"before"` makes the whole change) and,
//! in a second property, a propagation lag: DNS serves the previous model until the lag has
//! passed, then the new one.

mod common;

use common::Api;
use common::model::*;
use proptest::prelude::*;
use serde_json::json;

/// A fault rule armed for one write: none, or a status with the change not made or made.
#[derive(Debug, Clone, Copy)]
enum Fault {
    None,
    Never(u16),
    Before(u16),
}

fn fault_strategy() -> impl Strategy<Value = Fault> {
    let status = || prop::sample::select(&[429u16, 500, 502, 503, 504][..]);
    prop_oneof![
        6 => Just(Fault::None),
        1 => status().prop_map(Fault::Never),
        1 => status().prop_map(Fault::Before),
    ]
}

async fn run(ops: &[(Op, Fault)], lag: std::time::Duration) -> Result<(), TestCaseError> {
    // The router and the DNS server share one store, as in `mock-gandi serve`.
    let seed = if lag.is_zero() {
        SEED.to_string()
    } else {
        format!("{SEED}\n[propagation]\ndelay_ms = {}\n", lag.as_millis())
    };
    let mock = mock_gandi::MockGandi::builder()
        .seed_text(&seed)
        .unwrap()
        .start_blocking()
        .unwrap();
    let api = Api {
        state: mock.state().clone(),
    };
    let mut model = Model::new();
    for (i, (op, fault)) in ops.iter().enumerate() {
        let previous = model.clone();
        let handled = step(&mut model, op);
        let (method, path, body) = request(op);
        let expected = match *fault {
            Fault::None => handled,
            Fault::Never(status) | Fault::Before(status) => {
                let apply = if matches!(fault, Fault::Never(_)) {
                    model = previous.clone();
                    "never"
                } else {
                    "before"
                };
                let rule = json!({"method": method, "path": format!("/v5/livedns{path}"),
                                  "times": 1, "status": status, "apply": apply});
                let armed = api
                    .send("POST", "/_mock/faults", &[], rule.to_string())
                    .await;
                prop_assert_eq!(armed.status, 201, "{}", armed.render());
                status
            }
        };
        let written = std::time::Instant::now();
        let reply = api.pat(method, &path, &body).await;
        // The write (if any) was made between `written` and `answered`.
        let answered = std::time::Instant::now();
        prop_assert_eq!(
            api.send("DELETE", "/_mock/faults", &[], "").await.status,
            204
        );
        prop_assert_eq!(
            reply.status,
            expected,
            "step {} {:?}: {} {} {}\n{}",
            i,
            op,
            method,
            path,
            body,
            reply.render()
        );
        let listing = api
            .pat("GET", &format!("/domains/{ZONE}/records"), "")
            .await;
        prop_assert_eq!(listing.status, 200);
        prop_assert_eq!(
            &listing_as_model(&listing.json()),
            &model,
            "API listing after step {}",
            i
        );
        if !lag.is_zero() {
            // Still the previous state while the change propagates (when this check is early
            // enough to tell), then the new one.
            let early = dns_as_model(&api);
            if written.elapsed() < lag {
                prop_assert_eq!(&early, &previous, "DNS during the lag after step {}", i);
            }
            std::thread::sleep(lag.saturating_sub(answered.elapsed()));
        }
        prop_assert_eq!(&dns_as_model(&api), &model, "DNS view after step {}", i);
        prop_assert_eq!(
            sorted(&dns_over_udp(mock.dns_addr())),
            sorted(&model),
            "DNS over UDP after step {}",
            i
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn after_any_sequence_of_writes_and_faults_the_listing_and_dns_equal_the_model(
        ops in prop::collection::vec((op_strategy(), fault_strategy()), 1..24)
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        runtime.block_on(run(&ops, std::time::Duration::ZERO))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn under_a_propagation_lag_dns_serves_the_previous_model_then_the_new_one(
        ops in prop::collection::vec((op_strategy(), fault_strategy()), 1..10)
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        runtime.block_on(run(&ops, std::time::Duration::from_millis(60)))?;
    }
}
