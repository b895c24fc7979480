//! One issuance end to end through the library API: apex + wildcard through `gandiv5` with a
//! valid token, with each CA backend, and the guarantee that nothing outlives a failed or
//! timed-out issuance.

use std::collections::BTreeMap;
use std::time::Duration;

use harness::CaKind;
use harness::client::ProviderName;
use harness::issuance::{self, ClientKind, IssuanceRequest};
use mock_gandi::Seed;

const PAT: &str = "23e501f7a1b2c3d4e5f60718293a4b5c6d7e960b";

fn request(domains: &[&str], permissions: &str) -> IssuanceRequest {
    let seed = Seed::from_toml(&format!(
        r#"
[[domain]]
fqdn = "stubber.chat"
[[domain.record]]
name = "www"
type = "A"
values = ["192.0.2.10"]
[[credential]]
kind = "pat"
secret = "{PAT}"
permissions = {permissions}
"#
    ))
    .unwrap();
    IssuanceRequest {
        seed,
        client: ClientKind::Builtin {
            provider: ProviderName::Gandiv5,
        },
        domains: domains.iter().map(|d| d.to_string()).collect(),
        env: BTreeMap::from([("GANDIV5_PERSONAL_ACCESS_TOKEN".to_string(), PAT.to_string())]),
        timeout: Duration::from_secs(60),
        network: harness::sandbox::Network::Proxy,
    }
}

async fn apex_and_wildcard_issue(kind: CaKind) {
    if !harness::require::pebble(kind).await {
        return;
    }
    let req = request(
        &["stubber.chat", "*.stubber.chat"],
        r#"["dns:read", "dns:write"]"#,
    );
    let outcome = issuance::run(&req, kind)
        .await
        .expect("mock and Pebble start");
    let issued = outcome.issued().expect("a certificate is issued");
    assert!(issued.problems.is_empty(), "{:?}", issued.problems);
    assert_eq!(
        issued.names.iter().map(String::as_str).collect::<Vec<_>>(),
        vec!["*.stubber.chat", "stubber.chat"]
    );
    // Both challenge values were published under one name and Pebble asked for them.
    let puts = outcome
        .requests
        .iter()
        .filter(|r| r.method == "PUT" && r.path.ends_with("/_acme-challenge/TXT"))
        .count();
    assert_eq!(puts, 2, "one PUT per challenge (read-modify-write)");
    assert!(
        outcome
            .dns_queries
            .iter()
            .any(|q| q.qtype == "TXT" && q.answers.len() == 2),
        "Pebble saw both TXT values at once: {:?}",
        outcome.dns_queries
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apex_and_wildcard_issue_through_gandiv5_with_pebble_as_a_process() {
    apex_and_wildcard_issue(CaKind::Process).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apex_and_wildcard_issue_through_gandiv5_with_pebble_in_a_container() {
    apex_and_wildcard_issue(CaKind::Container).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_without_write_permission_fails_with_lego_s_text() {
    if !harness::require::pebble(CaKind::Process).await {
        return;
    }
    let req = request(&["stubber.chat"], r#"["dns:read"]"#);
    let outcome = issuance::run(&req, CaKind::Process).await.unwrap();
    let err = outcome
        .result
        .expect_err("no certificate without write permission");
    assert!(
        err.contains(
            "[stubber.chat: dns01: error presenting token (stubber.chat): unable to create TXT record for domain stubber.chat and name _acme-challenge: 403: request failed: Access was denied to this resource.]"
        ),
        "{err}"
    );
}
