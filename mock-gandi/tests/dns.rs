//! The authoritative DNS server, over real UDP and TCP packets.

mod common;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use mock_gandi::MockGandi;
use mock_gandi::store::{Fqdn, RecordType as StoreType, RelName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

const SEED: &str = r#"
[[domain]]
fqdn = "stubber.chat"
[[domain.record]]
name = "@"
type = "A"
ttl = 300
values = ["192.0.2.10"]
[[domain.record]]
name = "_acme-challenge"
type = "TXT"
ttl = 300
values = ["apex-token", "wildcard-token"]
[[domain.record]]
name = "_acme-challenge.deep"
type = "TXT"
ttl = 300
values = ["deep-token"]
[[domain.record]]
name = "*.wild"
type = "A"
ttl = 600
values = ["192.0.2.20"]
[[domain.record]]
name = "www"
type = "CNAME"
ttl = 300
values = ["@"]
[[domain.record]]
name = "mail"
type = "MX"
ttl = 300
values = ["10 mx.stubber.chat."]

[[domain]]
fqdn = "legacy.example"
dns = "legacy"
[[domain.record]]
name = "@"
type = "A"
ttl = 300
values = ["198.51.100.7"]
"#;

async fn start() -> MockGandi {
    start_with("").await
}

fn query_with(name: &str, rtype: RecordType, id: u16, edns: Option<u16>) -> Vec<u8> {
    let mut m = Message::new(id, MessageType::Query, OpCode::Query);
    m.metadata.recursion_desired = true;
    m.add_query(Query::query(Name::from_str(name).unwrap(), rtype));
    if let Some(size) = edns {
        let mut e = Edns::new();
        e.set_max_payload(size);
        m.set_edns(e);
    }
    m.to_vec().unwrap()
}

fn query(name: &str, rtype: RecordType) -> Vec<u8> {
    query_with(name, rtype, 4242, None)
}

/// Sends one datagram; the answer, or `None` if none came within `wait`.
async fn udp_maybe(addr: SocketAddr, packet: &[u8], wait: Duration) -> Option<Message> {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.send_to(packet, addr).await.unwrap();
    let mut buf = vec![0u8; 65_535];
    let (n, _) = tokio::time::timeout(wait, socket.recv_from(&mut buf))
        .await
        .ok()?
        .unwrap();
    Some(Message::from_vec(&buf[..n]).unwrap())
}

async fn udp(addr: SocketAddr, packet: &[u8]) -> Message {
    udp_maybe(addr, packet, Duration::from_secs(5))
        .await
        .expect("no answer over udp")
}

async fn tcp_exchange(stream: &mut TcpStream, packet: &[u8]) -> Message {
    let mut framed = (packet.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(packet);
    stream.write_all(&framed).await.unwrap();
    let len = stream.read_u16().await.unwrap();
    let mut buf = vec![0u8; usize::from(len)];
    stream.read_exact(&mut buf).await.unwrap();
    Message::from_vec(&buf).unwrap()
}

async fn tcp(addr: SocketAddr, packet: &[u8]) -> Message {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), tcp_exchange(&mut stream, packet))
        .await
        .expect("no answer over tcp")
}

fn txts(m: &Message) -> Vec<String> {
    let mut out = common::wire::txt_strings(m);
    out.sort();
    out
}

fn authority_is_soa(m: &Message) {
    assert_eq!(m.authorities.len(), 1, "{m}");
    assert_eq!(m.authorities[0].record_type(), RecordType::SOA);
    assert_eq!(
        m.authorities[0].name,
        Name::from_str("stubber.chat.").unwrap()
    );
}

#[tokio::test]
async fn an_a_record_is_answered_authoritatively_over_udp_and_tcp() {
    let mock = start().await;
    for m in [
        udp(mock.dns_addr(), &query("stubber.chat.", RecordType::A)).await,
        tcp(mock.dns_addr(), &query("stubber.chat.", RecordType::A)).await,
    ] {
        assert_eq!(m.metadata.id, 4242);
        assert_eq!(m.metadata.response_code, ResponseCode::NoError);
        assert!(m.metadata.authoritative);
        assert!(m.metadata.recursion_desired);
        assert!(!m.metadata.recursion_available);
        assert_eq!(m.answers.len(), 1);
        assert_eq!(m.answers[0].ttl, 300);
        assert_eq!(m.answers[0].data, RData::A("192.0.2.10".parse().unwrap()));
    }
}

