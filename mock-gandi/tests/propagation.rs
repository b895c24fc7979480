//! Propagation lag: the APIs answer at once, DNS serves a change only `delay_ms` later (its SOA
//! serial moving with it), a listed zone lags and the others do not, and a bad `[propagation]`
//! is refused at its line.

mod common;

use std::time::{Duration, Instant};

use common::*;
use mock_gandi::Seed;

const PUT: &str = "/domains/stubber.chat/records/_acme-challenge/TXT";
const BODY: &str = r#"{"rrset_ttl":300,"rrset_values":["new"]}"#;

/// TXT values and the SOA serial DNS gives for `name` (over the DNS code, as `/_mock/resolve`).
async fn dns(api: &Api, name: &str) -> (Vec<String>, String) {
    let txt = api
        .send(
            "GET",
            &format!("/_mock/resolve?name={name}&type=TXT"),
            &[],
            "",
        )
        .await
        .json();
    let values = txt["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["data"].as_str().unwrap().to_string())
        .collect();
    let zone = name.trim_start_matches("_acme-challenge.");
    let soa = api
        .send(
            "GET",
            &format!("/_mock/resolve?name={zone}&type=SOA"),
            &[],
            "",
        )
        .await
        .json();
    let serial = soa["answers"][0]["data"]
        .as_str()
        .unwrap()
        .split(' ')
        .nth(2)
        .unwrap()
        .to_string();
    (values, serial)
}

/// The lag of this test. Timing: the "during" check must come before the write is due, which
/// is at least `DELAY` after `written` (taken before the PUT); it takes a few milliseconds on
/// an idle machine, so 2 s is a margin of more than 3x on a machine loaded by other builds.
/// The "after" check waits from the moment the PUT was answered (the write is due `DELAY`
/// after it at the latest), so no margin is needed there: load only makes it later.
const DELAY: Duration = Duration::from_millis(2000);

#[tokio::test]
async fn dns_serves_a_write_only_after_the_delay_and_its_serial_moves_then() {
    let api = Api::with_seed(&format!(
        "{SEED}\n[propagation]\ndelay_ms = {}\n",
        DELAY.as_millis()
    ));
    let (before, serial_before) = dns(&api, "_acme-challenge.stubber.chat").await;
    assert_eq!(before, vec!["\"token1\""]);
    let written = Instant::now();
    assert_eq!(api.pat("PUT", PUT, BODY).await.status, 201);
    let answered = Instant::now();
    // The API has it at once.
    assert_eq!(
        api.pat("GET", PUT, "").await.json()["rrset_values"],
        serde_json::json!(["\"new\""])
    );
    let (during, serial_during) = dns(&api, "_acme-challenge.stubber.chat").await;
    assert!(
        written.elapsed() < DELAY,
        "the check came {:?} after the write, too late to tell (the lag is {DELAY:?})",
        written.elapsed()
    );
    assert_eq!(during, before, "DNS still serves the old value");
    assert_eq!(serial_during, serial_before, "and the old serial");
    tokio::time::sleep((DELAY + Duration::from_millis(1)).saturating_sub(answered.elapsed())).await;
    let (after, serial_after) = dns(&api, "_acme-challenge.stubber.chat").await;
    assert_eq!(after, vec!["\"new\""]);
    assert_ne!(serial_after, serial_before);
}

#[tokio::test]
async fn only_the_listed_zones_lag() {
    let seed = format!(
        "{SEED}\n[[domain]]\nfqdn = \"quick.example\"\n[propagation]\ndelay_ms = 5000\ndomains = [\"stubber.chat\"]\n"
    );
    let api = Api::with_seed(&seed);
    assert_eq!(api.pat("PUT", PUT, BODY).await.status, 201);
    let quick = "/domains/quick.example/records/_acme-challenge/TXT";
    assert_eq!(api.pat("PUT", quick, BODY).await.status, 201);
    assert_eq!(
        dns(&api, "_acme-challenge.stubber.chat").await.0,
        vec!["\"token1\""]
    );
    assert_eq!(
        dns(&api, "_acme-challenge.quick.example").await.0,
        vec!["\"new\""]
    );
    // A reset is not a write that propagates: DNS is back at the seed at once.
    assert_eq!(api.send("POST", "/_mock/reset", &[], "").await.status, 204);
    assert_eq!(
        dns(&api, "_acme-challenge.stubber.chat").await.0,
        vec!["\"token1\""]
    );
}

#[test]
fn a_bad_propagation_is_refused_at_its_line() {
    for (table, key) in [
        ("domains = [\"stubber.chat\"]", "delay_ms"),
        ("delay_ms = 10\ndomains = []", "domains"),
        ("delay_ms = 10\nns3_delay_ms = 5", "ns3_delay_ms"),
    ] {
        let e = Seed::from_toml(&format!(
            "[[domain]]\nfqdn = \"a.example\"\n\n[propagation]\n{table}\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("line 4") || e.contains("line 5") || e.contains("line 6"),
            "{table}: {e}"
        );
        assert!(e.contains(key), "{table}: {e}");
    }
}
