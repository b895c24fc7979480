//! The bounds a client (or a storm of clients) meets, over real sockets: connections per
//! listener (the next one waits, those open are served), the time to send a request head, the
//! body size, and DNS-over-TCP idle connections.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use mock_gandi::{Limits, MockGandi};

const PAT: &str = "0123456789abcdef0123456789abcdef01234567";

async fn start(limits: Limits) -> MockGandi {
    MockGandi::builder()
        .seed_text(&format!(
            "[[domain]]\nfqdn = \"stubber.chat\"\n[[credential]]\nkind = \"pat\"\nsecret = \"{PAT}\"\n[[credential]]\nkind = \"v4-key\"\nsecret = \"0123456789abcdefghijklmn\"\n"
        ))
        .unwrap()
        .limits(limits)
        .start()
        .await
        .unwrap()
}

fn api_addr(mock: &MockGandi) -> SocketAddr {
    mock.api_url()
        .trim_start_matches("http://")
        .parse()
        .unwrap()
}

const HEALTH: &[u8] = b"GET /_mock/health HTTP/1.1\r\nHost: x\r\n\r\n";

/// Reads an answer's head, or None when nothing comes within `wait`.
fn answer_within(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 4096];
    match stream.read(&mut buf) {
        Ok(n) if n > 0 => Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
        _ => None,
    }
}

/// Whether the peer closes the connection within `wait` (a read of 0 bytes, or a reset).
fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_connection_limit_the_next_waits_and_those_open_are_served() {
    let mock = start(Limits {
        max_connections: 2,
        ..Limits::default()
    })
    .await;
    let addr = api_addr(&mock);
    tokio::task::spawn_blocking(move || {
        let mut first = TcpStream::connect(addr).unwrap();
        let mut second = TcpStream::connect(addr).unwrap();
        // Both are served: each answers on its keep-alive connection.
        for s in [&mut first, &mut second] {
            s.write_all(HEALTH).unwrap();
            let head = answer_within(s, Duration::from_secs(5)).unwrap();
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        }
        // The third connects (the backlog takes it) but is not served while both are open.
        let mut third = TcpStream::connect(addr).unwrap();
        third.write_all(HEALTH).unwrap();
        assert_eq!(answer_within(&mut third, Duration::from_millis(500)), None);
        // Those open are still served meanwhile.
        first.write_all(HEALTH).unwrap();
        let head = answer_within(&mut first, Duration::from_secs(5)).unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        // One closes: the third gets its turn.
        drop(second);
        let head =
            answer_within(&mut third, Duration::from_secs(5)).expect("served after a slot frees");
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_connection_is_closed_after_the_header_timeout_on_the_api_and_the_proxy() {
    let mock = start(Limits {
        header_timeout: Duration::from_millis(300),
        ..Limits::default()
    })
    .await;
    let api = api_addr(&mock);
    let proxy: SocketAddr = mock
        .proxy_url()
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    tokio::task::spawn_blocking(move || {
        // Nothing sent: closed after the timeout, not before.
        let started = Instant::now();
        let mut silent = TcpStream::connect(api).unwrap();
        assert!(closed_within(&mut silent, Duration::from_secs(5)));
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(250), "closed after {took:?}");

        // Half a head, then silence: the same.
        let mut half = TcpStream::connect(api).unwrap();
        half.write_all(b"GET /_mock/health HTTP/1.1\r\nHo").unwrap();
        assert!(closed_within(&mut half, Duration::from_secs(5)));

        // A keep-alive connection idle after an answer: closed too.
        let mut idle = TcpStream::connect(api).unwrap();
        idle.write_all(HEALTH).unwrap();
        assert!(answer_within(&mut idle, Duration::from_secs(5)).is_some());
        assert!(closed_within(&mut idle, Duration::from_secs(5)));

        // The proxy: a CONNECT head that never ends gets 408, then the connection closes.
        let mut connect = TcpStream::connect(proxy).unwrap();
        connect
            .write_all(b"CONNECT api.gandi.net:443 HTTP/1.1\r\n")
            .unwrap();
        let head = answer_within(&mut connect, Duration::from_secs(5)).unwrap();
        assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_as_gandi_would_on_both_apis() {
    let mock = start(Limits {
        max_body: 100,
        ..Limits::default()
    })
    .await;
    let api = mock.api_url();
    let (livedns, v4) = tokio::task::spawn_blocking(move || {
        let auth = format!("Bearer {PAT}");
        let big = format!(r#"{{"rrset_values": ["{}"]}}"#, "a".repeat(200));
        let small = r#"{"rrset_values": ["ok"]}"#;
        let headers = [
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ];
        let path = "/v5/livedns/domains/stubber.chat/records/_acme-challenge/TXT";
        let refused = common::wire::http(&api, "PUT", path, &headers, &big);
        let accepted = common::wire::http(&api, "PUT", path, &headers, small);
        assert_eq!(accepted.0, 201, "{}", accepted.1);
        let call = format!(
            "<?xml version='1.0'?>\n<methodCall>\n<methodName>domain.info</methodName>\n<params>\n<param>\n<value><string>0123456789abcdefghijklmn</string></value>\n</param>\n<param>\n<value><string>{}</string></value>\n</param>\n</params>\n</methodCall>\n",
            "x".repeat(200)
        );
        let v4 = common::wire::http(&api, "POST", "/xmlrpc/", &[("content-type", "text/xml")], &call);
        (refused, v4)
    })
    .await
    .unwrap();
    assert_eq!(livedns.0, 413, "{}", livedns.1);
    assert!(
        livedns.1.contains("HTTPRequestEntityTooLarge"),
        "{}",
        livedns.1
    );
    assert_eq!(v4.0, 200);
    assert!(v4.1.contains("<fault>"), "{}", v4.1);
    assert!(v4.1.contains("100"), "the fault names the limit: {}", v4.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_over_tcp_closes_idle_connections_and_those_over_the_limit() {
    let mock = start(Limits {
        max_connections: 1,
        dns_tcp_idle: Duration::from_millis(300),
        ..Limits::default()
    })
    .await;
    let dns = mock.dns_addr();
    tokio::task::spawn_blocking(move || {
        let mut first = TcpStream::connect(dns).unwrap();
        // Give the accept loop the time to take the first one.
        std::thread::sleep(Duration::from_millis(100));
        let mut second = TcpStream::connect(dns).unwrap();
        assert!(
            closed_within(&mut second, Duration::from_millis(250)),
            "a connection over the limit is closed at once"
        );
        let started = Instant::now();
        assert!(closed_within(&mut first, Duration::from_secs(5)));
        assert!(started.elapsed() >= Duration::from_millis(150));
    })
    .await
    .unwrap();
}
