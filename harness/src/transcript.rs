//! A scenario's normalized transcript: the client that ran, the Gandi API calls with status and
//! fault, the DNS questions, and the client's outcome with its error lines. Everything that
//! changes from run to run (ports, challenge tokens, secrets, zone names with dates, temporary
//! paths, dates and log timestamps, Pebble's resource ids) is redacted here, in one place, so
//! that the transcript can be a snapshot. [`steps`] are the same lines in the order they
//! happened, for the HTML report's sequence diagram.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use mock_gandi::store::CloseAt;
use mock_gandi::{DnsEntry, RequestEntry};
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::issuance::{Completion, IssuanceOutcome};

/// One API call as scenario expectations match it: `domain.zone.clone -> ok`,
/// `domain.info -> fault 500037`, `PUT /v5/livedns/domains/x/records/y/TXT -> 201`.
pub fn call_line(r: &RequestEntry) -> String {
    // A connection a fault rule cut before any answer.
    let cut = r.closed == Some(CloseAt::Before);
    match &r.xmlrpc_method {
        Some(method) if r.abandoned => format!("{method} -> abandoned"),
        Some(method) if cut => format!("{method} -> closed"),
        Some(method) => match r.fault_code {
            Some(code) => format!("{method} -> fault {code}"),
            None => format!("{method} -> ok"),
        },
        None => {
            let query = r
                .query
                .as_deref()
                .map(|q| format!("?{q}"))
                .unwrap_or_default();
            if r.abandoned {
                format!("{} {}{} -> abandoned", r.method, r.path, query)
            } else if cut {
                format!("{} {}{} -> closed", r.method, r.path, query)
            } else {
                format!("{} {}{} -> {}", r.method, r.path, query, r.status)
            }
        }
    }
}

/// A request's body as transcripts and twin runs compare it, unredacted: an XML-RPC call's
/// parameters (`([key], 7, 2, {name: "_acme-challenge", ...})`, the key never shown), a JSON
/// body as its value (members sorted), anything else quoted. `None` without a body.
pub fn body_text(r: &RequestEntry) -> Option<String> {
    let body = r.body.as_deref().filter(|b| !b.trim().is_empty())?;
    if r.xmlrpc_method.is_some() {
        return Some(
            match mock_gandi::xmlrpc::parse_method_call(body.as_bytes()) {
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
                    format!("({})", params.join(", "))
                }
                Err(_) => "(unparsable body)".into(),
            },
        );
    }
    Some(match serde_json::from_str::<serde_json::Value>(body) {
        Ok(json) => json.to_string(),
        Err(_) => format!("{body:?}"),
    })
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

/// Redaction of one piece of text: secrets and tokens given by the caller, then the shapes
/// that vary by themselves.
pub struct Redactor {
    secrets: Vec<(String, String)>,
}

impl Redactor {
    /// `secrets` are replaced by their names (`[GANDI_API_KEY]`), longest first so that a
    /// secret that contains another is replaced whole.
    pub fn new(mut secrets: Vec<(String, String)>) -> Self {
        secrets.retain(|(_, v)| v.len() >= 4);
        secrets.sort_by_key(|(_, v)| std::cmp::Reverse(v.len()));
        Self { secrets }
    }

    /// Secrets and every varying shape: for transcripts.
    pub fn apply(&self, text: &str) -> String {
        redact_patterns(&redact_shapes(&self.secrets_only(text)))
    }

    /// Secrets only: for the full output of a client, which keeps its ports and paths so that
    /// a failure can be followed.
    pub fn secrets_only(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (name, value) in &self.secrets {
            out = out.replace(value, &format!("[{name}]"));
        }
        out
    }
}

/// What real clients print that varies from run to run, with its stand-in: lego's log
/// timestamps (lego 4's `2026/12/01 10:00:00 ` and lego 5's `time=... `), dates and times (certbot's expiry), the run's temporary folders, and the random
/// ids in Pebble's URLs.
fn patterns() -> &'static [(Regex, &'static str)] {
    static PATTERNS: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        [
            (r"\b\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}(\.\d+)? ", ""),
            (r"\btime=\d{4}-\d{2}-\d{2}T\S+ ", ""),
            (
                r"\b\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?)?",
                "[date]",
            ),
            (r"(/[\w.-]+)*/gandi-e2e-\w+", "[workdir]"),
            (r"(/[\w.-]+)*/(mock-gandi|pebble)-\w+", "[tmp]"),
            (
                r"/(authZ|chalZ|my-order|finalize-order|certZ|my-account)/[\w-]+",
                "/$1/[id]",
            ),
        ]
        .into_iter()
        .map(|(re, to)| (Regex::new(re).expect("a valid pattern"), to))
        .collect()
    })
}

