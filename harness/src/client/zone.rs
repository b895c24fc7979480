//! lego v5's DNS side of a DNS-01 challenge, asked of one server (the mock's DNS, or in a
//! sandbox the system resolver, which is the mock): the client (`challenge/internal/client.go`:
//! EDNS0 4096, recursion desired, a retry over TCP when the answer is truncated, 10 s per
//! exchange), zone detection with its SOA cache (`client_zone.go`, `client_cache.go`), CNAME
//! following (`dns01/client_cname.go`) and the check of the recursive nameservers
//! (`dns01/client_nameservers.go`), each with lego's error texts. Every hickory call of the
//! harness is in this file.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use hickory_proto::op::{Edns, Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// lego's `dnsTimeout` (`challenge/internal/client_timeout_unix.go`).
pub const DNS_TIMEOUT: Duration = Duration::from_secs(10);

/// A DNS client as lego's `internal.Client`, with one nameserver.
#[derive(Debug)]
pub(crate) struct Dns01 {
    server: SocketAddr,
    timeout: Duration,
    follow_cname: bool,
    /// `fqdnSoaCache`: fqdn → (zone as received, expiry at SOA refresh).
    soa_cache: Mutex<HashMap<String, (String, Instant)>>,
}

/// A reply, or lego's `DNSError` text for the exchange.
type Exchange = Result<Message, String>;

impl Dns01 {
    /// `follow_cname` is lego's `!LEGO_DISABLE_CNAME_SUPPORT`.
    pub(crate) fn new(server: SocketAddr, follow_cname: bool) -> Self {
        Self {
            server,
            timeout: DNS_TIMEOUT,
            follow_cname,
            soa_cache: Mutex::new(HashMap::new()),
        }
    }

    /// `dns01.GetChallengeInfo(...).EffectiveFQDN`: `_acme-challenge.<domain>.`, and the
    /// target of each CNAME found there (`lookupCNAME`, at most 50).
    pub(crate) async fn effective_fqdn(&self, domain: &str) -> String {
        let mut fqdn = fqdn(&format!("_acme-challenge.{domain}"));
        if !self.follow_cname {
            return fqdn;
        }
        for _ in 0..50 {
            let Ok(reply) = self.send(&fqdn, RecordType::CNAME).await else {
                break;
            };
            if reply.metadata.response_code != ResponseCode::NoError {
                break;
            }
            let target = extract_cname(&reply, &fqdn).unwrap_or_else(|| fqdn.clone());
            if target == fqdn {
                break;
            }
            fqdn = target;
        }
        fqdn
    }