#[tokio::test]
async fn every_txt_value_at_acme_challenge_is_answered_for_apex_and_wildcard_orders() {
    let mock = start().await;
    let m = udp(
        mock.dns_addr(),
        &query("_acme-challenge.stubber.chat.", RecordType::TXT),
    )
    .await;
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert_eq!(txts(&m), vec!["apex-token", "wildcard-token"]);
}

#[tokio::test]
async fn the_apex_has_a_synthesized_soa_and_ns() {
    let mock = start().await;
    let soa = udp(mock.dns_addr(), &query("stubber.chat.", RecordType::SOA)).await;
    assert_eq!(soa.answers.len(), 1);
    let RData::SOA(s) = &soa.answers[0].data else {
        panic!("not an SOA: {soa}");
    };
    assert_eq!(s.mname, Name::from_str("ns1.mock-gandi.test.").unwrap());
    assert_eq!(s.minimum, 300);
    let ns = udp(mock.dns_addr(), &query("stubber.chat.", RecordType::NS)).await;
    let names: Vec<String> = ns.answers.iter().map(|r| r.data.to_string()).collect();
    assert_eq!(names, vec!["ns1.mock-gandi.test.", "ns2.mock-gandi.test."]);
}

#[tokio::test]
async fn a_missing_name_is_nxdomain_with_the_soa_in_authority() {
    let mock = start().await;
    let m = udp(mock.dns_addr(), &query("nope.stubber.chat.", RecordType::A)).await;
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    assert!(m.metadata.authoritative);
    assert!(m.answers.is_empty());
    authority_is_soa(&m);
}

#[tokio::test]
async fn a_missing_type_is_nodata_with_the_soa_in_authority() {
    let mock = start().await;
    let m = udp(mock.dns_addr(), &query("stubber.chat.", RecordType::AAAA)).await;
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert!(m.answers.is_empty());
    authority_is_soa(&m);
}

#[tokio::test]
async fn an_empty_non_terminal_is_nodata_not_nxdomain() {
    let mock = start().await;
    let m = udp(
        mock.dns_addr(),
        &query("deep.stubber.chat.", RecordType::TXT),
    )
    .await;
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert!(m.answers.is_empty());
    authority_is_soa(&m);
}

#[tokio::test]
async fn a_wildcard_answers_for_names_below_it_under_the_name_asked() {
    let mock = start().await;
    let m = udp(
        mock.dns_addr(),
        &query("any.wild.stubber.chat.", RecordType::A),
    )
    .await;
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert_eq!(m.answers.len(), 1);
    assert_eq!(
        m.answers[0].name,
        Name::from_str("any.wild.stubber.chat.").unwrap()
    );
    assert_eq!(m.answers[0].data, RData::A("192.0.2.20".parse().unwrap()));
}

#[tokio::test]
async fn a_cname_is_answered_and_chased_within_the_zone() {
    let mock = start().await;
    let m = udp(mock.dns_addr(), &query("www.stubber.chat.", RecordType::A)).await;
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    let types: Vec<RecordType> = m.answers.iter().map(|r| r.record_type()).collect();
    assert_eq!(types, vec![RecordType::CNAME, RecordType::A]);
}

#[tokio::test]
async fn a_name_outside_every_zone_is_refused() {
    let mock = start().await;
    let m = udp(mock.dns_addr(), &query("example.org.", RecordType::A)).await;
    assert_eq!(m.metadata.response_code, ResponseCode::Refused);
    assert!(!m.metadata.authoritative);
}

#[tokio::test]
async fn names_match_in_any_case_and_the_question_is_echoed_as_asked() {
    let mock = start().await;
    let asked = "_ACME-Challenge.StUbBeR.CHAT.";
    let m = udp(mock.dns_addr(), &query(asked, RecordType::TXT)).await;
    assert_eq!(txts(&m), vec!["apex-token", "wildcard-token"]);
    assert!(m.queries[0].name.eq_case(&Name::from_str(asked).unwrap()));
}

