//! Zone transfers over real sockets: TSIG keys, slaves and associations through LiveDNS on
//! both bases, then AXFR over TCP to listed slaves, with and without TSIG (checked by a TSIG
//! client of the tests' own, and by the real `dig`).

mod live_sockets;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;
use live_sockets::tsig::{Tsig, now, tsig_of, verify_answers};
use live_sockets::*;
use mock_gandi::MockGandi;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

#[tokio::test]
async fn tsig_keys_are_created_listed_shown_with_config_samples_on_both_bases() {
    let mock = start().await;
    for (base, (prefix, ..)) in BASES.iter().enumerate() {
        let (id, name, secret) = create_tsig(&mock, base).await;
        assert_eq!(STANDARD.decode(&secret).unwrap().len(), 32);
        let list = call(&mock, base, "GET", "/axfr/tsig", "").await;
        assert_eq!(list.status, 200);
        assert!(
            list.json()
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["id"] == id.as_str() && k["secret"] == secret.as_str())
        );
        let shown = call(&mock, base, "GET", &format!("/axfr/tsig/{id}"), "")
            .await
            .json();
        for software in ["bind", "knot", "nsd", "powerdns"] {
            let href = shown["config_samples"][software].as_str().unwrap();
            assert!(href.ends_with(&format!("{}/axfr/tsig/{id}/config/{software}", prefix)));
            let config = call(
                &mock,
                base,
                "GET",
                &format!("/axfr/tsig/{id}/config/{software}"),
                "",
            )
            .await;
            assert_eq!(config.status, 200);
            let text = config.json();
            let text = text.as_str().expect("a JSON string");
            assert!(
                text.contains(&name) && text.contains(&secret),
                "{software}: {text}"
            );
            assert!(text.contains("hmac-sha256"), "{software}: {text}");
        }
        let bind = call(
            &mock,
            base,
            "GET",
            &format!("/axfr/tsig/{id}/config/bind"),
            "",
        )
        .await
        .json();
        assert!(
            bind.as_str()
                .unwrap()
                .starts_with(&format!("key \"{name}\" {{"))
        );
        assert_eq!(
            call(
                &mock,
                base,
                "GET",
                &format!("/axfr/tsig/{id}/config/djbdns"),
                ""
            )
            .await
            .status,
            400
        );
        assert_eq!(
            call(&mock, base, "GET", "/axfr/tsig/no-such-key", "")
                .await
                .status,
            404
        );
    }
}

