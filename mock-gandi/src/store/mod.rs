//! The zone store: the only source of truth of the emulator.
//!
//! Every API (LiveDNS, legacy v4, admin) reads and writes it; the DNS server only reads it,
//! through [`ZoneStore::zone_for`], so that DNS answers exactly what the store holds at the
//! moment of the query (or, under a propagation lag, what it held that long before).

mod dns_fault;
mod fault;
mod lag;
mod legacy;
mod rate;
mod records;
mod rrsets;
mod seed;
mod seed_parts;
mod state_json;
pub mod types;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use time::OffsetDateTime;

pub use dns_fault::{DNS_FAULT_RCODES, DnsFaultAction, DnsFaultRule, DnsTransport};
pub use fault::{
    Apply, CloseAt, FAULT_STATUSES, FaultAnswer, FaultApi, FaultRule, Selection, glob_matches,
};
pub use lag::Propagation;
pub use legacy::{LegacyError, RecordFilter, RecordInput};
pub use rate::{RateLimit, RateLimiter};
pub use records::{LegacyRecord, Records};
pub use rrsets::{RrSet, RrSets};
pub use seed::{
    CredentialKind, DnsMode, DuplicateSecret, Permission, Seed, SeedCredential, SeedDomain,
    SeedError, SeedRecord,
};
pub use state_json::StateJson;
use types::check_ttl;
pub use types::normalize_values;
pub use types::{DEFAULT_TTL, Fqdn, Invalid, MAX_TTL, MIN_TTL, RecordType, RelName};

/// First id given to a legacy zone; real zone ids are large numbers.
const FIRST_ZONE_ID: u64 = 1_000_000;
/// First id given to a legacy record.
const FIRST_RECORD_ID: u64 = 3_000_000_000;
/// First id given to a domain (v4 `domain.info` returns it).
const FIRST_DOMAIN_ID: u64 = 400_000;

/// What went wrong in a store operation. Each API maps these to its own wire errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Invalid(#[from] Invalid),
    #[error("unknown domain {0}")]
    UnknownDomain(String),
    #[error("rrset {name}/{rtype} not found")]
    RrsetNotFound { name: String, rtype: RecordType },
    #[error("rrset {name}/{rtype} exists")]
    RrsetExists { name: String, rtype: RecordType },
}

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
    pub read: bool,
    pub write: bool,
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

/// Why a LiveDNS credential may not act on a domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// Not in LiveDNS, not in the credential's scope, or not in its organization.
    UnknownDomain,
    /// Owned by an organization the credential reaches only with `sharing_id`.
    OtherOrganization,
    /// Missing permission (read or write).
    Forbidden,
}

/// What a request needs to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Read,
    Write,
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
    /// Bumped by every write; DNS uses it as the SOA serial.
    pub(crate) generation: u64,
    /// The seed's fault rules, each counting the requests it matched.
    pub(crate) faults: Vec<std::sync::Arc<ArmedFault>>,
    /// The seed's DNS fault rules, each counting the queries it matched.
    pub(crate) dns_faults: Vec<std::sync::Arc<Armed<DnsFaultRule>>>,
    /// The rate limit, when a seed sets one (a later seed's replaces it, counting afresh).
    pub(crate) rate_limiter: Option<std::sync::Arc<RateLimiter>>,
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
    fn new(rule: R) -> std::sync::Arc<Self> {
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

    /// The rate limit's counter, if a seed set one.
    pub fn rate_limiter(&self) -> Option<std::sync::Arc<RateLimiter>> {
        self.rate_limiter.clone()
    }
}

/// The store: the current state as an immutable snapshot (`Arc<State>`). A reader takes the
/// snapshot (the lock is held only to copy the `Arc`) and reads it without holding anything,
/// so DNS, GET handlers and `/_mock/state` never keep a writer waiting, and a long reader
/// (a streamed `/_mock/state`) sees one consistent state. A writer changes the state in place
/// when no reader holds it (the usual case), else builds the next snapshot from a copy that
/// shares every domain and legacy zone it does not change (each is behind its own `Arc`);
/// writers take turns under the lock, so every write is atomic for DNS and every API. This is
/// also what the propagation lag serves from: the snapshots DNS has not caught up with yet.
#[derive(Debug)]
pub struct ZoneStore {
    state: Mutex<Arc<State>>,
    /// The state the seed made, for `reset`: the current state shares its domains and zones
    /// until writes change them, so the seed's data is held once, not kept a second time.
    initial: Arc<State>,
    /// The seed's propagation lag, which `reset` starts again.
    initial_propagation: Option<lag::Propagation>,
    /// Where `ns1.mock-gandi.test.` and `ns2.mock-gandi.test.` point (the DNS listener's
    /// address, set by the handle), so that a client's check of the authoritative nameservers
    /// finds the mock. Unset: those names are outside every zone, like any other.
    nameserver_ip: std::sync::OnceLock<std::net::IpAddr>,
    /// DNS's own view when a seed sets a propagation lag (locked after `state`, never before).
    lag: Mutex<Option<lag::Lagging>>,
    /// Fast paths for DNS, which answers tens of thousands of queries a second: whether a lag
    /// is set, and whether any DNS fault rule is armed (each kept with the state it describes).
    lagging: std::sync::atomic::AtomicBool,
    dns_faults_armed: std::sync::atomic::AtomicBool,
    /// Whether any HTTP fault rule is armed or a rate limit set (each request checks it).
    http_rules_armed: std::sync::atomic::AtomicBool,
    /// The state's generation, set when a write is complete (readable without the lock).
    generation: std::sync::atomic::AtomicU64,
}

/// The zone of the nameservers every served zone names.
pub const NAMESERVER_ZONE: &str = "mock-gandi.test";

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