#[tokio::test]
async fn a_write_to_the_store_is_answered_by_the_very_next_query() {
    let mock = start().await;
    let zone = Fqdn::parse("stubber.chat").unwrap();
    let name = RelName::parse("_acme-challenge").unwrap();
    mock.store()
        .write(|s| s.put_rrset(&zone, &name, StoreType::Txt, Some(300), &["fresh".into()]))
        .unwrap();
    let m = udp(
        mock.dns_addr(),
        &query("_acme-challenge.stubber.chat.", RecordType::TXT),
    )
    .await;
    assert_eq!(txts(&m), vec!["fresh"]);
    mock.store()
        .write(|s| s.delete_rrset(&zone, &name, StoreType::Txt))
        .unwrap();
    let m = udp(
        mock.dns_addr(),
        &query("_acme-challenge.stubber.chat.", RecordType::TXT),
    )
    .await;
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
}

#[tokio::test]
async fn a_legacy_domain_is_answered_from_its_legacy_zone_not_its_rrsets() {
    let mock = start().await;
    let zone = Fqdn::parse("legacy.example").unwrap();
    // A LiveDNS write to a legacy domain does not reach DNS, as on the real platform.
    mock.store()
        .write(|s| {
            s.put_rrset(
                &zone,
                &RelName::apex(),
                StoreType::A,
                Some(300),
                &["203.0.113.99".into()],
            )
        })
        .unwrap();
    let m = udp(mock.dns_addr(), &query("legacy.example.", RecordType::A)).await;
    assert_eq!(m.answers.len(), 1);
    assert_eq!(m.answers[0].data, RData::A("198.51.100.7".parse().unwrap()));
}

#[tokio::test]
async fn a_large_udp_answer_is_truncated_and_complete_over_tcp() {
    let mock = start().await;
    let zone = Fqdn::parse("stubber.chat").unwrap();
    let values: Vec<String> = (0..40)
        .map(|i| format!("{i:02}-{}", "x".repeat(60)))
        .collect();
    mock.store()
        .write(|s| {
            s.put_rrset(
                &zone,
                &RelName::parse("big").unwrap(),
                StoreType::Txt,
                Some(300),
                &values,
            )
        })
        .unwrap();
    let packet = query("big.stubber.chat.", RecordType::TXT);
    let m = udp(mock.dns_addr(), &packet).await;
    assert!(m.metadata.truncation);
    assert_eq!(m.queries.len(), 1);
    assert!(m.answers.is_empty());
    // With EDNS the limit is larger (1232) but still too small.
    let m = udp(
        mock.dns_addr(),
        &query_with("big.stubber.chat.", RecordType::TXT, 7, Some(4096)),
    )
    .await;
    assert!(m.metadata.truncation);
    assert!(m.edns.is_some());
    let m = tcp(mock.dns_addr(), &packet).await;
    assert!(!m.metadata.truncation);
    assert_eq!(m.answers.len(), 40);
}

#[tokio::test]
async fn a_txt_value_longer_than_255_bytes_is_split_in_character_strings() {
    let mock = start().await;
    let zone = Fqdn::parse("stubber.chat").unwrap();
    let long = "k".repeat(600);
    mock.store()
        .write(|s| {
            s.put_rrset(
                &zone,
                &RelName::parse("dkim").unwrap(),
                StoreType::Txt,
                Some(300),
                std::slice::from_ref(&long),
            )
        })
        .unwrap();
    let m = tcp(
        mock.dns_addr(),
        &query("dkim.stubber.chat.", RecordType::TXT),
    )
    .await;
    let RData::TXT(t) = &m.answers[0].data else {
        panic!("{m}")
    };
    let sizes: Vec<usize> = t.txt_data.iter().map(|s| s.len()).collect();
    assert_eq!(sizes, vec![255, 255, 90]);
    assert_eq!(txts(&m), vec![long]);
}

#[tokio::test]
async fn edns_in_the_query_gets_an_opt_record_in_the_answer() {
    let mock = start().await;
    let m = udp(
        mock.dns_addr(),
        &query_with("stubber.chat.", RecordType::A, 9, Some(4096)),
    )
    .await;
    let edns = m.edns.expect("no OPT in the answer");
    assert_eq!(edns.max_payload(), 1232);
    assert_eq!(edns.version(), 0);
    let plain = udp(mock.dns_addr(), &query("stubber.chat.", RecordType::A)).await;
    assert!(plain.edns.is_none());
}

