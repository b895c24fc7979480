//! Fault rules, as a seed declares them (`[[fault]]`; `[[gandi.fault]]` in a scenario): which
//! requests, which of them, and what the mock answers instead. They are data, like domains and
//! credentials; `crate::faults` applies them in front of every API.

use serde::{Deserialize, Serialize};

use super::fault_answer::status_answer;
pub use super::fault_answer::{CloseAt, FAULT_STATUSES, FaultAnswer};
use super::types::Invalid;

/// Which API a rule is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultApi {
    /// Legacy v4 XML-RPC (`/xmlrpc/`).
    V4,
    /// LiveDNS, either host (`/v5/livedns`, `/api/v5`).
    Livedns,
    /// The Domain and Organization APIs (`/v5/domain`, `/v5/organization`).
    Domain,
}

/// Which of the matching requests a rule answers (counted from 1, per rule).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Selection {
    Every,
    Nth(u32),
    /// The first N.
    Times(u32),
    From(u32),
    /// Each with this probability, drawn from `seed` and the request's count alone, so that
    /// the same sequence of requests fires the same rules in every run.
    Probability {
        probability: f64,
        seed: u64,
    },
}

impl Selection {
    /// Whether the `seen`-th matching request is answered by the rule.
    pub fn admits(self, seen: u32) -> bool {
        match self {
            Selection::Every => true,
            Selection::Nth(n) => seen == n,
            Selection::Times(n) => seen <= n,
            Selection::From(n) => seen >= n,
            Selection::Probability { probability, seed } => draw(seed, seen) < probability,
        }
    }
}