impl ZoneStore {
    /// A store holding `seed`; [`ZoneStore::reset`] returns to it.
    pub fn new(mut seed: Seed) -> Self {
        let mut state = State::empty();
        let propagation = seed.propagation.take();
        state.apply_seed(seed);
        Self::holding(state, propagation)
    }

    /// A store holding the seed in `text` (TOML or JSON, as [`Seed::parse`] reads it), read a
    /// part at a time: a large account is never held as a parsed document and as the store at
    /// once. Errors are [`Seed::parse`]'s.
    pub fn parse(text: &str) -> Result<Self, SeedError> {
        let mut state = State::empty();
        let mut propagation = None;
        let parts = seed_parts::each_part(text, |mut part| {
            propagation = part.propagation.take().or(propagation.take());
            state.apply_seed(part);
        })?;
        Ok(match parts {
            seed_parts::Parts::Done => Self::holding(state, propagation),
            seed_parts::Parts::Whole(seed) => Self::new(seed),
        })
    }

    fn holding(state: State, propagation: Option<lag::Propagation>) -> Self {
        let state = Arc::new(state);
        let lag = propagation
            .clone()
            .map(|p| lag::Lagging::new(p, state.clone()));
        let initial = state.clone();
        let flags = (
            std::sync::atomic::AtomicBool::new(lag.is_some()),
            std::sync::atomic::AtomicBool::new(!state.dns_faults.is_empty()),
            std::sync::atomic::AtomicBool::new(
                !state.faults.is_empty() || state.rate_limiter.is_some(),
            ),
        );
        Self {
            state: Mutex::new(state),
            initial,
            initial_propagation: propagation,
            nameserver_ip: std::sync::OnceLock::new(),
            lag: Mutex::new(lag),
            lagging: flags.0,
            dns_faults_armed: flags.1,
            http_rules_armed: flags.2,
            generation: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Keeps the fast-path flags true to `state` and the lag (called with the state locked).
    fn refresh_flags(&self, state: &State) {
        use std::sync::atomic::Ordering::SeqCst;
        self.lagging.store(self.lag_lock().is_some(), SeqCst);
        self.dns_faults_armed
            .store(!state.dns_faults.is_empty(), SeqCst);
        self.http_rules_armed.store(
            !state.faults.is_empty() || state.rate_limiter.is_some(),
            SeqCst,
        );
    }

    /// The generation of the state DNS serves, when DNS serves the current state (no
    /// propagation lag): two equal values mean no write came in between. Without the lock.
    pub fn settled_generation(&self) -> Option<u64> {
        use std::sync::atomic::Ordering::SeqCst;
        if self.lagging.load(SeqCst) {
            return None;
        }
        Some(self.generation.load(SeqCst))
    }

    /// Whether any HTTP fault rule is armed or a rate limit set: with neither, a request
    /// goes straight to its API.
    pub fn http_rules_armed(&self) -> bool {
        self.http_rules_armed
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Whether any DNS fault rule is armed.
    pub fn dns_faults_armed(&self) -> bool {
        self.dns_faults_armed
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Gives `ns1` and `ns2.mock-gandi.test.` an A record (once; later calls change nothing).
    pub fn set_nameserver_ip(&self, ip: std::net::IpAddr) {
        let _ = self.nameserver_ip.set(ip);
    }

    /// The address the nameservers' A records give, if set.
    pub fn nameserver_ip(&self) -> Option<std::net::IpAddr> {
        self.nameserver_ip.get().copied()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Arc<State>> {
        // A panic while holding the lock cannot leave a half-applied change that matters more
        // than stopping every later request, so a poisoned lock is used as it is.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current state, to read without holding any lock.
    pub fn current(&self) -> Arc<State> {
        self.lock().clone()
    }

    /// Reads the state (a snapshot: writers go on meanwhile).
    pub fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.current())
    }

    /// Changes the state; the change is atomic for DNS and every API.
    pub fn write<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut guard = self.lock();
        let state = Arc::make_mut(&mut guard);
        state.generation += 1;
        let result = f(state);
        self.generation
            .store(state.generation, std::sync::atomic::Ordering::SeqCst);
        if self.lagging.load(std::sync::atomic::Ordering::SeqCst)
            && let Some(lagging) = self.lag_lock().as_mut()
        {
            // The lag shares this snapshot; the next write copies it.
            lagging.written(std::time::Instant::now(), guard.clone());
        }
        result
    }

    /// The state under the lock, to change in place (copied first if a reader holds it).
    fn lock_mut(&self) -> StateGuard<'_> {
        StateGuard(self.lock())
    }

    fn lag_lock(&self) -> std::sync::MutexGuard<'_, Option<lag::Lagging>> {
        self.lag.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Back to the start-up seed (DNS too, at once: a reset is not a write that propagates).
    pub fn reset(&self) {
        // The seeded domains and zones are shared as they are; the rules' counters start again.
        let mut fresh = State::clone(&self.initial);
        fresh.rearm();
        let mut state = self.lock();
        fresh.generation = state.generation + 1;
        let fresh = Arc::new(fresh);
        *self.lag_lock() = self
            .initial_propagation
            .clone()
            .map(|p| lag::Lagging::new(p, fresh.clone()));
        *state = fresh;
        self.generation
            .store(state.generation, std::sync::atomic::Ordering::SeqCst);
        self.refresh_flags(&state);
    }

    /// Adds a seed to the current state (domains with the same name are replaced). Its
    /// `propagation`, if any, replaces the lag from now on (DNS then serves the state as it is).
    pub fn add_seed(&self, seed: &Seed) {
        self.write(|s| s.apply_seed(seed.clone()));
        let state = self.lock();
        if let Some(propagation) = &seed.propagation {
            *self.lag_lock() = Some(lag::Lagging::new(propagation.clone(), state.clone()));
        }
        self.refresh_flags(&state);
    }

    /// The snapshot DNS serves for `name`: an older one while a change to its zone propagates.
    fn dns_state(&self, name: &Fqdn) -> Arc<State> {
        let state = self.current();
        if !self.lagging.load(std::sync::atomic::Ordering::SeqCst) {
            return state;
        }
        let mut lag = self.lag_lock();
        let Some(lagging) = lag.as_mut() else {
            return state;
        };
        let lagged = lagging.visible(std::time::Instant::now());
        // The zone's apex, now or as DNS last saw it.
        let apex = state
            .domain_holding(name)
            .or_else(|| lagged.domain_holding(name))
            .map(|d| d.fqdn.clone());
        if apex.is_some_and(|apex| lagging.covers(&apex)) {
            lagged
        } else {
            state
        }
    }

    /// Arms more fault rules after the others (`POST /_mock/faults`); returns their numbers.
    pub fn add_faults(&self, rules: Vec<FaultRule>) -> std::ops::Range<usize> {
        let mut state = self.lock_mut();
        let first = state.faults.len() + 1;
        state.faults.extend(rules.into_iter().map(ArmedFault::new));
        self.refresh_flags(&state);
        first..state.faults.len() + 1
    }

    /// Disarms every fault rule (`DELETE /_mock/faults`); the journal keeps what fired.
    pub fn clear_faults(&self) {
        let mut state = self.lock_mut();
        state.faults.clear();
        self.refresh_flags(&state);
    }

    /// Arms more DNS fault rules after the others (`POST /_mock/dns/faults`).
    pub fn add_dns_faults(&self, rules: Vec<DnsFaultRule>) -> std::ops::Range<usize> {
        let mut state = self.lock_mut();
        let first = state.dns_faults.len() + 1;
        state.dns_faults.extend(rules.into_iter().map(Armed::new));
        self.refresh_flags(&state);
        first..state.dns_faults.len() + 1
    }

    /// Disarms every DNS fault rule (`DELETE /_mock/dns/faults`).
    pub fn clear_dns_faults(&self) {
        let mut state = self.lock_mut();
        state.dns_faults.clear();
        self.refresh_flags(&state);
    }

    /// The zone that holds `name` (longest match), as DNS serves it: LiveDNS rrsets for a
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
            serial: self.read(|s| (s.generation % u64::from(u32::MAX)) as u32),
            source: ViewSource::Sets(RrSets::from_sorted(rrsets)),
        })
    }

    /// A JSON picture of everything, secrets redacted.
    pub fn snapshot(&self) -> serde_json::Value {
        self.read(State::snapshot)
    }

    /// The same picture as bytes, a few hundred domains at a time, from one snapshot
    /// (`GET /_mock/state`, streamed).
    pub fn snapshot_json(&self) -> StateJson {
        StateJson::new(self.current())
    }
}

