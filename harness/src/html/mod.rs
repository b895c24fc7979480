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
//!
//! Parts: this file is the page (totals, one section per scenario, the style); `rows` reads a
//! report into the diagram's rows, `diagram` draws them as SVG, `escape` makes any text safe
//! in HTML and fits it to a width.

mod diagram;
mod escape;
mod rows;

use std::fmt::Write as _;
use std::time::Duration;

use crate::runner::ScenarioReport;
use escape::esc;

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
    if let Some(quote) = &r.quote {
        meta.push(format!("quote: <q>{}</q>", esc(quote)));
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
        diagram::diagram(out, r);
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
