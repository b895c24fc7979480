//! Twin runs: a `builtin` scenario run a second time with lego v5's own provider code (certbot
//! with certbot-dns-multi, which embeds lego), and what each sent to Gandi and asked of DNS
//! compared. The built-in providers are copies of lego's; a twin run is how a copy that drifts
//! is caught.
//!
//! What the comparison looks at: every API call (the host it named, method, path and query,
//! status, and the body: XML-RPC method and parameters, the key shown as `[key]`; a LiveDNS
//! JSON body as its value), and every SOA and CNAME question with its answer (what the provider
//! asks while it finds the zone and the record's name).
//!
//! What it ignores, and why, here and nowhere else:
//! - the order of the calls: certbot presents and cleans up in its own order;
//! - TXT questions: the provider asks none; the ACME client around it (lego's propagation
//!   check) and the CA do, and certbot does neither the check nor, after a failed present, the
//!   validation;
//! - when the twin failed, what it never reached: certbot stops at the first name whose
//!   present fails and validates nothing, where lego presents and validates every other name;
//!   both sides are then compared on the zones the twin's calls named (and on calls that name
//!   no zone, XML-RPC calls by zone id);
//! - challenge tokens, dates and secrets, redacted as in every transcript.

use std::collections::{BTreeMap, BTreeSet};

use mock_gandi::{DnsEntry, RequestEntry};

use crate::client::{Certbot, ClientKind};
use crate::issuance::IssuanceOutcome;
use crate::scenario::Scenario;
use crate::transcript::{Redactor, call_line, dns_line};

/// The twin of a `builtin` scenario: the same seed, names and variables given to lego v5's
/// provider inside certbot-dns-multi. `None` for any other kind.
pub fn twin_of(scenario: &Scenario) -> Option<Scenario> {
    let ClientKind::Builtin { provider } = &scenario.request.client else {
        return None;
    };
    let mut credentials: BTreeMap<String, String> = scenario.request.env.clone();
    credentials.insert("dns_multi_provider".into(), provider.as_str().into());
    let mut twin = scenario.clone();
    twin.request.client = ClientKind::Certbot(Certbot {
        authenticator: "dns-multi".into(),
        credentials,
        propagation_seconds: 0,
        binary: None,
        args: Vec::new(),
    });
    Some(twin)
}

/// What a run looks like to the comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// Every API call, normalized, sorted (the order is ignored).
    pub calls: Vec<String>,
    /// Every SOA and CNAME question with its answer, normalized, as a set.
    pub questions: BTreeSet<String>,
    /// The zones the calls named (`stubber.chat`), for [`restrict`].
    pub zones: BTreeSet<String>,
}

/// Both sides kept to the zones `reached` names (see the module's list of what is ignored).
pub fn restrict(side: &Fingerprint, reached: &BTreeSet<String>) -> Fingerprint {
    let names_one = |text: &str| reached.iter().any(|z| text.contains(z.as_str()));
    // A LiveDNS path, or a quoted XML-RPC string that is a name (has a dot).
    let names_any = |text: &str| {
        text.contains("/domains/") || text.split('"').skip(1).step_by(2).any(|q| q.contains('.'))
    };
    Fingerprint {
        calls: side
            .calls
            .iter()
            .filter(|c| names_one(c) || !names_any(c))
            .cloned()
            .collect(),
        questions: side
            .questions
            .iter()
            .filter(|q| names_one(q))
            .cloned()
            .collect(),
        zones: reached.clone(),
    }
}

/// The zone a request names: the segment after `/domains/`, or the string parameter of a v4
/// call that takes a domain (`domain.info`, `domain.zone.set`).
fn zone_of(r: &RequestEntry) -> Option<String> {
    if let Some(rest) = r.path.split_once("/domains/").map(|(_, rest)| rest) {
        return rest.split('/').next().map(str::to_ascii_lowercase);
    }
    let body = r.body.as_deref()?;
    let call = mock_gandi::xmlrpc::parse_method_call(body.as_bytes()).ok()?;
    match call.params.get(1) {
        Some(mock_gandi::xmlrpc::Value::String(s)) => {
            Some(s.trim_end_matches('.').to_ascii_lowercase())
        }
        _ => None,
    }
}

/// The comparable part of a run.
pub fn fingerprint(outcome: &IssuanceOutcome, redactor: &Redactor) -> Fingerprint {
    let mut calls: Vec<String> = outcome
        .requests
        .iter()
        .map(|r| redactor.apply(&call_text(r)))
        .collect();
    calls.sort();
    let questions = outcome
        .dns_queries
        .iter()
        .filter(|q| q.qtype == "SOA" || q.qtype == "CNAME")
        .map(|q: &DnsEntry| redactor.apply(&dns_line(q)))
        .collect();
    let zones = outcome.requests.iter().filter_map(zone_of).collect();
    Fingerprint {
        calls,
        questions,
        zones,
    }
}

