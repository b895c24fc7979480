//! Pebble lanes: two scenarios run back to back on one lane cannot see each other (DNS
//! answers, ACME accounts, journals), a lane that dies or is abandoned is replaced, and a set's
//! lanes are gone once it is stopped.

use std::collections::BTreeMap;
use std::time::Duration;

use harness::client::{ProviderName, txt_values};
use harness::issuance::{ClientKind, IssuanceRequest, run_with};
use harness::{CaKind, CaSource, Lanes};
use mock_gandi::{MockGandi, Seed};

const PAT: &str = "23e501f7a1b2c3d4e5f60718293a4b5c6d7e960b";

/// A request for `domain` on a mock that holds it, with a marker TXT record only this
/// scenario's mock serves.
fn request(domain: &str, marker: &str) -> IssuanceRequest {
    let seed = Seed::from_toml(&format!(
        r#"
[[domain]]
fqdn = "{domain}"
[[domain.record]]
name = "marker"
type = "TXT"
values = ['"{marker}"']
[[credential]]
kind = "pat"
secret = "{PAT}"
"#
    ))
    .unwrap();
    IssuanceRequest {
        seed,
        client: ClientKind::Builtin {
            provider: ProviderName::Gandiv5,
        },
        domains: vec![domain.to_string(), format!("*.{domain}")],
        env: BTreeMap::from([("GANDIV5_PERSONAL_ACCESS_TOKEN".to_string(), PAT.to_string())]),
        timeout: Duration::from_secs(60),
        network: harness::sandbox::Network::Proxy,
    }
}

/// `There are now N accounts in memory`: Pebble's count after its last new account.
fn accounts_in_memory(log: &str) -> Option<usize> {
    log.lines().rev().find_map(|l| {
        let rest = l.split("There are now ").nth(1)?;
        rest.split(' ').next()?.parse().ok()
    })
}

