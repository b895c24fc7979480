//! DNSSEC keys and zone transfers over real sockets: the LiveDNS endpoints on both bases, the
//! DNSKEY the DNS server then answers, and AXFR over TCP to listed slaves, with and without
//! TSIG (checked by a TSIG implementation of its own here, and by the real `dig`).

mod common;

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::TSIG;
use hickory_proto::rr::{Name, RData, RecordType};
use mock_gandi::MockGandi;
use ring::hmac;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream, UdpSocket};

const SEED: &str = r#"
[[domain]]
fqdn = "stubber.chat"
[[domain.record]]
name = "@"
type = "A"
ttl = 300
values = ["192.0.2.10"]
[[domain.record]]
name = "www"
type = "CNAME"
ttl = 300
values = ["@"]
[[domain.record]]
name = "_acme-challenge"
type = "TXT"
ttl = 300
values = ["token"]

[[domain]]
fqdn = "legacy.example"
dns = "legacy"

[[credential]]
kind = "pat"
secret = "0123456789abcdef0123456789abcdef01234567"

[[credential]]
kind = "apikey"
secret = "AbCdEfGhIjKlMnOpQrStUvWx"
"#;

const APIKEY: &str = "AbCdEfGhIjKlMnOpQrStUvWx";

async fn start() -> MockGandi {
    MockGandi::builder()
        .seed_text(SEED)
        .unwrap()
        .start()
        .await
        .unwrap()
}

/// The two bases and how each authenticates.
const BASES: [(&str, &str, &str); 2] = [
    (
        "/v5/livedns",
        "Authorization",
        "Bearer 0123456789abcdef0123456789abcdef01234567",
    ),
    ("/api/v5", "X-Api-Key", APIKEY),
];

/// An answer over a real socket: status, headers (lowercase names), body.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request on its own connection to the mock's API listener.
async fn call(mock: &MockGandi, base: usize, method: &str, path: &str, body: &str) -> Reply {
    let (prefix, header, value) = BASES[base];
    let mut s = TcpStream::connect(mock.api_addr()).await.unwrap();
    let request = format!(
        "{method} {prefix}{path} HTTP/1.1\r\nHost: localhost\r\n{header}: {value}\r\n\
         Content-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_string(),
    }
}

