//! Zone detection as lego does it (`dns01.FindZoneByFqdn`): ask for the SOA of each name from
//! the challenge name upwards and take the first one that has an SOA in its answer. Every
//! hickory call of the harness is in this file.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use tokio::net::UdpSocket;

/// The zone holding `fqdn` (both with a trailing dot), found by asking `server`.
pub async fn find_zone(fqdn: &str, server: SocketAddr) -> Result<String, String> {
    let mut last_error = String::new();
    let labels: Vec<&str> = fqdn.trim_end_matches('.').split('.').collect();
    for start in 0..labels.len() {
        let candidate = format!("{}.", labels[start..].join("."));
        let reply = match query(&candidate, RecordType::SOA, server).await {
            Ok(reply) => reply,
            Err(e) => {
                last_error = e;
                continue;
            }
        };
        match reply.metadata.response_code {
            ResponseCode::NoError => {
                if reply
                    .answers
                    .iter()
                    .any(|r| r.record_type() == RecordType::CNAME)
                {
                    continue;
                }
                if let Some(soa) = reply
                    .answers
                    .iter()
                    .find(|r| r.record_type() == RecordType::SOA)
                {
                    return Ok(soa.name.to_ascii().to_lowercase());
                }
            }
            ResponseCode::NXDomain => {}
            other => {
                return Err(format!(
                    "unexpected response code '{}' for {candidate}",
                    rcode_name(other)
                ));
            }
        }
    }
    let suffix = if last_error.is_empty() {
        String::new()
    } else {
        format!(": {last_error}")
    };
    Err(format!(
        "could not find the start of authority for {fqdn}{suffix}"
    ))
}

/// The rcode as Go's `dns.RcodeToString` names it (lego prints that).
fn rcode_name(code: ResponseCode) -> String {
    match code {
        ResponseCode::NoError => "NOERROR".into(),
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::NXDomain => "NXDOMAIN".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        ResponseCode::Refused => "REFUSED".into(),
        other => u16::from(other).to_string(),
    }
}

/// TXT values at `fqdn` as `server` answers now (for propagation checks and clean-up checks).
pub async fn txt_values(fqdn: &str, server: SocketAddr) -> Result<Vec<String>, String> {
    let reply = query(fqdn, RecordType::TXT, server).await?;
    Ok(reply
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            hickory_proto::rr::RData::TXT(txt) => Some(
                txt.txt_data
                    .iter()
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect::<String>(),
            ),
            _ => None,
        })
        .collect())
}

async fn query(name: &str, rtype: RecordType, server: SocketAddr) -> Result<Message, String> {
    let name = Name::from_ascii(name).map_err(|e| format!("invalid name {name}: {e}"))?;
    let mut message = Message::query();
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(name, rtype));
    let bytes = message.to_vec().map_err(|e| e.to_string())?;
    let socket = UdpSocket::bind(if server.is_ipv4() {
        "127.0.0.1:0"
    } else {
        "[::1]:0"
    })
    .await
    .map_err(|e| e.to_string())?;
    socket
        .send_to(&bytes, server)
        .await
        .map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; 65_535];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    loop {
        let (n, from) = tokio::time::timeout_at(deadline, socket.recv_from(&mut buf))
            .await
            .map_err(|_| format!("read udp {server}: i/o timeout"))?
            .map_err(|e| e.to_string())?;
        if from != server {
            continue;
        }
        let reply = Message::from_vec(&buf[..n]).map_err(|e| e.to_string())?;
        if reply.metadata.id == message.metadata.id {
            return Ok(reply);
        }
    }
}
