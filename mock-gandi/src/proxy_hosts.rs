//! The Gandi hosts the proxy and the HTTPS listener answer for, and the APIs (path prefixes)
//! each serves (gandi-wire.md §1). The beta host answers only in its era
//! (`crate::era::Era::beta_host`).

use crate::era::Era;

/// What `api.gandi.net` (and its sandbox) serves: LiveDNS, the Domain and Organization APIs.
const API_GANDI: &[&str] = &["/v5/livedns", "/v5/domain", "/v5/organization"];

/// The hosts the proxy tunnels to, each with the APIs (path prefixes) it serves
/// (gandi-wire.md §1).
pub(crate) const HOSTS: &[GandiHost] = &[
    GandiHost {
        name: "rpc.gandi.net",
        prefixes: &["/xmlrpc"],
        beta: false,
    },
    GandiHost {
        name: "rpc.ote.gandi.net",
        prefixes: &["/xmlrpc"],
        beta: false,
    },
    GandiHost {
        name: "dns.api.gandi.net",
        prefixes: &["/api/v5"],
        beta: false,
    },
    GandiHost {
        name: "api.gandi.net",
        prefixes: API_GANDI,
        beta: false,
    },
    GandiHost {
        name: "api.sandbox.gandi.net",
        prefixes: API_GANDI,
        beta: false,
    },
    // LiveDNS's beta host, the old host's API, in its era only (`Era::beta_host`).
    GandiHost {
        name: "dns.beta.gandi.net",
        prefixes: &["/api/v5"],
        beta: true,
    },
];

#[derive(Debug)]
pub(crate) struct GandiHost {
    pub(crate) name: &'static str,
    prefixes: &'static [&'static str],
    /// Served only while the store's era has the beta host (`Era::beta_host`); refused like
    /// any other name otherwise.
    beta: bool,
}

impl GandiHost {
    /// Whether Gandi answered on this name in `era`.
    pub(crate) fn answers_in(&self, era: Era) -> bool {
        !self.beta || era.beta_host()
    }

    /// Whether `path` belongs to this host's API: the prefix itself or below it, on a
    /// segment boundary (as the router's `nest` matches).
    pub(crate) fn serves(&self, path: &str) -> bool {
        self.prefixes.iter().any(|prefix| {
            path.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }
}

/// The allowed targets, for refusal bodies.
pub(crate) fn allowed_targets() -> String {
    HOSTS
        .iter()
        .filter(|h| !h.beta)
        .map(|h| format!("{}:443", h.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The Gandi host of this name (any letter case; a root dot is the same host).
pub(crate) fn host_named(name: &str) -> Option<&'static GandiHost> {
    let name = name.strip_suffix('.').unwrap_or(name);
    HOSTS.iter().find(|h| h.name.eq_ignore_ascii_case(name))
}

/// The Gandi names the mock answers for in `era` (the proxy's hosts, the transparent HTTPS
/// listener's names): what a sandbox's `/etc/hosts` sends to the mock.
pub fn names_in(era: Era) -> Vec<&'static str> {
    HOSTS
        .iter()
        .filter(|h| h.answers_in(era))
        .map(|h| h.name)
        .collect()
}
