//! Propagation lag (`[propagation]` in a seed; `[gandi.propagation]` in a scenario): the APIs
//! answer at once, but DNS serves each change only `delay_ms` after it was made, as Gandi's
//! nameservers do. Every write keeps a copy of the state it left, due at its time plus the
//! delay; DNS answers from the newest copy that is due, so a zone's SOA serial moves when its
//! change becomes visible. `domains` limits the lag to those zones (a legacy zone that takes
//! minutes beside LiveDNS zones that take seconds); the others are served as they are now.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::State;
use super::types::{Fqdn, Invalid};

/// The lag as a seed writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawPropagation")]
pub struct Propagation {
    /// From an API write to DNS serving it.
    pub delay_ms: u64,
    /// Only these zones lag (none: every zone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domains: Option<Vec<Fqdn>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPropagation {
    delay_ms: Option<u64>,
    domains: Option<Vec<Fqdn>>,
}

impl TryFrom<RawPropagation> for Propagation {
    type Error = Invalid;
    fn try_from(raw: RawPropagation) -> Result<Self, Invalid> {
        let Some(delay_ms) = raw.delay_ms else {
            return Err(Invalid::new(
                "delay_ms",
                "propagation needs delay_ms: how long DNS lags behind the API",
            ));
        };
        if raw.domains.as_ref().is_some_and(Vec::is_empty) {
            return Err(Invalid::new(
                "domains",
                "an empty list lags nothing; leave domains out to lag every zone",
            ));
        }
        Ok(Self {
            delay_ms,
            domains: raw.domains,
        })
    }
}

/// What DNS sees of a lagging store: the state it serves, and the later ones on their way.
#[derive(Debug)]
pub(crate) struct Lagging {
    pub propagation: Propagation,
    visible: Arc<State>,
    pending: VecDeque<(Instant, Arc<State>)>,
}

impl Lagging {
    /// A lag starting from `now_visible` (what DNS serves until the next write is due).
    pub fn new(propagation: Propagation, now_visible: Arc<State>) -> Self {
        Self {
            propagation,
            visible: now_visible,
            pending: VecDeque::new(),
        }
    }

    /// A write left `state` at `now`: DNS serves it from `now` plus the delay.
    pub fn written(&mut self, now: Instant, state: Arc<State>) {
        let due = now + Duration::from_millis(self.propagation.delay_ms);
        self.pending.push_back((due, state));
    }

    /// The state DNS serves at `now`.
    pub fn visible(&mut self, now: Instant) -> Arc<State> {
        while self.pending.front().is_some_and(|(due, _)| *due <= now) {
            if let Some((_, state)) = self.pending.pop_front() {
                self.visible = state;
            }
        }
        self.visible.clone()
    }

    /// Whether names of the zone `apex` lag.
    pub fn covers(&self, apex: &Fqdn) -> bool {
        self.propagation
            .domains
            .as_ref()
            .is_none_or(|domains| domains.contains(apex))
    }
}