async fn back_to_back_on_one_lane(kind: CaKind) {
    if !harness::require::pebble(kind).await {
        return;
    }
    let lanes = Lanes::new(kind);
    let source = CaSource::Lanes(lanes.clone());

    // Scenario A, on the lane's first lease. Its mock stays up after: even a live mock of an
    // earlier scenario must not be reachable through the lane.
    let a = request("stubber.chat", "scenario-a");
    let mock_a = MockGandi::builder()
        .seed(a.seed.clone())
        .start()
        .await
        .unwrap();
    let lease = source.acquire(mock_a.dns_addr()).await.unwrap();
    let (lane_a, relay) = (lease.lane(), lease.dns_relay().expect("a lane has a relay"));
    let directory = lease.backend().directory_url().to_string();
    assert_eq!(
        txt_values("marker.stubber.chat.", relay).await.unwrap(),
        vec!["scenario-a"],
        "during its lease, the relay answers from A's mock"
    );
    let outcome_a = run_with(&a, &mock_a, lease.backend()).await;
    let issued = outcome_a.issued().expect("A issues");
    assert!(issued.problems.is_empty(), "{:?}", issued.problems);
    let accounts_after_a = accounts_in_memory(&lease.backend().log().await.unwrap());
    lease.release();

    // Between leases: refused, whoever asks.
    assert_eq!(
        rcode_of_txt_question(relay, "marker.stubber.chat"),
        5,
        "between leases the relay answers REFUSED"
    );
    let journal_a = (mock_a.requests().len(), mock_a.dns_queries().len());

    // Scenario B, another domain, same lane.
    let b = request("other.chat", "scenario-b");
    let mock_b = MockGandi::builder()
        .seed(b.seed.clone())
        .start()
        .await
        .unwrap();
    let lease = source.acquire(mock_b.dns_addr()).await.unwrap();
    assert_eq!(lease.lane(), lane_a, "B borrows the lane A gave back");
    assert_eq!(
        lease.backend().directory_url(),
        directory,
        "the same Pebble"
    );
    let seen_from_b = txt_values("marker.stubber.chat.", relay).await;
    assert!(
        !format!("{seen_from_b:?}").contains("scenario-a"),
        "A's records are not served during B: {seen_from_b:?}"
    );
    assert_eq!(
        txt_values("marker.other.chat.", relay).await.unwrap(),
        vec!["scenario-b"]
    );
    let outcome_b = run_with(&b, &mock_b, lease.backend()).await;
    let issued = outcome_b.issued().expect("B issues");
    assert!(issued.problems.is_empty(), "{:?}", issued.problems);
    // Accounts: B made its own (Pebble counts one more), it did not reuse A's.
    let accounts_after_b = accounts_in_memory(&lease.backend().log().await.unwrap());
    assert!(accounts_after_a.is_some(), "Pebble logs its account count");
    assert_eq!(accounts_after_b, accounts_after_a.map(|n| n + 1));
    lease.release();

    // Journals: nothing of B in A's, nothing of A in B's; B's orders were validated against
    // B's mock (authorization reuse is off).
    assert_eq!(
        (mock_a.requests().len(), mock_a.dns_queries().len()),
        journal_a,
        "A's mock heard nothing during B"
    );
    assert!(
        outcome_b
            .requests
            .iter()
            .all(|r| !r.path.contains("stubber.chat"))
    );
    assert!(
        outcome_b
            .dns_queries
            .iter()
            .all(|q| !q.name.contains("_acme-challenge.stubber.chat")),
        "no question of A's validation reached B's mock"
    );
    assert!(
        outcome_b
            .dns_queries
            .iter()
            .any(|q| q.qtype == "TXT" && q.name.eq_ignore_ascii_case("_acme-challenge.other.chat")),
        "Pebble validated B against B's mock: {:?}",
        outcome_b.dns_queries
    );
    assert_eq!(lanes.stats().started, 1);
    assert_eq!(lanes.stats().leases, 2);

    // The end of a run: the set stops its idle lanes, Pebble and relay, before it is dropped.
    lanes.stop().await;
    let listen = listen_addr(&directory);
    assert!(
        std::net::TcpStream::connect(&listen).is_err(),
        "the stopped lane's Pebble no longer listens on {listen}"
    );
    assert!(
        std::net::UdpSocket::bind(relay).is_ok(),
        "the stopped lane's relay port {relay} is free again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_scenarios_on_one_process_lane_cannot_see_each_other() {
    back_to_back_on_one_lane(CaKind::Process).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_scenarios_on_one_container_lane_cannot_see_each_other() {
    back_to_back_on_one_lane(CaKind::Container).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_lane_and_an_abandoned_one_are_replaced() {
    if !harness::require::pebble(CaKind::Process).await {
        return;
    }
    let lanes = Lanes::new(CaKind::Process);
    let source = CaSource::Lanes(lanes.clone());
    let a = request("stubber.chat", "a");
    let mock = MockGandi::builder()
        .seed(a.seed.clone())
        .start()
        .await
        .unwrap();

    // A lease dropped unreleased (a scenario cancelled by its deadline): its Pebble is
    // stopped, the next lease gets a new lane.
    let lease = source.acquire(mock.dns_addr()).await.unwrap();
    let first = lease.lane();
    let listen = listen_addr(lease.backend().directory_url());
    drop(lease);
    assert!(
        std::net::TcpStream::connect(&listen).is_err(),
        "the abandoned lane's Pebble is stopped"
    );
    let lease = source.acquire(mock.dns_addr()).await.unwrap();
    let second = lease.lane();
    assert_ne!(second, first);
    assert_eq!(lanes.stats().replaced, 1);

    // A lane whose Pebble died while idle fails its check and is replaced.
    let listen = listen_addr(lease.backend().directory_url());
    lease.release();
    kill_listener(&listen);
    let lease = source.acquire(mock.dns_addr()).await.unwrap();
    assert_ne!(lease.lane(), second, "the dead lane is not lent");
    assert_eq!(lanes.stats().replaced, 2);
    let outcome = run_with(&a, &mock, lease.backend()).await;
    assert!(outcome.issued().is_some(), "{:?}", outcome.result);
    lease.release();
    assert_eq!(lanes.stats().started, 3);
}

/// The RCODE of the answer to a TXT question for `name`, asked over UDP.
fn rcode_of_txt_question(server: std::net::SocketAddr, name: &str) -> u8 {
    let mut question = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in name.split('.') {
        question.push(label.len() as u8);
        question.extend(label.as_bytes());
    }
    question.extend([0, 0, 16, 0, 1]);
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    socket.send_to(&question, server).unwrap();
    let mut buf = [0u8; 512];
    let (n, _) = socket.recv_from(&mut buf).expect("an answer");
    assert!(n >= 12 && buf[..2] == [0x12, 0x34] && buf[2] & 0x80 != 0);
    buf[3] & 0x0F
}

/// `127.0.0.1:P` of `https://127.0.0.1:P/dir`.
fn listen_addr(directory: &str) -> String {
    directory
        .trim_start_matches("https://")
        .trim_end_matches("/dir")
        .to_string()
}

/// SIGKILL to the process listening on `addr` (found with `ss`), and wait until it is gone.
fn kill_listener(addr: &str) {
    let port = addr.rsplit(':').next().unwrap();
    let out = std::process::Command::new("ss")
        .args(["-ltnpH", &format!("sport = :{port}")])
        .output()
        .expect("ss (iproute2)");
    let text = String::from_utf8_lossy(&out.stdout);
    let pid = text
        .split("pid=")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .unwrap_or_else(|| panic!("no process listens on {addr}: {text}"));
    let status = std::process::Command::new("kill")
        .args(["-KILL", pid])
        .status()
        .unwrap();
    assert!(status.success());
    for _ in 0..200 {
        if std::net::TcpStream::connect(addr).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("{addr} still answers after SIGKILL");
}