/// A number in [0, 1) from a seed and a count (splitmix64): no state, no clock.
fn draw(seed: u64, count: u32) -> f64 {
    let mut z = seed
        .wrapping_add(u64::from(count).wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// When a rule's answer replaces the API's: without the request being handled, or after it
/// was (the change is made, then the client gets the fault, as when a gateway times out behind
/// a backend that succeeded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Apply {
    #[default]
    Never,
    Before,
}

/// One rule. It reads and writes the seed's format (`[[fault]]`, or the same keys in JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawFault", into = "RawFault")]
pub struct FaultRule {
    pub api: Option<FaultApi>,
    /// The host the client named (any letter case).
    pub host: Option<String>,
    /// The HTTP method.
    pub method: Option<String>,
    /// The path; `*` matches any run of characters, `/` included.
    pub path: Option<String>,
    pub xmlrpc_method: Option<String>,
    /// The secret the request presents (a LiveDNS `Authorization` or `X-Api-Key`, the v4
    /// call's key).
    pub credential: Option<String>,
    pub selection: Selection,
    pub answer: FaultAnswer,
    pub delay_ms: u64,
    /// A `Retry-After` header (seconds) on a status answer.
    pub retry_after: Option<u32>,
    pub apply: Apply,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFault {
    #[serde(skip_serializing_if = "Option::is_none")]
    api: Option<FaultApi>,
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    xmlrpc_method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential: Option<String>,
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
    status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gateway: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    xmlrpc_fault: Option<RawXmlRpcFault>,
    #[serde(skip_serializing_if = "Option::is_none")]
    xmlrpc_result: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    close: Option<CloseAt>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hang: Option<bool>,
    #[serde(default, skip_serializing_if = "is_zero")]
    delay_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    apply: Option<Apply>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawXmlRpcFault {
    code: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

impl RawFault {
    fn selection_keys(&self) -> SelectionKeys {
        SelectionKeys {
            nth: self.nth,
            times: self.times,
            from: self.from,
            probability: self.probability,
            seed: self.seed,
        }
    }
}

impl From<FaultRule> for RawFault {
    fn from(rule: FaultRule) -> Self {
        let SelectionKeys {
            nth,
            times,
            from,
            probability,
            seed,
        } = rule.selection.into();
        let (mut status, mut xmlrpc_fault, mut xmlrpc_result, mut close, mut hang) =
            (None, None, None, None, None);
        let (mut body, mut content_type, mut gateway) = (None, None, None);
        match rule.answer {
            FaultAnswer::Status(s) => status = Some(s),
            FaultAnswer::Custom {
                status: s,
                body: b,
                content_type: c,
                gateway: g,
            } => {
                status = Some(s);
                if g {
                    gateway = Some("html".to_string());
                } else {
                    body = Some(b);
                    content_type = Some(c);
                }
            }
            FaultAnswer::XmlRpcFault { code, message } => {
                xmlrpc_fault = Some(RawXmlRpcFault { code, message });
            }
            FaultAnswer::XmlRpcResult(v) => xmlrpc_result = Some(v),
            FaultAnswer::Delay => {}
            FaultAnswer::Close(at) => close = Some(at),
            FaultAnswer::Hang => hang = Some(true),
        }
        RawFault {
            api: rule.api,
            host: rule.host,
            method: rule.method,
            path: rule.path,
            xmlrpc_method: rule.xmlrpc_method,
            credential: rule.credential,
            nth,
            times,
            from,
            probability,
            seed,
            status,
            body,
            content_type,
            gateway,
            xmlrpc_fault,
            xmlrpc_result,
            close,
            hang,
            delay_ms: rule.delay_ms,
            retry_after: rule.retry_after,
            apply: Some(rule.apply),
        }
    }
}

impl TryFrom<RawFault> for FaultRule {
    type Error = Invalid;
    fn try_from(raw: RawFault) -> Result<Self, Invalid> {
        let selection = raw.selection_keys().try_into()?;
        let hang = raw.hang == Some(true);
        let answers = usize::from(raw.status.is_some())
            + usize::from(raw.xmlrpc_fault.is_some())
            + usize::from(raw.xmlrpc_result.is_some())
            + usize::from(raw.close.is_some())
            + usize::from(hang);
        if answers > 1 {
            return Err(Invalid::new(
                "status",
                "a rule answers one way: status, xmlrpc_fault, xmlrpc_result, close or hang",
            ));
        }
        let own_body = raw.body.is_some() || raw.content_type.is_some() || raw.gateway.is_some();
        if own_body && raw.status.is_none() {
            return Err(Invalid::new(
                "body",
                "body, content_type and gateway are parts of a status answer: give status",
            ));
        }
        let answer = if let Some(status) = raw.status {
            status_answer(status, raw.body, raw.content_type, raw.gateway)?
        } else if let Some(f) = raw.xmlrpc_fault {
            FaultAnswer::XmlRpcFault {
                code: f.code,
                message: f.message,
            }
        } else if let Some(v) = raw.xmlrpc_result {
            FaultAnswer::XmlRpcResult(v)
        } else if let Some(at) = raw.close {
            FaultAnswer::Close(at)
        } else if hang {
            FaultAnswer::Hang
        } else if raw.delay_ms > 0 {
            FaultAnswer::Delay
        } else {
            return Err(Invalid::new(
                "status",
                "a rule needs an answer: status, xmlrpc_fault, xmlrpc_result, close, hang or delay_ms",
            ));
        };
        if raw.retry_after.is_some()
            && !matches!(answer, FaultAnswer::Status(_) | FaultAnswer::Custom { .. })
        {
            return Err(Invalid::new(
                "retry_after",
                "retry_after is a header of a status answer (429, 503)",
            ));
        }
        // Half of the API's own answer needs the API to answer: the change is made.
        let apply = match (&answer, raw.apply) {
            (FaultAnswer::Close(CloseAt::MidBody), Some(Apply::Never)) => {
                return Err(Invalid::new(
                    "apply",
                    "close = \"mid-body\" sends part of the API's own answer, so the request is handled",
                ));
            }
            (FaultAnswer::Close(CloseAt::MidBody), _) => Apply::Before,
            (_, apply) => apply.unwrap_or_default(),
        };
        let v4_answer = matches!(
            answer,
            FaultAnswer::XmlRpcFault { .. } | FaultAnswer::XmlRpcResult(_)
        );
        if v4_answer && raw.api.is_some_and(|a| a != FaultApi::V4) {
            return Err(Invalid::new("api", "an XML-RPC answer is for the v4 API"));
        }
        if raw.xmlrpc_method.is_some() && raw.api.is_some_and(|a| a != FaultApi::V4) {
            return Err(Invalid::new(
                "xmlrpc_method",
                "LiveDNS requests have no XML-RPC method",
            ));
        }
        Ok(FaultRule {
            api: raw.api,
            host: raw.host,
            method: raw.method.map(|m| m.to_ascii_uppercase()),
            path: raw.path,
            xmlrpc_method: raw.xmlrpc_method,
            credential: raw.credential,
            selection,
            answer,
            delay_ms: raw.delay_ms,
            retry_after: raw.retry_after,
            apply,
        })
    }
}

/// A rule's "which" keys as written: at most one of `nth`, `times`, `from` and `probability`
/// (with `seed`); none is every one. Both kinds of rule read and write them.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SelectionKeys {
    pub nth: Option<u32>,
    pub times: Option<u32>,
    pub from: Option<u32>,
    pub probability: Option<f64>,
    pub seed: Option<u64>,
}

impl TryFrom<SelectionKeys> for Selection {
    type Error = Invalid;
    fn try_from(keys: SelectionKeys) -> Result<Self, Invalid> {
        let which = usize::from(keys.nth.is_some())
            + usize::from(keys.times.is_some())
            + usize::from(keys.from.is_some())
            + usize::from(keys.probability.is_some());
        if which > 1 {
            return Err(Invalid::new(
                "nth",
                "a rule takes one of nth, times, from and probability",
            ));
        }
        if keys.seed.is_some() && keys.probability.is_none() {
            return Err(Invalid::new("seed", "seed goes with probability"));
        }
        let selection = if let Some(n) = keys.nth {
            Selection::Nth(n)
        } else if let Some(n) = keys.times {
            Selection::Times(n)
        } else if let Some(n) = keys.from {
            Selection::From(n)
        } else if let Some(probability) = keys.probability {
            if !(0.0..=1.0).contains(&probability) {
                return Err(Invalid::new(
                    "probability",
                    "a probability is between 0 and 1",
                ));
            }
            Selection::Probability {
                probability,
                seed: keys.seed.unwrap_or(0),
            }
        } else {
            Selection::Every
        };
        if matches!(
            selection,
            Selection::Nth(0) | Selection::Times(0) | Selection::From(0)
        ) {
            return Err(Invalid::new("nth", "requests are counted from 1"));
        }
        Ok(selection)
    }
}

impl From<Selection> for SelectionKeys {
    fn from(selection: Selection) -> Self {
        let none = SelectionKeys::default();
        match selection {
            Selection::Every => none,
            Selection::Nth(n) => SelectionKeys {
                nth: Some(n),
                ..none
            },
            Selection::Times(n) => SelectionKeys {
                times: Some(n),
                ..none
            },
            Selection::From(n) => SelectionKeys {
                from: Some(n),
                ..none
            },
            Selection::Probability { probability, seed } => SelectionKeys {
                probability: Some(probability),
                seed: Some(seed),
                ..none
            },
        }
    }
}

pub(crate) fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// `*` matches any run of characters; everything else itself.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, rest) = parts.split_first().expect("split yields one part at least");
    let Some(mut remaining) = text.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return remaining.is_empty();
    };
    for part in middle {
        match remaining.find(part) {
            Some(i) => remaining = &remaining[i + part.len()..],
            None => return false,
        }
    }
    remaining.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_runs_of_any_characters() {
        assert!(glob_matches(
            "/v5/livedns/domains/*/records/*",
            "/v5/livedns/domains/a.b/records/x/TXT"
        ));
        assert!(glob_matches("*", ""));
        assert!(glob_matches("/xmlrpc/", "/xmlrpc/"));
        assert!(!glob_matches("/xmlrpc/", "/xmlrpc"));
        assert!(!glob_matches("*/TXT", "/a/TXT/b"));
        assert!(glob_matches("a*b*c", "aXbYc"));
    }

    #[test]
    fn selections_count_from_one() {
        assert!(Selection::Nth(2).admits(2) && !Selection::Nth(2).admits(3));
        assert!(Selection::Times(2).admits(1) && !Selection::Times(2).admits(3));
        assert!(Selection::From(2).admits(9) && !Selection::From(2).admits(1));
    }

    #[test]
    fn a_probability_is_reproducible_and_near_its_value() {
        let half = Selection::Probability {
            probability: 0.5,
            seed: 7,
        };
        let fired: Vec<bool> = (1..=1000).map(|n| half.admits(n)).collect();
        assert_eq!(
            fired,
            (1..=1000).map(|n| half.admits(n)).collect::<Vec<_>>()
        );
        let count = fired.iter().filter(|f| **f).count();
        assert!((430..=570).contains(&count), "{count} of 1000 at 0.5");
        let other = Selection::Probability {
            probability: 0.5,
            seed: 8,
        };
        assert_ne!(
            fired,
            (1..=1000).map(|n| other.admits(n)).collect::<Vec<_>>()
        );
        let never = Selection::Probability {
            probability: 0.0,
            seed: 7,
        };
        let always = Selection::Probability {
            probability: 1.0,
            seed: 7,
        };
        assert!((1..=1000).all(|n| !never.admits(n) && always.admits(n)));
    }
}
