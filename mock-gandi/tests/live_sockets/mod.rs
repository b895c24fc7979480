//! What the DNSSEC and zone-transfer tests share: a mock over real sockets, one HTTP/1.1
//! request per connection on either LiveDNS base, DNS questions over UDP.

#![allow(dead_code)]

pub mod tsig;

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};
use mock_gandi::MockGandi;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

pub const SEED: &str = r#"
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

pub const APIKEY: &str = "AbCdEfGhIjKlMnOpQrStUvWx";

pub async fn start() -> MockGandi {
    MockGandi::builder()
        .seed_text(SEED)
        .unwrap()
        .start()
        .await
        .unwrap()
}

/// The two bases and how each authenticates.
pub const BASES: [(&str, &str, &str); 2] = [
    (
        "/v5/livedns",
        "Authorization",
        "Bearer 0123456789abcdef0123456789abcdef01234567",
    ),
    ("/api/v5", "X-Api-Key", APIKEY),
];

/// An answer over a real socket: status, headers (lowercase names), body.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request on its own connection to the mock's API listener.
pub async fn call(mock: &MockGandi, base: usize, method: &str, path: &str, body: &str) -> Reply {
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

pub fn key_tag(rdata: &[u8]) -> u16 {
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

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates a key with `flags` on `base`; answers its id (from `Location`).
pub async fn create_key(mock: &MockGandi, base: usize, flags: u16) -> String {
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

pub fn query(name: &str, rtype: RecordType, id: u16) -> Message {
    let mut m = Message::new(id, MessageType::Query, OpCode::Query);
    m.add_query(Query::query(Name::from_str(name).unwrap(), rtype));
    m
}

pub async fn udp(addr: SocketAddr, packet: &[u8]) -> Message {
    let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    s.send_to(packet, addr).await.unwrap();
    let mut buf = vec![0u8; 65_535];
    let n = tokio::time::timeout(Duration::from_secs(5), s.recv(&mut buf))
        .await
        .unwrap()
        .unwrap();
    Message::from_vec(&buf[..n]).unwrap()
}

/// A TSIG key made through `base`: (id, key_name, secret).
pub async fn create_tsig(mock: &MockGandi, base: usize) -> (String, String, String) {
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
