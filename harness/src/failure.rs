//! What a FAIL line shows on the console, bounded whatever the client printed: each unmet
//! expectation, for a missing `error_contains` fragment the closest line of the client's output
//! with where it departs from the fragment marked, and at most [`CONTEXT_LINES`] lines of that
//! output around it (or its end). The whole output stays in the JSON, JUnit and HTML reports,
//! which the last line names.

use std::ops::Range;
use std::path::PathBuf;

/// Lines of the client's output shown under a FAIL line, at most.
pub const CONTEXT_LINES: usize = 40;

/// Characters of one shown line, at most (the rest is cut, marked with `…`).
const LINE_WIDTH: usize = 200;

/// Expectations and twin differences shown, at most (the reports have them all).
const FAILURE_LINES: usize = 20;

/// The line of an output closest to a fragment it does not contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closest<'a> {
    /// Counted from 0.
    pub index: usize,
    pub line: &'a str,
    /// The longest piece the line and the fragment share: where it is in the line, and in
    /// the fragment.
    pub in_line: Range<usize>,
    pub in_fragment: Range<usize>,
}

/// The line of `output` that shares the longest piece with `fragment` (the first of equals);
/// `None` when no line shares a character with it.
pub fn closest<'a>(output: &'a str, fragment: &str) -> Option<Closest<'a>> {
    let mut best: Option<Closest<'a>> = None;
    for (index, line) in output.lines().enumerate() {
        let (in_line, in_fragment) = longest_common(line.as_bytes(), fragment.as_bytes());
        if in_line.is_empty()
            || best
                .as_ref()
                .is_some_and(|b| b.in_line.len() >= in_line.len())
        {
            continue;
        }
        best = Some(Closest {
            index,
            line,
            in_line,
            in_fragment,
        });
    }
    best
}

/// The longest common substring of `a` and `b` (by bytes, cut back to character boundaries),
/// as its range in each.
fn longest_common(a: &[u8], b: &[u8]) -> (Range<usize>, Range<usize>) {
    // Dynamic programming over one row: run[j] is the length of the common run ending at
    // a[i-1], b[j-1].
    let mut run = vec![0usize; b.len() + 1];
    let (mut len, mut end_a, mut end_b) = (0, 0, 0);
    for i in 1..=a.len() {
        for j in (1..=b.len()).rev() {
            run[j] = if a[i - 1] == b[j - 1] {
                run[j - 1] + 1
            } else {
                0
            };
            if run[j] > len {
                (len, end_a, end_b) = (run[j], i, j);
            }
        }
    }
    let (mut start_a, mut start_b) = (end_a - len, end_b - len);
    // Whole characters only: move the start forward, the end back, off continuation bytes.
    let is_continuation = |s: &[u8], i: usize| i < s.len() && (s[i] & 0xC0) == 0x80;
    while start_a < end_a && (is_continuation(a, start_a) || is_continuation(b, start_b)) {
        start_a += 1;
        start_b += 1;
    }
    while end_a > start_a && (is_continuation(a, end_a) || is_continuation(b, end_b)) {
        end_a -= 1;
        end_b -= 1;
    }
    (start_a..end_a, start_b..end_b)
}

/// The closest line as two console lines: the line (cut around the mark when long) and a
/// caret under where it departs from `fragment`, saying what was expected from there.
pub fn marked(closest: &Closest<'_>, fragment: &str) -> [String; 2] {
    let line = closest.line;
    // Where the line stops following the fragment: after the shared piece when the fragment
    // goes on, else before it (the fragment's beginning is what the line lacks).
    let (at, expected) = if closest.in_fragment.end < fragment.len() {
        (
            closest.in_line.end,
            format!("{:?}", &fragment[closest.in_fragment.end..]),
        )
    } else {
        (
            closest.in_line.start,
            format!("{:?} before this", &fragment[..closest.in_fragment.start]),
        )
    };
    let got = if at < line.len() {
        format!("the line has {:?}", clip(&line[at..], 40))
    } else {
        "the line ends".to_string()
    };
    // A window of the line around the mark.
    let mut start = at.saturating_sub(LINE_WIDTH / 2);
    while !line.is_char_boundary(start) {
        start -= 1;
    }
    let shown = clip(&line[start..], LINE_WIDTH);
    let prefix = if start > 0 { "…" } else { "" };
    let column = prefix.chars().count() + line[start..at].chars().count();
    [
        format!("{prefix}{shown}"),
        format!(
            "{}^ here {got}, the fragment goes on with {expected}",
            " ".repeat(column)
        ),
    ]
}

/// At most `max` characters of `text`, the cut marked with `…`.
pub(crate) fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// At most [`CONTEXT_LINES`] lines of `output` around line `around` (counted from 0), or its
/// last ones: the first line's number (from 1) and the lines.
pub fn context(output: &str, around: Option<usize>) -> (usize, Vec<&str>) {
    let lines: Vec<&str> = output.lines().collect();
    let start = match around {
        Some(i) => i
            .saturating_sub(CONTEXT_LINES / 2)
            .min(lines.len().saturating_sub(CONTEXT_LINES)),
        None => lines.len().saturating_sub(CONTEXT_LINES),
    };
    let end = (start + CONTEXT_LINES).min(lines.len());
    (start + 1, lines[start..end].to_vec())
}

