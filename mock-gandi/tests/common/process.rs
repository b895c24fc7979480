//! `mock-gandi serve` as a process, as a user runs it: its ready line read and parsed, and the
//! process killed when the handle drops.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

pub struct Serve {
    pub child: Child,
    /// The ready line, parsed.
    pub ready: serde_json::Value,
    /// The ready line as printed.
    pub raw: String,
}

impl Serve {
    /// The direct listener, `HOST:PORT`.
    pub fn api(&self) -> String {
        self.field("api").trim_start_matches("http://").to_string()
    }

    /// The proxy, `HOST:PORT`.
    pub fn proxy(&self) -> String {
        self.field("proxy")
            .trim_start_matches("http://")
            .to_string()
    }

    /// DNS, `HOST:PORT`.
    pub fn dns(&self) -> String {
        self.field("dns").to_string()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn field(&self, name: &str) -> &str {
        self.ready[name]
            .as_str()
            .unwrap_or_else(|| panic!("no {name} in {}", self.raw))
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `mock-gandi serve ARGS`, stderr discarded.
pub fn serve(args: &[&str]) -> Serve {
    serve_with(Command::new(env!("CARGO_BIN_EXE_mock-gandi")), args)
}

/// The same from a prepared command (environment set by the caller).
pub fn serve_with(mut command: Command, args: &[&str]) -> Serve {
    let mut child = command
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (ready, raw) = ready_line(&mut child);
    Serve { child, ready, raw }
}

/// The first line a `mock-gandi` command prints on its piped stdout when it is ready (`serve`,
/// `record`), parsed, and as printed.
pub fn ready_line(child: &mut Child) -> (serde_json::Value, String) {
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let ready = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    (ready, line)
}

/// Resident memory (KiB) and open descriptors of a process, from /proc.
pub fn rss_and_fds(pid: u32) -> (u64, usize) {
    let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap();
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count();
    (rss, fds)
}
