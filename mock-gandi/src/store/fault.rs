//! Fault rules, as a seed declares them (`[[fault]]`; `[[gandi.fault]]` in a scenario): which
//! requests, which of them, and what the mock answers instead. They are data, like domains and
//! credentials; `crate::faults` applies them in front of every API.

use serde::{Deserialize, Serialize};

use super::types::Invalid;

/// Which API a rule is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultApi {
    /// Legacy v4 XML-RPC (`/xmlrpc/`).
    V4,
    /// LiveDNS, either host (`/v5/livedns`, `/api/v5`).
    Livedns,
}

/// Which of the matching requests a rule answers (counted from 1, per rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Selection {
    Every,
    Nth(u32),
    First(u32),
    From(u32),
}

impl Selection {
    /// Whether the `seen`-th matching request is answered by the rule.
    pub fn admits(self, seen: u32) -> bool {
        match self {
            Selection::Every => true,
            Selection::Nth(n) => seen == n,
            Selection::First(n) => seen <= n,
            Selection::From(n) => seen >= n,
        }
    }
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

/// What the mock answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum FaultAnswer {
    /// This HTTP status with Gandi's body for it (LiveDNS's error catalogue).
    Status(u16),
    /// An XML-RPC fault (HTTP 200); no message: the fault catalogue's text for the code.
    XmlRpcFault { code: i32, message: Option<String> },
    /// An XML-RPC success carrying this value (a TOML or JSON value: tables are structs).
    XmlRpcResult(serde_json::Value),
    /// Only the delay: then the API answers as usual.
    Delay,
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawFault")]
pub struct FaultRule {
    pub api: Option<FaultApi>,
    /// The host the client named (any letter case).
    pub host: Option<String>,
    /// The HTTP method.
    pub method: Option<String>,
    /// The path; `*` matches any run of characters, `/` included.
    pub path: Option<String>,
    pub xmlrpc_method: Option<String>,
    #[serde(skip)]
    pub selection: Selection,
    #[serde(skip)]
    pub answer: FaultAnswer,
    pub delay_ms: u64,
    pub apply: Apply,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFault {
    api: Option<FaultApi>,
    host: Option<String>,
    method: Option<String>,
    path: Option<String>,
    xmlrpc_method: Option<String>,
    nth: Option<u32>,
    first: Option<u32>,
    from: Option<u32>,
    status: Option<u16>,
    xmlrpc_fault: Option<RawXmlRpcFault>,
    xmlrpc_result: Option<serde_json::Value>,
    #[serde(default)]
    delay_ms: u64,
    #[serde(default)]
    apply: Apply,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawXmlRpcFault {
    code: i32,
    message: Option<String>,
}

/// The statuses a rule may answer with: those Gandi's error catalogue has a body for.
pub const FAULT_STATUSES: [u16; 10] = [401, 403, 404, 405, 413, 429, 500, 502, 503, 504];

impl TryFrom<RawFault> for FaultRule {
    type Error = Invalid;
    fn try_from(raw: RawFault) -> Result<Self, Invalid> {
        let selection = match (raw.nth, raw.first, raw.from) {
            (None, None, None) => Selection::Every,
            (Some(n), None, None) => Selection::Nth(n),
            (None, Some(n), None) => Selection::First(n),
            (None, None, Some(n)) => Selection::From(n),
            _ => {
                return Err(Invalid::new(
                    "nth",
                    "a rule takes one of nth, first and from",
                ));
            }
        };
        if matches!(
            selection,
            Selection::Nth(0) | Selection::First(0) | Selection::From(0)
        ) {
            return Err(Invalid::new("nth", "requests are counted from 1"));
        }
        let answers = usize::from(raw.status.is_some())
            + usize::from(raw.xmlrpc_fault.is_some())
            + usize::from(raw.xmlrpc_result.is_some());
        if answers > 1 {
            return Err(Invalid::new(
                "status",
                "a rule answers one way: status, xmlrpc_fault or xmlrpc_result",
            ));
        }
        let answer = if let Some(status) = raw.status {
            if !FAULT_STATUSES.contains(&status) {
                return Err(Invalid::new(
                    "status",
                    format!("no Gandi body for {status}; one of {FAULT_STATUSES:?}"),
                ));
            }
            FaultAnswer::Status(status)
        } else if let Some(f) = raw.xmlrpc_fault {
            FaultAnswer::XmlRpcFault {
                code: f.code,
                message: f.message,
            }
        } else if let Some(v) = raw.xmlrpc_result {
            FaultAnswer::XmlRpcResult(v)
        } else if raw.delay_ms > 0 {
            FaultAnswer::Delay
        } else {
            return Err(Invalid::new(
                "status",
                "a rule needs an answer: status, xmlrpc_fault, xmlrpc_result or delay_ms",
            ));
        };
        let v4_answer = matches!(
            answer,
            FaultAnswer::XmlRpcFault { .. } | FaultAnswer::XmlRpcResult(_)
        );
        if v4_answer && raw.api == Some(FaultApi::Livedns) {
            return Err(Invalid::new("api", "an XML-RPC answer is for the v4 API"));
        }
        if raw.xmlrpc_method.is_some() && raw.api == Some(FaultApi::Livedns) {
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
            selection,
            answer,
            delay_ms: raw.delay_ms,
            apply: raw.apply,
        })
    }
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
        assert!(Selection::First(2).admits(1) && !Selection::First(2).admits(3));
        assert!(Selection::From(2).admits(9) && !Selection::From(2).admits(1));
    }
}
