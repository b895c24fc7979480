//! Pebble lanes: long-lived Pebbles that scenarios borrow one at a time.
//!
//! Pebble's `-dnsserver` is fixed when it starts, and its start (150 to 500 ms, most of it
//! generating a root and an intermediate) would otherwise be paid by every scenario. A lane is
//! one Pebble and one DNS relay bound once on a loopback port (UDP and TCP), which is what that
//! Pebble's `-dnsserver` names. A scenario borrows a lane and points its relay at the
//! scenario's own mock for as long as the lease lasts; between leases the relay answers every
//! question `REFUSED`, so a lane never serves one scenario's records to another.
//!
//! Isolation between two scenarios of one lane: the DNS listener forwards only to the current
//! scenario's mock (the target is read when a question arrives, and every forwarded question
//! has its own upstream socket, so a late answer cannot cross over); Pebble runs with
//! authorization reuse off (see `PEBBLE_ENVIRONMENT`), so every order is validated against the
//! current mock; every client makes a new ACME account (a new key per run). A lane is checked
//! (both Pebble listeners answer) before each lease; one that fails the check, or whose lease
//! was dropped without [`CaLease::release`] (a scenario cancelled by its deadline or an
//! interrupt), is stopped and replaced, never reused.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinHandle;

use super::{CaBackend, CaError, CaKind, CaOptions, start_ca};

/// How long the relay waits for the mock's answer to one UDP question.
const RELAY_UDP_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts at binding UDP and TCP on one free port (another program may take the UDP port
/// between the TCP bind and the UDP one).
const BIND_ATTEMPTS: usize = 16;

/// Where a scenario gets its Pebble: a new one for it ([`CaSource::Fresh`], `--fresh-ca`), or
/// a lane of a shared set ([`CaSource::Lanes`], the default of `harness run`).
#[derive(Debug, Clone)]
pub enum CaSource {
    Fresh(CaKind),
    Lanes(Arc<Lanes>),
}

impl Default for CaSource {
    fn default() -> Self {
        CaSource::Fresh(CaKind::Auto)
    }
}

impl From<CaKind> for CaSource {
    fn from(kind: CaKind) -> Self {
        CaSource::Fresh(kind)
    }
}

impl CaSource {
    /// The backend kind asked for.
    pub fn kind(&self) -> CaKind {
        match self {
            CaSource::Fresh(kind) => *kind,
            CaSource::Lanes(lanes) => lanes.kind,
        }
    }

    /// A Pebble whose DNS questions go to `dns` until the lease is released or dropped.
    pub async fn acquire(&self, dns: SocketAddr) -> Result<CaLease, CaError> {
        match self {
            CaSource::Fresh(kind) => Ok(CaLease {
                inner: Lease::Fresh(start_ca(*kind, &CaOptions::new(dns)).await?),
            }),
            CaSource::Lanes(lanes) => lanes.borrow(dns).await,
        }
    }
}

/// A Pebble held by one scenario. Give a lane back with [`CaLease::release`]; dropping the
/// lease instead stops its Pebble (a lane whose scenario was cancelled is not trusted again).
pub struct CaLease {
    inner: Lease,
}

enum Lease {
    Fresh(Box<dyn CaBackend>),
    Lane {
        lane: Option<Lane>,
        lanes: Arc<Lanes>,
    },
}

impl fmt::Debug for CaLease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Lease::Fresh(ca) => f.debug_tuple("Fresh").field(ca).finish(),
            Lease::Lane { lane, .. } => f.debug_tuple("Lane").field(lane).finish(),
        }
    }
}

impl CaLease {
    /// The Pebble.
    pub fn backend(&self) -> &dyn CaBackend {
        match &self.inner {
            Lease::Fresh(ca) => ca.as_ref(),
            Lease::Lane { lane, .. } => lane
                .as_ref()
                .expect("a lane lease holds its lane until released")
                .ca
                .as_ref(),
        }
    }

    /// The lane's number (from 1, in the order lanes were started), or `None` for a fresh
    /// Pebble.
    pub fn lane(&self) -> Option<usize> {
        match &self.inner {
            Lease::Fresh(_) => None,
            Lease::Lane { lane, .. } => lane.as_ref().map(|l| l.id),
        }
    }