    /// `FindZoneByFqdn`: the SOA owner of the first of `fqdn`'s suffixes that has one in its
    /// answer (cached per fqdn until the SOA's refresh), or lego's error.
    pub(crate) async fn find_zone_by_fqdn(&self, fqdn: &str) -> Result<String, String> {
        if let Some((zone, expires)) = self
            .soa_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(fqdn)
            && Instant::now() < *expires
        {
            return Ok(zone.clone());
        }
        let (zone, refresh) = self
            .fetch_soa(fqdn)
            .await
            .map_err(|e| format!("[fqdn={fqdn}] {e}"))?;
        self.soa_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                fqdn.to_string(),
                (
                    zone.clone(),
                    Instant::now() + Duration::from_secs(refresh.into()),
                ),
            );
        Ok(zone)
    }

    /// `fetchSoaByFqdn`: the zone and its SOA refresh, or the `DNSError` text.
    async fn fetch_soa(&self, fqdn: &str) -> Result<(String, u32), String> {
        let mut last: Exchange = Err(String::new());
        for domain in domains_seq(fqdn) {
            last = self.send(&domain, RecordType::SOA).await;
            let Ok(reply) = &last else { continue };
            match reply.metadata.response_code {
                ResponseCode::NoError => {
                    if reply.answers.is_empty()
                        || reply
                            .answers
                            .iter()
                            .any(|r| r.record_type() == RecordType::CNAME)
                    {
                        continue;
                    }
                    if let Some((name, refresh)) =
                        reply.answers.iter().find_map(|r| match &r.data {
                            RData::SOA(soa) => {
                                Some((r.name.to_ascii(), soa.refresh.max(0).unsigned_abs()))
                            }
                            _ => None,
                        })
                    {
                        return Ok((name, refresh));
                    }
                }
                ResponseCode::NXDomain => {}
                other => {
                    return Err(format!(
                        "unexpected response for '{domain}' [question='{}', code={}]",
                        question_text(reply),
                        rcode_name(other)
                    ));
                }
            }
        }
        // The last candidate's outcome: its error after a colon, or its answer's details.
        let mut text = format!("could not find the start of authority for '{fqdn}'");
        match &last {
            Err(e) if !e.is_empty() => text.push_str(&format!(": {e}")),
            Err(_) => {}
            Ok(reply) => text.push_str(&format!(
                " [question='{}', code={}]",
                question_text(reply),
                rcode_name(reply.metadata.response_code)
            )),
        }
        Err(text)
    }

    /// `preCheck.checkDNSPropagation` with the authoritative check off (what the harness asks
    /// of lego in the proxy network): the TXT record at `fqdn` (after a CNAME the resolver
    /// gives) must hold `value` at the resolver.
    pub(crate) async fn check_propagation(&self, fqdn: &str, value: &str) -> Result<(), String> {
        // resolveCNAME, whose error both it and checkDNSPropagation wrap.
        let reply = self.send(fqdn, RecordType::TXT).await.map_err(|e| {
            format!("initial recursive nameserver: initial recursive nameserver: {e}")
        })?;
        let fqdn = if reply.metadata.response_code == ResponseCode::NoError {
            extract_cname(&reply, fqdn).unwrap_or_else(|| fqdn.to_string())
        } else {
            fqdn.to_string()
        };
        let ns = self.server;
        let reply = self
            .send(&fqdn, RecordType::TXT)
            .await
            .map_err(|e| format!("recursive nameservers: {e}"))?;
        if reply.metadata.response_code != ResponseCode::NoError {
            return Err(format!(
                "recursive nameservers: NS {ns} returned {} for {fqdn}",
                rcode_name(reply.metadata.response_code)
            ));
        }
        let records = txt_strings(&reply);
        if records.iter().any(|r| r == value) {
            return Ok(());
        }
        Err(format!(
            "recursive nameservers: NS {ns} did not return the expected TXT record [fqdn: {fqdn}, value: {value}]: {}",
            records.join(", ")
        ))
    }

    /// `exchange`: UDP, then TCP when the answer is truncated; an error is lego's
    /// `DNS call error: <err> [ns=<server>, question='<name> IN  <TYPE>']`.
    async fn send(&self, name: &str, rtype: RecordType) -> Exchange {
        let call_error = |e: String| {
            format!(
                "DNS call error: {e} [ns={}, question='{name} IN  {}']",
                self.server,
                type_name(rtype)
            )
        };
        let query = query_message(name, rtype).map_err(call_error)?;
        let reply = udp_exchange(&query, self.server, self.timeout)
            .await
            .map_err(call_error)?;
        if reply.metadata.truncation {
            return tcp_exchange(&query, self.server, self.timeout)
                .await
                .map_err(call_error);
        }
        Ok(reply)
    }
}

/// `dns.Fqdn`.
pub(crate) fn fqdn(name: &str) -> String {
    if name.ends_with('.') {
        name.to_string()
    } else {
        format!("{name}.")
    }
}

/// `dns01.ExtractSubDomain`.
pub(crate) fn extract_sub_domain(domain: &str, zone: &str) -> Result<String, String> {
    let (canon_domain, canon_zone) = (fqdn(domain), fqdn(zone));
    if canon_domain == canon_zone {
        return Err(format!(
            "no subdomain because the domain and the zone are identical: {canon_domain}"
        ));
    }
    // dns.IsSubDomain: label-wise and case-insensitive; the suffix strip is case-sensitive.
    let is_sub = canon_domain
        .to_ascii_lowercase()
        .ends_with(&format!(".{}", canon_zone.to_ascii_lowercase()))
        || canon_zone == ".";
    if !is_sub {
        return Err(format!("{canon_domain} is not a subdomain of {canon_zone}"));
    }
    Ok(canon_domain
        .strip_suffix(&format!(".{canon_zone}"))
        .unwrap_or(&canon_domain)
        .to_string())
}

/// `DomainsSeq`: `fqdn` and each of its parents, the root excluded.
fn domains_seq(fqdn: &str) -> Vec<String> {
    let labels: Vec<&str> = fqdn.trim_end_matches('.').split('.').collect();
    (0..labels.len())
        .map(|i| format!("{}.", labels[i..].join(".")))
        .collect()
}

