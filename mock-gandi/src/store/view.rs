//! What DNS serves of a zone at query time: a [`ZoneView`] of the snapshot it reads.

use std::sync::Arc;

use super::ZoneStore;
use super::records::Records;
use super::rrsets::{RrSet, RrSets};
use super::seed::DnsMode;
use super::state::{Domain, State};
use super::types::{Fqdn, RecordType, RelName};

/// The zone of the nameservers every served zone names.
pub const NAMESERVER_ZONE: &str = "mock-gandi.test";

/// The nameservers DNS names at a zone's apex when its records have no NS of their own.
pub const NAMESERVERS: [&str; 2] = ["ns1.mock-gandi.test", "ns2.mock-gandi.test"];

/// The SOA the mock's nameservers serve for every zone, and the zone text shows (gandi.cli's
/// fixture of Gandi's text: `@ 10800 IN SOA ns1.gandi.net. hostmaster.gandi.net. 197539823
/// 10800 3600 604800 10800`). Refresh, retry and expire are Gandi's; the mailbox is the mock's
/// own (`hostmaster@mock-gandi.test`), and the minimum (the negative-caching TTL, RFC 2308)
/// and the TTL are 300, not Gandi's 10800, so that a test that asks before writing sees the
/// record on its next try.
pub mod soa {
    pub const RNAME: &str = "hostmaster.mock-gandi.test";
    pub const REFRESH: i32 = 10_800;
    pub const RETRY: i32 = 3_600;
    pub const EXPIRE: i32 = 604_800;
    pub const MINIMUM: u32 = 300;
    pub const TTL: u32 = 300;
}

impl State {
    /// The zones' SOA serial: every write moves it (serials wrap like real ones; a mock never
    /// writes 2^32 times).
    pub fn serial(&self) -> u32 {
        (self.generation % u64::from(u32::MAX)) as u32
    }
}

/// What the DNS server needs of one zone at query time: a LiveDNS zone's rrsets read in place
/// from the snapshot, or a list of its own (a legacy version's, shared when a seed made it and
/// grouped otherwise; the nameservers' zone).
#[derive(Debug, Clone)]
pub struct ZoneView {
    pub apex: Fqdn,
    pub serial: u32,
    source: ViewSource,
}

#[derive(Debug, Clone)]
enum ViewSource {
    Live(Arc<State>),
    Sets(RrSets),
}

impl ZoneView {
    /// The zone's rrsets.
    pub fn rrsets(&self) -> impl Iterator<Item = &RrSet> {
        let (live, built) = match &self.source {
            ViewSource::Live(state) => (
                state.domains.get(&self.apex).map(|d| d.rrsets.values()),
                None,
            ),
            ViewSource::Sets(sets) => (None, Some(sets.values())),
        };
        live.into_iter()
            .flatten()
            .chain(built.into_iter().flatten())
    }
}

impl ZoneView {
    /// The LiveDNS domain the view reads, as the snapshot holds it (its DNSSEC keys and who
    /// may transfer it); `None` for a legacy zone and the nameservers' zone.
    pub fn domain(&self) -> Option<&Domain> {
        match &self.source {
            ViewSource::Live(state) => state.domains.get(&self.apex).map(|d| &**d),
            ViewSource::Sets(_) => None,
        }
    }
}

impl ZoneStore {
    /// `livedns` domain, the active version of its zone for a `legacy` one.
    pub fn zone_for(&self, name: &Fqdn) -> Option<ZoneView> {
        State::zone_for(&self.dns_state(name), name).or_else(|| self.nameserver_zone(name))
    }

    /// `mock-gandi.test.`, when a nameserver address is set and no seeded domain holds the
    /// name: its synthesized SOA and NS, and `ns1`/`ns2` with the nameserver's address.
    fn nameserver_zone(&self, name: &Fqdn) -> Option<ZoneView> {
        let ip = self.nameserver_ip()?;
        let apex = Fqdn::parse(NAMESERVER_ZONE).ok()?;
        if !name.is_within(&apex) {
            return None;
        }
        let rtype = match ip {
            std::net::IpAddr::V4(_) => RecordType::A,
            std::net::IpAddr::V6(_) => RecordType::Aaaa,
        };
        let rrsets = ["ns1", "ns2"]
            .iter()
            .filter_map(|n| RelName::parse(n).ok())
            .map(|name| RrSet {
                name,
                rtype,
                ttl: 300,
                values: vec![ip.to_string()],
            })
            .collect();
        Some(ZoneView {
            apex,
            serial: self.read(State::serial),
            source: ViewSource::Sets(RrSets::from_sorted(rrsets)),
        })
    }
}

impl State {
    fn zone_for(this: &Arc<State>, name: &Fqdn) -> Option<ZoneView> {
        // A zone delegated away from Gandi is not Gandi's to answer for.
        let domain = this
            .domain_holding(name)
            .filter(|d| d.delegated_to_gandi())?;
        let source = match domain.dns {
            // The snapshot's own rrsets, read in place (no copy per query).
            DnsMode::Livedns => ViewSource::Live(this.clone()),
            DnsMode::Legacy => ViewSource::Sets(
                this.zones
                    .get(&domain.zone_id)
                    .and_then(|z| z.versions.get(&z.active))
                    .map(Records::rrsets)
                    .unwrap_or_default(),
            ),
        };
        Some(ZoneView {
            apex: domain.fqdn.clone(),
            serial: this.serial(),
            source,
        })
    }
}