    /// The lane's DNS relay (what its Pebble's `-dnsserver` names), or `None` for a fresh
    /// Pebble (which queries the mock directly).
    pub fn dns_relay(&self) -> Option<SocketAddr> {
        match &self.inner {
            Lease::Fresh(_) => None,
            Lease::Lane { lane, .. } => lane.as_ref().map(|l| l.relay.addr),
        }
    }

    /// The end of the scenario's use: a fresh Pebble is stopped, a lane stops relaying to
    /// the scenario's mock and goes back to its set.
    pub fn release(mut self) {
        if let Lease::Lane { lane, lanes } = &mut self.inner
            && let Some(lane) = lane.take()
        {
            lane.relay.point_at(None);
            lanes
                .idle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(lane);
        }
    }
}

impl Drop for CaLease {
    fn drop(&mut self) {
        if let Lease::Lane { lane, lanes } = &mut self.inner
            && let Some(lane) = lane.take()
        {
            // Not released: the scenario was cancelled mid-use. Its Pebble may hold anything
            // (a pending validation, a half-read request): stop it, a new lane replaces it.
            lane.relay.point_at(None);
            lanes.replaced.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(lane = lane.id, "lane dropped without release: stopped");
            drop(lane);
        }
    }
}

/// A set of lanes of one backend kind, started on demand (at most as many as scenarios run
/// at once) and stopped when the set is dropped.
pub struct Lanes {
    kind: CaKind,
    idle: Mutex<Vec<Lane>>,
    started: AtomicUsize,
    replaced: AtomicUsize,
    leases: AtomicUsize,
}

impl fmt::Debug for Lanes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lanes")
            .field("kind", &self.kind)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// What a set of lanes did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaneStats {
    /// Pebbles started (first starts and replacements).
    pub started: usize,
    /// Lanes stopped because a check failed or their lease was dropped unreleased.
    pub replaced: usize,
    /// Leases given.
    pub leases: usize,
}

impl Lanes {
    /// An empty set: lanes start when first borrowed.
    pub fn new(kind: CaKind) -> Arc<Self> {
        Arc::new(Lanes {
            kind,
            idle: Mutex::new(Vec::new()),
            started: AtomicUsize::new(0),
            replaced: AtomicUsize::new(0),
            leases: AtomicUsize::new(0),
        })
    }

    /// The backend kind of every lane of the set.
    pub fn kind(&self) -> CaKind {
        self.kind
    }

    pub fn stats(&self) -> LaneStats {
        LaneStats {
            started: self.started.load(Ordering::Relaxed),
            replaced: self.replaced.load(Ordering::Relaxed),
            leases: self.leases.load(Ordering::Relaxed),
        }
    }

    /// Stops every idle lane, all at once (a container's removal is a round trip to the
    /// engine; one after the other they add up). Dropping the set stops them too, in turn.
    pub async fn stop(&self) {
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(|e| e.into_inner()));
        let mut stops = tokio::task::JoinSet::new();
        for Lane { id, relay, ca } in idle {
            drop(relay);
            stops.spawn(async move {
                ca.stop().await;
                tracing::debug!(lane = id, "Pebble lane stopped");
            });
        }
        stops.join_all().await;
    }

    /// An idle lane that passes its check, or a new one; its relay then points at `dns`.
    async fn borrow(self: &Arc<Self>, dns: SocketAddr) -> Result<CaLease, CaError> {
        loop {
            let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let Some(lane) = idle else { break };
            match lane.ca.check().await {
                Ok(()) => return Ok(self.lease(lane, dns)),
                Err(e) => {
                    tracing::warn!(
                        lane = lane.id,
                        "Pebble lane failed its check, replaced: {e}"
                    );
                    self.replaced.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        let relay = DnsRelay::bind()
            .await
            .map_err(|e| CaError::io("binding a lane's DNS relay on 127.0.0.1", e))?;
        let ca = start_ca(self.kind, &CaOptions::new(relay.addr)).await?;
        let id = self.started.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::debug!(lane = id, dns = %relay.addr, "Pebble lane started");
        Ok(self.lease(Lane { id, relay, ca }, dns))
    }

    fn lease(self: &Arc<Self>, lane: Lane, dns: SocketAddr) -> CaLease {
        lane.relay.point_at(Some(dns));
        self.leases.fetch_add(1, Ordering::Relaxed);
        CaLease {
            inner: Lease::Lane {
                lane: Some(lane),
                lanes: self.clone(),
            },
        }
    }
}

/// One Pebble and the relay its `-dnsserver` names. Dropping it stops both.
struct Lane {
    id: usize,
    // Declared first: dropped (its listeners closed) before Pebble is stopped.
    relay: DnsRelay,
    ca: Box<dyn CaBackend>,
}

impl fmt::Debug for Lane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lane")
            .field("id", &self.id)
            .field("dns", &self.relay.addr)
            .field("ca", &self.ca)
            .finish()
    }
}

