//! What a scenario's diagram shows, row by row: the transcript's API calls and DNS questions
//! (repeats folded), the client's outcome, problems with the certificate and unmet
//! expectations as notes; and where the lifelines stand.

use crate::runner::ScenarioReport;
use crate::transcript::Step;

use super::escape::{cap, wrap};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lane {
    Client,
    Api,
    Dns,
    Ca,
}

impl Lane {
    pub(super) fn x(self) -> f64 {
        match self {
            Lane::Client => 165.0,
            Lane::Api => 530.0,
            Lane::Dns => 850.0,
            Lane::Ca => 1090.0,
        }
    }
}

/// The diagram's geometry (SVG units): its width, a character, a row, a line of a note.
pub(super) const WIDTH: f64 = 1180.0;
/// Width of a character of the 12px monospace font (DejaVu Sans Mono: 7.22), rounded up.
const CHAR: f64 = 7.3;
pub(super) const ROW: f64 = 26.0;
pub(super) const LINE: f64 = 15.0;

/// One arrow: an API call (client to API) or a DNS question (CA to DNS), repeated `count`
/// times in a row.
#[derive(Debug, PartialEq)]
pub(super) struct Exchange {
    pub(super) dns: bool,
    /// What the arrow says: the call line (`domain.info -> fault 500037`) or the DNS line.
    pub(super) label: String,
    /// Muted words after it: the fault rule that answered, a cut connection, a rate limit.
    pub(super) extra: String,
    /// The whole transcript line, shown on hover.
    pub(super) line: String,
    pub(super) count: usize,
    pub(super) problem: bool,
    pub(super) unmet: bool,
}

#[derive(Debug)]
pub(super) enum Row {
    Exchange(Exchange),
    /// The CA issued: an arrow back to the client.
    Issued {
        names: String,
        unmet: bool,
    },
    /// A note over the lifelines from `from` to `to`.
    Note {
        from: f64,
        to: f64,
        title: String,
        lines: Vec<String>,
        tone: Tone,
        dot: Option<Lane>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tone {
    Ok,
    Problem,
    Unmet,
    Plain,
}

impl Row {
    pub(super) fn height(&self) -> f64 {
        match self {
            Row::Exchange(_) | Row::Issued { .. } => ROW,
            Row::Note { lines, .. } => LINE * (lines.len() as f64 + 1.0) + 14.0,
        }
    }

    /// Whether this row is something that went wrong (for the first-error mark).
    pub(super) fn wrong(&self) -> bool {
        match self {
            Row::Exchange(x) => x.problem || x.unmet,
            Row::Issued { unmet, .. } => *unmet,
            Row::Note { tone, .. } => matches!(tone, Tone::Problem | Tone::Unmet),
        }
    }
}

/// The transcript's `outcome:` lines, by kind.
#[derive(Debug, Default)]
struct Outcome<'a> {
    ended: Option<&'a str>,
    issued: Option<&'a str>,
    succeeded: bool,
    problems: Vec<&'a str>,
    leftovers: Vec<&'a str>,
    errors: Vec<&'a str>,
}

/// The lines of one section (`api:`, `dns:`, `outcome:`) of a transcript, unindented.
fn section<'a>(transcript: &'a str, name: &str) -> Vec<&'a str> {
    transcript
        .lines()
        .skip_while(|l| *l != name)
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| &l[2..])
        .collect()
}

fn outcome(transcript: &str) -> Outcome<'_> {
    let mut o = Outcome::default();
    for line in section(transcript, "outcome:") {
        if line == "succeeded" {
            o.succeeded = true;
            continue;
        }
        let Some((kind, text)) = line.split_once(": ") else {
            continue;
        };
        match kind {
            "ended" => o.ended = Some(text),
            "issued" => o.issued = Some(text),
            "problem" => o.problems.push(text),
            "left in DNS" => o.leftovers.push(text),
            "error" => o.errors.push(text),
            _ => {}
        }
    }
    o
}

/// The report's steps, or for a report without them the transcript's API and DNS lines.
fn steps(r: &ScenarioReport) -> Vec<Step> {
    if !r.steps.is_empty() {
        return r.steps.clone();
    }
    let api = section(&r.transcript, "api:")
        .into_iter()
        .map(|l| Step::Api(l.to_string()));
    let dns = section(&r.transcript, "dns:")
        .into_iter()
        .map(|l| Step::Dns(l.to_string()));
    api.chain(dns).collect()
}

