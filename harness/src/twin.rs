//! Twin runs: a `builtin` scenario run a second time with lego v5's own provider code (certbot
//! with certbot-dns-multi, which embeds lego), and what each sent to Gandi and asked of DNS
//! compared. The built-in providers are copies of lego's; a twin run is how a copy that drifts
//! is caught.
//!
//! What the comparison looks at:
//! - the outcome: issued, succeeded without a certificate, or failed, and for a failure its
//!   kind (the first error the API answered, or none);
//! - every API call: the host it named, method, path and query, status, the credential's
//!   scheme (`Bearer`, `Apikey`, `X-Api-Key`, none) and the request's Content-Type as sent,
//!   and the body (XML-RPC method and parameters, the key shown as `[key]`; a LiveDNS JSON
//!   body as its value), each call counted;
//! - the order of each zone's v4 sequence (`domain.info`, `domain.zone.clone`, ... on one
//!   zone, a call by zone id belonging to the domain named last);
//! - every SOA and CNAME question with its answer (what the provider asks while it finds the
//!   zone and the record's name), each SOA question counted.
//!
//! What it ignores, and why, here and nowhere else:
//! - the order of calls across zones and of LiveDNS calls: certbot presents and cleans up in
//!   its own order, one name at a time, where lego presents every name first; within a v4
//!   zone the order is the provider's own (it clones, edits and activates a version) and is
//!   compared;
//! - how many times a CNAME question was asked: lego's client (and the built-in one, its copy)
//!   follows the challenge's CNAME again for its propagation check after each present, which
//!   certbot does not do; that it was asked, with its answer, is compared;
//! - TXT questions: the provider asks none; the ACME client around it (lego's propagation
//!   check) and the CA do, and certbot does neither the check nor, after a failed present, the
//!   validation;
//! - the error's words: certbot and the built-in client word the same failure differently;
//!   its kind (the API's first error answer) is compared;
//! - when the twin failed, what it never reached: certbot stops at the first name whose
//!   present fails and validates nothing, where lego presents and validates every other name;
//!   both sides are then compared on the zones the twin's calls named (and on calls that name
//!   no zone, XML-RPC calls by zone id);
//! - challenge tokens, dates and secrets, redacted as in every transcript.

use std::collections::{BTreeMap, BTreeSet};

use mock_gandi::store::CloseAt;
use mock_gandi::{DnsEntry, RequestEntry};