/// A DNS listener (UDP and TCP on one loopback port) that forwards each question to the
/// current target, or answers `REFUSED` (UDP) or closes (TCP) when there is none.
pub(crate) struct DnsRelay {
    pub(crate) addr: SocketAddr,
    target: Arc<RwLock<Option<SocketAddr>>>,
    tasks: Vec<JoinHandle<()>>,
}

impl DnsRelay {
    /// Binds UDP and TCP on one free port of 127.0.0.1, pointing nowhere.
    pub(crate) async fn bind() -> io::Result<Self> {
        let mut last = None;
        for _ in 0..BIND_ATTEMPTS {
            let tcp = TcpListener::bind(("127.0.0.1", 0)).await?;
            let addr = tcp.local_addr()?;
            match UdpSocket::bind(addr).await {
                Ok(udp) => {
                    let target = Arc::new(RwLock::new(None));
                    let tasks = vec![
                        tokio::spawn(relay_udp(Arc::new(udp), target.clone())),
                        tokio::spawn(relay_tcp(tcp, target.clone())),
                    ];
                    return Ok(DnsRelay {
                        addr,
                        target,
                        tasks,
                    });
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no free port")))
    }

    /// Where questions go from now on (`None`: nowhere, they are refused).
    pub(crate) fn point_at(&self, target: Option<SocketAddr>) {
        *self.target.write().unwrap_or_else(|e| e.into_inner()) = target;
    }
}

impl Drop for DnsRelay {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn current(target: &RwLock<Option<SocketAddr>>) -> Option<SocketAddr> {
    *target.read().unwrap_or_else(|e| e.into_inner())
}

async fn relay_udp(socket: Arc<UdpSocket>, target: Arc<RwLock<Option<SocketAddr>>>) {
    let mut buf = vec![0u8; 65_535];
    loop {
        let (len, from) = match socket.recv_from(&mut buf).await {
            Ok(got) => got,
            // An ICMP error from an earlier send surfaces here on some systems: go on.
            Err(_) => continue,
        };
        let question = buf[..len].to_vec();
        match current(&target) {
            None => {
                if let Some(refused) = refused(&question) {
                    let _ = socket.send_to(&refused, from).await;
                }
            }
            Some(to) => {
                let socket = socket.clone();
                tokio::spawn(async move {
                    if let Some(answer) = forward_udp(&question, to).await {
                        let _ = socket.send_to(&answer, from).await;
                    }
                });
            }
        }
    }
}

/// One question to `to` on a socket of its own, so that only its answer comes back on it.
async fn forward_udp(question: &[u8], to: SocketAddr) -> Option<Vec<u8>> {
    let upstream = UdpSocket::bind(("127.0.0.1", 0)).await.ok()?;
    upstream.connect(to).await.ok()?;
    upstream.send(question).await.ok()?;
    let mut buf = vec![0u8; 65_535];
    let len = tokio::time::timeout(RELAY_UDP_TIMEOUT, upstream.recv(&mut buf))
        .await
        .ok()?
        .ok()?;
    buf.truncate(len);
    Some(buf)
}

async fn relay_tcp(listener: TcpListener, target: Arc<RwLock<Option<SocketAddr>>>) {
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else {
            // Out of descriptors, say: wait a little rather than spin.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        // No target: the connection is closed unanswered.
        let Some(to) = current(&target) else { continue };
        tokio::spawn(async move {
            let _ = inbound.set_nodelay(true);
            if let Ok(mut upstream) = TcpStream::connect(to).await {
                let _ = upstream.set_nodelay(true);
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut upstream).await;
            }
        });
    }
}

/// A `REFUSED` answer to `question`: its header with QR set, no records. `None` when the
/// datagram is too short to be a question or is itself an answer.
fn refused(question: &[u8]) -> Option<Vec<u8>> {
    if question.len() < 12 || question[2] & 0x80 != 0 {
        return None;
    }
    let mut answer = question[..12].to_vec();
    answer[2] = 0x80 | (question[2] & 0x79); // QR, the opcode and RD kept
    answer[3] = 5; // REFUSED
    answer[4..12].fill(0); // no question echoed, no records
    Some(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(id: u16) -> Vec<u8> {
        let mut q = id.to_be_bytes().to_vec();
        q.extend([0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
        q.extend(b"\x07example\x03com\x00\x00\x10\x00\x01");
        q
    }

    #[test]
    fn refused_keeps_the_id_and_sets_the_answer_bits() {
        let answer = refused(&question(0xBEEF)).unwrap();
        assert_eq!(&answer[..2], &[0xBE, 0xEF]);
        assert_eq!(answer[2] & 0x80, 0x80, "QR");
        assert_eq!(answer[2] & 0x01, 0x01, "RD kept");
        assert_eq!(answer[3] & 0x0F, 5, "REFUSED");
        assert_eq!(answer.len(), 12);
        assert!(refused(&answer).is_none(), "an answer is not answered");
        assert!(refused(&[0; 5]).is_none());
    }

    /// A UDP and TCP echo that prefixes nothing: what the relay forwards comes back as is.
    async fn echo() -> SocketAddr {
        let udp = UdpSocket::bind(("127.0.0.1", 0)).await.unwrap();
        let addr = udp.local_addr().unwrap();
        let tcp = TcpListener::bind(addr).await.unwrap();
        tokio::spawn(async move {
            let mut buf = [0u8; 512];
            while let Ok((n, from)) = udp.recv_from(&mut buf).await {
                let _ = udp.send_to(&buf[..n], from).await;
            }
        });
        tokio::spawn(async move {
            while let Ok((mut s, _)) = tcp.accept().await {
                tokio::spawn(async move {
                    let (mut r, mut w) = s.split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                });
            }
        });
        addr
    }

    #[tokio::test]
    async fn the_relay_forwards_to_its_target_only_while_it_has_one() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let relay = DnsRelay::bind().await.unwrap();
        let client = UdpSocket::bind(("127.0.0.1", 0)).await.unwrap();
        client.connect(relay.addr).await.unwrap();
        let mut buf = [0u8; 512];

        // Nowhere: REFUSED over UDP, a closed connection over TCP.
        client.send(&question(1)).await.unwrap();
        let n = client.recv(&mut buf).await.unwrap();
        assert_eq!(buf[3] & 0x0F, 5);
        assert_eq!(n, 12);
        let mut tcp = TcpStream::connect(relay.addr).await.unwrap();
        assert_eq!(tcp.read(&mut buf).await.unwrap(), 0, "closed unanswered");

        // Somewhere: the target's answer, over both transports.
        relay.point_at(Some(echo().await));
        client.send(&question(2)).await.unwrap();
        let n = client.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], question(2).as_slice());
        let mut tcp = TcpStream::connect(relay.addr).await.unwrap();
        tcp.write_all(b"\x00\x03abc").await.unwrap();
        let mut got = [0u8; 5];
        tcp.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"\x00\x03abc");

        // Nowhere again: refused, whatever the earlier target was.
        relay.point_at(None);
        client.send(&question(3)).await.unwrap();
        let n = client.recv(&mut buf).await.unwrap();
        assert_eq!((n, buf[3] & 0x0F), (12, 5));
    }
}
