//! DNS fault rules (`[[dns_fault]]` in a seed; `[[gandi.dns_fault]]` in a scenario): queries the
//! mock's nameserver answers otherwise. Dropped (no answer over UDP, the connection closed over
//! TCP), answered with another rcode, answered truncated (TC set, no records: the client must
//! ask again over TCP), or answered late. `crate::dns` applies them; the DNS journal names the
//! rule that fired.

use serde::{Deserialize, Serialize};

use super::fault::{Selection, SelectionKeys, glob_matches, is_zero};
use super::types::Invalid;

/// The transports a rule may be limited to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DnsTransport {
    Udp,
    Tcp,
}

impl DnsTransport {
    pub fn as_str(self) -> &'static str {
        match self {
            DnsTransport::Udp => "udp",
            DnsTransport::Tcp => "tcp",
        }
    }
}

/// What happens to a query a rule takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum DnsFaultAction {
    /// No answer (UDP); the connection closed (TCP).
    Drop,
    /// This rcode, with no records.
    Rcode(String),
    /// TC set and no records (UDP only), so that the client asks again over TCP.
    Truncate,
    /// Only the delay: then the usual answer.
    Delay,
}

/// The rcodes a rule may answer with.
pub const DNS_FAULT_RCODES: [&str; 5] = ["SERVFAIL", "REFUSED", "NXDOMAIN", "NOTIMP", "FORMERR"];

/// One rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawDnsFault", into = "RawDnsFault")]
pub struct DnsFaultRule {
    /// The name asked, lowercase, no final dot; `*` matches any run of characters.
    pub name: Option<String>,
    /// The type asked (`TXT`, `SOA`, ...).
    pub qtype: Option<String>,
    pub transport: Option<DnsTransport>,
    pub selection: Selection,
    pub action: DnsFaultAction,
    pub delay_ms: u64,
}

impl DnsFaultRule {
    /// Whether a query for `name` (as asked) of `qtype` over `transport` is the rule's.
    pub fn matches(&self, name: &str, qtype: &str, transport: &str) -> bool {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        self.name.as_deref().is_none_or(|g| glob_matches(g, &name))
            && self
                .qtype
                .as_deref()
                .is_none_or(|t| t.eq_ignore_ascii_case(qtype))
            && self.transport.is_none_or(|t| t.as_str() == transport)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDnsFault {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    qtype: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transport: Option<DnsTransport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nth: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    times: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    probability: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    drop: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rcode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    truncate: Option<bool>,
    #[serde(default, skip_serializing_if = "is_zero")]
    delay_ms: u64,
}

impl TryFrom<RawDnsFault> for DnsFaultRule {
    type Error = Invalid;
    fn try_from(raw: RawDnsFault) -> Result<Self, Invalid> {
        let selection = SelectionKeys {
            nth: raw.nth,
            times: raw.times,
            from: raw.from,
            probability: raw.probability,
            seed: raw.seed,
        }
        .try_into()?;
        let drop = raw.drop == Some(true);
        let truncate = raw.truncate == Some(true);
        if usize::from(drop) + usize::from(truncate) + usize::from(raw.rcode.is_some()) > 1 {
            return Err(Invalid::new(
                "drop",
                "a DNS rule does one thing: drop, rcode or truncate",
            ));
        }
        let action = if drop {
            DnsFaultAction::Drop
        } else if truncate {
            DnsFaultAction::Truncate
        } else if let Some(rcode) = raw.rcode {
            let upper = rcode.to_ascii_uppercase();
            if !DNS_FAULT_RCODES.contains(&upper.as_str()) {
                return Err(Invalid::new(
                    "rcode",
                    format!("{rcode:?} is not one of {DNS_FAULT_RCODES:?}"),
                ));
            }
            DnsFaultAction::Rcode(upper)
        } else if raw.delay_ms > 0 {
            DnsFaultAction::Delay
        } else {
            return Err(Invalid::new(
                "drop",
                "a DNS rule needs drop, rcode, truncate or delay_ms",
            ));
        };
        // Truncation means something over UDP only.
        let transport = match (&action, raw.transport) {
            (DnsFaultAction::Truncate, Some(DnsTransport::Tcp)) => {
                return Err(Invalid::new(
                    "truncate",
                    "a TCP answer is never truncated; truncate is for udp",
                ));
            }
            (DnsFaultAction::Truncate, _) => Some(DnsTransport::Udp),
            (_, transport) => transport,
        };
        Ok(Self {
            name: raw
                .name
                .map(|n| n.trim_end_matches('.').to_ascii_lowercase()),
            qtype: raw.qtype.map(|t| t.to_ascii_uppercase()),
            transport,
            selection,
            action,
            delay_ms: raw.delay_ms,
        })
    }
}

impl From<DnsFaultRule> for RawDnsFault {
    fn from(rule: DnsFaultRule) -> Self {
        let SelectionKeys {
            nth,
            times,
            from,
            probability,
            seed,
        } = rule.selection.into();
        RawDnsFault {
            name: rule.name,
            qtype: rule.qtype,
            transport: rule.transport,
            nth,
            times,
            from,
            probability,
            seed,
            drop: (rule.action == DnsFaultAction::Drop).then_some(true),
            rcode: match rule.action {
                DnsFaultAction::Rcode(ref r) => Some(r.clone()),
                _ => None,
            },
            truncate: (rule.action == DnsFaultAction::Truncate).then_some(true),
            delay_ms: rule.delay_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(text: &str) -> Result<DnsFaultRule, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn rules_match_name_type_and_transport() {
        let r =
            rule("name = \"_acme-challenge.*\"\ntype = \"txt\"\ntimes = 2\ndrop = true").unwrap();
        assert!(r.matches("_ACME-challenge.Stubber.chat.", "TXT", "udp"));
        assert!(r.matches("_acme-challenge.stubber.chat", "TXT", "tcp"));
        assert!(!r.matches("_acme-challenge.stubber.chat", "SOA", "udp"));
        assert!(!r.matches("stubber.chat", "TXT", "udp"));
        let t = rule("truncate = true").unwrap();
        assert_eq!(t.transport, Some(DnsTransport::Udp));
        assert!(!t.matches("x", "A", "tcp"));
    }

    #[test]
    fn a_rule_does_one_thing_and_says_which_key_is_wrong() {
        for (text, key) in [
            ("drop = true\nrcode = \"SERVFAIL\"", "drop"),
            ("rcode = \"NOERROR\"", "rcode"),
            ("truncate = true\ntransport = \"tcp\"", "truncate"),
            ("name = \"x\"", "drop"),
            ("nth = 1\ntimes = 1\ndrop = true", "nth"),
            ("answer = 1\ndrop = true", "answer"),
        ] {
            let e = rule(text).unwrap_err();
            assert!(e.contains(key), "{text}: {e}");
        }
        let back =
            rule("name = \"a.example\"\nrcode = \"servfail\"\nnth = 2\ndelay_ms = 5").unwrap();
        let again: DnsFaultRule = toml::from_str(&toml::to_string(&back).unwrap()).unwrap();
        assert_eq!(again, back);
    }
}
