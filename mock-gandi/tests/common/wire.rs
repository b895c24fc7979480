//! Speaking to a mock over real sockets, as a client would: one HTTP/1.1 request per
//! connection, DNS questions over UDP, and the TXT strings of an answer.

use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::time::Duration;

use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};

/// A minimal HTTP/1.1 client, as curl would send: one request per connection. `api` is
/// `http://HOST:PORT` or `HOST:PORT`; answers the status and the body.
pub fn http(
    api: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let addr = api.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// The TXT records of an answer, each as its character strings joined, in answer order.
pub fn txt_strings(m: &Message) -> Vec<String> {
    m.answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::TXT(t) => Some(
                t.txt_data
                    .iter()
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect::<String>(),
            ),
            _ => None,
        })
        .collect()
}

/// One TXT question over UDP (blocking, 5 s at most): the rcode and the TXT strings.
pub fn txt_over_udp(dns: &str, name: &str) -> (ResponseCode, Vec<String>) {
    let mut q = Message::query();
    q.metadata.recursion_desired = true;
    q.add_query(Query::query(
        Name::from_ascii(name).unwrap(),
        RecordType::TXT,
    ));
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    sock.send_to(&q.to_vec().unwrap(), dns).unwrap();
    let mut buf = [0u8; 4096];
    let n = sock.recv(&mut buf).unwrap();
    let reply = Message::from_vec(&buf[..n]).unwrap();
    (reply.metadata.response_code, txt_strings(&reply))
}