fn redact_patterns(text: &str) -> String {
    patterns().iter().fold(text.to_string(), |text, (re, to)| {
        re.replace_all(&text, *to).into_owned()
    })
}

/// Ports after `127.0.0.1:` / `localhost:` / `[::1]:` (and lego's account folder,
/// `127.0.0.1_PORT`), ACME challenge values (43 base64url
/// characters), and the date lego puts in cloned zone names.
fn redact_shapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &text[i..];
        if let Some(host) = ["127.0.0.1:", "127.0.0.1_", "localhost:", "[::1]:"]
            .iter()
            .find(|h| rest.starts_with(**h))
        {
            let digits = rest[host.len()..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            if digits > 0 {
                out.push_str(host);
                out.push_str("[port]");
                i += host.len() + digits;
                continue;
            }
        }
        if let Some(end) = rest
            .find(']')
            .filter(|_| rest.starts_with("[ACME Challenge "))
        {
            out.push_str("[ACME Challenge [date]]");
            i += end + 1;
            continue;
        }
        let is_b64 = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
        let run = rest.bytes().take_while(|b| is_b64(*b)).count();
        let boundary_before = i == 0 || !is_b64(bytes[i - 1]);
        if boundary_before && run == 43 {
            out.push_str("[token]");
            i += run;
            continue;
        }
        let step = if run > 0 {
            run
        } else {
            rest.chars().next().map_or(1, char::len_utf8)
        };
        out.push_str(&rest[..step]);
        i += step;
    }
    out
}

/// One DNS question with its answer: `SOA stubber.chat -> NOERROR [...]` (SOA serials
/// redacted).
pub fn dns_line(q: &DnsEntry) -> String {
    // An SOA serial counts the mock's writes: it says when a question was asked relative to
    // the writes, which is not what a transcript pins.
    let answers: Vec<String> = q
        .answers
        .iter()
        .map(|a| {
            if q.qtype != "SOA" {
                return a.clone();
            }
            let mut fields: Vec<&str> = a.split_whitespace().collect();
            if fields.len() == 7 {
                fields[2] = "[serial]";
            }
            fields.join(" ")
        })
        .collect();
    let fault = q
        .fault
        .map(|n| format!(" (fault #{n})"))
        .unwrap_or_default();
    format!(
        "{} {} -> {} {:?}{fault}",
        q.qtype,
        q.name.to_ascii_lowercase(),
        q.rcode,
        answers
    )
}

/// One API call as the transcript prints it, redacted: its [`call_line`], then how it was
/// authenticated, the host named through the proxy and the fault rule that answered.
fn api_entry(r: &RequestEntry, redactor: &Redactor) -> String {
    let auth = r.auth.unwrap_or("-");
    // Real clients come through the proxy: the host they named is part of what they did.
    let via = if r.proxied {
        format!(", host: {}", r.host)
    } else {
        String::new()
    };
    // A fault rule of the seed answered instead of the API.
    let mut fault = r.fault.map(|n| format!(", fault #{n}")).unwrap_or_default();
    if r.closed == Some(CloseAt::MidBody) {
        fault.push_str(", closed mid-body");
    }
    if r.rate_limited {
        fault.push_str(", rate limited");
    }
    format!(
        "{} (auth: {auth}{via}{fault})",
        redactor.apply(&call_line(r))
    )
}

/// One DNS question as the transcript prints it, redacted.
fn dns_entry(q: &DnsEntry, redactor: &Redactor) -> String {
    redactor.apply(&dns_line(q))
}

/// One thing the mock saw, as the transcript prints it (the same redacted line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    /// An API call: `domain.info -> fault 500037 (auth: -, host: rpc.gandi.net)`.
    Api(String),
    /// A DNS question with its answer: `TXT _acme-challenge.stubber.chat -> NXDOMAIN []`.
    Dns(String),
}

/// The transcript's API calls and DNS questions in the order they reached the mock, every
/// one of them (the transcript keeps DNS as a sorted set): what the HTML report draws as a
/// sequence diagram. Same lines, same redaction as [`render`].
pub fn steps(outcome: &IssuanceOutcome, redactor: &Redactor) -> Vec<Step> {
    let mut timed: Vec<_> = outcome
        .requests
        .iter()
        .map(|r| (r.time, Step::Api(api_entry(r, redactor))))
        .chain(
            outcome
                .dns_queries
                .iter()
                .map(|q| (q.time, Step::Dns(dns_entry(q, redactor)))),
        )
        .collect();
    // Stable: entries of the same instant keep their journal order.
    timed.sort_by_key(|(time, _)| *time);
    timed.into_iter().map(|(_, step)| step).collect()
}