#[tokio::test]
async fn slaves_and_tsig_associations_are_kept_per_domain_on_both_bases() {
    let mock = start().await;
    for base in 0..2 {
        let slaves = "/domains/stubber.chat/axfr/slaves";
        let put = call(&mock, base, "PUT", &format!("{slaves}/192.0.2.1"), "").await;
        assert_eq!(put.status, 201, "{}", put.body);
        assert_eq!(
            call(&mock, base, "PUT", &format!("{slaves}/2001:db8::1"), "")
                .await
                .status,
            201
        );
        let list = call(&mock, base, "GET", slaves, "").await.json();
        assert_eq!(
            list,
            serde_json::json!(["192.0.2.1", "2001:0db8:0000:0000:0000:0000:0000:0001"])
        );
        assert_eq!(
            call(&mock, base, "PUT", &format!("{slaves}/not-an-ip"), "")
                .await
                .status,
            400
        );
        assert_eq!(
            call(&mock, base, "DELETE", &format!("{slaves}/192.0.2.1"), "")
                .await
                .status,
            204
        );
        assert_eq!(
            call(&mock, base, "DELETE", &format!("{slaves}/192.0.2.1"), "")
                .await
                .status,
            404
        );
        assert_eq!(
            call(&mock, base, "DELETE", &format!("{slaves}/2001:db8::1"), "")
                .await
                .status,
            204
        );
        assert_eq!(
            call(&mock, base, "GET", slaves, "").await.json(),
            serde_json::json!([])
        );

        let (id, name, _) = create_tsig(&mock, base).await;
        let tsig = "/domains/stubber.chat/axfr/tsig";
        assert_eq!(
            call(&mock, base, "PUT", &format!("{tsig}/{id}"), "")
                .await
                .status,
            201
        );
        let list = call(&mock, base, "GET", tsig, "").await.json();
        assert_eq!(list[0]["id"], id.as_str());
        assert_eq!(list[0]["key_name"], name.as_str());
        assert!(
            list[0]["href"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/domains/stubber.chat/axfr/tsig/{id}"))
        );
        assert!(list[0].get("secret").is_none());
        assert_eq!(
            call(&mock, base, "PUT", &format!("{tsig}/no-such-key"), "")
                .await
                .status,
            404
        );
        assert_eq!(
            call(&mock, base, "DELETE", &format!("{tsig}/{id}"), "")
                .await
                .status,
            204
        );
        assert_eq!(
            call(&mock, base, "DELETE", &format!("{tsig}/{id}"), "")
                .await
                .status,
            404
        );
        assert_eq!(
            call(&mock, base, "GET", tsig, "").await.json(),
            serde_json::json!([])
        );
        assert_eq!(
            call(
                &mock,
                base,
                "GET",
                "/domains/legacy.example/axfr/slaves",
                ""
            )
            .await
            .status,
            404
        );
    }
}

/// A transfer answer's messages, raw, read until the second SOA or an error rcode.
async fn transfer(stream: &mut TcpStream, packet: &[u8]) -> Vec<Vec<u8>> {
    let mut framed = (packet.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(packet);
    stream.write_all(&framed).await.unwrap();
    let mut messages = Vec::new();
    let mut soas = 0;
    while soas < 2 {
        let len = tokio::time::timeout(Duration::from_secs(5), stream.read_u16())
            .await
            .expect("no answer over tcp")
            .unwrap();
        let mut buf = vec![0u8; usize::from(len)];
        stream.read_exact(&mut buf).await.unwrap();
        let m = Message::from_vec(&buf).unwrap();
        soas += m
            .answers
            .iter()
            .filter(|r| r.record_type() == RecordType::SOA)
            .count();
        let failed = m.metadata.response_code != ResponseCode::NoError;
        messages.push(buf);
        if failed {
            break;
        }
    }
    messages
}

async fn connect_from(mock: &MockGandi, source: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    socket.connect(mock.dns_addr()).await.unwrap()
}

fn axfr(id: u16) -> Vec<u8> {
    query("stubber.chat.", RecordType::AXFR, id)
        .to_vec()
        .unwrap()
}

fn rcode(message: &[u8]) -> ResponseCode {
    Message::from_vec(message).unwrap().metadata.response_code
}

async fn add_slave(mock: &MockGandi, ip: &str) {
    let r = call(
        mock,
        0,
        "PUT",
        &format!("/domains/stubber.chat/axfr/slaves/{ip}"),
        "",
    )
    .await;
    assert_eq!(r.status, 201);
}

#[tokio::test]
async fn an_axfr_from_a_listed_slave_is_the_zone_with_the_soa_first_and_last() {
    let mock = start().await;
    add_slave(&mock, "127.0.0.1").await;
    create_key(&mock, 0, 257).await;
    let mut stream = connect_from(&mock, "127.0.0.1").await;
    let messages = transfer(&mut stream, &axfr(41)).await;
    let records: Vec<_> = messages
        .iter()
        .flat_map(|m| Message::from_vec(m).unwrap().answers)
        .collect();
    assert_eq!(rcode(&messages[0]), ResponseCode::NoError);
    assert_eq!(records.first().unwrap().record_type(), RecordType::SOA);
    assert_eq!(records.last().unwrap().record_type(), RecordType::SOA);
    let types: Vec<_> = records
        .iter()
        .map(|r| (r.name.to_string(), r.record_type()))
        .collect();
    for expected in [
        ("stubber.chat.", RecordType::NS),
        ("stubber.chat.", RecordType::DNSKEY),
        ("stubber.chat.", RecordType::A),
        ("www.stubber.chat.", RecordType::CNAME),
        ("_acme-challenge.stubber.chat.", RecordType::TXT),
    ] {
        assert!(
            types.contains(&(expected.0.to_string(), expected.1)),
            "{expected:?} in {types:?}"
        );
    }
    // The same connection still answers ordinary questions afterwards.
    let a = query("stubber.chat.", RecordType::A, 42).to_vec().unwrap();
    let mut framed = (a.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&a);
    stream.write_all(&framed).await.unwrap();
    let len = stream.read_u16().await.unwrap();
    let mut buf = vec![0u8; usize::from(len)];
    stream.read_exact(&mut buf).await.unwrap();
    let again = Message::from_vec(&buf).unwrap();
    assert_eq!(again.metadata.id, 42);
    assert_eq!(again.answers.len(), 1);
    let journal = mock.dns_queries();
    assert!(
        journal
            .iter()
            .any(|e| e.qtype == "AXFR" && e.rcode == "NOERROR" && e.transport == "tcp")
    );
}

#[tokio::test]
async fn an_axfr_from_an_unlisted_address_over_udp_or_for_a_legacy_zone_is_refused() {
    let mock = start().await;
    let mut stream = connect_from(&mock, "127.0.0.1").await;
    assert_eq!(
        rcode(&transfer(&mut stream, &axfr(1)).await[0]),
        ResponseCode::Refused
    );
    add_slave(&mock, "127.0.0.2").await;
    let mut stream = connect_from(&mock, "127.0.0.1").await;
    assert_eq!(
        rcode(&transfer(&mut stream, &axfr(2)).await[0]),
        ResponseCode::Refused
    );
    let mut listed = connect_from(&mock, "127.0.0.2").await;
    assert_eq!(
        rcode(&transfer(&mut listed, &axfr(3)).await[0]),
        ResponseCode::NoError
    );
    let udp_answer = udp(mock.dns_addr(), &axfr(4)).await;
    assert_eq!(udp_answer.metadata.response_code, ResponseCode::Refused);
    let legacy = query("legacy.example.", RecordType::AXFR, 5)
        .to_vec()
        .unwrap();
    assert_eq!(
        rcode(&transfer(&mut listed, &legacy).await[0]),
        ResponseCode::Refused
    );
    let below = query("www.stubber.chat.", RecordType::AXFR, 6)
        .to_vec()
        .unwrap();
    assert_eq!(
        rcode(&transfer(&mut listed, &below).await[0]),
        ResponseCode::NotAuth
    );
}

/// A slave at 127.0.0.1 with a TSIG key associated; answers the key.
async fn with_tsig(mock: &MockGandi) -> Tsig {
    add_slave(mock, "127.0.0.1").await;
    let (id, name, secret) = create_tsig(mock, 0).await;
    let r = call(
        mock,
        0,
        "PUT",
        &format!("/domains/stubber.chat/axfr/tsig/{id}"),
        "",
    )
    .await;
    assert_eq!(r.status, 201);
    Tsig {
        name,
        secret: STANDARD.decode(secret).unwrap(),
    }
}

/// The TSIG error of an answer's TSIG record, and its MAC length.
fn tsig_error(message: &[u8]) -> (u16, usize) {
    let tsig = tsig_of(message).expect("a TSIG record");
    (tsig.error.map_or(0, u16::from), tsig.mac.len())
}

#[tokio::test]
async fn with_a_tsig_key_an_unsigned_or_badly_signed_axfr_is_refused() {
    let mock = start().await;
    let key = with_tsig(&mock).await;
    let mut stream = connect_from(&mock, "127.0.0.1").await;
    assert_eq!(
        rcode(&transfer(&mut stream, &axfr(1)).await[0]),
        ResponseCode::Refused
    );

    let wrong = Tsig {
        name: key.name.clone(),
        secret: b"not the secret".to_vec(),
    };
    let (packet, _) = wrong.sign(&axfr(2));
    let answer = transfer(&mut stream, &packet).await;
    assert_eq!(rcode(&answer[0]), ResponseCode::NotAuth);
    assert_eq!(tsig_error(&answer[0]), (16, 0), "BADSIG, unsigned");

    let unknown = Tsig {
        name: "unknown.gandi.net".into(),
        secret: key.secret.clone(),
    };
    let (packet, _) = unknown.sign(&axfr(3));
    let answer = transfer(&mut stream, &packet).await;
    assert_eq!(rcode(&answer[0]), ResponseCode::NotAuth);
    assert_eq!(tsig_error(&answer[0]), (17, 0), "BADKEY, unsigned");

    // A key of the account that is not associated with the domain: refused, signed.
    let (_, other_name, other_secret) = create_tsig(&mock, 0).await;
    let other = Tsig {
        name: other_name,
        secret: STANDARD.decode(other_secret).unwrap(),
    };
    let (packet, _) = other.sign(&axfr(4));
    let answer = transfer(&mut stream, &packet).await;
    assert_eq!(rcode(&answer[0]), ResponseCode::Refused);
    assert_eq!(tsig_error(&answer[0]), (0, 32));

    // Signed an hour ago, beyond the fudge of 300 s: BADTIME, signed with the key.
    let (packet, _) = key.sign_at(&axfr(5), now() - 3600);
    let answer = transfer(&mut stream, &packet).await;
    assert_eq!(rcode(&answer[0]), ResponseCode::NotAuth);
    assert_eq!(tsig_error(&answer[0]), (18, 32));
    let other = tsig_of(&answer[0]).unwrap().other;
    assert_eq!(other.len(), 6, "the server's time");
}

#[tokio::test]
async fn a_correctly_signed_axfr_gets_the_zone_signed() {
    let mock = start().await;
    let key = with_tsig(&mock).await;
    let mut stream = connect_from(&mock, "127.0.0.1").await;
    let (packet, mac) = key.sign(&axfr(9));
    let messages = transfer(&mut stream, &packet).await;
    assert_eq!(rcode(&messages[0]), ResponseCode::NoError);
    let records: Vec<_> = messages
        .iter()
        .flat_map(|m| Message::from_vec(m).unwrap().answers)
        .collect();
    assert!(records.len() >= 6, "{records:?}");
    verify_answers(&key, &mac, &messages);
}

#[tokio::test]
async fn a_long_zone_is_sent_in_several_messages_each_signed() {
    let mock = start().await;
    let key = with_tsig(&mock).await;
    // 2,000 TXT rrsets of about 100 bytes each: more than one 64 KiB message holds.
    let items: Vec<String> = (0..2000)
        .map(|i| {
            format!(
                r#"{{"rrset_name": "n{i}", "rrset_type": "TXT", "rrset_values": ["{}"]}}"#,
                "x".repeat(80)
            )
        })
        .collect();
    let body = format!(r#"{{"items": [{}]}}"#, items.join(","));
    let put = call(&mock, 0, "PUT", "/domains/stubber.chat/records", &body).await;
    assert_eq!(put.status, 201, "{}", put.body);
    let mut stream = connect_from(&mock, "127.0.0.1").await;
    let (packet, mac) = key.sign(&axfr(10));
    let messages = transfer(&mut stream, &packet).await;
    assert!(messages.len() > 1, "{} messages", messages.len());
    let count: usize = messages
        .iter()
        .map(|m| Message::from_vec(m).unwrap().answers.len())
        .sum();
    assert!(count >= 2002, "{count} records");
    verify_answers(&key, &mac, &messages);
}

/// Whether `dig` is there; without it the test is skipped, except when
/// `GANDI_E2E_REQUIRE_ALL` is set (CI), where a skip would hide a gap.
fn dig_present() -> bool {
    let present = std::process::Command::new("dig")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if !present {
        mock_gandi::require::skip_or_fail("`dig`", "install bind9-dnsutils (ci/setup --tests)");
    }
    present
}

async fn dig(mock: &MockGandi, tsig: Option<String>) -> String {
    let addr = mock.dns_addr();
    let mut command = tokio::process::Command::new("dig");
    command
        .args(["-p", &addr.port().to_string(), &format!("@{}", addr.ip())])
        .args(["-b", "127.0.0.1", "+time=5", "+tries=1"])
        .kill_on_drop(true);
    if let Some(tsig) = tsig {
        command.args(["-y", &tsig]);
    }
    command.args(["stubber.chat", "AXFR"]);
    let out = tokio::time::timeout(Duration::from_secs(20), command.output())
        .await
        .expect("dig finishes")
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[tokio::test]
async fn dig_transfers_the_zone_with_the_tsig_key_and_fails_without_it() {
    if !dig_present() {
        return;
    }
    let mock = start().await;
    let key = with_tsig(&mock).await;
    let secret = STANDARD.encode(&key.secret);
    let good = dig(&mock, Some(format!("hmac-sha256:{}:{secret}", key.name))).await;
    assert!(good.contains("www.stubber.chat."), "{good}");
    assert_eq!(good.matches("\tSOA\t").count(), 2, "{good}");
    assert!(!good.contains("failed"), "{good}");
    let wrong = STANDARD.encode(b"0123456789abcdef0123456789abcdef");
    let bad = dig(&mock, Some(format!("hmac-sha256:{}:{wrong}", key.name))).await;
    assert!(!bad.contains("www.stubber.chat."), "{bad}");
    assert!(bad.contains("failed") || bad.contains("tsig"), "{bad}");
    let unsigned = dig(&mock, None).await;
    assert!(unsigned.contains("Transfer failed"), "{unsigned}");
}