#[tokio::test]
async fn three_concurrent_identical_queries_are_all_answered() {
    let mock = start().await;
    let addr = mock.dns_addr();
    let packet = query("_acme-challenge.stubber.chat.", RecordType::TXT);
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            let p = packet.clone();
            tokio::spawn(async move { udp(addr, &p).await })
        })
        .collect();
    for t in tasks {
        let m = t.await.unwrap();
        assert_eq!(txts(&m), vec!["apex-token", "wildcard-token"]);
    }
}

#[tokio::test]
async fn a_burst_of_two_thousand_queries_is_all_answered() {
    let mock = start().await;
    let addr = mock.dns_addr();
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.connect(addr).await.unwrap();
    const TOTAL: u16 = 2000;
    // At most this many in flight, so that the kernel's default receive buffers (about
    // 200 KB) hold them all even if the server stalls for a moment.
    const WINDOW: u16 = 32;
    let mut answered = HashSet::new();
    let mut sent = 0u16;
    let mut buf = vec![0u8; 4096];
    while answered.len() < usize::from(TOTAL) {
        while sent < TOTAL && sent - (answered.len() as u16) < WINDOW {
            socket
                .send(&query_with(
                    "_acme-challenge.stubber.chat.",
                    RecordType::TXT,
                    sent,
                    None,
                ))
                .await
                .unwrap();
            sent += 1;
        }
        let n = tokio::time::timeout(Duration::from_secs(5), socket.recv(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("{} of {TOTAL} answered", answered.len()))
            .unwrap();
        let m = Message::from_vec(&buf[..n]).unwrap();
        assert_eq!(m.answers.len(), 2);
        answered.insert(m.metadata.id);
    }
    assert_eq!(answered.len(), usize::from(TOTAL));
}

#[tokio::test]
async fn several_queries_share_one_tcp_connection() {
    let mock = start().await;
    let mut stream = TcpStream::connect(mock.dns_addr()).await.unwrap();
    for id in 0..5 {
        let m = tcp_exchange(
            &mut stream,
            &query_with("stubber.chat.", RecordType::A, id, None),
        )
        .await;
        assert_eq!(m.metadata.id, id);
        assert_eq!(m.answers.len(), 1);
    }
}

#[tokio::test]
async fn a_silent_tcp_client_does_not_block_others() {
    let mock = start().await;
    let _silent = TcpStream::connect(mock.dns_addr()).await.unwrap();
    let mut half = TcpStream::connect(mock.dns_addr()).await.unwrap();
    half.write_all(&[0, 40, 1, 2]).await.unwrap();
    let m = tcp(mock.dns_addr(), &query("stubber.chat.", RecordType::A)).await;
    assert_eq!(m.answers.len(), 1);
}

fn header(id: u16, qdcount: u16) -> Vec<u8> {
    let mut h = id.to_be_bytes().to_vec();
    h.extend_from_slice(&[0x01, 0x00]);
    h.extend_from_slice(&qdcount.to_be_bytes());
    h.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    h
}

#[tokio::test]
async fn malformed_packets_get_formerr_or_nothing_and_the_server_keeps_answering() {
    let mock = start().await;
    let addr = mock.dns_addr();
    let mut garbage = header(1, 1);
    garbage.extend_from_slice(&[0xff; 20]);
    let mut pointer_loop = header(2, 1);
    pointer_loop.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
    let mut huge_label = header(3, 1);
    huge_label.push(63);
    huge_label.extend_from_slice(&[b'a'; 63]);
    huge_label.push(200);
    huge_label.extend_from_slice(&[b'b'; 200]);
    huge_label.extend_from_slice(&[0, 0, 1, 0, 1]);
    let mut too_long = header(4, 1);
    for _ in 0..5 {
        too_long.push(63);
        too_long.extend_from_slice(&[b'c'; 63]);
    }
    too_long.extend_from_slice(&[0, 0, 1, 0, 1]);
    let mut trailing = query_with("stubber.chat.", RecordType::A, 5, None);
    trailing.extend_from_slice(b"junk");
    let mut two_questions = header(6, 2);
    for _ in 0..2 {
        two_questions.extend_from_slice(&[7, b's', b't', b'u', b'b', b'b', b'e', b'r']);
        two_questions.extend_from_slice(&[4, b'c', b'h', b'a', b't', 0, 0, 1, 0, 1]);
    }
    let packets: Vec<Vec<u8>> = vec![
        vec![],
        vec![0],
        header(7, 1)[..11].to_vec(),
        header(8, 1),
        garbage,
        pointer_loop,
        huge_label,
        too_long,
        trailing,
        two_questions,
    ];
    for packet in &packets {
        if packet.len() < 12 {
            // No header, no id to answer with: dropped.
            let reply = udp_maybe(addr, packet, Duration::from_millis(300)).await;
            assert!(reply.is_none(), "{packet:?}");
        } else {
            let m = udp(addr, packet).await;
            assert_eq!(
                m.metadata.response_code,
                ResponseCode::FormErr,
                "{packet:?}"
            );
            assert_eq!(m.metadata.message_type, MessageType::Response);
        }
        let m = udp(addr, &query("stubber.chat.", RecordType::A)).await;
        assert_eq!(m.answers.len(), 1);
    }
    // Over TCP a packet without a header closes the connection; others keep it open.
    let m = tcp(addr, &packets[4]).await;
    assert_eq!(m.metadata.response_code, ResponseCode::FormErr);
}

#[tokio::test]
async fn every_query_is_journaled_as_asked() {
    let mock = start().await;
    udp(
        mock.dns_addr(),
        &query("_ACME-challenge.stubber.chat.", RecordType::TXT),
    )
    .await;
    tcp(mock.dns_addr(), &query("nope.stubber.chat.", RecordType::A)).await;
    let journal = mock.dns_queries();
    assert_eq!(journal.len(), 2);
    assert_eq!(journal[0].transport, "udp");
    assert_eq!(journal[0].name, "_ACME-challenge.stubber.chat");
    assert_eq!(journal[0].qtype, "TXT");
    assert_eq!(journal[0].rcode, "NOERROR");
    assert_eq!(
        journal[0].answers,
        vec!["\"apex-token\"", "\"wildcard-token\""]
    );
    assert_eq!(journal[1].transport, "tcp");
    assert_eq!(journal[1].rcode, "NXDOMAIN");
}

#[tokio::test]
async fn the_admin_resolve_endpoint_shows_what_dns_answers() {
    let mock = start().await;
    let mut stream = TcpStream::connect(mock.api_addr()).await.unwrap();
    stream
        .write_all(
            b"GET /_mock/resolve?name=_acme-challenge.stubber.chat&type=TXT HTTP/1.0\r\n\r\n",
        )
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let body = response.split("\r\n\r\n").nth(1).unwrap();
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(json["rcode"], "NOERROR");
    assert_eq!(json["type"], "TXT");
    assert_eq!(json["answers"][0]["data"], "\"apex-token\"");
    assert_eq!(json["answers"][0]["name"], "_acme-challenge.stubber.chat");
    assert_eq!(json["answers"][1]["ttl"], 300);
    // Resolving is not a query: the journal stays empty.
    assert!(mock.dns_queries().is_empty());
}

#[tokio::test]
async fn the_nameservers_every_zone_names_resolve_to_the_mock_itself() {
    // A client checking the authoritative nameservers (lego's propagation check) asks NS,
    // then the address of each name, then asks them: they must lead back here.
    let mock = start().await;
    for ns in ["ns1.mock-gandi.test.", "NS2.mock-gandi.test."] {
        let m = udp(mock.dns_addr(), &query(ns, RecordType::A)).await;
        assert_eq!(m.metadata.response_code, ResponseCode::NoError, "{ns}");
        assert!(m.metadata.authoritative);
        assert_eq!(
            m.answers.iter().map(|r| r.data.clone()).collect::<Vec<_>>(),
            vec![RData::A(match mock.dns_addr().ip() {
                std::net::IpAddr::V4(ip) => ip.into(),
                other => panic!("{other}"),
            })]
        );
    }
    // The zone has its SOA and NS like any other; other names in it do not exist.
    let m = udp(mock.dns_addr(), &query("mock-gandi.test.", RecordType::NS)).await;
    assert_eq!(m.answers.len(), 2);
    let m = udp(
        mock.dns_addr(),
        &query("ns3.mock-gandi.test.", RecordType::A),
    )
    .await;
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    // The address is configurable (a mock behind a NAT, a sandbox on port 53).
    let other = MockGandi::builder()
        .nameserver_ip("192.0.2.53".parse().unwrap())
        .start()
        .await
        .unwrap();
    let m = udp(
        other.dns_addr(),
        &query("ns1.mock-gandi.test.", RecordType::A),
    )
    .await;
    assert_eq!(m.answers[0].data, RData::A("192.0.2.53".parse().unwrap()));
}

#[tokio::test]
async fn a_cname_into_another_zone_the_mock_serves_is_followed_there() {
    // The CA's resolver follows a delegated challenge into its target zone; Pebble asks the
    // mock alone and follows nothing, so the mock answers as that resolver would.
    let mock = MockGandi::builder()
        .seed_text(
            r#"
[[domain]]
fqdn = "stubber.chat"
[[domain.record]]
name = "_acme-challenge"
type = "CNAME"
values = ["_acme-challenge.delegate.chat."]
[[domain.record]]
name = "_acme-challenge.away"
type = "CNAME"
values = ["_acme-challenge.example.org."]
[[domain]]
fqdn = "delegate.chat"
[[domain.record]]
name = "_acme-challenge"
type = "TXT"
values = ["delegated-token"]
"#,
        )
        .unwrap()
        .start()
        .await
        .unwrap();
    let m = udp(
        mock.dns_addr(),
        &query("_acme-challenge.stubber.chat.", RecordType::TXT),
    )
    .await;
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert_eq!(m.answers.len(), 2, "{:?}", m.answers);
    assert_eq!(m.answers[0].record_type(), RecordType::CNAME);
    assert_eq!(txts(&m), vec!["delegated-token"]);
    // Asked for the CNAME itself, the CNAME alone (what lego's lookup reads).
    let m = udp(
        mock.dns_addr(),
        &query("_acme-challenge.stubber.chat.", RecordType::CNAME),
    )
    .await;
    assert_eq!(m.answers.len(), 1);
    // A target outside every zone the mock serves: the CNAME alone, as before.
    let m = udp(
        mock.dns_addr(),
        &query("_acme-challenge.away.stubber.chat.", RecordType::TXT),
    )
    .await;
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert_eq!(m.answers.len(), 1);
}

// DNS fault rules, over real packets.

async fn start_with(rules: &str) -> MockGandi {
    MockGandi::builder()
        .seed_text(&format!("{SEED}\n{rules}"))
        .unwrap()
        .start()
        .await
        .unwrap()
}

const CHALLENGE: &str = "_acme-challenge.stubber.chat.";

#[tokio::test]
async fn a_dropped_query_gets_no_answer_and_the_next_is_answered() {
    let mock = start_with(
        "[[dns_fault]]\nname = \"_acme-challenge.stubber.chat\"\ntype = \"TXT\"\ntimes = 1\ndrop = true\n",
    )
    .await;
    let packet = query(CHALLENGE, RecordType::TXT);
    assert!(
        udp_maybe(mock.dns_addr(), &packet, Duration::from_millis(400))
            .await
            .is_none()
    );
    let second = udp(mock.dns_addr(), &packet).await;
    assert_eq!(txts(&second), vec!["apex-token", "wildcard-token"]);
    // Another name is not the rule's.
    assert!(
        !udp(mock.dns_addr(), &query("stubber.chat.", RecordType::A))
            .await
            .answers
            .is_empty()
    );
    let journal = mock.dns_queries();
    let seen: Vec<(&str, Option<u32>)> = journal
        .iter()
        .map(|q| (q.rcode.as_str(), q.fault))
        .collect();
    assert_eq!(
        seen,
        vec![("DROPPED", Some(1)), ("NOERROR", None), ("NOERROR", None)]
    );
    // Over TCP a dropped query closes the connection.
    let tcp_mock = start_with("[[dns_fault]]\ntransport = \"tcp\"\ndrop = true\n").await;
    let mut stream = TcpStream::connect(tcp_mock.dns_addr()).await.unwrap();
    let mut framed = (packet.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&packet);
    stream.write_all(&framed).await.unwrap();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
    assert!(
        matches!(read, Ok(Ok(0))),
        "closed without an answer: {read:?} {rest:?}"
    );
}

#[tokio::test]
async fn a_rule_answers_another_rcode_or_truncates_udp_so_tcp_is_asked() {
    let mock = start_with(
        "[[dns_fault]]\ntype = \"SOA\"\nnth = 1\nrcode = \"servfail\"\n\n\
         [[dns_fault]]\nname = \"_acme-challenge.*\"\ntruncate = true\n",
    )
    .await;
    let soa = udp(mock.dns_addr(), &query("stubber.chat.", RecordType::SOA)).await;
    assert_eq!(soa.metadata.response_code, ResponseCode::ServFail);
    assert!(soa.answers.is_empty());
    let again = udp(mock.dns_addr(), &query("stubber.chat.", RecordType::SOA)).await;
    assert_eq!(again.metadata.response_code, ResponseCode::NoError);
    let cut = udp(mock.dns_addr(), &query(CHALLENGE, RecordType::TXT)).await;
    assert!(cut.metadata.truncation && cut.answers.is_empty(), "{cut:?}");
    let whole = tcp(mock.dns_addr(), &query(CHALLENGE, RecordType::TXT)).await;
    assert!(!whole.metadata.truncation);
    assert_eq!(txts(&whole), vec!["apex-token", "wildcard-token"]);
    let rcodes: Vec<(String, &str, Option<u32>)> = mock
        .dns_queries()
        .iter()
        .map(|q| (q.rcode.clone(), q.transport, q.fault))
        .collect();
    assert_eq!(
        rcodes,
        vec![
            ("SERVFAIL".to_string(), "udp", Some(1)),
            ("NOERROR".to_string(), "udp", None),
            ("NOERROR".to_string(), "udp", Some(2)),
            ("NOERROR".to_string(), "tcp", None),
        ]
    );
}

#[tokio::test]
async fn a_late_answer_does_not_hold_up_the_others() {
    let mock =
        start_with("[[dns_fault]]\nname = \"_acme-challenge.stubber.chat\"\ndelay_ms = 600\n")
            .await;
    let started = std::time::Instant::now();
    let late = tokio::spawn({
        let addr = mock.dns_addr();
        async move { udp(addr, &query(CHALLENGE, RecordType::TXT)).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    udp(mock.dns_addr(), &query("stubber.chat.", RecordType::A)).await;
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "the other answer waited"
    );
    let late = late.await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(600));
    assert_eq!(txts(&late).len(), 2);
}

#[tokio::test]
async fn dns_rules_are_armed_listed_and_disarmed_through_the_admin_api() {
    let mock = start().await;
    let client = |method: &str, body: &str| {
        let (addr, method, body) = (mock.api_addr(), method.to_string(), body.to_string());
        async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            let request = format!(
                "{method} /_mock/dns/faults HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            s.write_all(request.as_bytes()).await.unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            out
        }
    };
    let armed = client(
        "POST",
        r#"{"name": "stubber.chat", "type": "A", "rcode": "REFUSED"}"#,
    )
    .await;
    assert!(armed.starts_with("HTTP/1.1 201"), "{armed}");
    assert!(armed.ends_with(r#"{"numbers":[1]}"#), "{armed}");
    let refused = udp(mock.dns_addr(), &query("stubber.chat.", RecordType::A)).await;
    assert_eq!(refused.metadata.response_code, ResponseCode::Refused);
    let listed = client("GET", "").await;
    assert!(
        listed.contains(r#""matched":1"#) && listed.contains(r#""rcode":"REFUSED""#),
        "{listed}"
    );
    let bad = client("POST", r#"{"rcode": "NOERROR"}"#).await;
    assert!(
        bad.starts_with("HTTP/1.1 400") && bad.contains("rcode"),
        "{bad}"
    );
    assert!(client("DELETE", "").await.starts_with("HTTP/1.1 204"));
    let answered = udp(mock.dns_addr(), &query("stubber.chat.", RecordType::A)).await;
    assert_eq!(answered.metadata.response_code, ResponseCode::NoError);
}
