//! The data behind the store's lock, and the fault rules armed in it.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use time::OffsetDateTime;

use super::dns_fault::DnsFaultRule;
use super::dnssec_key::DnssecKeys;
use super::fault::FaultRule;
use super::permissions::Rights;
use super::rate::RateLimiter;
use super::records::Records;
use super::rrsets::RrSets;
use super::seed::{CredentialKind, DnsMode};
use super::snapshot_list::Snapshots;
use super::transfer::{Transfer, TsigKeys};
use super::types::Fqdn;

/// First id given to a legacy zone; real zone ids are large numbers.
pub(super) const FIRST_ZONE_ID: u64 = 1_000_000;
/// First id given to a legacy record.
pub(super) const FIRST_RECORD_ID: u64 = 3_000_000_000;
/// First id given to a domain (v4 `domain.info` returns it).
pub(super) const FIRST_DOMAIN_ID: u64 = 400_000;

/// A domain of the account.
#[derive(Debug, Clone, Serialize)]
pub struct Domain {
    pub id: u64,
    pub fqdn: Fqdn,
    pub dns: DnsMode,
    pub organization: Option<String>,
    /// LiveDNS records, sorted by name and type.
    pub rrsets: RrSets,
    /// The legacy zone this domain points at (v4 `zone_id`).
    pub zone_id: u64,
    /// Whether the account holds it; DNS serves it either way.
    pub account: bool,
    /// Whether LiveDNS snapshots the zone before each change (Gandi's default: on).
    #[serde(skip_serializing_if = "Clone::clone")]
    pub automatic_snapshots: bool,
    #[serde(skip_serializing_if = "Snapshots::is_empty")]
    pub snapshots: Snapshots,
    /// The nameservers the registry delegates it to, when set (a seed's `nameservers`, the
    /// Domain API's `PUT .../nameservers`); empty: those of the platform serving its DNS.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nameservers: Vec<String>,
    /// DNSSEC keys; DNS serves the ones not deleted as DNSKEY at the apex.
    #[serde(skip_serializing_if = "DnssecKeys::is_empty")]
    pub keys: DnssecKeys,
    /// Slaves and TSIG keys that may transfer the zone (AXFR over TCP).
    #[serde(skip_serializing_if = "Transfer::is_empty")]
    pub transfer: Transfer,
    /// The zones era's owner of its zone, when not the domain's organization (`zone_owner`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone_owner: Option<String>,
}

/// A legacy (v4) zone: numbered versions, exactly one active.
#[derive(Debug, Clone, Serialize)]
pub struct LegacyZone {
    pub id: u64,
    pub name: String,
    pub public: bool,
    pub active: u32,
    pub versions: BTreeMap<u32, Records>,
    /// The number `domain.zone.version.new` gives next: version numbers are never reused,
    /// even after the highest one is deleted.
    #[serde(skip)]
    pub next_version: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub date_updated: OffsetDateTime,
}

/// A credential known to the mock, as seeded.
#[derive(Debug, Clone)]
pub struct Credential {
    pub kind: CredentialKind,
    pub secret: String,
    pub organization: Option<String>,
    pub domains: Option<Vec<Fqdn>>,
    pub rights: Rights,
    pub expires: Option<OffsetDateTime>,
}

impl Credential {
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expires.is_some_and(|e| e <= now)
    }

    /// The secret as the journal and the state show it: kind and length, first and last
    /// characters only.
    pub fn redacted(&self) -> String {
        redact(&self.secret)
    }
}

/// Hides a secret but keeps enough to tell two apart: `0123…4567 (40)`.
pub fn redact(secret: &str) -> String {
    let n = secret.chars().count();
    if n <= 8 {
        return format!("… ({n})");
    }
    let head: String = secret.chars().take(4).collect();
    let tail: String = secret.chars().skip(n - 4).collect();
    format!("{head}…{tail} ({n})")
}

