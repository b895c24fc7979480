//! What a scenario expects (its `[expect]` table, read): the outcome, the fragments of the
//! client's output, the API calls made and not made, and what DNS answers after the run; and
//! how each expectation is named in reports (`calls[0]`).

use std::fmt;

use serde::Deserialize;

/// What the scenario must observe.
#[derive(Debug, Clone)]
pub struct Expect {
    pub outcome: Outcome,
    /// Fragments that must all appear in what the client printed (a program: stdout and stderr;
    /// `builtin`: its error text).
    pub error_contains: Vec<String>,
    /// Fragments each of which must match at least one API call line (see
    /// [`crate::transcript::call_line`]), e.g. `"domain.zone.clone -> ok"` or
    /// `"PUT /v5/livedns/domains/stubber.chat/records/_acme-challenge/TXT -> 201"`.
    pub calls: Vec<String>,
    /// Fragments that no API call line may match.
    pub no_calls: Vec<String>,
    /// What DNS must answer once the client has finished.
    pub dns: Vec<DnsExpect>,
    /// The scenario's `quote`: a report's own line, which must appear in the client's output
    /// or in the transcript (a call line, a request body, a DNS question).
    pub quote: Option<String>,
}

impl Expect {
    /// Every expectation, in file order: the outcome, then each fragment, call, forbidden call
    /// and DNS question.
    pub fn all(&self) -> Vec<Expectation> {
        let mut all = vec![Expectation::Outcome];
        all.extend((0..self.error_contains.len()).map(Expectation::ErrorContains));
        all.extend((0..self.calls.len()).map(Expectation::Call));
        all.extend((0..self.no_calls.len()).map(Expectation::NoCall));
        all.extend((0..self.dns.len()).map(Expectation::Dns));
        if self.quote.is_some() {
            all.push(Expectation::Quote);
        }
        all
    }
}

/// One expectation of a scenario, named as its file writes it: `outcome`,
/// `error_contains[1]`, `calls[0]`, `no_calls[0]`, `expect.dns[0]` (counted from 0), `quote`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Expectation {
    Outcome,
    ErrorContains(usize),
    Call(usize),
    NoCall(usize),
    Dns(usize),
    Quote,
}

impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expectation::Outcome => f.write_str("outcome"),
            Expectation::ErrorContains(i) => write!(f, "error_contains[{i}]"),
            Expectation::Call(i) => write!(f, "calls[{i}]"),
            Expectation::NoCall(i) => write!(f, "no_calls[{i}]"),
            Expectation::Dns(i) => write!(f, "expect.dns[{i}]"),
            Expectation::Quote => f.write_str("quote"),
        }
    }
}

/// `issued`, `failure` or `success`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The client succeeded and the certificate checks out.
    Issued,
    /// The client failed (a program: a non-zero exit).
    Failure,
    /// The client succeeded; no certificate is checked (a program that only manages DNS).
    Success,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Issued => "issued",
            Outcome::Failure => "failure",
            Outcome::Success => "success",
        })
    }
}

/// A DNS question and what it must answer: exactly these values (`values = []`: none), or this
/// many values, whatever they are (`count`, for random challenge tokens). A challenge name
/// listed here is judged by this expectation, not by the "no record left" check of `issued`.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawDnsExpect")]
pub struct DnsExpect {
    pub name: String,
    pub rtype: String,
    pub answer: DnsAnswer,
}

/// What a [`DnsExpect`] requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsAnswer {
    Values(Vec<String>),
    Count(usize),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDnsExpect {
    name: String,
    #[serde(rename = "type", default = "txt")]
    rtype: String,
    values: Option<Vec<String>>,
    count: Option<usize>,
}

impl TryFrom<RawDnsExpect> for DnsExpect {
    type Error = String;
    fn try_from(raw: RawDnsExpect) -> Result<Self, String> {
        let answer = match (raw.values, raw.count) {
            (Some(values), None) => DnsAnswer::Values(values),
            (None, Some(count)) => DnsAnswer::Count(count),
            _ => {
                return Err(
                    "expect.dns: give either `values` (exactly these) or `count` (this many)"
                        .into(),
                );
            }
        };
        Ok(DnsExpect {
            name: raw.name,
            rtype: raw.rtype,
            answer,
        })
    }
}

impl DnsExpect {
    /// Whether this expectation is about `fqdn` (with or without its final dot).
    pub fn is_about(&self, fqdn: &str) -> bool {
        self.name
            .trim_end_matches('.')
            .eq_ignore_ascii_case(fqdn.trim_end_matches('.'))
    }
}

fn txt() -> String {
    "TXT".to_string()
}
