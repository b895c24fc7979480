//! `harness merge-reports`: the JSON reports of several runs (the N jobs of a `--partition`
//! matrix) read back and made one run, from which the JUnit, JSON and HTML reports are written
//! as a single `harness run` would have.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::runner::ScenarioReport;

/// A JSON report as `harness run --json` writes it (the totals are counted again).
#[derive(Debug, Deserialize)]
struct JsonReport {
    seconds: f64,
    scenarios: Vec<ScenarioReport>,
}

/// The runs of `files` as one: every scenario sorted by name, and the longest run's time (the
/// jobs of a matrix run side by side). A scenario found twice is an error: the shares of a
/// partition never overlap, so two reports of one scenario are two runs of the same share.
pub fn merge(files: &[PathBuf]) -> Result<(Vec<ScenarioReport>, Duration), String> {
    let mut all: Vec<(ScenarioReport, PathBuf)> = Vec::new();
    let mut longest = 0.0f64;
    for file in files {
        let report = read(file)?;
        longest = longest.max(report.seconds);
        all.extend(report.scenarios.into_iter().map(|s| (s, file.clone())));
    }
    all.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    if let Some(pair) = all.windows(2).find(|w| w[0].0.name == w[1].0.name) {
        return Err(format!(
            "scenario `{}` is in both {} and {}: merge the reports of one run's shares",
            pair[0].0.name,
            pair[0].1.display(),
            pair[1].1.display()
        ));
    }
    Ok((
        all.into_iter().map(|(s, _)| s).collect(),
        Duration::from_secs_f64(longest.max(0.0)),
    ))
}

fn read(file: &Path) -> Result<JsonReport, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}: not a report of `harness run --json`: {e}",
            file.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report;

    fn scenario(name: &str, passed: bool) -> ScenarioReport {
        ScenarioReport {
            name: name.into(),
            path: format!("scenarios/{name}.toml"),
            description: "d".into(),
            reproduces: None,
            quote: None,
            client: "builtin gandiv5".into(),
            passed,
            failures: if passed { vec![] } else { vec!["why".into()] },
            unmet: vec![],
            transcript: "api:\n  GET /x -> 200\n".into(),
            steps: vec![],
            output: "out".into(),
            network: Default::default(),
            twin: None,
            seconds: 0.5,
        }
    }

    #[test]
    fn the_shares_reports_become_one_run_and_a_repeated_scenario_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let one = dir.path().join("1.json");
        let two = dir.path().join("2.json");
        let a = [scenario("b", true), scenario("d", false)];
        let b = [scenario("a", true), scenario("c", true)];
        std::fs::write(&one, report::json(&a, Duration::from_secs(3))).unwrap();
        std::fs::write(&two, report::json(&b, Duration::from_secs(5))).unwrap();
        let (all, elapsed) = merge(&[one.clone(), two.clone()]).unwrap();
        let names: Vec<&str> = all.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c", "d"]);
        assert_eq!(elapsed, Duration::from_secs(5));
        assert!(!all[3].passed && all[3].failures == ["why"] && all[3].output == "out");

        let e = merge(&[one.clone(), one.clone()]).unwrap_err();
        assert!(e.contains("scenario `b` is in both"), "{e}");
        std::fs::write(&two, "<testsuite/>").unwrap();
        let e = merge(&[one, two]).unwrap_err();
        assert!(
            e.contains("2.json: not a report of `harness run --json`"),
            "{e}"
        );
    }
}
