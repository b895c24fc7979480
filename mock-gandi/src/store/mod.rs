//! The zone store: the only source of truth of the emulator.
//!
//! Every API (LiveDNS, legacy v4, admin) reads and writes it; the DNS server only reads it,
//! through [`ZoneStore::zone_for`], so that DNS answers exactly what the store holds at the
//! moment of the query (or, under a propagation lag, what it held that long before).

mod access;
mod axfr;
mod cow_list;
mod dns_fault;
mod dnssec_key;
mod domains;
mod fault;
mod fault_answer;
mod ids;
mod keys;
mod lag;
mod legacy;
mod livedns;
mod permissions;
mod rate;
mod records;
mod registry;
mod rrsets;
mod seed;
mod seed_parts;
mod seeding;
mod snapshot_list;
mod snapshots;
mod state;
mod state_json;
mod transfer;
pub mod types;
mod view;

use std::sync::{Arc, Mutex};

pub use access::Denied;
pub use dns_fault::{DNS_FAULT_RCODES, DnsFaultAction, DnsFaultRule, DnsTransport};
pub use dnssec_key::{
    DNSSEC_ALGORITHM, DNSSEC_ALGORITHM_NAME, DNSSEC_FLAGS, DnssecKey, DnssecKeys,
};
pub use fault::{
    Apply, CloseAt, FAULT_STATUSES, FaultAnswer, FaultApi, FaultRule, Selection, glob_matches,
};
pub use ids::organization_uuid;
pub use keys::KeyError;
pub use lag::Propagation;
pub use legacy::{LegacyError, RecordFilter, RecordInput};
pub use livedns::apex_rule;
pub use permissions::{Need, Permission, Rights};
pub use rate::{RateLimit, RateLimiter};
pub use records::{LegacyRecord, Records};
pub use registry::{CLASSIC_NAMESERVERS, is_gandi_nameserver};
pub use rrsets::{RrSet, RrSets};
pub use seed::{
    CredentialKind, DnsMode, DuplicateSecret, Seed, SeedCredential, SeedDomain, SeedError,
    SeedRecord,
};
pub use snapshot_list::{MAX_AUTOMATIC, Snapshot, Snapshots};
pub use state::{Armed, ArmedFault, Credential, Domain, LegacyZone, State, redact};
pub use state_json::StateJson;
pub use transfer::{Transfer, TsigKey, TsigKeys};
pub use types::normalize_values;
pub use types::{DEFAULT_TTL, Fqdn, Invalid, MAX_TTL, MIN_TTL, RecordType, RelName};
pub use view::{NAMESERVER_ZONE, NAMESERVERS, ZoneView, soa};

/// What went wrong in a store operation. Each API maps these to its own wire errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Invalid(#[from] Invalid),
    #[error("unknown domain {0}")]
    UnknownDomain(String),
    #[error("rrset {name}/{rtype} not found")]
    RrsetNotFound { name: String, rtype: RecordType },
    #[error("snapshot {0} not found")]
    SnapshotNotFound(String),
    #[error("rrset {name}/{rtype} exists")]
    RrsetExists { name: String, rtype: RecordType },
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

    /// The same store as Gandi was at `as_of` (before it serves: `mock-gandi serve --as-of`
    /// overrides the seed's `as_of`, and a reset keeps it).
    pub fn with_as_of(mut self, as_of: crate::era::AsOf) -> Self {
        let state = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        Arc::make_mut(state).set_era(crate::era::Era::new(Some(as_of)));
        self.initial = state.clone();
        self
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

#[cfg(test)]
mod tests;
