//! Authoritative DNS over UDP and TCP on one port, answering from the store.
//!
//! - `axfr` and `tsig`: zone transfers over TCP to a domain's slaves, TSIG-verified.
//! - `lookup`: what a zone answers (SOA/NS synthesis, CNAME, DNAME, wildcards, NXDOMAIN and
//!   NODATA), pure and without wire format.
//! - `rdata`: stored values as record data, and their presentation text.
//! - `wire`: packets in and out; the only file that calls hickory-proto.
//! - here: the UDP and TCP servers and the journal.
//!
//! Every answer is computed from [`ZoneStore::zone_for`] at the moment of the query, or taken
//! from the loop's cache of answers computed at the store's current generation (`cache`):
//! a write is visible to the very next query (unless the seed sets a propagation lag). DNS fault rules (`[[dns_fault]]`) then drop it, change its rcode,
//! truncate it or delay it; the journal names the rule.

mod axfr;
mod cache;
mod lookup;
mod rdata;
mod tsig;
mod wire;

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::journal::{DnsEntry, Journal};
use crate::state::{Limits, Shutdown};
use crate::store::{DnsFaultAction, DnsFaultRule, ZoneStore};

/// Tasks receiving on the UDP socket. Each answers in its own loop, with no task per packet;
/// two keep both runtime workers busy under load.
const UDP_LOOPS: usize = 2;
/// How long writing one answer may take before the connection is given up.
const TCP_WRITE: Duration = Duration::from_secs(10);

/// Which transport a query came in on: it bounds the answer's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        }
    }
}

/// The answer to one query packet, or `None` to drop it (no DNS header, or not a query).
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn answer(store: &ZoneStore, query: &[u8], transport: Transport) -> Option<Vec<u8>> {
    wire::respond(store, query, transport).map(|r| r.bytes)
}

/// What the servers share.
struct Context {
    store: Arc<ZoneStore>,
    journal: Arc<Journal>,
}

/// What to do with one query: send these bytes (none: drop it) after this delay.
struct Handled {
    bytes: Option<Vec<u8>>,
    delay: Duration,
}

impl Context {
    /// Answers and journals one packet (`None`: not a query, nothing to send).
    fn handle(
        &self,
        cache: &mut cache::AnswerCache,
        packet: &[u8],
        transport: Transport,
    ) -> Option<Handled> {
        let (bytes, s) = cache.respond(&self.store, packet, transport)?;
        let mut rcode = s.rcode.to_string();
        let fault = self.fault_for(&s.name, &s.qtype, transport);
        // A rule that answers otherwise than with a late answer leaves no answers to journal.
        let mut answered = true;
        let handled = match &fault {
            None => Handled {
                bytes: Some(bytes),
                delay: Duration::ZERO,
            },
            Some((number, rule)) => {
                tracing::debug!("dns: fault rule #{number} took {} {}", s.qtype, s.name);
                answered = rule.action == DnsFaultAction::Delay;
                let bytes = match &rule.action {
                    DnsFaultAction::Drop => {
                        rcode = "DROPPED".into();
                        None
                    }
                    DnsFaultAction::Rcode(name) => {
                        rcode.clone_from(name);
                        Some(wire::rewrite(bytes, lookup::Rcode::named(name), false))
                    }
                    DnsFaultAction::Truncate => Some(wire::rewrite(bytes, None, true)),
                    DnsFaultAction::Delay => Some(bytes),
                };
                Handled {
                    bytes,
                    delay: Duration::from_millis(rule.delay_ms),
                }
            }
        };
        self.journal.record_dns(DnsEntry {
            time: OffsetDateTime::now_utc(),
            transport: transport.as_str(),
            name: s.name.clone(),
            qtype: s.qtype.clone(),
            rcode,
            answers: if answered {
                s.answers.iter().map(|a| a.data.clone()).collect()
            } else {
                Vec::new()
            },
            fault: fault.map(|(n, _)| n),
        });
        Some(handled)
    }

    /// Answers and journals a zone transfer request over TCP (DNS fault rules do not apply).
    fn transfer(&self, packet: &[u8], peer: std::net::IpAddr) -> Option<Vec<Vec<u8>>> {
        let answer = axfr::answer(&self.store, packet, peer)?;
        let s = answer.summary;
        self.journal.record_dns(DnsEntry {
            time: OffsetDateTime::now_utc(),
            transport: Transport::Tcp.as_str(),
            name: s.name,
            qtype: s.qtype,
            rcode: s.rcode.to_string(),
            answers: s.answers.into_iter().map(|a| a.data).collect(),
            fault: None,
        });
        Some(answer.messages)
    }

    /// The DNS fault rule (its number from 1, and itself) that takes this query, if one does;
    /// every rule it matches counts it.
    fn fault_for(
        &self,
        name: &str,
        qtype: &str,
        transport: Transport,
    ) -> Option<(u32, DnsFaultRule)> {
        use std::sync::atomic::Ordering::SeqCst;
        if !self.store.dns_faults_armed() {
            return None;
        }
        let rules = self.store.read(|s| s.dns_faults().to_vec());
        let mut fired = None;
        for (index, armed) in rules.iter().enumerate() {
            if !armed.rule.matches(name, qtype, transport.as_str()) {
                continue;
            }
            let seen = armed.seen.fetch_add(1, SeqCst) + 1;
            if fired.is_none() && armed.rule.selection.admits(seen) {
                armed.fired.fetch_add(1, SeqCst);
                fired = Some((
                    u32::try_from(index + 1).unwrap_or(u32::MAX),
                    armed.rule.clone(),
                ));
            }
        }
        fired
    }
}