fn key_tag(rdata: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for (i, b) in rdata.iter().enumerate() {
        sum += if i % 2 == 0 {
            u32::from(*b) << 8
        } else {
            u32::from(*b)
        };
    }
    sum += (sum >> 16) & 0xffff;
    (sum & 0xffff) as u16
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates a key with `flags` on `base`; answers its id (from `Location`).
async fn create_key(mock: &MockGandi, base: usize, flags: u16) -> String {
    let r = call(
        mock,
        base,
        "POST",
        "/domains/stubber.chat/keys",
        &format!(r#"{{"flags": {flags}}}"#),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.json()["message"].is_string());
    let location = r.header("location").unwrap().to_string();
    assert!(location.contains(&format!("{}/domains/stubber.chat/keys/", BASES[base].0)));
    location.rsplit('/').next().unwrap().to_string()
}

#[tokio::test]
async fn dnssec_keys_are_created_listed_shown_deleted_and_undeleted_on_both_bases() {
    let mock = start().await;
    for base in 0..2 {
        let id = create_key(&mock, base, 257).await;
        let list = call(&mock, base, "GET", "/domains/stubber.chat/keys", "").await;
        assert_eq!(list.status, 200);
        let item = list
            .json()
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["id"] == id.as_str())
            .cloned()
            .expect("the new key is listed");
        assert_eq!(item["algorithm"], 13);
        assert_eq!(item["algorithm_name"], "ECDSAP256SHA256");
        assert_eq!(item["flags"], 257);
        assert_eq!(item["deleted"], false);
        assert_eq!(item["status"], "active");
        assert_eq!(item["fqdn"], "stubber.chat");

        let shown = call(
            &mock,
            base,
            "GET",
            &format!("/domains/stubber.chat/keys/{id}"),
            "",
        )
        .await;
        assert_eq!(shown.status, 200);
        let shown = shown.json();
        let public = STANDARD
            .decode(shown["public_key"].as_str().unwrap())
            .unwrap();
        assert_eq!(public.len(), 64);
        // The tag and the DS, computed here from the key Gandi shows.
        let mut rdata = vec![1, 1, 3, 13];
        rdata.extend_from_slice(&public);
        let tag = key_tag(&rdata);
        assert_eq!(shown["tag"], tag);
        let mut owner = b"\x07stubber\x04chat\x00".to_vec();
        owner.extend_from_slice(&rdata);
        let digest = ring::digest::digest(&ring::digest::SHA256, &owner);
        let ds = format!(
            "stubber.chat. 3600 IN DS {tag} 13 2 {}",
            hex(digest.as_ref())
        );
        assert_eq!(shown["ds"], ds.as_str());
        assert_eq!(item["ds"], ds.as_str());
        assert_eq!(shown["fingerprint"].as_str().unwrap().len(), 64);

        let path = format!("/domains/stubber.chat/keys/{id}");
        assert_eq!(call(&mock, base, "DELETE", &path, "").await.status, 204);
        let deleted = call(&mock, base, "GET", &path, "").await.json();
        assert_eq!(deleted["deleted"], true);
        let undeleted = call(&mock, base, "PATCH", &path, r#"{"deleted": false}"#).await;
        assert_eq!(undeleted.status, 200, "{}", undeleted.body);
        assert_eq!(
            call(&mock, base, "GET", &path, "").await.json()["deleted"],
            false
        );
    }
}

#[tokio::test]
async fn bad_key_requests_are_answered_as_errors() {
    let mock = start().await;
    let bad = call(
        &mock,
        0,
        "POST",
        "/domains/stubber.chat/keys",
        r#"{"flags": 300}"#,
    )
    .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("\"name\": \"flags\""), "{}", bad.body);
    let missing = call(&mock, 0, "POST", "/domains/stubber.chat/keys", "{}").await;
    assert_eq!(missing.status, 400);
    let path = "/domains/stubber.chat/keys/no-such-key";
    assert_eq!(call(&mock, 0, "GET", path, "").await.status, 404);
    assert_eq!(call(&mock, 0, "DELETE", path, "").await.status, 404);
    let id = create_key(&mock, 0, 256).await;
    let path = format!("/domains/stubber.chat/keys/{id}");
    let wrong = call(&mock, 0, "PATCH", &path, r#"{"deleted": true}"#).await;
    assert_eq!(wrong.status, 400);
    assert_eq!(
        call(&mock, 0, "GET", "/domains/nope.example/keys", "")
            .await
            .status,
        404
    );
}

fn query(name: &str, rtype: RecordType, id: u16) -> Message {
    let mut m = Message::new(id, MessageType::Query, OpCode::Query);
    m.add_query(Query::query(Name::from_str(name).unwrap(), rtype));
    m
}

async fn udp(addr: SocketAddr, packet: &[u8]) -> Message {
    let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    s.send_to(packet, addr).await.unwrap();
    let mut buf = vec![0u8; 65_535];
    let n = tokio::time::timeout(Duration::from_secs(5), s.recv(&mut buf))
        .await
        .unwrap()
        .unwrap();
    Message::from_vec(&buf[..n]).unwrap()
}

/// DNSKEY rdata as the answer carries it.
fn dnskeys(m: &Message) -> Vec<Vec<u8>> {
    m.answers
        .iter()
        .filter(|r| r.record_type() == RecordType::DNSKEY)
        .map(|r| match &r.data {
            RData::Unknown { rdata, .. } => rdata.anything.clone(),
            other => panic!("DNSKEY decoded as {other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn the_apex_answers_dnskey_for_the_keys_not_deleted() {
    let mock = start().await;
    let packet = query("stubber.chat.", RecordType::DNSKEY, 7)
        .to_vec()
        .unwrap();
    let none = udp(mock.dns_addr(), &packet).await;
    assert_eq!(none.metadata.response_code, ResponseCode::NoError);
    assert!(dnskeys(&none).is_empty());
    let ksk = create_key(&mock, 0, 257).await;
    let zsk = create_key(&mock, 0, 256).await;
    let answer = udp(mock.dns_addr(), &packet).await;
    assert!(answer.metadata.authoritative);
    let keys = dnskeys(&answer);
    assert_eq!(keys.len(), 2);
    for (rdata, id) in keys.iter().zip([&ksk, &zsk]) {
        let shown = call(
            &mock,
            0,
            "GET",
            &format!("/domains/stubber.chat/keys/{id}"),
            "",
        )
        .await
        .json();
        assert_eq!(
            u16::from_be_bytes([rdata[0], rdata[1]]),
            shown["flags"].as_u64().unwrap() as u16
        );
        assert_eq!(rdata[2..4], [3, 13]);
        assert_eq!(
            STANDARD.encode(&rdata[4..]),
            shown["public_key"].as_str().unwrap()
        );
        assert_eq!(key_tag(rdata), shown["tag"].as_u64().unwrap() as u16);
    }
    let path = format!("/domains/stubber.chat/keys/{zsk}");
    assert_eq!(call(&mock, 0, "DELETE", &path, "").await.status, 204);
    assert_eq!(dnskeys(&udp(mock.dns_addr(), &packet).await).len(), 1);
    // Below the apex there is no DNSKEY.
    let below = query("_acme-challenge.stubber.chat.", RecordType::DNSKEY, 8)
        .to_vec()
        .unwrap();
    assert!(dnskeys(&udp(mock.dns_addr(), &below).await).is_empty());
}

/// A TSIG key made through `base`: (id, key_name, secret).
async fn create_tsig(mock: &MockGandi, base: usize) -> (String, String, String) {
    let created = call(mock, base, "POST", "/axfr/tsig", "").await;
    assert_eq!(created.status, 201, "{}", created.body);
    let body = created.json();
    let id = body["id"].as_str().unwrap().to_string();
    assert_eq!(body["key_name"], format!("{id}.gandi.net").as_str());
    assert!(body.get("secret").is_none());
    assert_eq!(created.header("location"), body["href"].as_str());
    let shown = call(mock, base, "GET", &format!("/axfr/tsig/{id}"), "")
        .await
        .json();
    let secret = shown["secret"].as_str().unwrap().to_string();
    (id, body["key_name"].as_str().unwrap().to_string(), secret)
}

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

// ---- AXFR ----

/// A client's TSIG (RFC 8945), written here apart from the mock's: signs a request, checks
/// the answers' MACs.
struct Tsig {
    name: String,
    secret: Vec<u8>,
}

fn wire_name(out: &mut Vec<u8>, name: &str) {
    for label in name.trim_end_matches('.').split('.') {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

impl Tsig {
    fn variables(&self, out: &mut Vec<u8>, time: u64) {
        wire_name(out, &self.name);
        out.extend_from_slice(&[0, 255, 0, 0, 0, 0]);
        wire_name(out, "hmac-sha256");
        out.extend_from_slice(&time.to_be_bytes()[2..]);
        out.extend_from_slice(&300u16.to_be_bytes());
        out.extend_from_slice(&[0, 0, 0, 0]);
    }

    fn record(&self, id: u16, time: u64, mac: &[u8]) -> Vec<u8> {
        let mut rdata = Vec::new();
        wire_name(&mut rdata, "hmac-sha256");
        rdata.extend_from_slice(&time.to_be_bytes()[2..]);
        rdata.extend_from_slice(&300u16.to_be_bytes());
        rdata.extend_from_slice(&(mac.len() as u16).to_be_bytes());
        rdata.extend_from_slice(mac);
        rdata.extend_from_slice(&id.to_be_bytes());
        rdata.extend_from_slice(&[0, 0, 0, 0]);
        let mut out = Vec::new();
        wire_name(&mut out, &self.name);
        out.extend_from_slice(&[0, 250, 0, 255, 0, 0, 0, 0]);
        out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        out.extend_from_slice(&rdata);
        out
    }

    /// `message` signed now; answers the bytes and the MAC.
    fn sign(&self, message: &[u8]) -> (Vec<u8>, Vec<u8>) {
        self.sign_at(message, now())
    }

    fn sign_at(&self, message: &[u8], time: u64) -> (Vec<u8>, Vec<u8>) {
        let mut data = message.to_vec();
        self.variables(&mut data, time);
        let mac = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &self.secret), &data)
            .as_ref()
            .to_vec();
        let mut signed = message.to_vec();
        let ar = u16::from_be_bytes([signed[10], signed[11]]) + 1;
        signed[10..12].copy_from_slice(&ar.to_be_bytes());
        signed.extend_from_slice(&self.record(
            u16::from_be_bytes([message[0], message[1]]),
            time,
            &mac,
        ));
        (signed, mac)
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

/// The TSIG record of a message: hickory-proto without its `dnssec` feature leaves it, decoded,
/// as the last additional record.
fn tsig_of(message: &[u8]) -> Option<TSIG> {
    let m = Message::from_vec(message).unwrap();
    if let Some(record) = m.signature {
        return Some(record.data.clone());
    }
    match &m.additionals.last()?.data {
        RData::TSIG(tsig) => Some(tsig.clone()),
        _ => None,
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

/// Checks every message's MAC as RFC 8945 §5.3 says a client does.
fn verify_answers(key: &Tsig, request_mac: &[u8], messages: &[Vec<u8>]) {
    let mut prior = request_mac.to_vec();
    for (i, message) in messages.iter().enumerate() {
        let tsig = tsig_of(message).expect("every message is signed");
        // The message without its TSIG record (the last bytes) and one record fewer.
        let tsig_len = record_len(&key.name, &tsig.mac, &tsig.other);
        let mut body = message[..message.len() - tsig_len].to_vec();
        let ar = u16::from_be_bytes([body[10], body[11]]) - 1;
        body[10..12].copy_from_slice(&ar.to_be_bytes());
        let mut data = (prior.len() as u16).to_be_bytes().to_vec();
        data.extend_from_slice(&prior);
        data.extend_from_slice(&body);
        if i == 0 {
            wire_name(&mut data, &key.name);
            data.extend_from_slice(&[0, 255, 0, 0, 0, 0]);
            wire_name(&mut data, "hmac-sha256");
            data.extend_from_slice(&tsig.time.to_be_bytes()[2..]);
            data.extend_from_slice(&tsig.fudge.to_be_bytes());
            data.extend_from_slice(&[0, 0, 0, 0]);
        } else {
            data.extend_from_slice(&tsig.time.to_be_bytes()[2..]);
            data.extend_from_slice(&tsig.fudge.to_be_bytes());
        }
        hmac::verify(
            &hmac::Key::new(hmac::HMAC_SHA256, &key.secret),
            &data,
            &tsig.mac,
        )
        .unwrap_or_else(|_| panic!("message {i}'s MAC does not verify"));
        prior = tsig.mac.clone();
    }
}

/// Length of a TSIG record with uncompressed names, as the mock writes them: owner, type,
/// class, TTL, length, then the algorithm name, time, fudge, MAC, original id, error, other.
fn record_len(key_name: &str, mac: &[u8], other: &[u8]) -> usize {
    let mut owner = Vec::new();
    wire_name(&mut owner, key_name);
    let mut algorithm = Vec::new();
    wire_name(&mut algorithm, "hmac-sha256");
    owner.len() + 10 + algorithm.len() + 6 + 2 + 2 + mac.len() + 2 + 2 + 2 + other.len()
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
        assert!(
            std::env::var_os("GANDI_E2E_REQUIRE_ALL").is_none(),
            "`dig` is missing and GANDI_E2E_REQUIRE_ALL is set: install bind9-dnsutils (see ci/setup)"
        );
        eprintln!("skipping: `dig` is missing; set GANDI_E2E_REQUIRE_ALL=1 to make this a failure");
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