/// The transcript of one run.
pub fn render(outcome: &IssuanceOutcome, redactor: &Redactor) -> String {
    let mut out = format!("client: {}\napi:\n", outcome.client);
    // The built-in providers are copies of lego's: what they send is pinned with the rest, so
    // a changed body (a TTL, a value's quoting) changes the snapshot with no other client
    // installed. Other clients' bodies are theirs, not this project's.
    let bodies = outcome.client.starts_with("builtin ");
    for r in &outcome.requests {
        out.push_str(&format!("  {}\n", api_entry(r, redactor)));
        if let Some(body) = body_text(r).filter(|_| bodies) {
            out.push_str(&format!("    body: {}\n", redactor.apply(&body)));
        }
    }
    // DNS questions as a sorted set: Pebble asks the same question several times at once,
    // and its transport (UDP or TCP) depends on its version.
    let dns: BTreeSet<String> = outcome
        .dns_queries
        .iter()
        .map(|q| dns_entry(q, redactor))
        .collect();
    out.push_str("dns:\n");
    for line in dns {
        out.push_str(&format!("  {line}\n"));
    }
    out.push_str("outcome:\n");
    if let Some(ended) = &outcome.ended {
        out.push_str(&format!("  ended: {}\n", redactor.apply(ended)));
    }
    match &outcome.result {
        Ok(Completion::Issued(issued)) => {
            out.push_str(&format!("  issued: {:?}\n", issued.names));
            for p in &issued.problems {
                out.push_str(&format!("  problem: {}\n", redactor.apply(p)));
            }
            for (name, values) in &issued.leftovers {
                out.push_str(&format!(
                    "  left in DNS: {name} {}\n",
                    redactor.apply(&format!("{values:?}"))
                ));
            }
        }
        Ok(Completion::NoCertificate(_)) => out.push_str("  succeeded\n"),
        Err(_) => {}
    }
    // What is left of the client's output once its noise is gone: the error of a failure, the
    // warnings or the program's own report of a success.
    let label = if outcome.result.is_ok() {
        "output"
    } else {
        "error"
    };
    for line in &outcome.error_lines {
        out.push_str(&format!("  {label}: {}\n", redactor.apply(line)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_tokens_and_dates_are_redacted() {
        let r = Redactor::new(vec![("GANDI_API_KEY".into(), "s3cr3tkey".into())]);
        let text = "GET http://127.0.0.1:40123/x key s3cr3tkey value \"n1GjnGp3Y0SbPbO8hAMgwvZa7Gy9nDm8K3VdL2p0q5E\" zone x [ACME Challenge 28 Nov 26 12:00 +0000]";
        assert_eq!(
            r.apply(text),
            "GET http://127.0.0.1:[port]/x key [GANDI_API_KEY] value \"[token]\" zone x [ACME Challenge [date]]"
        );
    }

    #[test]
    fn real_client_output_loses_timestamps_dates_folders_and_pebble_ids() {
        let r = Redactor::new(vec![]);
        assert_eq!(
            r.apply("2026/12/01 23:14:24 [WARN] expires on 2027-03-01. See /tmp/gandi-e2e-Ab12Cd/certbot/logs"),
            "[WARN] expires on [date]. See [workdir]/certbot/logs"
        );
        assert_eq!(
            r.apply("POST https://127.0.0.1:14000/chalZ/x-Y_z9 at 2026-12-01T23:14:24Z in /tmp/pebble-1a2b/ca.pem"),
            "POST https://127.0.0.1:[port]/chalZ/[id] at [date] in [tmp]/ca.pem"
        );
    }

    #[test]
    fn secrets_only_keeps_ports_and_paths() {
        let r = Redactor::new(vec![("GANDI_API_KEY".into(), "s3cr3tkey".into())]);
        assert_eq!(
            r.secrets_only("key s3cr3tkey at 127.0.0.1:4000 /tmp/gandi-e2e-x"),
            "key [GANDI_API_KEY] at 127.0.0.1:4000 /tmp/gandi-e2e-x"
        );
    }

    #[test]
    fn a_longer_secret_is_replaced_before_a_shorter_one_inside_it() {
        let r = Redactor::new(vec![
            ("A".into(), "abcd".into()),
            ("B".into(), "abcdefgh".into()),
        ]);
        assert_eq!(r.apply("abcdefgh abcd"), "[B] [A]");
    }

    #[test]
    fn lego_s_account_folder_loses_its_port() {
        assert_eq!(
            redact_shapes("accounts/127.0.0.1_41389/x.key"),
            "accounts/127.0.0.1_[port]/x.key"
        );
    }
}