fn exchange(step: &Step) -> Exchange {
    match step {
        Step::Api(line) => {
            let (call, detail) = match line.rfind(" (auth: ") {
                Some(i) if line.ends_with(')') => (&line[..i], &line[i + 2..line.len() - 1]),
                _ => (line.as_str(), ""),
            };
            let extras: Vec<&str> = detail
                .split(", ")
                .filter(|p| {
                    p.starts_with("fault #") || *p == "closed mid-body" || *p == "rate limited"
                })
                .map(|p| {
                    if p.starts_with("fault #") {
                        "fault rule"
                    } else {
                        p
                    }
                })
                .collect();
            let result = call.rsplit_once(" -> ").map_or("", |(_, r)| r);
            let problem = match result {
                "ok" => false,
                "closed" | "abandoned" => true,
                r if r.starts_with("fault ") => true,
                // A GET answered 404 is a lookup that found nothing (lego's gandiv5 asks
                // for the TXT rrset before writing it), as NXDOMAIN is for DNS.
                r => r.parse::<u16>().is_ok_and(|s| {
                    s >= 400
                        && !(s == 404 && (call.starts_with("GET ") || call.starts_with("HEAD ")))
                }),
                // A fault rule of the scenario answered: where it meant things to go wrong.
            } || !extras.is_empty();
            let extra = if extras.is_empty() {
                String::new()
            } else {
                format!(" ({})", extras.join(", "))
            };
            Exchange {
                dns: false,
                label: call.to_string(),
                extra,
                line: line.clone(),
                count: 1,
                problem,
                unmet: false,
            }
        }
        Step::Dns(line) => {
            let (question, answer) = line.split_once(" -> ").unwrap_or((line, ""));
            let rcode = answer.split_whitespace().next().unwrap_or("");
            let qtype = question.split_whitespace().next().unwrap_or("");
            let faulted = line.ends_with(')') && line.contains(" (fault #");
            let empty = answer[rcode.len()..].trim_start().starts_with("[]");
            let problem = faulted
                || !matches!(rcode, "NOERROR" | "NXDOMAIN")
                || (qtype == "TXT" && (rcode == "NXDOMAIN" || empty));
            Exchange {
                dns: true,
                label: line.clone(),
                extra: String::new(),
                line: line.clone(),
                count: 1,
                problem,
                unmet: false,
            }
        }
    }
}

/// Which lifeline an expectation is about, by the name the report gives it.
fn lane_of(expectation: &str) -> Option<Lane> {
    if expectation.starts_with("calls") || expectation.starts_with("no_calls") {
        Some(Lane::Api)
    } else if expectation.starts_with("expect.dns") {
        Some(Lane::Dns)
    } else if expectation == "outcome" || expectation.starts_with("error_contains") {
        Some(Lane::Client)
    } else {
        None
    }
}

const IN_TRANSCRIPT: &str = "every line is in the transcript below";

pub(super) fn chars_between(from: f64, to: f64) -> usize {
    ((to - from - 16.0) / CHAR).max(8.0) as usize
}