/// The locked state, changed in place through `DerefMut` (copy-on-write when a reader holds
/// the snapshot).
struct StateGuard<'a>(std::sync::MutexGuard<'a, Arc<State>>);

impl std::ops::Deref for StateGuard<'_> {
    type Target = State;
    fn deref(&self) -> &State {
        &self.0
    }
}

impl std::ops::DerefMut for StateGuard<'_> {
    fn deref_mut(&mut self) -> &mut State {
        Arc::make_mut(&mut self.0)
    }
}

impl Default for ZoneStore {
    fn default() -> Self {
        Self::new(Seed::default())
    }
}

impl State {
    fn empty() -> Self {
        Self {
            next_zone_id: FIRST_ZONE_ID,
            next_record_id: FIRST_RECORD_ID,
            next_domain_id: FIRST_DOMAIN_ID,
            ..Self::default()
        }
    }

    /// Every fault rule and the rate limit with counts of zero (the same rules).
    fn rearm(&mut self) {
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

    /// Adds what `seed` holds (its values are moved into the state, not copied).
    fn apply_seed(&mut self, seed: Seed) {
        // The same relative names come back in domain after domain (`@`, `www`,
        // `_acme-challenge`): each is stored once per seed.
        let mut names = std::collections::HashSet::new();
        for d in seed.domain {
            self.insert_domain(d, &mut names);
        }
        self.faults
            .extend(seed.fault.iter().cloned().map(ArmedFault::new));
        self.dns_faults
            .extend(seed.dns_fault.iter().cloned().map(Armed::new));
        if let Some(limit) = seed.rate_limit {
            self.rate_limiter = Some(std::sync::Arc::new(RateLimiter::new(limit)));
        }
        for c in &seed.credential {
            // One secret may be several kinds of credential (a suite that gives one token to
            // both APIs); a later seed's credential of the same secret and kind replaces it.
            self.credentials
                .retain(|k| k.secret != c.secret || k.kind != c.kind);
            self.credentials.push(Arc::new(Credential {
                kind: c.kind,
                secret: c.secret.clone(),
                organization: c.organization.clone(),
                domains: c.domains.clone(),
                read: c.permissions.contains(&Permission::Read)
                    || c.permissions.contains(&Permission::Write),
                write: c.permissions.contains(&Permission::Write),
                expires: c.expires,
            }));
        }
    }

    /// Adds a domain with its records: as rrsets, and as version 1 of a new legacy zone of its
    /// own, so that both APIs list the same records at the start whichever mode serves DNS.
    fn insert_domain(&mut self, d: SeedDomain, names: &mut std::collections::HashSet<RelName>) {
        let zone_id = self.new_zone(&format!("{} zone", d.fqdn));
        let first_id = self.next_record_id;
        // Unless every record is an rrset of its own with its values once, version 1 is
        // written out here; else it is read from the rrsets (see `Records`).
        let plain = {
            let mut keys = std::collections::HashSet::new();
            d.record.iter().all(|r| {
                keys.insert((&r.name, r.rtype))
                    && r.values
                        .iter()
                        .enumerate()
                        .all(|(i, v)| !r.values[..i].contains(v))
            })
        };
        let listed = (!plain).then(|| records::listing(&d.record, first_id));
        let mut order = Vec::with_capacity(d.record.len());
        let mut sets: BTreeMap<(RelName, RecordType), RrSet> = BTreeMap::new();
        for r in d.record {
            let name = match names.get(&r.name) {
                Some(known) => known.clone(),
                None => {
                    names.insert(r.name.clone());
                    r.name
                }
            };
            order.push((name.clone(), r.rtype));
            let set = sets
                .entry((name.clone(), r.rtype))
                .or_insert_with(|| RrSet {
                    name,
                    rtype: r.rtype,
                    ttl: r.ttl,
                    values: Vec::with_capacity(r.values.len()),
                });
            for v in r.values {
                if !set.values.contains(&v) {
                    set.values.push(v);
                }
            }
        }
        let rrsets = RrSets::from_sorted(sets.into_values().collect());
        let records = match listed {
            Some(listed) => Records::Listed(listed),
            None => {
                let order = order
                    .iter()
                    .filter_map(|(name, rtype)| rrsets.position(name, *rtype))
                    .map(|i| u32::try_from(i).unwrap_or(u32::MAX))
                    .collect();
                Records::seeded(rrsets.clone(), order, first_id)
            }
        };
        self.next_record_id += records.len() as u64;
        if let Some(zone) = self.zones.get_mut(&zone_id) {
            Arc::make_mut(zone).versions.insert(1, records);
        }
        let id = self.next_domain_id;
        self.next_domain_id += 1;
        self.domains.insert(
            d.fqdn.clone(),
            Arc::new(Domain {
                id,
                fqdn: d.fqdn.clone(),
                dns: d.dns,
                organization: d.organization,
                rrsets,
                zone_id,
                account: d.account,
            }),
        );
    }

    /// Creates an empty legacy zone with version 1 active; returns its id.
    pub(crate) fn new_zone(&mut self, name: &str) -> u64 {
        let id = self.next_zone_id;
        self.next_zone_id += 1;
        self.zones.insert(
            id,
            Arc::new(LegacyZone {
                id,
                name: name.to_string(),
                public: false,
                active: 1,
                versions: BTreeMap::from([(1, Records::default())]),
                next_version: 2,
                date_updated: OffsetDateTime::now_utc(),
            }),
        );
        id
    }

    pub(crate) fn next_record_id(&mut self) -> u64 {
        let id = self.next_record_id;
        self.next_record_id += 1;
        id
    }

    /// The domains the account holds.
    pub fn domains(&self) -> impl Iterator<Item = &Domain> {
        self.domains.values().map(|d| &**d).filter(|d| d.account)
    }

    /// A domain the account holds.
    pub fn domain(&self, fqdn: &Fqdn) -> Option<&Domain> {
        self.domains.get(fqdn).map(|d| &**d).filter(|d| d.account)
    }

    pub fn zone(&self, id: u64) -> Option<&LegacyZone> {
        self.zones.get(&id).map(|z| &**z)
    }

    /// The known domain that `name` lies within (longest match).
    pub fn domain_holding(&self, name: &Fqdn) -> Option<&Domain> {
        let mut candidate = name.as_str();
        loop {
            if let Some(d) = Fqdn::parse(candidate)
                .ok()
                .and_then(|f| self.domains.get(&f))
            {
                return Some(d);
            }
            candidate = candidate.split_once('.')?.1;
        }
    }

    fn zone_for(this: &Arc<State>, name: &Fqdn) -> Option<ZoneView> {
        let domain = this.domain_holding(name)?;
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
            // Serials wrap like real ones; a mock never writes 2^32 times.
            serial: (this.generation % u64::from(u32::MAX)) as u32,
            source,
        })
    }

    /// The credential of `kind` with this secret.
    pub fn credential(&self, secret: &str, kind: CredentialKind) -> Option<&Arc<Credential>> {
        self.credentials
            .iter()
            .find(|c| c.secret == secret && c.kind == kind)
    }

    /// Whether any credential has this secret, whatever its kind.
    pub fn knows_secret(&self, secret: &str) -> bool {
        self.credentials.iter().any(|c| c.secret == secret)
    }

    /// Organization id as `sharing_id` carries it: accepted as the name or as the uuid the
    /// state shows for it.
    pub fn organization_matches(org: &str, sharing_id: &str) -> bool {
        org == sharing_id || organization_uuid(org) == sharing_id
    }

    /// May `cred` act on `fqdn` through LiveDNS? Checks mode, scope, organization and
    /// permission, in the order Gandi's answers show: an out-of-scope domain is unknown
    /// before it is forbidden.
    pub fn livedns_access(
        &self,
        cred: &Credential,
        fqdn: &Fqdn,
        sharing_id: Option<&str>,
        need: Need,
    ) -> Result<&Domain, Denied> {
        let domain = self
            .domain(fqdn)
            .filter(|d| d.dns == DnsMode::Livedns)
            .ok_or(Denied::UnknownDomain)?;
        if let Some(scope) = &cred.domains
            && !scope.contains(fqdn)
        {
            return Err(Denied::UnknownDomain);
        }
        match (&domain.organization, &cred.organization) {
            (Some(owner), Some(own)) => {
                if owner != own {
                    return Err(Denied::UnknownDomain);
                }
            }
            (Some(owner), None) => {
                if !sharing_id.is_some_and(|s| Self::organization_matches(owner, s)) {
                    return Err(Denied::OtherOrganization);
                }
            }
            (None, _) => {}
        }
        let allowed = match need {
            Need::Read => cred.read,
            Need::Write => cred.write,
        };
        if !allowed {
            return Err(Denied::Forbidden);
        }
        Ok(domain)
    }

    fn livedns_domain_mut(&mut self, fqdn: &Fqdn) -> Result<&mut Domain, StoreError> {
        self.domains
            .get_mut(fqdn)
            .map(Arc::make_mut)
            .ok_or_else(|| StoreError::UnknownDomain(fqdn.to_string()))
    }

    /// Adds a LiveDNS domain with no records (`POST /domains`).
    pub fn create_domain(
        &mut self,
        fqdn: &Fqdn,
        organization: Option<String>,
    ) -> Result<(), StoreError> {
        if self.domains.contains_key(fqdn) {
            return Err(StoreError::Invalid(Invalid::new(
                "fqdn",
                format!("Domain {fqdn} already exists"),
            )));
        }
        self.insert_domain(
            SeedDomain {
                fqdn: fqdn.clone(),
                dns: DnsMode::Livedns,
                organization,
                record: Vec::new(),
                account: true,
            },
            &mut Default::default(),
        );
        Ok(())
    }

    /// The rrsets of a domain, sorted by name then type.
    pub fn rrsets(&self, fqdn: &Fqdn) -> Result<Vec<RrSet>, StoreError> {
        self.domains
            .get(fqdn)
            .map(|d| d.rrsets.values().cloned().collect())
            .ok_or_else(|| StoreError::UnknownDomain(fqdn.to_string()))
    }

    pub fn rrset(&self, fqdn: &Fqdn, name: &RelName, rtype: RecordType) -> Option<RrSet> {
        self.domains.get(fqdn)?.rrsets.get(name, rtype).cloned()
    }

    /// Creates an rrset; fails if one exists at that name and type (`POST`).
    pub fn create_rrset(
        &mut self,
        fqdn: &Fqdn,
        name: &RelName,
        rtype: RecordType,
        ttl: Option<u32>,
        values: &[String],
    ) -> Result<RrSet, StoreError> {
        if self.rrset(fqdn, name, rtype).is_some() {
            return Err(StoreError::RrsetExists {
                name: name.to_string(),
                rtype,
            });
        }
        if values.is_empty() {
            return Err(Invalid::new("rrset_values", "at least one value is required").into());
        }
        self.put_rrset(fqdn, name, rtype, ttl, values)?
            .ok_or_else(|| Invalid::new("rrset_values", "at least one value is required").into())
    }

    /// Replaces (or creates) an rrset (`PUT`). No TTL means the default, 10800. An empty value
    /// list removes the rrset (certbot and acme.sh clean up that way) and returns `None`.
    pub fn put_rrset(
        &mut self,
        fqdn: &Fqdn,
        name: &RelName,
        rtype: RecordType,
        ttl: Option<u32>,
        values: &[String],
    ) -> Result<Option<RrSet>, StoreError> {
        let ttl = check_ttl(ttl.unwrap_or(DEFAULT_TTL))?;
        let normalized = normalize_values(rtype, values)?;
        let kept = self.put_normalized_rrset(fqdn, name, rtype, ttl, normalized)?;
        Ok(kept.then(|| {
            self.rrset(fqdn, name, rtype)
                .expect("the rrset just written")
        }))
    }

    /// [`State::put_rrset`] for a checked TTL and values already in the store's form (each
    /// once, as [`normalize_values`] gives them): what the LiveDNS `PUT` of one rrset does
    /// once it has read its body. Whether an rrset is left (an empty list removes it).
    pub fn put_normalized_rrset(
        &mut self,
        fqdn: &Fqdn,
        name: &RelName,
        rtype: RecordType,
        ttl: u32,
        values: Vec<String>,
    ) -> Result<bool, StoreError> {
        if rtype == RecordType::Alias && !name.is_apex() {
            return Err(Invalid::new(
                "rrset_type",
                "ALIAS records are only allowed at the apex (@)",
            )
            .into());
        }
        let domain = self.livedns_domain_mut(fqdn)?;
        if values.is_empty() {
            domain.rrsets.remove(name, rtype);
            return Ok(false);
        }
        check_cname_exclusive(domain, name, rtype)?;
        domain.rrsets.insert(RrSet {
            name: name.clone(),
            rtype,
            ttl,
            values,
        });
        Ok(true)
    }

    /// Replaces every rrset at `name` (`PUT /records/{name}`).
    pub fn replace_name(
        &mut self,
        fqdn: &Fqdn,
        name: &RelName,
        items: &[(RecordType, Option<u32>, Vec<String>)],
    ) -> Result<(), StoreError> {
        self.replace_rrsets(
            fqdn,
            |n| n != name,
            items
                .iter()
                .map(|(t, ttl, v)| (name, *t, *ttl, v.as_slice())),
        )
    }

    /// Replaces the whole zone (`PUT /records`).
    pub fn replace_zone(
        &mut self,
        fqdn: &Fqdn,
        items: &[(RelName, RecordType, Option<u32>, Vec<String>)],
    ) -> Result<(), StoreError> {
        self.replace_rrsets(
            fqdn,
            |_| false,
            items
                .iter()
                .map(|(n, t, ttl, v)| (n, *t, *ttl, v.as_slice())),
        )
    }

    /// Keeps the rrsets whose name `keep` accepts and writes `items` over them, all or nothing:
    /// the writes go to a copy of the domain, which replaces it only if every one succeeded.
    fn replace_rrsets<'a>(
        &mut self,
        fqdn: &Fqdn,
        keep: impl Fn(&RelName) -> bool,
        items: impl Iterator<Item = (&'a RelName, RecordType, Option<u32>, &'a [String])>,
    ) -> Result<(), StoreError> {
        let mut trial = self
            .domains
            .get(fqdn)
            .map(|d| Domain::clone(d))
            .ok_or_else(|| StoreError::UnknownDomain(fqdn.to_string()))?;
        trial.rrsets.retain(|r| keep(&r.name));
        let mut scratch = State::default();
        scratch.domains.insert(fqdn.clone(), Arc::new(trial));
        for (name, rtype, ttl, values) in items {
            scratch.put_rrset(fqdn, name, rtype, ttl, values)?;
        }
        let done = scratch.domains.remove(fqdn).expect("inserted above");
        self.domains.insert(fqdn.clone(), done);
        Ok(())
    }

    /// Deletes one rrset; missing is an error (`DELETE /records/{name}/{type}` answers 404).
    pub fn delete_rrset(
        &mut self,
        fqdn: &Fqdn,
        name: &RelName,
        rtype: RecordType,
    ) -> Result<(), StoreError> {
        self.livedns_domain_mut(fqdn)?
            .rrsets
            .remove(name, rtype)
            .map(|_| ())
            .ok_or(StoreError::RrsetNotFound {
                name: name.to_string(),
                rtype,
            })
    }

    /// Deletes every rrset at `name`.
    pub fn delete_name(&mut self, fqdn: &Fqdn, name: &RelName) -> Result<(), StoreError> {
        self.livedns_domain_mut(fqdn)?
            .rrsets
            .retain(|r| r.name != *name);
        Ok(())
    }

    fn snapshot(&self) -> serde_json::Value {
        serde_json::json!({
            "organizations": self.organizations_json(),
            "domains": self.domains.values().map(|d| &**d).collect::<Vec<_>>(),
            "zones": self.zones.values().map(|z| &**z).collect::<Vec<_>>(),
            "credentials": self.credentials_json(),
        })
    }

    /// Every organization named by a domain or a credential, with its id.
    fn organizations_json(&self) -> Vec<serde_json::Value> {
        let orgs: std::collections::BTreeSet<&String> = self
            .domains
            .values()
            .filter_map(|d| d.organization.as_ref())
            .chain(
                self.credentials
                    .iter()
                    .filter_map(|c| c.organization.as_ref()),
            )
            .collect();
        orgs.iter()
            .map(|o| serde_json::json!({"name": o, "id": organization_uuid(o)}))
            .collect()
    }

    /// The credentials, secrets redacted.
    fn credentials_json(&self) -> Vec<serde_json::Value> {
        self.credentials.iter().map(|c| serde_json::json!({
            "kind": c.kind.as_str(),
            "secret": c.redacted(),
            "organization": c.organization,
            "domains": c.domains,
            "read": c.read,
            "write": c.write,
            "expires": c.expires.and_then(|e| e.format(&time::format_description::well_known::Rfc3339).ok()),
        })).collect()
    }
}

