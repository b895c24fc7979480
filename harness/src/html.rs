//! The HTML report of a run (`harness run --html FILE`): one self-contained page with the
//! totals and, failures first, each scenario as a sequence diagram between four lifelines (the
//! client, the Gandi API, the DNS server, the CA), its unmet expectations in red, the first
//! thing that went wrong marked, and its whole transcript and client output folded below.
//!
//! Self-contained: inline CSS and SVG, no script, no link out; the page's
//! Content-Security-Policy forbids fetching anything, so a mistake here shows as a console
//! error, not as a request.
//!
//! A view of the transcript, never a second one: the arrows are the report's
//! [`steps`](ScenarioReport::steps) (the transcript's own lines, redacted where transcripts
//! are, in the order they happened), or the transcript's `api:` and `dns:` lines for a report
//! without them; the outcome is the transcript's `outcome:` lines. Nothing is redacted here,
//! and everything is escaped: a client's output is anybody's text.

use std::fmt::Write as _;
use std::time::Duration;

use crate::runner::ScenarioReport;
use crate::transcript::Step;

/// The page for a run's reports: failing scenarios first, each group in the order given.
pub fn render(reports: &[ScenarioReport], elapsed: Duration) -> String {
    let passed = reports.iter().filter(|r| r.passed).count();
    let failed = reports.len() - passed;
    let mut order: Vec<&ScenarioReport> = reports.iter().collect();
    // `false` sorts first; the sort is stable.
    order.sort_by_key(|r| r.passed);

    let mut out = String::with_capacity(8192 + reports.len() * 12_288);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>harness run: {failed} failed, {passed} passed</title>\n<style>{CSS}</style>\n\
         </head>\n<body>\n<header>\n<h1>harness run</h1>\n<p class=\"totals\">"
    );
    let _ = writeln!(
        out,
        "<span class=\"count {}\">{failed} failed</span> <span class=\"count pass\">{passed} passed</span> \
         <span class=\"muted\">{} scenario{} in {:.1} s</span></p>",
        if failed > 0 { "fail" } else { "none" },
        reports.len(),
        if reports.len() == 1 { "" } else { "s" },
        elapsed.as_secs_f64()
    );
    if failed > 0 {
        out.push_str("<p class=\"failed-list\">Failed:");
        for (i, r) in order.iter().enumerate().filter(|(_, r)| !r.passed) {
            let _ = write!(out, " <a href=\"#s{}\">{}</a>", i + 1, esc(&r.name));
        }
        out.push_str("</p>\n");
    }
    out.push_str(LEGEND);
    out.push_str("</header>\n<main>\n");
    for (i, r) in order.iter().enumerate() {
        scenario(&mut out, i + 1, r);
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

const CSS: &str = "
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;margin:16px 20px;color:#1f2328;background:#fff}
h1{font-size:22px;margin:0 0 4px}
code,pre{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:12px}
.muted{color:#656d76}
.totals .count{font-weight:600;font-size:16px;margin-right:6px}
.count.fail{color:#c62828}.count.pass{color:#1a7f37}.count.none{color:#656d76}
.failed-list a{color:#c62828;margin-right:4px}
.legend{font-size:12px;color:#656d76;margin:4px 0 12px}
.legend .problem{color:#b35900;font-weight:600}.legend .unmet{color:#c62828;font-weight:600}
section.scenario{border-left:5px solid #1a7f37;margin:10px 0;padding:2px 0 2px 12px}
section.scenario.fail{border-left-color:#c62828}
section.scenario>details>summary{cursor:pointer;font-size:15px;padding:3px 0}
.verdict{font-weight:700;font-size:12px;padding:1px 6px;border-radius:3px;color:#fff;background:#1a7f37}
.verdict.fail{background:#c62828}
.name{font-weight:600}
.description{margin:4px 0}
.meta{font-size:12px;color:#656d76;margin:2px 0 6px}
ul.failures{margin:6px 0;padding-left:20px}
ul.failures li{white-space:pre-wrap;margin:2px 0}
li.unmet,li.failure{color:#c62828;background:#fdecea;padding:2px 6px;border-radius:3px;list-style:square}
li.unmet code{font-weight:700}
svg.sequence{display:block;width:100%;max-width:1180px;height:auto;margin:6px 0}
svg.sequence text{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:12px;fill:#1f2328;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
svg.sequence .head rect{fill:#f6f8fa;stroke:#8c959f}
svg.sequence .head text{font-weight:700;text-anchor:middle}
svg.sequence .head text.sub{font-weight:400;fill:#656d76;stroke:none}
svg.sequence .life{stroke:#8c959f;stroke-dasharray:4 4}
svg.sequence line.arrow{stroke:#57606a;stroke-width:1.3}
svg.sequence path.head{fill:#57606a}
svg.sequence .dns line.arrow{stroke:#6e7781}
svg.sequence .extra{fill:#656d76}
svg.sequence .problem line.arrow{stroke:#b35900;stroke-width:1.8}
svg.sequence .problem path.head{fill:#b35900}
svg.sequence .problem text{fill:#8a4500}
svg.sequence .issued line.arrow{stroke:#1a7f37;stroke-width:2}
svg.sequence .issued path.head{fill:#1a7f37}
svg.sequence .issued text{fill:#116329;font-weight:700}
svg.sequence rect.band{fill:#fdecea}
svg.sequence .unmet line.arrow{stroke:#c62828;stroke-width:2}
svg.sequence .unmet path.head{fill:#c62828}
svg.sequence .unmet text{fill:#a40e0e;stroke:#fdecea}
svg.sequence rect.note{fill:#fff8e6;stroke:#d4a72c}
svg.sequence .ok rect.note{fill:#eaf6ec;stroke:#4ac26b}
svg.sequence .plain rect.note{fill:#f6f8fa;stroke:#8c959f}
svg.sequence .unmet rect.note{fill:#fdecea;stroke:#c62828}
svg.sequence .note text{stroke:none}
svg.sequence text.strong{font-weight:700}
svg.sequence .dot{fill:#c62828}
svg.sequence .first text{fill:#c62828;font-weight:700;stroke:#fff}
svg.sequence .first path{fill:#c62828}
details.fold{margin:4px 0}
details.fold>summary{cursor:pointer;color:#0969da;font-size:13px}
pre{background:#f6f8fa;border:1px solid #d0d7de;border-radius:4px;padding:8px;margin:4px 0;overflow:auto;max-height:480px;white-space:pre-wrap;word-break:break-all}
p.nodiagram{color:#656d76;font-style:italic}
";

const LEGEND: &str = "<p class=\"legend\">Each diagram: the client's Gandi API calls (method, \
path, status or fault) and the DNS questions with their answers, in the order the mock saw \
them; then the ACME outcome. <span class=\"problem\">Amber</span>: an error answer (a GET's 404 \
is a lookup that found nothing, not an error), an answer from one of the scenario's fault \
rules, or an empty TXT answer, expected or not. <span class=\"unmet\">Red</span>: an expectation of the scenario \
that was not met. &#9654; marks the first thing that went wrong. DNS questions are drawn from \
the CA: the mock's DNS journal does not record who asked (clients ask SOA and CNAME questions \
to find the zone, and some check the TXT record themselves). Hover an arrow for its whole line; \
the transcript below each diagram has them all.</p>\n";

/// Text for HTML, in an element or a quoted attribute (the same escapes serve both). Control
/// characters other than tab and line ends become their visible symbols (`␛` for ESC).
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if u32::from(c) < 0x20 => {
                out.push(char::from_u32(0x2400 + u32::from(c)).unwrap_or('\u{fffd}'));
            }
            '\u{7f}' => out.push('\u{2421}'),
            c => out.push(c),
        }
    }
    out
}

fn scenario(out: &mut String, index: usize, r: &ScenarioReport) {
    let (class, verdict) = if r.passed {
        ("pass", "PASS")
    } else {
        ("fail", "FAIL")
    };
    let _ = write!(
        out,
        "<section class=\"scenario {class}\" id=\"s{index}\">\n<details{}>\n<summary>\
         <span class=\"verdict {class}\">{verdict}</span> <span class=\"name\">{}</span> \
         <span class=\"muted\">[{}] {:.2} s</span></summary>\n",
        if r.passed { "" } else { " open" },
        esc(&r.name),
        esc(&r.client),
        r.seconds
    );
    let _ = writeln!(out, "<p class=\"description\">{}</p>", esc(&r.description));
    let mut meta = vec![esc(&r.path)];
    if let Some(source) = &r.reproduces {
        meta.push(format!("reproduces {}", esc(source)));
    }
    if r.network == crate::sandbox::Network::Sandbox {
        meta.push("sandbox network".into());
    }
    if let Some(twin) = &r.twin {
        meta.push(format!("twin run: {}", esc(twin)));
    }
    let _ = writeln!(out, "<p class=\"meta\">{}</p>", meta.join(" · "));
    if !r.failures.is_empty() {
        out.push_str("<ul class=\"failures\">\n");
        for (i, why) in r.failures.iter().enumerate() {
            match r.unmet.get(i) {
                Some(name) => {
                    let _ = writeln!(
                        out,
                        "<li class=\"unmet\"><code>{}</code> {}</li>",
                        esc(name),
                        esc(why)
                    );
                }
                None => {
                    let _ = writeln!(out, "<li class=\"failure\">{}</li>", esc(why));
                }
            }
        }
        out.push_str("</ul>\n");
    }
    if r.transcript.is_empty() {
        out.push_str("<p class=\"nodiagram\">Nothing ran, so there is no diagram.</p>\n");
    } else {
        diagram(out, r);
    }
    let _ = writeln!(
        out,
        "<details class=\"fold\"><summary>Transcript</summary><pre>{}</pre></details>",
        esc(&r.transcript)
    );
    let lines = r.output.lines().count();
    let _ = writeln!(
        out,
        "<details class=\"fold\"><summary>Client output ({lines} line{})</summary><pre>{}</pre></details>",
        if lines == 1 { "" } else { "s" },
        esc(&r.output)
    );
    out.push_str("</details>\n</section>\n");
}

// --- the diagram -------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lane {
    Client,
    Api,
    Dns,
    Ca,
}

impl Lane {
    fn x(self) -> f64 {
        match self {
            Lane::Client => 165.0,
            Lane::Api => 530.0,
            Lane::Dns => 850.0,
            Lane::Ca => 1090.0,
        }
    }
}

const WIDTH: f64 = 1180.0;
/// Width of a character of the 12px monospace font (DejaVu Sans Mono: 7.22), rounded up.
const CHAR: f64 = 7.3;
const HEAD_BOTTOM: f64 = 52.0;
const ROW: f64 = 26.0;
const LINE: f64 = 15.0;

/// One arrow: an API call (client to API) or a DNS question (CA to DNS), repeated `count`
/// times in a row.
#[derive(Debug, PartialEq)]
struct Exchange {
    dns: bool,
    /// What the arrow says: the call line (`domain.info -> fault 500037`) or the DNS line.
    label: String,
    /// Muted words after it: the fault rule that answered, a cut connection, a rate limit.
    extra: String,
    /// The whole transcript line, shown on hover.
    line: String,
    count: usize,
    problem: bool,
    unmet: bool,
}

#[derive(Debug)]
enum Row {
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
enum Tone {
    Ok,
    Problem,
    Unmet,
    Plain,
}

impl Row {
    fn height(&self) -> f64 {
        match self {
            Row::Exchange(_) | Row::Issued { .. } => ROW,
            Row::Note { lines, .. } => LINE * (lines.len() as f64 + 1.0) + 14.0,
        }
    }

    /// Whether this row is something that went wrong (for the first-error mark).
    fn wrong(&self) -> bool {
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

/// Greedy wrapping of `text` at `width` characters; a longer word is cut.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut len = 0;
    for word in text.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let room = if len == 0 {
                width
            } else {
                width.saturating_sub(len + 1)
            };
            if word.len() <= room {
                if len > 0 {
                    current.push(' ');
                    len += 1;
                }
                current.extend(word.iter());
                len += word.len();
                break;
            }
            if len > 0 {
                lines.push(std::mem::take(&mut current));
                len = 0;
                continue;
            }
            let rest = word.split_off(width.max(1));
            lines.push(word.into_iter().collect());
            word = rest;
        }
    }
    if len > 0 || lines.is_empty() {
        lines.push(current);
    }
    lines
}

/// At most `max` characters, the cut marked with `…`.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// At most `max` lines, the last one saying where the rest is.
fn cap(mut lines: Vec<String>, max: usize, width: usize, rest: &str) -> Vec<String> {
    if lines.len() > max {
        lines.truncate(max - 1);
        lines.push(clip(&format!("… ({rest})"), width));
    }
    lines
}

const IN_TRANSCRIPT: &str = "every line is in the transcript below";

fn chars_between(from: f64, to: f64) -> usize {
    ((to - from - 16.0) / CHAR).max(8.0) as usize
}

/// The rows of a scenario's diagram.
fn rows(r: &ScenarioReport) -> Vec<Row> {
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

fn diagram(out: &mut String, r: &ScenarioReport) {
    let rows = rows(r);
    let first_wrong = rows.iter().position(Row::wrong);
    let top = HEAD_BOTTOM + 12.0;
    let height = top + rows.iter().map(Row::height).sum::<f64>() + 10.0;
    let _ = writeln!(
        out,
        "<svg class=\"sequence\" viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\" role=\"img\" aria-label=\"Sequence diagram of {}\">",
        esc(&r.name)
    );
    // Lifelines, under everything else.
    let heads = [
        (Lane::Client, "client", clip(&r.client, 22)),
        (Lane::Api, "Gandi API", "mock-gandi".to_string()),
        (Lane::Dns, "DNS", "mock-gandi".to_string()),
        (Lane::Ca, "CA", "Pebble".to_string()),
    ];
    for (lane, name, sub) in &heads {
        let x = lane.x();
        let _ = write!(
            out,
            "<line class=\"life\" x1=\"{x}\" y1=\"{HEAD_BOTTOM}\" x2=\"{x}\" y2=\"{}\"/>\n\
             <g class=\"head\"><rect x=\"{}\" y=\"6\" width=\"170\" height=\"{}\" rx=\"4\"/>\
             <text x=\"{x}\" y=\"24\">{}</text><text class=\"sub\" x=\"{x}\" y=\"41\">{}</text></g>\n",
            height - 6.0,
            x - 85.0,
            HEAD_BOTTOM - 6.0,
            esc(name),
            esc(sub)
        );
    }
    let mut y = top;
    for (i, row) in rows.iter().enumerate() {
        let h = row.height();
        if first_wrong == Some(i) {
            let mid = y + h / 2.0;
            let _ = writeln!(
                out,
                "<g class=\"first\"><path d=\"M{} {} l9 5 l-9 5 z\"/><text x=\"8\" y=\"{}\">first error</text></g>",
                82.0,
                mid - 5.0,
                mid + 4.0
            );
        }
        match row {
            Row::Exchange(x) => draw_exchange(out, x, y),
            Row::Issued { names, unmet } => {
                let class = if *unmet {
                    "row issued unmet"
                } else {
                    "row issued"
                };
                if *unmet {
                    band(out, y, h);
                }
                let label = format!("certificate issued: {names}");
                let (from, to) = (Lane::Ca.x(), Lane::Client.x());
                let _ = writeln!(
                    out,
                    "<g class=\"{class}\"><title>{}</title>{}<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text></g>",
                    esc(&label),
                    arrow(from, to, y + 18.0),
                    from - 8.0,
                    y + 12.0,
                    esc(&clip(&label, chars_between(to, from)))
                );
            }
            Row::Note {
                from,
                to,
                title,
                lines,
                tone,
                dot,
            } => {
                let class = match tone {
                    Tone::Ok => "row ok",
                    Tone::Problem => "row problem",
                    Tone::Unmet => "row unmet",
                    Tone::Plain => "row plain",
                };
                let _ = write!(out, "<g class=\"{class}\"><title>{}", esc(title));
                for l in lines {
                    let _ = write!(out, "\n{}", esc(l));
                }
                let _ = write!(
                    out,
                    "</title><g class=\"note\"><rect class=\"note\" x=\"{from}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"3\"/>\
                     <text class=\"strong\" x=\"{}\" y=\"{}\">{}</text>",
                    y + 4.0,
                    to - from,
                    h - 8.0,
                    from + 8.0,
                    y + 4.0 + LINE,
                    esc(&clip(title, chars_between(*from, *to)))
                );
                for (k, l) in lines.iter().enumerate() {
                    let _ = write!(
                        out,
                        "<text x=\"{}\" y=\"{}\">{}</text>",
                        from + 8.0,
                        y + 4.0 + LINE * (k as f64 + 2.0),
                        esc(l)
                    );
                }
                out.push_str("</g>");
                if let Some(lane) = dot {
                    let _ = write!(
                        out,
                        "<circle class=\"dot\" cx=\"{}\" cy=\"{}\" r=\"4\"/>",
                        lane.x(),
                        y + 4.0
                    );
                }
                out.push_str("</g>\n");
            }
        }
        y += h;
    }
    out.push_str("</svg>\n");
}

/// A light red band behind a row whose expectation was not met.
fn band(out: &mut String, y: f64, h: f64) {
    let _ = write!(
        out,
        "<rect class=\"band\" x=\"96\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
        y + 1.0,
        WIDTH - 100.0,
        h - 2.0
    );
}

/// A horizontal arrow from `from` to `to` at height `y`.
fn arrow(from: f64, to: f64, y: f64) -> String {
    let dir = if to > from { -1.0 } else { 1.0 };
    format!(
        "<line class=\"arrow\" x1=\"{from}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\"/><path class=\"head\" d=\"M{to} {y} l{} -4.5 v9 z\"/>",
        to + dir * 8.0,
        dir * 9.0
    )
}

fn draw_exchange(out: &mut String, x: &Exchange, y: f64) {
    let mut class = String::from(if x.dns { "row dns" } else { "row api" });
    if x.problem {
        class.push_str(" problem");
    }
    if x.unmet {
        class.push_str(" unmet");
        band(out, y, ROW);
    }
    let times = if x.count > 1 {
        format!(" ×{}", x.count)
    } else {
        String::new()
    };
    let title = if x.count > 1 {
        format!("{} ({} times in a row)", x.line, x.count)
    } else {
        x.line.clone()
    };
    let _ = write!(out, "<g class=\"{class}\"><title>{}</title>", esc(&title));
    if x.dns {
        // Right-aligned at the CA, reaching back no further than the API's lifeline.
        let (from, to) = (Lane::Ca.x(), Lane::Dns.x());
        let room = chars_between(Lane::Api.x(), from).saturating_sub(times.chars().count());
        let _ = write!(
            out,
            "{}<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}{}</text>",
            arrow(from, to, y + 18.0),
            from - 8.0,
            y + 12.0,
            esc(&clip(&x.label, room)),
            esc(&times)
        );
    } else {
        // From the client, reaching no further than the DNS lifeline.
        let (from, to) = (Lane::Client.x(), Lane::Api.x());
        let suffix = format!("{}{times}", x.extra);
        let room = chars_between(from, Lane::Dns.x()).saturating_sub(suffix.chars().count());
        let _ = write!(
            out,
            "{}<text x=\"{}\" y=\"{}\">{}<tspan class=\"extra\">{}</tspan></text>",
            arrow(from, to, y + 18.0),
            from + 8.0,
            y + 12.0,
            esc(&clip(&x.label, room)),
            esc(&suffix)
        );
    }
    out.push_str("</g>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_and_control_characters() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"y\"\u{1b}[31m"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;\u{241b}[31m"
        );
        assert_eq!(esc("a\tb\nc"), "a\tb\nc");
    }

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
    fn wrapping_breaks_at_spaces_and_cuts_long_words() {
        assert_eq!(wrap("aa bb cc", 5), vec!["aa bb", "cc"]);
        assert_eq!(wrap("abcdefgh", 3), vec!["abc", "def", "gh"]);
        assert_eq!(wrap("", 3), vec![""]);
        assert_eq!(clip("abcdef", 4), "abc…");
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