/// The rows of a scenario's diagram.
pub(super) fn rows(r: &ScenarioReport) -> Vec<Row> {
    let unmet: Vec<(&str, &str)> = r
        .unmet
        .iter()
        .zip(&r.failures)
        .map(|(n, w)| (n.as_str(), w.as_str()))
        .collect();
    let mut rows: Vec<Row> = Vec::new();
    for step in steps(r) {
        let mut x = exchange(&step);
        // A call that `no_calls` forbids: its failure quotes the call.
        x.unmet = !x.dns
            && unmet
                .iter()
                .any(|(n, why)| n.starts_with("no_calls") && why.contains(x.label.as_str()));
        match rows.last_mut() {
            Some(Row::Exchange(last)) if last.line == x.line && last.unmet == x.unmet => {
                last.count += 1;
            }
            _ => rows.push(Row::Exchange(x)),
        }
    }

    let o = outcome(&r.transcript);
    let outcome_unmet = unmet.iter().any(|(n, _)| lane_of(n) == Some(Lane::Client));
    let wide = (Lane::Api.x() - 90.0, WIDTH - 8.0);
    let wide_chars = chars_between(wide.0, wide.1);
    if let Some(ended) = o.ended {
        rows.push(Row::Note {
            from: 100.0,
            to: Lane::Client.x() + 150.0,
            title: format!("client: {ended}"),
            lines: Vec::new(),
            tone: Tone::Plain,
            dot: None,
        });
    }
    if let Some(names) = o.issued {
        rows.push(Row::Issued {
            names: names.to_string(),
            unmet: outcome_unmet,
        });
    } else if o.succeeded {
        rows.push(Row::Note {
            from: 100.0,
            to: Lane::Api.x() + 120.0,
            title: "client succeeded (no certificate to check)".into(),
            lines: Vec::new(),
            tone: if outcome_unmet { Tone::Unmet } else { Tone::Ok },
            dot: None,
        });
    } else {
        let mut lines = Vec::new();
        for e in &o.errors {
            lines.extend(wrap(e, wide_chars));
        }
        rows.push(Row::Note {
            from: wide.0,
            to: wide.1,
            title: "ACME outcome: failed".into(),
            lines: cap(lines, 8, wide_chars, IN_TRANSCRIPT),
            tone: if outcome_unmet {
                Tone::Unmet
            } else {
                Tone::Problem
            },
            dot: Some(Lane::Ca),
        });
    }
    // Each problem with the certificate, then each record left behind: a note apiece.
    let notes = (o
        .problems
        .iter()
        .map(|p| ("problem with the certificate", p, 4, Lane::Ca)))
    .chain(
        o.leftovers
            .iter()
            .map(|l| ("left in DNS after the run", l, 3, Lane::Dns)),
    );
    for (title, text, max, lane) in notes {
        rows.push(Row::Note {
            from: wide.0,
            to: wide.1,
            title: title.into(),
            lines: cap(wrap(text, wide_chars), max, wide_chars, IN_TRANSCRIPT),
            tone: Tone::Problem,
            dot: Some(lane),
        });
    }
    let all = (100.0, WIDTH - 8.0);
    let all_chars = chars_between(all.0, all.1);
    for (name, why) in &unmet {
        rows.push(Row::Note {
            from: all.0,
            to: all.1,
            title: format!("expectation not met: {name}"),
            lines: cap(
                wrap(why, all_chars),
                3,
                all_chars,
                "the whole text is above the diagram",
            ),
            tone: Tone::Unmet,
            dot: lane_of(name),
        });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_api_line_gives_its_call_and_whether_it_went_wrong() {
        let x = exchange(&Step::Api(
            "PUT /v5/livedns/domains/x/records/_acme-challenge/TXT -> 429 (auth: -, host: api.gandi.net, fault #1)".into(),
        ));
        assert_eq!(
            x.label,
            "PUT /v5/livedns/domains/x/records/_acme-challenge/TXT -> 429"
        );
        assert_eq!(x.extra, " (fault rule)");
        assert!(x.problem);
        assert!(exchange(&Step::Api("domain.info -> fault 500037 (auth: -)".into())).problem);
        assert!(!exchange(&Step::Api("domain.info -> ok (auth: v4-key)".into())).problem);
        assert!(
            !exchange(&Step::Api(
                "GET /v5/livedns/domains/x -> 200 (auth: pat)".into()
            ))
            .problem
        );
        // A lookup that found nothing is not an error; a write that finds nothing is.
        assert!(
            !exchange(&Step::Api(
                "GET /v5/livedns/domains/x/records/y/TXT -> 404 (auth: pat)".into()
            ))
            .problem
        );
        assert!(
            exchange(&Step::Api(
                "PUT /v5/livedns/domains/x/records/y/TXT -> 404 (auth: pat)".into()
            ))
            .problem
        );
        assert!(
            exchange(&Step::Api(
                "domain.zone.set -> closed (auth: -, fault #2)".into()
            ))
            .problem
        );
        // A fault rule's answer is where the scenario meant things to go wrong.
        assert!(
            exchange(&Step::Api(
                "domain.zone.set -> ok (auth: -, fault #1)".into()
            ))
            .problem
        );
    }

    #[test]
    fn a_dns_line_is_a_problem_when_refused_faulted_or_an_empty_txt() {
        let p = |l: &str| exchange(&Step::Dns(l.into())).problem;
        assert!(!p("SOA _acme-challenge.x -> NXDOMAIN []"));
        assert!(!p("CNAME _acme-challenge.x -> NOERROR []"));
        assert!(!p("TXT _acme-challenge.x -> NOERROR [\"\\\"[token]\\\"\"]"));
        assert!(p("TXT _acme-challenge.x -> NXDOMAIN []"));
        assert!(p("TXT _acme-challenge.x -> NOERROR []"));
        assert!(p("SOA x -> REFUSED []"));
        assert!(p("TXT _acme-challenge.x -> DROPPED [] (fault #1)"));
    }

    #[test]
    fn the_outcome_comes_from_the_transcript() {
        let t = "client: x\napi:\n  domain.info -> ok (auth: -)\ndns:\noutcome:\n  ended: exit 1\n  error: first\n  error: second\n";
        let o = outcome(t);
        assert_eq!(o.ended, Some("exit 1"));
        assert_eq!(o.errors, vec!["first", "second"]);
        assert!(o.issued.is_none() && !o.succeeded);
        assert_eq!(section(t, "api:"), vec!["domain.info -> ok (auth: -)"]);
        assert!(section(t, "dns:").is_empty());
    }
}
