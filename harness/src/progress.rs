//! What `harness run` prints as it goes: one line per finished scenario on stdout (a failure
//! with its bounded excerpt, see [`crate::failure`]), and on a terminal a progress bar on stderr.

use std::io::{IsTerminal, Write};

use crate::failure;
use crate::runner::ScenarioReport;
use crate::sandbox::Network;

/// One line per finished scenario on stdout; on a terminal, a progress line on stderr too.
pub struct Progress {
    total: usize,
    /// Where the whole output of a failing client is kept.
    reports: failure::ReportPaths,
    done: std::sync::Mutex<usize>,
    tty: bool,
}

impl Progress {
    pub fn new(total: usize, reports: failure::ReportPaths) -> Self {
        Self {
            total,
            reports,
            done: std::sync::Mutex::new(0),
            tty: std::io::stderr().is_terminal(),
        }
    }

    pub fn started(&self, name: &str) {
        if self.tty {
            let done = *self.done.lock().unwrap_or_else(|p| p.into_inner());
            self.bar(done, name);
        }
    }

    fn bar(&self, done: usize, name: &str) {
        let width = 24;
        let filled = (done * width).checked_div(self.total).unwrap_or(width);
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2K[{}{}] {done}/{} {name}",
            "#".repeat(filled),
            " ".repeat(width - filled),
            self.total
        );
        let _ = err.flush();
    }

    pub fn finished(&self, report: &ScenarioReport, fragments: &[String]) {
        let mut done = self.done.lock().unwrap_or_else(|p| p.into_inner());
        *done += 1;
        if self.tty {
            eprint!("\r\x1b[2K");
        }
        let verdict = if report.passed { "PASS" } else { "FAIL" };
        let mut out = std::io::stdout().lock();
        let network = match report.network {
            Network::Proxy => "",
            Network::Sandbox => ", sandbox",
        };
        let twin = match &report.twin {
            Some(t) => format!(", twin {t}"),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "{verdict} {} [{}{twin}] ({:.2}s{network})",
            report.name, report.client, report.seconds
        );
        // A failing program's own words are what its user reads first: the line closest to
        // each missing fragment and a bounded excerpt (the reports keep the whole output).
        if !report.passed {
            let failed = failure::Failed {
                failures: &report.failures,
                unmet: &report.unmet,
                output: &report.output,
            };
            for line in failure::console(failed, fragments, &self.reports) {
                let _ = writeln!(out, "     {line}");
            }
        }
        let _ = out.flush();
        drop(out);
        if self.tty && *done < self.total {
            self.bar(*done, "");
        }
    }

    pub fn clear(&self) {
        if self.tty {
            eprint!("\r\x1b[2K");
        }
    }
}