/// `internal.ExtractCNAME`: the target of a CNAME in the answer whose owner is `name`.
fn extract_cname(reply: &Message, name: &str) -> Option<String> {
    reply.answers.iter().find_map(|r| match &r.data {
        RData::CNAME(target) if r.name.to_ascii().eq_ignore_ascii_case(name) => {
            Some(target.0.to_ascii())
        }
        _ => None,
    })
}

/// The question of a reply as lego prints it: miekg's `Question.String()` without its `;`,
/// tabs as spaces (`stubber.chat. IN  SOA`).
fn question_text(reply: &Message) -> String {
    reply
        .queries
        .iter()
        .map(|q| format!("{} IN  {}", q.name().to_ascii(), type_name(q.query_type())))
        .collect::<Vec<_>>()
        .join(";")
}

fn type_name(rtype: RecordType) -> String {
    rtype.to_string()
}

/// miekg's `dns.RcodeToString` (lego prints that).
fn rcode_name(code: ResponseCode) -> String {
    match u16::from(code) {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        11 => "DSOTYPENI",
        16 => "BADSIG",
        _ => "",
    }
    .to_string()
}

/// Each TXT record of an answer, its strings joined (`strings.Join(txt.Txt, "")`).
fn txt_strings(reply: &Message) -> Vec<String> {
    reply
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::TXT(txt) => Some(
                txt.txt_data
                    .iter()
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect::<String>(),
            ),
            _ => None,
        })
        .collect()
}

/// TXT values at `fqdn` as `server` answers now (the harness's own checks after a run).
pub async fn txt_values(fqdn: &str, server: SocketAddr) -> Result<Vec<String>, String> {
    let query = query_message(fqdn, RecordType::TXT)?;
    let reply = udp_exchange(&query, server, Duration::from_secs(5)).await?;
    let reply = if reply.metadata.truncation {
        tcp_exchange(&query, server, Duration::from_secs(5)).await?
    } else {
        reply
    };
    Ok(txt_strings(&reply))
}

/// `createDNSMsg`: a query with recursion desired and an EDNS0 OPT of 4096 bytes.
fn query_message(name: &str, rtype: RecordType) -> Result<Message, String> {
    static NEXT_ID: AtomicU16 = AtomicU16::new(0x4c45);
    let name = Name::from_ascii(name).map_err(|e| format!("invalid name {name}: {e}"))?;
    let mut message = Message::query();
    message.metadata.id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(name, rtype));
    let mut edns = Edns::new();
    edns.set_max_payload(4096);
    message.set_edns(edns);
    Ok(message)
}

async fn udp_exchange(query: &Message, server: SocketAddr, timeout: Duration) -> Exchange {
    let bytes = query.to_vec().map_err(|e| e.to_string())?;
    let local = if server.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    };
    let socket = UdpSocket::bind(local).await.map_err(|e| e.to_string())?;
    socket.connect(server).await.map_err(|e| e.to_string())?;
    let me = socket.local_addr().map_err(|e| e.to_string())?;
    socket
        .send(&bytes)
        .await
        .map_err(|e| format!("write udp {me}->{server}: {e}"))?;
    // Go's UDP read buffer is the EDNS size.
    let mut buf = vec![0u8; 4096];
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let n = tokio::time::timeout_at(deadline, socket.recv(&mut buf))
            .await
            .map_err(|_| format!("read udp {me}->{server}: i/o timeout"))?
            .map_err(|e| format!("read udp {me}->{server}: {}", go_errno(&e)))?;
        let reply = Message::from_vec(&buf[..n]).map_err(|e| e.to_string())?;
        // miekg skips answers with another id.
        if reply.metadata.id == query.metadata.id {
            return Ok(reply);
        }
    }
}

async fn tcp_exchange(query: &Message, server: SocketAddr, timeout: Duration) -> Exchange {
    let bytes = query.to_vec().map_err(|e| e.to_string())?;
    let exchange = async {
        let mut stream = TcpStream::connect(server)
            .await
            .map_err(|e| format!("dial tcp {server}: connect: {}", go_errno(&e)))?;
        let mut framed = (bytes.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&bytes);
        stream.write_all(&framed).await.map_err(|e| e.to_string())?;
        let mut len = [0u8; 2];
        stream
            .read_exact(&mut len)
            .await
            .map_err(|e| e.to_string())?;
        let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream
            .read_exact(&mut buf)
            .await
            .map_err(|e| e.to_string())?;
        Message::from_vec(&buf).map_err(|e| e.to_string())
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| format!("read tcp {server}: i/o timeout"))?
}

