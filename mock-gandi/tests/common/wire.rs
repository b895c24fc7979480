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

/// One keep-alive HTTP/1.1 connection, for clients that send many requests (load and soak):
/// answers are read by their `Content-Length` (the mock sends one with every body it does not
/// stream), and the connection is opened again when the mock closed it.
pub struct KeepAlive {
    addr: String,
    stream: Option<std::io::BufReader<TcpStream>>,
}

impl KeepAlive {
    /// `api` is `http://HOST:PORT` or `HOST:PORT`.
    pub fn new(api: &str) -> Self {
        Self {
            addr: api.trim_start_matches("http://").to_string(),
            stream: None,
        }
    }

    /// Sends one request; the status and the body. Panics on a broken answer.
    pub fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String) {
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        req.push_str(body);
        // A connection the mock closed (its idle timeout) is found on the first write or read;
        // one more try on a new one.
        for attempt in 0..2 {
            if self.stream.is_none() {
                let s = TcpStream::connect(&self.addr).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                s.set_nodelay(true).unwrap();
                self.stream = Some(std::io::BufReader::new(s));
            }
            match self.exchange(req.as_bytes()) {
                Some(answer) => return answer,
                None if attempt == 0 => self.stream = None,
                None => break,
            }
        }
        panic!("no answer to {method} {path}");
    }

    fn exchange(&mut self, request: &[u8]) -> Option<(u16, String)> {
        use std::io::BufRead;
        let stream = self.stream.as_mut()?;
        stream.get_mut().write_all(request).ok()?;
        let mut status_line = String::new();
        if stream.read_line(&mut status_line).ok()? == 0 {
            return None;
        }
        let status: u16 = status_line.get(9..12)?.parse().ok()?;
        let mut length = 0usize;
        let mut close = false;
        loop {
            let mut line = String::new();
            stream.read_line(&mut line).ok()?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':')?;
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().ok()?,
                "connection" if value.trim().eq_ignore_ascii_case("close") => close = true,
                _ => {}
            }
        }
        let mut body = vec![0u8; length];
        stream.read_exact(&mut body).ok()?;
        if close {
            self.stream = None;
        }
        Some((status, String::from_utf8_lossy(&body).into_owned()))
    }
}