/// Where the whole output of a run is kept: the report files asked for.
#[derive(Debug, Clone, Default)]
pub struct ReportPaths(pub Vec<PathBuf>);

impl ReportPaths {
    fn say(&self) -> String {
        if self.0.is_empty() {
            return "not kept: `--json FILE`, `--junit FILE` or `--html FILE` keeps it".into();
        }
        let names: Vec<String> = self.0.iter().map(|p| p.display().to_string()).collect();
        format!("in {}", names.join(", "))
    }
}

/// What a FAIL line shows of one scenario's report (its fields, so that this module stands
/// below the runner that uses its text functions).
#[derive(Debug, Clone, Copy)]
pub struct Failed<'a> {
    /// Why it failed, one reason a line.
    pub failures: &'a [String],
    /// The expectation each reason is about, in the same order.
    pub unmet: &'a [String],
    /// What the client printed.
    pub output: &'a str,
}

/// The lines under a FAIL line (each to be indented by the caller): the unmet expectations,
/// the closest line to each missing fragment (`fragments`: the `error_contains` of the
/// scenario), then a bounded excerpt of the client's output and where the whole of it is.
pub fn console(report: Failed<'_>, fragments: &[String], reports: &ReportPaths) -> Vec<String> {
    let mut out = Vec::new();
    let mut around = None;
    for (i, why) in report.failures.iter().enumerate() {
        if i == FAILURE_LINES {
            out.push(format!(
                "… {} more (the reports have them all)",
                report.failures.len() - FAILURE_LINES
            ));
            break;
        }
        let name = report.unmet.get(i);
        match name {
            Some(name) => out.push(format!("{name}: {}", clip(why, LINE_WIDTH))),
            None => out.push(clip(why, LINE_WIDTH)),
        }
        let fragment = name
            .and_then(|n| n.strip_prefix("error_contains["))
            .and_then(|n| n.strip_suffix(']'))
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| fragments.get(n));
        if let Some(found) = fragment.and_then(|f| closest(report.output, f).map(|c| (f, c))) {
            let (fragment, closest) = found;
            let [line, mark] = marked(&closest, fragment);
            let number = format!("{}", closest.index + 1);
            out.push(format!("  {number} | {line}"));
            out.push(format!("  {} | {mark}", " ".repeat(number.len())));
            around.get_or_insert(closest.index);
        }
    }
    if !report.output.is_empty() {
        let total = report.output.lines().count();
        let (first, lines) = context(report.output, around);
        let last = first + lines.len().saturating_sub(1);
        let whole = if lines.len() < total {
            format!(
                "lines {first}-{last} of {total}; the whole output is {}",
                reports.say()
            )
        } else {
            format!("{total} lines")
        };
        out.push(format!("--- client output, {whole} ---"));
        out.extend(
            lines
                .into_iter()
                .map(|l| format!("| {}", clip(l, LINE_WIDTH))),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_closest_line_shares_the_longest_piece_with_the_fragment() {
        let output = "starting\nerror: gandiv5: 403 Forbidden\nerror: gandi: 401\ndone\n";
        let c = closest(output, "gandiv5: 401 Unauthorized").unwrap();
        assert_eq!((c.index, c.line), (1, "error: gandiv5: 403 Forbidden"));
        let [line, mark] = marked(&c, "gandiv5: 401 Unauthorized");
        assert_eq!(line, "error: gandiv5: 403 Forbidden");
        // The shared piece is "gandiv5: 40"; the line departs at "3 Forbidden".
        assert_eq!(mark.find('^'), Some("error: gandiv5: 40".len()), "{mark}");
        assert!(mark.contains(r#"the line has "3 Forbidden""#), "{mark}");
        assert!(mark.contains(r#"goes on with "1 Unauthorized""#), "{mark}");
        assert_eq!(closest("abc\n", "xyz"), None);
    }

    #[test]
    fn a_fragment_whose_beginning_is_missing_is_marked_before_the_shared_piece() {
        let c = closest("x: status 500\n", "(500037) status 500").unwrap();
        let [_, mark] = marked(&c, "(500037) status 500");
        assert_eq!(mark.find('^'), Some(2), "{mark}");
        assert!(mark.contains(r#""(500037)" before this"#), "{mark}");
    }

    #[test]
    fn the_context_is_bounded_and_centred_on_the_closest_line() {
        let output: String = (1..=5000).map(|i| format!("line {i}\n")).collect();
        let (first, lines) = context(&output, Some(2999));
        assert_eq!((first, lines.len()), (2980, CONTEXT_LINES));
        assert!(lines.contains(&"line 3000"));
        let (first, lines) = context(&output, None);
        assert_eq!((first, lines.last().copied()), (4961, Some("line 5000")));
        let (first, lines) = context("a\nb\n", Some(1));
        assert_eq!((first, lines), (1, vec!["a", "b"]));
    }

    #[test]
    fn long_lines_are_cut_around_the_mark_on_character_boundaries() {
        let line = format!("{}é needle-x{}", "é".repeat(500), "z".repeat(500));
        let c = closest(&line, "needle-y").unwrap();
        let [shown, mark] = marked(&c, "needle-y");
        assert!(shown.starts_with('…') && shown.ends_with('…'), "{shown}");
        let caret = mark.chars().position(|ch| ch == '^').unwrap();
        assert_eq!(shown.chars().skip(caret).take(1).collect::<String>(), "x");
    }
}
