//! The sequence diagram of a scenario as inline SVG: four lifelines (client, Gandi API, DNS,
//! CA), one row per [`Row`], the first thing that went wrong marked.

use std::fmt::Write as _;

use crate::runner::ScenarioReport;

use super::escape::{clip, esc};
use super::rows::{Exchange, LINE, Lane, ROW, Row, Tone, WIDTH, chars_between, rows};

/// Where the lifelines' heads end.
const HEAD_BOTTOM: f64 = 52.0;

pub(super) fn diagram(out: &mut String, r: &ScenarioReport) {
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