/// Serves DNS on `udp` and `tcp` (bound to the same port) until `shutdown`.
pub async fn run(
    udp: UdpSocket,
    tcp: TcpListener,
    store: Arc<ZoneStore>,
    journal: Arc<Journal>,
    limits: Limits,
    shutdown: Shutdown,
) {
    let context = Arc::new(Context { store, journal });
    let udp = Arc::new(udp);
    let loops: Vec<_> = (0..UDP_LOOPS)
        .map(|_| tokio::spawn(serve_udp(udp.clone(), context.clone(), shutdown.clone())))
        .collect();
    serve_tcp(tcp, context, limits, shutdown).await;
    for l in loops {
        let _ = l.await;
    }
}

async fn serve_udp(socket: Arc<UdpSocket>, context: Arc<Context>, mut shutdown: Shutdown) {
    // Large enough for any datagram, so nothing arrives cut short.
    let mut buf = vec![0u8; 65_535];
    let mut cache = cache::AnswerCache::default();
    let stop = shutdown.wait();
    tokio::pin!(stop);
    loop {
        let (len, peer) = tokio::select! {
            () = &mut stop => return,
            received = socket.recv_from(&mut buf) => match received {
                Ok(r) => r,
                Err(e) => {
                    tracing::debug!("dns: udp receive failed: {e}");
                    continue;
                }
            },
        };
        let Some(Handled {
            bytes: Some(bytes),
            delay,
        }) = context.handle(&mut cache, &buf[..len], Transport::Udp)
        else {
            continue;
        };
        if delay.is_zero() {
            if let Err(e) = socket.send_to(&bytes, peer).await {
                tracing::debug!("dns: cannot answer {peer} over udp: {e}");
            }
        } else {
            // A late answer must not hold up the others.
            let socket = socket.clone();
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let _ = socket.send_to(&bytes, peer).await;
            });
        }
    }
}

/// TCP connections: at most `limits.max_connections` served at once, more closed as soon as
/// they are accepted (DNS clients retry; the accept loop never waits); one with no question
/// for `limits.dns_tcp_idle` is closed (RFC 7766 §6.2.3 asks for seconds, not minutes).
async fn serve_tcp(
    listener: TcpListener,
    context: Arc<Context>,
    limits: Limits,
    mut shutdown: Shutdown,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let for_connections = shutdown.clone();
    let stop = shutdown.wait();
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut stop => return,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Usually out of file descriptors: give connections a moment to close.
                    tracing::warn!("dns: tcp accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::debug!("dns: too many tcp connections, closing the one from {peer}");
            continue;
        };
        tokio::spawn(serve_connection(
            stream,
            peer.ip(),
            context.clone(),
            limits.dns_tcp_idle,
            for_connections.clone(),
            permit,
        ));
    }
}

/// One TCP connection: length-prefixed queries (RFC 1035 §4.2.2), answered in order, until
/// the client closes, goes idle, sends something without a DNS header, or shutdown.
async fn serve_connection(
    mut stream: TcpStream,
    peer: std::net::IpAddr,
    context: Arc<Context>,
    idle: Duration,
    mut shutdown: Shutdown,
    _permit: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let mut cache = cache::AnswerCache::default();
    let stop = shutdown.wait();
    tokio::pin!(stop);
    loop {
        let next = tokio::time::timeout(idle, read_message(&mut stream));
        let packet = tokio::select! {
            () = &mut stop => return,
            read = next => match read {
                Ok(Ok(p)) => p,
                _ => return,
            },
        };
        if axfr::is_transfer(&packet) {
            let Some(messages) = context.transfer(&packet, peer) else {
                return;
            };
            for message in messages {
                if !write_message(&mut stream, &message).await {
                    return;
                }
            }
            continue;
        }
        // Dropped over TCP: the connection is closed without an answer.
        let Some(Handled {
            bytes: Some(bytes),
            delay,
        }) = context.handle(&mut cache, &packet, Transport::Tcp)
        else {
            return;
        };
        tokio::time::sleep(delay).await;
        if !write_message(&mut stream, &bytes).await {
            return;
        }
    }
}

/// Writes one message with its length (RFC 1035 §4.2.2); false when the connection is done.
async fn write_message(stream: &mut TcpStream, bytes: &[u8]) -> bool {
    let Ok(len) = u16::try_from(bytes.len()) else {
        return false;
    };
    let mut framed = Vec::with_capacity(bytes.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(bytes);
    matches!(
        tokio::time::timeout(TCP_WRITE, stream.write_all(&framed)).await,
        Ok(Ok(()))
    )
}

async fn read_message(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let len = stream.read_u16().await?;
    let mut packet = vec![0u8; usize::from(len)];
    stream.read_exact(&mut packet).await?;
    Ok(packet)
}

/// What DNS would answer for `name` and `rtype` now, as JSON (`GET /_mock/resolve`): the
/// same core as the servers, over the TCP size limit, not journaled.
pub fn resolve_json(
    store: &ZoneStore,
    name: &str,
    rtype: &str,
) -> Result<serde_json::Value, String> {
    let packet = wire::query_packet(name, rtype)?;
    let reply = wire::respond(store, &packet, Transport::Tcp)
        .ok_or_else(|| format!("cannot resolve '{name}'"))?;
    let s = reply.summary;
    let rrs = |list: Vec<wire::RrText>| -> Vec<serde_json::Value> {
        list.into_iter()
            .map(|r| {
                serde_json::json!({"name": r.name, "type": r.rtype, "ttl": r.ttl, "data": r.data})
            })
            .collect()
    };
    Ok(serde_json::json!({
        "name": s.name,
        "type": s.qtype,
        "rcode": s.rcode,
        "answers": rrs(s.answers),
        "authority": rrs(s.authority),
    }))
}

#[cfg(test)]
mod tests;