use crate::client::{Certbot, ClientKind};
use crate::issuance::{Completion, IssuanceOutcome};
use crate::scenario::Scenario;
use crate::transcript::{Redactor, body_text, call_line, dns_line};

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
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fingerprint {
    /// `issued`, or `failed after the API answered 403`, ... (see [`outcome_kind`]).
    pub outcome: String,
    /// Every API call, normalized, sorted (the order is compared per v4 zone only).
    pub calls: Vec<String>,
    /// Each zone's v4 calls, normalized, in the order they were made.
    pub v4_sequences: BTreeMap<String, Vec<String>>,
    /// Every SOA and CNAME question with its answer, normalized, with how often it was asked
    /// (once for any CNAME question: see the module's list of what is ignored).
    pub questions: BTreeMap<String, usize>,
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
        outcome: side.outcome.clone(),
        calls: side
            .calls
            .iter()
            .filter(|c| names_one(c) || !names_any(c))
            .cloned()
            .collect(),
        v4_sequences: side
            .v4_sequences
            .iter()
            .filter(|(zone, _)| reached.contains(*zone))
            .map(|(z, calls)| (z.clone(), calls.clone()))
            .collect(),
        questions: side
            .questions
            .iter()
            .filter(|(q, _)| names_one(q))
            .map(|(q, n)| (q.clone(), *n))
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

/// The first error the API answered, as a kind: `fault 510042`, `403`, `closed`, `abandoned`.
fn api_error(r: &RequestEntry) -> Option<String> {
    if r.abandoned {
        return Some("abandoned".into());
    }
    if r.closed.is_some() {
        return Some(match r.closed {
            Some(CloseAt::Before) => "closed".into(),
            _ => "closed mid-body".into(),
        });
    }
    if let Some(code) = r.fault_code {
        return Some(format!("fault {code}"));
    }
    (r.status >= 400).then(|| r.status.to_string())
}

/// A run's outcome as the twin compares it: `issued`, `succeeded without a certificate`,
/// `failed after the API answered 403`, `failed with no API error`.
pub fn outcome_kind(outcome: &IssuanceOutcome) -> String {
    match &outcome.result {
        Ok(Completion::Issued(_)) => "issued".into(),
        Ok(Completion::NoCertificate(_)) => "succeeded without a certificate".into(),
        Err(_) => match outcome.requests.iter().find_map(api_error) {
            Some(kind) => format!("failed after the API answered {kind}"),
            None => "failed with no API error".into(),
        },
    }
}

/// Each zone's v4 calls in order: a call naming a domain starts or continues that domain's
/// sequence; a call by zone id continues the sequence of the domain named last.
fn v4_sequences(texts: &[(&RequestEntry, String)]) -> BTreeMap<String, Vec<String>> {
    let mut sequences: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for (r, text) in texts {
        if r.xmlrpc_method.is_none() {
            continue;
        }
        if let Some(zone) = zone_of(r) {
            current = Some(zone);
        }
        let zone = current
            .clone()
            .unwrap_or_else(|| "(no domain named yet)".into());
        sequences.entry(zone).or_default().push(text.clone());
    }
    sequences
}

/// The comparable part of a run.
pub fn fingerprint(outcome: &IssuanceOutcome, redactor: &Redactor) -> Fingerprint {
    let texts: Vec<(&RequestEntry, String)> = outcome
        .requests
        .iter()
        .map(|r| (r, redactor.apply(&call_text(r))))
        .collect();
    let mut calls: Vec<String> = texts.iter().map(|(_, t)| t.clone()).collect();
    calls.sort();
    let mut questions: BTreeMap<String, usize> = BTreeMap::new();
    for q in outcome
        .dns_queries
        .iter()
        .filter(|q| q.qtype == "SOA" || q.qtype == "CNAME")
    {
        let n = questions
            .entry(redactor.apply(&dns_line(q as &DnsEntry)))
            .or_default();
        // How often a CNAME is asked is the ACME client's (see the module's list).
        *n = if q.qtype == "CNAME" { 1 } else { *n + 1 };
    }
    let zones = outcome.requests.iter().filter_map(zone_of).collect();
    Fingerprint {
        outcome: outcome_kind(outcome),
        calls,
        v4_sequences: v4_sequences(&texts),
        questions,
        zones,
    }
}

/// One call with how it presented itself and its body: `rpc.gandi.net domain.zone.record.add
/// -> ok [auth: none, type: text/xml] ([key], 7, 2, {name: ...})`, or `api.gandi.net PUT
/// /v5/livedns/... -> 201 [auth: Bearer, type: application/json] {"rrset_ttl":300,...}`.
fn call_text(r: &RequestEntry) -> String {
    // Both sides name Gandi's hosts (through the proxy, or in a sandbox straight).
    let line = format!(
        "{} {} [auth: {}, type: {}]",
        r.host.to_ascii_lowercase(),
        call_line(r),
        r.scheme.as_deref().unwrap_or("none"),
        r.content_type.as_deref().unwrap_or("none"),
    );
    match body_text(r) {
        Some(body) => format!("{line} {body}"),
        None => line,
    }
}

/// The differences between the built-in run and its twin, as lines (none: they agree).
pub fn differences(builtin: &Fingerprint, twin: &Fingerprint) -> Vec<String> {
    let mut out = Vec::new();
    if builtin.outcome != twin.outcome {
        out.push(format!(
            "outcome: builtin {}, lego v5 {}",
            builtin.outcome, twin.outcome
        ));
    }
    let (ours, theirs) = (count(&builtin.calls), count(&twin.calls));
    one_sided(&ours, &theirs, "", &mut out);
    let zones: BTreeSet<&String> = builtin
        .v4_sequences
        .keys()
        .chain(twin.v4_sequences.keys())
        .collect();
    for zone in zones {
        let (a, b) = (builtin.v4_sequences.get(zone), twin.v4_sequences.get(zone));
        // Sequences of the same calls in another order (a missing or extra call is already
        // a line above).
        let same_calls = |x: &[String], y: &[String]| {
            let (mut x, mut y) = (x.to_vec(), y.to_vec());
            x.sort();
            y.sort();
            x == y
        };
        if let (Some(a), Some(b)) = (a, b)
            && a != b
            && same_calls(a, b)
        {
            out.push(format!("the v4 calls on {zone} in another order"));
        }
    }
    one_sided(
        &as_str(&builtin.questions),
        &as_str(&twin.questions),
        "DNS ",
        &mut out,
    );
    out
}

/// What one side has more of than the other, as `builtin only (2x): ...` lines.
fn one_sided(
    ours: &BTreeMap<&str, usize>,
    theirs: &BTreeMap<&str, usize>,
    prefix: &str,
    out: &mut Vec<String>,
) {
    for (side, (a, b)) in [("builtin", (ours, theirs)), ("lego v5", (theirs, ours))] {
        for (item, n) in a {
            let m = b.get(item).copied().unwrap_or(0);
            if *n > m {
                out.push(format!("{side} only ({}x): {prefix}{item}", n - m));
            }
        }
    }
}

fn as_str(m: &BTreeMap<String, usize>) -> BTreeMap<&str, usize> {
    m.iter().map(|(k, v)| (k.as_str(), *v)).collect()
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
        let mut s = format!("  outcome: {}\n", f.outcome);
        for c in &f.calls {
            s.push_str(&format!("  {c}\n"));
        }
        for (zone, calls) in &f.v4_sequences {
            s.push_str(&format!("  v4 sequence on {zone}:\n"));
            for c in calls {
                s.push_str(&format!("    {c}\n"));
            }
        }
        for (q, n) in &f.questions {
            s.push_str(&format!("  DNS {q} ({n}x)\n"));
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
        let mut counted = BTreeMap::new();
        for q in questions {
            *counted.entry(q.to_string()).or_default() += 1;
        }
        Fingerprint {
            outcome: "issued".into(),
            calls,
            questions: counted,
            ..Fingerprint::default()
        }
    }

    fn entry(method: &str, path: &str, body: Option<&str>) -> RequestEntry {
        RequestEntry {
            time: time::OffsetDateTime::UNIX_EPOCH,
            api: mock_gandi::journal::Api::Livedns,
            host: "api.gandi.net".into(),
            method: method.into(),
            path: path.into(),
            query: None,
            xmlrpc_method: None,
            status: 201,
            fault_code: None,
            auth: Some("pat"),
            scheme: Some("Bearer".into()),
            content_type: body.map(|_| "application/json".into()),
            proxied: true,
            fault: None,
            body: body.map(str::to_string),
            abandoned: false,
            closed: None,
            rate_limited: false,
        }
    }

    fn xmlrpc(method: &str, params: &[mock_gandi::xmlrpc::Value]) -> RequestEntry {
        let mut key = vec![mock_gandi::xmlrpc::Value::string("k")];
        key.extend(params.iter().cloned());
        RequestEntry {
            api: mock_gandi::journal::Api::V4,
            host: "rpc.gandi.net".into(),
            method: "POST".into(),
            path: "/xmlrpc/".into(),
            xmlrpc_method: Some(method.into()),
            status: 200,
            auth: Some("v4-key"),
            scheme: None,
            content_type: Some("text/xml".into()),
            body: Some(mock_gandi::xmlrpc::encode_method_call(method, &key)),
            ..entry("POST", "/xmlrpc/", None)
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
                "lego v5 only (1x): DNS CNAME b -> NOERROR []"
            ]
        );
    }

    #[test]
    fn a_question_asked_more_often_is_a_difference() {
        let once = fp(&[], &["SOA a -> NOERROR []"]);
        let thrice = fp(
            &[],
            &[
                "SOA a -> NOERROR []",
                "SOA a -> NOERROR []",
                "SOA a -> NOERROR []",
            ],
        );
        assert_eq!(
            differences(&once, &thrice),
            ["lego v5 only (2x): DNS SOA a -> NOERROR []"]
        );
    }

    #[test]
    fn another_outcome_or_error_kind_is_a_difference() {
        let issued = fp(&[], &[]);
        let failed = Fingerprint {
            outcome: "failed after the API answered 403".into(),
            ..issued.clone()
        };
        assert_eq!(
            differences(&issued, &failed),
            ["outcome: builtin issued, lego v5 failed after the API answered 403"]
        );
        let other_kind = Fingerprint {
            outcome: "failed after the API answered 404".into(),
            ..issued.clone()
        };
        assert_eq!(differences(&failed, &other_kind).len(), 1);
    }

    #[test]
    fn the_scheme_and_content_type_of_a_call_are_compared() {
        let body = Some(r#"{"rrset_ttl":300,"rrset_values":["t"]}"#);
        let bearer = entry("PUT", "/v5/livedns/domains/a.chat/records/x/TXT", body);
        let text = call_text(&bearer);
        assert_eq!(
            text,
            "api.gandi.net PUT /v5/livedns/domains/a.chat/records/x/TXT -> 201 \
             [auth: Bearer, type: application/json] {\"rrset_ttl\":300,\"rrset_values\":[\"t\"]}"
        );
        let apikey = RequestEntry {
            scheme: Some("Apikey".into()),
            ..bearer.clone()
        };
        let form = RequestEntry {
            content_type: Some("application/x-www-form-urlencoded".into()),
            ..bearer.clone()
        };
        let ttl = RequestEntry {
            body: Some(r#"{"rrset_ttl":3600,"rrset_values":["t"]}"#.into()),
            ..bearer.clone()
        };
        for other in [apikey, form, ttl] {
            assert_ne!(call_text(&other), text);
        }
    }

    #[test]
    fn each_zones_v4_sequence_keeps_its_order() {
        use mock_gandi::xmlrpc::Value;
        let calls = [
            xmlrpc("domain.info", &[Value::string("a.chat")]),
            xmlrpc("domain.zone.clone", &[Value::Int(7)]),
            xmlrpc("domain.zone.version.new", &[Value::Int(8)]),
            xmlrpc("domain.info", &[Value::string("b.chat")]),
            xmlrpc("domain.zone.clone", &[Value::Int(9)]),
        ];
        let texts: Vec<(&RequestEntry, String)> = calls.iter().map(|r| (r, call_text(r))).collect();
        let seq = v4_sequences(&texts);
        assert_eq!(seq.len(), 2, "{seq:#?}");
        assert_eq!(seq["a.chat"].len(), 3);
        assert!(
            seq["a.chat"][1]
                .contains("domain.zone.clone -> ok [auth: none, type: text/xml] ([key], 7)")
        );
        assert!(seq["b.chat"][1].contains("([key], 9)"), "{seq:#?}");

        let ordered = Fingerprint {
            v4_sequences: seq.clone(),
            ..fp(&[], &[])
        };
        let mut swapped = seq;
        swapped.get_mut("a.chat").unwrap().swap(1, 2);
        let swapped = Fingerprint {
            v4_sequences: swapped,
            ..fp(&[], &[])
        };
        assert_eq!(
            differences(&ordered, &swapped),
            ["the v4 calls on a.chat in another order"]
        );
    }
}