/// CNAME must stand alone at its name.
fn check_cname_exclusive(
    domain: &Domain,
    name: &RelName,
    rtype: RecordType,
) -> Result<(), Invalid> {
    let others = domain
        .rrsets
        .values()
        .filter(|r| r.name == *name && r.rtype != rtype)
        .map(|r| r.rtype)
        .collect::<Vec<_>>();
    if rtype == RecordType::Cname && !others.is_empty() {
        return Err(Invalid::new(
            "rrset_type",
            "A CNAME record cannot coexist with other records of the same name",
        ));
    }
    if others.contains(&RecordType::Cname) {
        return Err(Invalid::new(
            "rrset_type",
            "A CNAME record cannot coexist with other records of the same name",
        ));
    }
    Ok(())
}

/// A stable uuid-shaped id for an organization name (FNV-1a, twice, formatted 8-4-4-4-12).
pub fn organization_uuid(name: &str) -> String {
    let hash = |seed: u64| {
        name.bytes().fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    let a = hash(0xcbf2_9ce4_8422_2325);
    let b = hash(0x8422_2325_cbf2_9ce4);
    let hex = format!("{a:016x}{b:016x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> ZoneStore {
        ZoneStore::new(
            Seed::from_toml(
                r#"
[[domain]]
fqdn = "stubber.chat"
organization = "acme"
[[domain.record]]
name = "@"
type = "A"
ttl = 300
values = ["192.0.2.10"]
[[domain]]
fqdn = "old.example"
dns = "legacy"
[[domain.record]]
name = "www"
type = "A"
values = ["192.0.2.20"]
[[credential]]
kind = "pat"
secret = "0123456789abcdef0123456789abcdef01234567"
organization = "acme"
[[credential]]
kind = "apikey"
secret = "abcdefghijklmnopqrstuvwx"
permissions = ["dns:read"]
"#,
            )
            .unwrap(),
        )
    }

    /// One write to `stubber.chat`: a TXT rrset at `new`.
    fn put_new_txt(store: &ZoneStore) {
        store
            .write(|s| {
                s.put_rrset(
                    &f("stubber.chat"),
                    &n("new"),
                    RecordType::Txt,
                    None,
                    &["\"x\"".to_string()],
                )
            })
            .unwrap();
    }

    #[test]
    fn a_write_under_a_held_snapshot_copies_only_what_it_changes() {
        let store = store();
        let before = store.current();
        put_new_txt(&store);
        let after = store.current();
        assert!(!Arc::ptr_eq(&before, &after), "a new snapshot");
        // The reader's snapshot is unchanged; the changed domain is a new one...
        assert!(
            before.domains[&f("stubber.chat")].rrsets.len()
                < after.domains[&f("stubber.chat")].rrsets.len()
        );
        // ...and everything else is shared, not copied.
        assert!(Arc::ptr_eq(
            &before.domains[&f("old.example")],
            &after.domains[&f("old.example")]
        ));
        for (id, zone) in &before.zones {
            assert!(Arc::ptr_eq(zone, &after.zones[id]));
        }
        // With no reader holding it, a write changes the snapshot in place.
        drop(before);
        let held = Arc::as_ptr(&after);
        drop(after);
        store
            .write(|s| s.delete_name(&f("stubber.chat"), &n("new")))
            .unwrap();
        assert_eq!(Arc::as_ptr(&store.current()), held);
    }

    #[test]
    fn a_seeded_zone_version_lists_the_seed_s_records_and_shares_the_rrsets() {
        // A plain domain (read from its rrsets), one whose records repeat an rrset and a
        // value (written out), and a third after them: ids run on across all three.
        let text = r#"
[[domain]]
fqdn = "plain.example"
[[domain.record]]
name = "www"
type = "A"
ttl = 600
values = ["192.0.2.2", "192.0.2.1"]
[[domain.record]]
name = "@"
type = "TXT"
values = ["\"b\"", "\"a\""]
[[domain]]
fqdn = "repeats.example"
dns = "legacy"
[[domain.record]]
name = "x"
type = "A"
values = ["192.0.2.1", "192.0.2.1"]
[[domain.record]]
name = "x"
type = "A"
ttl = 900
values = ["192.0.2.3"]
[[domain]]
fqdn = "after.example"
[[domain.record]]
name = "@"
type = "MX"
values = ["10 mx.example."]
"#;
        let seed = Seed::from_toml(text).unwrap();
        let store = ZoneStore::parse(text).unwrap();
        let state = store.current();
        let mut first = FIRST_RECORD_ID;
        for d in &seed.domain {
            let domain = &state.domains[&d.fqdn];
            let version = &state.zones[&domain.zone_id].versions[&1];
            assert_eq!(
                version.iter().collect::<Vec<_>>(),
                records::listing(&d.record, first)
            );
            first += version.len() as u64;
            match (d.fqdn.as_str(), version) {
                ("repeats.example", Records::Listed(_)) => {}
                (_, Records::Seeded(s)) if d.fqdn.as_str() != "repeats.example" => {
                    assert!(s.rrsets().shares(&domain.rrsets), "{}", d.fqdn);
                }
                (fqdn, _) => panic!("{fqdn}: not the expected form"),
            }
        }
        // DNS serves the legacy domain's version grouped as LiveDNS would hold it.
        let view = store.zone_for(&f("x.repeats.example")).unwrap();
        let sets: Vec<_> = view.rrsets().cloned().collect();
        assert_eq!(sets.len(), 1);
        assert_eq!((sets[0].ttl, sets[0].values.len()), (DEFAULT_TTL, 2));

        // A LiveDNS write copies the rrsets: version 1 keeps listing the seed's records.
        let plain = &seed.domain[0];
        store
            .write(|s| {
                s.put_rrset(
                    &plain.fqdn,
                    &n("www"),
                    RecordType::A,
                    None,
                    &["192.0.2.9".into()],
                )
            })
            .unwrap();
        let state = store.current();
        let domain = &state.domains[&plain.fqdn];
        let version = &state.zones[&domain.zone_id].versions[&1];
        assert_eq!(
            version.iter().collect::<Vec<_>>(),
            records::listing(&plain.record, FIRST_RECORD_ID)
        );
        // A v4 edit writes the version out, the same records then the new one.
        let zone = domain.zone_id as i64;
        let next = store.write(|s| s.legacy_new_version(zone, None)).unwrap();
        store
            .write(|s| s.legacy_set_version(zone, i64::from(next)))
            .unwrap();
        let input = RecordInput {
            name: "new".into(),
            rtype: "TXT".into(),
            value: "\"c\"".into(),
            ttl: None,
        };
        store
            .write(|s| s.legacy_add_record(zone, 1, &input))
            .unwrap();
        let state = store.current();
        let version = &state.zones[&domain.zone_id].versions[&1];
        assert!(matches!(version, Records::Listed(_)));
        let listed: Vec<_> = version.iter().collect();
        assert_eq!(
            listed[..4],
            records::listing(&plain.record, FIRST_RECORD_ID)[..]
        );
        assert_eq!(listed[4].name.as_str(), "new");
        // reset returns to the seeded form.
        store.reset();
        let state = store.current();
        let version = &state.zones[&state.domains[&plain.fqdn].zone_id].versions[&1];
        assert!(matches!(version, Records::Seeded(_)));
    }

    #[test]
    fn the_seed_is_held_once_and_reset_returns_to_it() {
        let store = store();
        let seeded = store.snapshot();
        // Before any write the current state is the seeded one itself.
        assert!(Arc::ptr_eq(&store.current(), &store.initial));
        put_new_txt(&store);
        let after = store.current();
        let (initial, now) = (&store.initial.domains, &after.domains);
        assert!(Arc::ptr_eq(
            &initial[&f("old.example")],
            &now[&f("old.example")]
        ));
        assert!(!Arc::ptr_eq(
            &initial[&f("stubber.chat")],
            &now[&f("stubber.chat")]
        ));
        assert_ne!(store.snapshot(), seeded);
        store.reset();
        assert_eq!(store.snapshot(), seeded);
        let now = store.current();
        assert!(Arc::ptr_eq(
            &store.initial.domains[&f("stubber.chat")],
            &now.domains[&f("stubber.chat")]
        ));
        assert!(now.generation > after.generation, "DNS sees a new serial");
    }

    #[test]
    fn reset_starts_every_rule_s_count_again() {
        use std::sync::atomic::Ordering::SeqCst;
        let store = ZoneStore::new(
            Seed::from_toml(
                "[[fault]]\nmethod = \"PUT\"\npath = \"/v5/*\"\ntimes = 1\nstatus = 429\n\
                 [[dns_fault]]\nname = \"x.example\"\ntimes = 1\ndrop = true\n\
                 [rate_limit]\nper_minute = 2\n",
            )
            .unwrap(),
        );
        let used = store.current();
        used.faults[0].seen.store(5, SeqCst);
        used.faults[0].fired.store(1, SeqCst);
        used.dns_faults[0].seen.store(3, SeqCst);
        store.reset();
        let now = store.current();
        assert_eq!(now.faults.len(), 1);
        assert_eq!(
            (
                now.faults[0].seen.load(SeqCst),
                now.faults[0].fired.load(SeqCst)
            ),
            (0, 0)
        );
        assert_eq!(now.faults[0].rule, used.faults[0].rule);
        assert_eq!(now.dns_faults[0].seen.load(SeqCst), 0);
        let (before, after) = (used.rate_limiter().unwrap(), now.rate_limiter().unwrap());
        assert!(!Arc::ptr_eq(&before, &after), "a new rate window");
        assert_eq!(before.limit(), after.limit());
    }

    fn f(s: &str) -> Fqdn {
        Fqdn::parse(s).unwrap()
    }

    fn n(s: &str) -> RelName {
        RelName::parse(s).unwrap()
    }

    #[test]
    fn dns_sees_livedns_rrsets_for_a_livedns_domain() {
        let s = store();
        let view = s.zone_for(&f("www.stubber.chat")).unwrap();
        assert_eq!(view.apex, f("stubber.chat"));
        assert_eq!(view.rrsets().count(), 1);
        assert!(s.zone_for(&f("example.org")).is_none());
    }

    #[test]
    fn dns_sees_the_active_legacy_version_for_a_legacy_domain() {
        let s = store();
        // A LiveDNS write to a legacy domain never reaches DNS.
        s.write(|st| {
            st.put_rrset(
                &f("old.example"),
                &n("x"),
                RecordType::A,
                None,
                &["192.0.2.99".into()],
            )
            .unwrap()
        });
        let view = s.zone_for(&f("old.example")).unwrap();
        assert_eq!(view.rrsets().count(), 1);
        assert_eq!(view.rrsets().next().unwrap().name, n("www"));
    }

    #[test]
    fn put_without_ttl_gives_the_default_and_empty_values_remove() {
        let s = store();
        let d = f("stubber.chat");
        let set = s
            .write(|st| {
                st.put_rrset(
                    &d,
                    &n("_acme-challenge"),
                    RecordType::Txt,
                    None,
                    &["tok".into()],
                )
            })
            .unwrap()
            .unwrap();
        assert_eq!(set.ttl, DEFAULT_TTL);
        assert_eq!(set.values, vec!["\"tok\""]);
        let gone = s
            .write(|st| st.put_rrset(&d, &n("_acme-challenge"), RecordType::Txt, Some(300), &[]))
            .unwrap();
        assert!(gone.is_none());
        assert!(
            s.read(|st| st.rrset(&d, &n("_acme-challenge"), RecordType::Txt))
                .is_none()
        );
    }

    #[test]
    fn cname_stands_alone() {
        let s = store();
        let d = f("stubber.chat");
        let err = s
            .write(|st| st.put_rrset(&d, &n("@"), RecordType::Cname, None, &["x.example.".into()]))
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)));
    }

    #[test]
    fn a_failed_zone_replace_changes_nothing() {
        let s = store();
        let d = f("stubber.chat");
        let before = s.read(|st| st.rrsets(&d)).unwrap();
        let err = s.write(|st| {
            st.replace_zone(
                &d,
                &[
                    (n("a"), RecordType::A, None, vec!["192.0.2.1".into()]),
                    (n("b"), RecordType::A, None, vec!["bad".into()]),
                ],
            )
        });
        assert!(err.is_err());
        assert_eq!(s.read(|st| st.rrsets(&d)).unwrap(), before);
    }

    #[test]
    fn access_follows_scope_organization_and_permission() {
        let s = store();
        s.read(|st| {
            let pat = st
                .credential(
                    "0123456789abcdef0123456789abcdef01234567",
                    CredentialKind::Pat,
                )
                .unwrap();
            let key = st
                .credential("abcdefghijklmnopqrstuvwx", CredentialKind::ApiKey)
                .unwrap();
            let d = f("stubber.chat");
            assert!(st.livedns_access(pat, &d, None, Need::Write).is_ok());
            assert_eq!(
                st.livedns_access(key, &d, None, Need::Read).unwrap_err(),
                Denied::OtherOrganization
            );
            assert!(st.livedns_access(key, &d, Some("acme"), Need::Read).is_ok());
            assert!(
                st.livedns_access(key, &d, Some(&organization_uuid("acme")), Need::Read)
                    .is_ok()
            );
            assert_eq!(
                st.livedns_access(key, &d, Some("acme"), Need::Write)
                    .unwrap_err(),
                Denied::Forbidden
            );
            assert_eq!(
                st.livedns_access(pat, &f("old.example"), None, Need::Read)
                    .unwrap_err(),
                Denied::UnknownDomain
            );
        });
    }

    #[test]
    fn a_domain_outside_the_account_is_served_by_dns_and_unknown_to_the_apis() {
        let s = ZoneStore::new(
            Seed::from_toml(
                "[[domain]]\nfqdn = \"sub.stubber.chat\"\naccount = false\n\
                 [[credential]]\nkind = \"pat\"\nsecret = \"p\"\n",
            )
            .unwrap(),
        );
        assert!(s.zone_for(&f("x.sub.stubber.chat")).is_some());
        s.read(|st| {
            assert!(st.domain(&f("sub.stubber.chat")).is_none());
            assert_eq!(st.domains().count(), 0);
            assert!(st.legacy_domain("sub.stubber.chat.").is_err());
            let pat = st.credential("p", CredentialKind::Pat).unwrap();
            assert_eq!(
                st.livedns_access(pat, &f("sub.stubber.chat"), None, Need::Read)
                    .unwrap_err(),
                Denied::UnknownDomain
            );
        });
    }

    #[test]
    fn reset_returns_to_the_start_up_seed() {
        let s = store();
        let d = f("stubber.chat");
        s.write(|st| st.delete_name(&d, &n("@"))).unwrap();
        assert!(s.read(|st| st.rrsets(&d)).unwrap().is_empty());
        s.reset();
        assert_eq!(s.read(|st| st.rrsets(&d)).unwrap().len(), 1);
    }

    #[test]
    fn secrets_are_redacted() {
        assert_eq!(
            redact("0123456789abcdef0123456789abcdef01234567"),
            "0123…4567 (40)"
        );
        let snap = store().snapshot().to_string();
        assert!(!snap.contains("0123456789abcdef"));
    }
}
