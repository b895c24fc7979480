//! Machine-readable reports of a run: JUnit XML (for CI dashboards) and JSON.

use std::time::Duration;

use crate::runner::ScenarioReport;

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry other control characters at all.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A JUnit XML report: one test suite, one test case per scenario.
pub fn junit(reports: &[ScenarioReport], elapsed: Duration) -> String {
    let failures = reports.iter().filter(|r| !r.passed).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites tests=\"{}\" failures=\"{failures}\" time=\"{:.3}\">\n",
        reports.len(),
        elapsed.as_secs_f64()
    ));
    out.push_str(&format!(
        "  <testsuite name=\"scenarios\" tests=\"{}\" failures=\"{failures}\" time=\"{:.3}\">\n",
        reports.len(),
        elapsed.as_secs_f64()
    ));
    for r in reports {
        out.push_str(&format!(
            "    <testcase classname=\"scenarios\" name=\"{}\" file=\"{}\" time=\"{:.3}\"",
            xml_escape(&r.name),
            xml_escape(&r.path),
            r.seconds
        ));
        if r.passed {
            out.push_str(">\n");
        } else {
            out.push_str(">\n");
            out.push_str(&format!(
                "      <failure message=\"{}\">{}</failure>\n",
                xml_escape(r.failures.first().map_or("", String::as_str)),
                xml_escape(&r.failures.join("\n"))
            ));
        }
        let mut system_out = format!("client: {}\n", r.client);
        if !r.transcript.is_empty() {
            system_out.push_str(&format!("--- transcript ---\n{}", r.transcript));
        }
        if !r.output.is_empty() {
            system_out.push_str(&format!("--- client output ---\n{}", r.output));
        }
        out.push_str(&format!(
            "      <system-out>{}</system-out>\n",
            xml_escape(&system_out)
        ));
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// A JSON report: totals and every scenario's verdict and transcript.
pub fn json(reports: &[ScenarioReport], elapsed: Duration) -> String {
    let passed = reports.iter().filter(|r| r.passed).count();
    let value = serde_json::json!({
        "passed": passed,
        "failed": reports.len() - passed,
        "seconds": elapsed.as_secs_f64(),
        "scenarios": reports,
    });
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(passed: bool) -> ScenarioReport {
        ScenarioReport {
            name: "a<b".into(),
            path: "scenarios/a.toml".into(),
            description: "d".into(),
            reproduces: None,
            quote: None,
            client: "lego 4.9.1 gandi".into(),
            passed,
            failures: if passed {
                vec![]
            } else {
                vec!["bad \"x\" & y".into()]
            },
            unmet: if passed {
                vec![]
            } else {
                vec!["calls[0]".into()]
            },
            transcript: "api:\n".into(),
            steps: Vec::new(),
            output: "Could not obtain certificates\n".into(),
            network: crate::sandbox::Network::Proxy,
            twin: None,
            seconds: 0.5,
        }
    }

    #[test]
    fn junit_escapes_and_counts_failures() {
        let xml = junit(&[report(true), report(false)], Duration::from_secs(1));
        assert!(xml.contains("tests=\"2\" failures=\"1\""));
        assert!(xml.contains("name=\"a&lt;b\""));
        assert!(xml.contains("bad &quot;x&quot; &amp; y"));
        assert!(xml.contains("client: lego 4.9.1 gandi"));
        assert!(xml.contains("--- client output ---\nCould not obtain certificates"));
        roxmltree::Document::parse(&xml).unwrap();
    }

    #[test]
    fn json_has_totals() {
        let v: serde_json::Value =
            serde_json::from_str(&json(&[report(true)], Duration::from_secs(1))).unwrap();
        assert_eq!(v["passed"], 1);
        assert_eq!(v["scenarios"][0]["name"], "a<b");
        assert_eq!(v["scenarios"][0]["client"], "lego 4.9.1 gandi");
        assert_eq!(
            v["scenarios"][0]["output"],
            "Could not obtain certificates\n"
        );
    }
}
