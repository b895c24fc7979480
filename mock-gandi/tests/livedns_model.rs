//! A reference-model state machine: random sequences of LiveDNS v5 writes, valid and not,
//! against a `BTreeMap`. After every step the API's listing and what DNS would serve
//! (`ZoneStore::zone_for`) both equal the model, and every status is the one the model
//! predicts. Random fault plans ride along (a rule armed through `POST /_mock/faults` for one
//! write: `apply = "never"` leaves the model as it was, `"before"` makes the whole change) and,
//! in a second property, a propagation lag: DNS serves the previous model until the lag has
//! passed, then the new one. Without a lag, every step also checks the zone as text (written
//! out and read back in: the same rrsets) and the automatic snapshot (a write that changed the
//! zone leaves a snapshot of the zone as it was); a manual snapshot taken halfway is written
//! back at the end and restores the zone as it was then.

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
    let mut halfway = None;
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
        if lag.is_zero() {
            text_round_trip(&api, &model, i).await?;
            if matches!(fault, Fault::None) && model != previous {
                let last = latest_snapshot(&api, "?automatic=true&sort_by=-date_created").await?;
                prop_assert_eq!(&last, &previous, "automatic snapshot after step {}", i);
            }
            if i == ops.len() / 2 {
                halfway = Some((snapshot(&api).await?, model.clone()));
            }
        }
    }
    if let Some((id, then)) = halfway {
        restore(&api, &id).await?;
        let listing = api
            .pat("GET", &format!("/domains/{ZONE}/records"), "")
            .await;
        prop_assert_eq!(
            &listing_as_model(&listing.json()),
            &then,
            "restored listing"
        );
        prop_assert_eq!(&dns_as_model(&api), &then, "restored DNS view");
    }
    Ok(())
}

const RECORDS: &str = "/v5/livedns/domains/model.test/records";

/// The zone as text, written back as it was read: `201`, and the same rrsets.
async fn text_round_trip(api: &Api, model: &Model, step: usize) -> Result<(), TestCaseError> {
    let auth = format!("Bearer {}", common::PAT);
    let text = api
        .send(
            "GET",
            RECORDS,
            &[("authorization", &auth), ("accept", "text/plain")],
            "",
        )
        .await;
    prop_assert_eq!(text.status, 200, "{}", text.render());
    prop_assert_eq!(
        text.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    soa_line_in_place(api, &text.text(), step)?;
    let back = api
        .send(
            "PUT",
            RECORDS,
            &[("authorization", &auth), ("content-type", "text/plain")],
            text.body.clone(),
        )
        .await;
    prop_assert_eq!(
        back.status,
        201,
        "text back in after step {}: {}\n{}",
        step,
        text.text(),
        back.render()
    );
    let listing = api
        .pat("GET", &format!("/domains/{ZONE}/records"), "")
        .await;
    prop_assert_eq!(
        &listing_as_model(&listing.json()),
        model,
        "after the text round trip of step {}",
        step
    );
    Ok(())
}

/// The text holds the zone's SOA once, as the mock's DNS serves it (its serial included),
/// among the apex's lines where `SOA` sorts (after `@ A`, `@ AAAA`, before `@ TXT` and other
/// names), as Gandi's text does (gandi.cli's fixture).
fn soa_line_in_place(api: &Api, text: &str, step: usize) -> Result<(), TestCaseError> {
    let serial = api
        .state
        .store
        .zone_for(&mock_gandi::store::Fqdn::parse(ZONE).unwrap())
        .expect("the zone is served")
        .serial;
    let lines: Vec<&str> = text.lines().collect();
    let is_soa = |l: &&str| l.split_whitespace().nth(3) == Some("SOA");
    let soa: Vec<&str> = lines.iter().copied().filter(is_soa).collect();
    let expected = format!(
        "@ 300 IN SOA ns1.mock-gandi.test. hostmaster.mock-gandi.test. {serial} 10800 3600 604800 300"
    );
    prop_assert_eq!(soa, vec![expected.as_str()], "the SOA of step {}", step);
    let at = lines.iter().position(is_soa).unwrap_or_default();
    let sorts_before_soa = |l: &str| {
        let words: Vec<&str> = l.split_whitespace().collect();
        words[0] == "@" && words[3] < "SOA"
    };
    prop_assert!(
        lines[..at].iter().all(|l| sorts_before_soa(l))
            && lines[at + 1..].iter().all(|l| !sorts_before_soa(l)),
        "the SOA out of place after step {}:\n{}",
        step,
        text
    );
    Ok(())
}

/// A snapshot's zone data as a model.
fn zone_data_as_model(snapshot: &serde_json::Value) -> Model {
    listing_as_model(&snapshot["zone_data"])
}

/// The first snapshot of the listing `query` asks for, as a model.
async fn latest_snapshot(api: &Api, query: &str) -> Result<Model, TestCaseError> {
    let list = api
        .pat("GET", &format!("/domains/{ZONE}/snapshots{query}"), "")
        .await;
    prop_assert_eq!(list.status, 200, "{}", list.render());
    let id = list.json()[0]["id"].as_str().map(str::to_string);
    prop_assert!(id.is_some(), "no snapshot listed: {}", list.render());
    let shown = api
        .pat(
            "GET",
            &format!("/domains/{ZONE}/snapshots/{}", id.unwrap()),
            "",
        )
        .await;
    prop_assert_eq!(shown.status, 200, "{}", shown.render());
    Ok(zone_data_as_model(&shown.json()))
}

/// Takes a manual snapshot; returns its id.
async fn snapshot(api: &Api) -> Result<String, TestCaseError> {
    let taken = api
        .pat(
            "POST",
            &format!("/domains/{ZONE}/snapshots"),
            r#"{"name": "halfway"}"#,
        )
        .await;
    prop_assert_eq!(taken.status, 201, "{}", taken.render());
    let id = taken.json()["id"].as_str().unwrap_or_default().to_string();
    prop_assert!(
        taken.header("location").is_some_and(|l| l.ends_with(&id)),
        "{}",
        taken.render()
    );
    Ok(id)
}

/// Writes a snapshot's zone data back as the whole zone.
async fn restore(api: &Api, id: &str) -> Result<(), TestCaseError> {
    let shown = api
        .pat("GET", &format!("/domains/{ZONE}/snapshots/{id}"), "")
        .await;
    prop_assert_eq!(shown.status, 200, "{}", shown.render());
    let items = json!({ "items": shown.json()["zone_data"] });
    let put = api
        .pat(
            "PUT",
            &format!("/domains/{ZONE}/records"),
            &items.to_string(),
        )
        .await;
    prop_assert_eq!(put.status, 201, "{}", put.render());
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