/// The data behind the lock. Fields are crate-visible so each API module can keep its own
/// operations in its own file (`impl State` blocks) and run them atomically.
#[derive(Debug, Clone, Default)]
pub struct State {
    /// Each domain and each legacy zone behind its own `Arc`: a new snapshot shares every one
    /// it did not change, and copying the maps copies pointers.
    pub(crate) domains: BTreeMap<Fqdn, Arc<Domain>>,
    pub(crate) zones: BTreeMap<u64, Arc<LegacyZone>>,
    /// Shared: a request holds its caller's for its whole handling.
    pub(crate) credentials: Vec<Arc<Credential>>,
    pub(crate) next_zone_id: u64,
    pub(crate) next_record_id: u64,
    pub(crate) next_domain_id: u64,
    /// The account's TSIG keys (zone transfer), shared until one is created.
    pub(crate) tsig_keys: TsigKeys,
    /// Bumped by every write; DNS uses it as the SOA serial.
    pub(crate) generation: u64,
    /// The seed's fault rules, each counting the requests it matched.
    pub(crate) faults: Vec<std::sync::Arc<ArmedFault>>,
    /// The seed's DNS fault rules, each counting the queries it matched.
    pub(crate) dns_faults: Vec<std::sync::Arc<Armed<DnsFaultRule>>>,
    /// The rate limit, when a seed sets one (a later seed's replaces it, counting afresh).
    pub(crate) rate_limiter: Option<std::sync::Arc<RateLimiter>>,
    /// Gandi as of the seed's date (`as_of`); none: now.
    pub(crate) era: crate::era::Era,
}

/// A rule, how many requests (or queries) it has matched and how many it has answered so far.
#[derive(Debug)]
pub struct Armed<R> {
    pub rule: R,
    pub seen: std::sync::atomic::AtomicU32,
    pub fired: std::sync::atomic::AtomicU32,
}

/// An HTTP fault rule, armed.
pub type ArmedFault = Armed<FaultRule>;

impl<R: Serialize> Armed<R> {
    pub(super) fn new(rule: R) -> std::sync::Arc<Self> {
        std::sync::Arc::new(Self {
            rule,
            seen: std::sync::atomic::AtomicU32::new(0),
            fired: std::sync::atomic::AtomicU32::new(0),
        })
    }

    /// The rule in the seed's format (a credential it matches on redacted, as everywhere in
    /// the admin API), with its counts (`GET /_mock/faults`).
    pub fn report(&self, number: usize) -> serde_json::Value {
        use std::sync::atomic::Ordering::SeqCst;
        let mut rule = serde_json::to_value(&self.rule).unwrap_or_default();
        if let Some(secret) = rule.get_mut("credential")
            && let Some(text) = secret.as_str()
        {
            *secret = serde_json::Value::String(redact(text));
        }
        serde_json::json!({
            "number": number,
            "rule": rule,
            "matched": self.seen.load(SeqCst),
            "fired": self.fired.load(SeqCst),
        })
    }
}

impl State {
    /// The fault rules, in the order they were seeded.
    pub fn faults(&self) -> &[std::sync::Arc<ArmedFault>] {
        &self.faults
    }

    /// The DNS fault rules, in the order they were seeded.
    pub fn dns_faults(&self) -> &[std::sync::Arc<Armed<DnsFaultRule>>] {
        &self.dns_faults
    }

    /// Which Gandi the mock is: now, or as of the seed's date.
    pub fn era(&self) -> crate::era::Era {
        self.era
    }

    /// The rate limit's counter, if a seed set one.
    pub fn rate_limiter(&self) -> Option<std::sync::Arc<RateLimiter>> {
        self.rate_limiter.clone()
    }
}

impl State {
    pub(super) fn empty() -> Self {
        Self {
            next_zone_id: FIRST_ZONE_ID,
            next_record_id: FIRST_RECORD_ID,
            next_domain_id: FIRST_DOMAIN_ID,
            ..Self::default()
        }
    }

    /// Every fault rule and the rate limit with counts of zero (the same rules).
    pub(super) fn rearm(&mut self) {
        self.faults = self
            .faults
            .iter()
            .map(|a| ArmedFault::new(a.rule.clone()))
            .collect();
        self.dns_faults = self
            .dns_faults
            .iter()
            .map(|a| Armed::new(a.rule.clone()))
            .collect();
        self.rate_limiter = self
            .rate_limiter
            .as_ref()
            .map(|r| Arc::new(RateLimiter::new(r.limit())));
    }
}