/// One call with its body: `domain.zone.record.add -> ok ([key], 7, 2, {name: ...})`, or
/// `PUT /v5/livedns/... -> 201 {"rrset_ttl":300,...}`.
fn call_text(r: &RequestEntry) -> String {
    // Both sides name Gandi's hosts (through the proxy, or in a sandbox straight).
    let line = format!("{} {}", r.host.to_ascii_lowercase(), call_line(r));
    let Some(body) = r.body.as_deref().filter(|b| !b.trim().is_empty()) else {
        return line;
    };
    if r.xmlrpc_method.is_some() {
        return match mock_gandi::xmlrpc::parse_method_call(body.as_bytes()) {
            Ok(call) => {
                let params: Vec<String> = call
                    .params
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        if i == 0 {
                            "[key]".to_string()
                        } else {
                            value_text(p)
                        }
                    })
                    .collect();
                format!("{line} ({})", params.join(", "))
            }
            Err(_) => format!("{line} (unparsable body)"),
        };
    }
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(json) => format!("{line} {json}"),
        Err(_) => format!("{line} {body:?}"),
    }
}

fn value_text(v: &mock_gandi::xmlrpc::Value) -> String {
    use mock_gandi::xmlrpc::Value;
    match v {
        Value::Int(i) => i.to_string(),
        Value::Boolean(b) => b.to_string(),
        Value::String(s) => format!("{s:?}"),
        Value::Double(d) => d.to_string(),
        Value::DateTime(s) => format!("datetime {s}"),
        Value::Base64(b) => format!("base64 ({} bytes)", b.len()),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(value_text).collect::<Vec<_>>().join(", ")
        ),
        Value::Struct(members) => format!(
            "{{{}}}",
            members
                .iter()
                .map(|(k, v)| format!("{k}: {}", value_text(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Nil => "nil".into(),
    }
}

/// The differences between the built-in run and its twin, as lines (none: they agree).
pub fn differences(builtin: &Fingerprint, twin: &Fingerprint) -> Vec<String> {
    let mut out = Vec::new();
    let (ours, theirs) = (count(&builtin.calls), count(&twin.calls));
    for (call, n) in &ours {
        let m = theirs.get(call).copied().unwrap_or(0);
        if *n > m {
            out.push(format!("builtin only ({}x): {call}", n - m));
        }
    }
    for (call, n) in &theirs {
        let m = ours.get(call).copied().unwrap_or(0);
        if *n > m {
            out.push(format!("lego v5 only ({}x): {call}", n - m));
        }
    }
    for q in builtin.questions.difference(&twin.questions) {
        out.push(format!("builtin only: DNS {q}"));
    }
    for q in twin.questions.difference(&builtin.questions) {
        out.push(format!("lego v5 only: DNS {q}"));
    }
    out
}

fn count(calls: &[String]) -> BTreeMap<&str, usize> {
    let mut m: BTreeMap<&str, usize> = BTreeMap::new();
    for c in calls {
        *m.entry(c.as_str()).or_default() += 1;
    }
    m
}

/// Both sides in full, for a report whose twin differs.
pub fn render_both(builtin: &Fingerprint, twin: &Fingerprint) -> String {
    let side = |f: &Fingerprint| {
        let mut s = String::new();
        for c in &f.calls {
            s.push_str(&format!("  {c}\n"));
        }
        for q in &f.questions {
            s.push_str(&format!("  DNS {q}\n"));
        }
        s
    };
    format!(
        "builtin:\n{}lego v5 (certbot-dns-multi):\n{}",
        side(builtin),
        side(twin)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(calls: &[&str], questions: &[&str]) -> Fingerprint {
        let mut calls: Vec<String> = calls.iter().map(|c| c.to_string()).collect();
        calls.sort();
        Fingerprint {
            calls,
            questions: questions.iter().map(|q| q.to_string()).collect(),
            zones: BTreeSet::new(),
        }
    }

    #[test]
    fn a_failed_twin_is_compared_on_the_zones_it_reached() {
        let builtin = fp(
            &[
                "PUT /v5/livedns/domains/a.chat/records/x/TXT -> 201",
                "PUT /v5/livedns/domains/b.chat/records/x/TXT -> 404",
                "domain.zone.version.new -> ok ([key], 7)",
            ],
            &["SOA a.chat -> NOERROR []", "SOA b.chat -> NOERROR []"],
        );
        let reached = BTreeSet::from(["b.chat".to_string()]);
        let kept = restrict(&builtin, &reached);
        assert_eq!(
            kept.calls,
            vec![
                "PUT /v5/livedns/domains/b.chat/records/x/TXT -> 404",
                "domain.zone.version.new -> ok ([key], 7)",
            ]
        );
        assert_eq!(kept.questions.len(), 1);
    }

    #[test]
    fn the_order_is_ignored_but_counts_bodies_and_questions_are_not() {
        let a = fp(
            &["GET /x -> 404", "PUT /x -> 201 {\"v\":1}"],
            &["SOA a -> NOERROR []"],
        );
        let reordered = fp(
            &["PUT /x -> 201 {\"v\":1}", "GET /x -> 404"],
            &["SOA a -> NOERROR []"],
        );
        assert!(differences(&a, &reordered).is_empty());
        let other_body = fp(
            &["GET /x -> 404", "PUT /x -> 201 {\"v\":2}"],
            &["SOA a -> NOERROR []"],
        );
        let d = differences(&a, &other_body);
        assert_eq!(d.len(), 2, "{d:?}");
        let twice = fp(
            &["GET /x -> 404", "GET /x -> 404", "PUT /x -> 201 {\"v\":1}"],
            &["SOA a -> NOERROR []", "CNAME b -> NOERROR []"],
        );
        let d = differences(&a, &twice);
        assert_eq!(
            d,
            vec![
                "lego v5 only (1x): GET /x -> 404",
                "lego v5 only: DNS CNAME b -> NOERROR []"
            ]
        );
    }
}