/// Go's wording of the common socket errors.
fn go_errno(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
        std::io::ErrorKind::ConnectionReset => "connection reset by peer".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_domains_are_extracted_as_lego_does() {
        assert_eq!(
            extract_sub_domain("_acme-challenge.stubber.chat.", "stubber.chat."),
            Ok("_acme-challenge".into())
        );
        assert_eq!(
            extract_sub_domain("stubber.chat", "stubber.chat."),
            Err("no subdomain because the domain and the zone are identical: stubber.chat.".into())
        );
        assert_eq!(
            extract_sub_domain("_acme-challenge.other.chat.", "stubber.chat."),
            Err("_acme-challenge.other.chat. is not a subdomain of stubber.chat.".into())
        );
    }

    #[test]
    fn the_candidates_are_every_suffix_but_the_root() {
        assert_eq!(
            domains_seq("_acme-challenge.a.stubber.chat."),
            vec![
                "_acme-challenge.a.stubber.chat.",
                "a.stubber.chat.",
                "stubber.chat.",
                "chat."
            ]
        );
    }

    /// The real mock, serving `stubber.chat` with a TXT rrset too large for one UDP answer.
    async fn mock_with_a_large_rrset() -> (mock_gandi::MockGandi, Vec<String>) {
        let values: Vec<String> = (0..40)
            .map(|i| format!("{i:02}{}", "v".repeat(60)))
            .collect();
        let seed = format!(
            "[[domain]]\nfqdn = \"stubber.chat\"\n[[domain.record]]\nname = \"big\"\ntype = \"TXT\"\nvalues = {values:?}\n"
        );
        let mock = mock_gandi::MockGandi::builder()
            .seed_text(&seed)
            .unwrap()
            .start()
            .await
            .unwrap();
        (mock, values)
    }

    #[tokio::test]
    async fn a_truncated_answer_is_asked_again_over_tcp() {
        let (mock, values) = mock_with_a_large_rrset().await;
        let dns = Dns01::new(mock.dns_addr(), true);
        dns.check_propagation("big.stubber.chat.", &values[39])
            .await
            .unwrap();
        let asked: Vec<&str> = mock
            .journal()
            .dns_queries()
            .iter()
            .filter(|q| q.name == "big.stubber.chat")
            .map(|q| q.transport)
            .collect();
        // resolveCNAME, then the check itself: each over UDP (truncated), then over TCP.
        assert_eq!(asked, ["udp", "tcp", "udp", "tcp"]);
    }

    #[tokio::test]
    async fn a_zone_is_asked_once_per_fqdn_until_its_soa_refresh() {
        let (mock, _) = mock_with_a_large_rrset().await;
        let dns = Dns01::new(mock.dns_addr(), true);
        assert_eq!(dns.timeout, Duration::from_secs(10), "lego's dnsTimeout");
        let fqdn = "_acme-challenge.stubber.chat.";
        assert_eq!(dns.find_zone_by_fqdn(fqdn).await.unwrap(), "stubber.chat.");
        let soa = || {
            mock.journal()
                .dns_queries()
                .iter()
                .filter(|q| q.qtype == "SOA")
                .count()
        };
        let first = soa();
        assert_eq!(first, 2, "{fqdn}, then stubber.chat.");
        assert_eq!(dns.find_zone_by_fqdn(fqdn).await.unwrap(), "stubber.chat.");
        assert_eq!(soa(), first, "the second lookup is answered from the cache");
        // Another name is another cache entry.
        dns.find_zone_by_fqdn("stubber.chat.").await.unwrap();
        assert_eq!(soa(), first + 1);
    }

    #[test]
    fn queries_carry_an_edns0_opt_of_4096_with_recursion_desired() {
        let q = query_message("stubber.chat.", RecordType::SOA).unwrap();
        assert!(q.metadata.recursion_desired);
        assert_eq!(q.edns.as_ref().map(|e| e.max_payload()), Some(4096));
        let q2 = query_message("stubber.chat.", RecordType::SOA).unwrap();
        assert_ne!(q.metadata.id, q2.metadata.id);
    }
}
