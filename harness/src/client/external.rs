//! What every real client program gets, and how it is run: a clean environment pointed at the
//! mock's proxy and a CA bundle, its own `HOME`, its own process group, the scenario's timeout,
//! its combined output; and the guarantee that nothing it started outlives the run.
//!
//! Nothing survives: the program runs in a new process group, and its environment carries a
//! marker ([`MARKER_ENV`]) that every descendant inherits. When the run ends, fails, times out
//! or is dropped (Ctrl-C), the group is killed and every process that still carries the marker
//! (a daemon that left the group with `setsid`, say) is killed too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;

use super::confine;
use super::placeholders::Placeholders;
use super::types::{ClientContext, ClientRun};
use crate::sandbox::Network;

/// The variable that marks every process of one client run (value: a run id).
pub const MARKER_ENV: &str = "GANDI_E2E_CLIENT_RUN";

/// The file, in the work dir, that trusts Pebble's HTTPS certificate and the proxy's CA.
const BUNDLE_FILE: &str = "ca-bundle.pem";

/// Output kept per run (the tail); a client that prints more loses its beginning.
const OUTPUT_LIMIT: usize = 1 << 20;

/// A program to run for one scenario, prepared by a client kind.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Set after the harness's own variables, so a scenario can override any of them.
    pub env: BTreeMap<String, String>,
}

/// How a program run ended.
#[derive(Debug, Clone)]
pub struct Finished {
    /// The exit code; `None` when it was killed or could not start.
    pub exit_code: Option<i32>,
    /// `Ok` for exit 0; else why not, in one line.
    pub result: Result<(), String>,
    /// stdout and stderr through one pipe, in the order written, at most the last
    /// [`OUTPUT_LIMIT`] bytes.
    pub output: String,
}

impl Finished {
    /// The run as the client kinds report it; `error_lines` picks the lines that matter out of
    /// the output (each kind knows its own noise).
    pub fn into_client_run(
        self,
        client: String,
        error_lines: impl Fn(&str) -> Vec<String>,
        certificate: Result<String, String>,
    ) -> ClientRun {
        ClientRun {
            client,
            ended: Some(match (self.exit_code, &self.result) {
                (Some(code), _) => format!("exit {code}"),
                (None, Err(why)) => why.clone(),
                (None, Ok(())) => "exit 0".into(),
            }),
            error_lines: error_lines(&self.output),
            result: self.result,
            output: self.output,
            certificate,
        }
    }
}

/// The work dir of one client run: the CA bundle, `HOME`, `TMPDIR`.
#[derive(Debug)]
pub struct Prepared {
    pub bundle: PathBuf,
    pub home: PathBuf,
    pub placeholders: Placeholders,
}

/// Writes the CA bundle (Pebble's HTTPS CA, then the proxy's CA) and makes `home` and `tmp` in
/// the work dir.
pub fn prepare(ctx: &ClientContext<'_>) -> Result<Prepared, String> {
    let bundle = ctx.workdir.join(BUNDLE_FILE);
    let read = |p: &Path| {
        std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
    };
    let mut pem = read(ctx.acme_ca)?;
    if !pem.ends_with('\n') {
        pem.push('\n');
    }
    pem.push_str(&read(ctx.mock_ca)?);
    std::fs::write(&bundle, pem).map_err(|e| format!("cannot write {}: {e}", bundle.display()))?;
    let home = ctx.workdir.join("home");
    for dir in [home.clone(), ctx.workdir.join("tmp")] {
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let placeholders = Placeholders::new(ctx, &bundle);
    Ok(Prepared {
        bundle,
        home,
        placeholders,
    })
}

/// The environment every program starts from: nothing of the harness's own but `PATH`, then the
/// CA bundle under every name clients read, its own `HOME` and `TMPDIR`, the run marker, and
/// the proxy (in the proxy network). A token in the caller's shell never reaches a scenario's client.
fn base_env(ctx: &ClientContext<'_>, prepared: &Prepared, marker: &str) -> Vec<(String, String)> {
    let bundle = prepared.bundle.display().to_string();
    let mut env = vec![
        ("LANG".into(), "C.UTF-8".into()),
        ("TZ".into(), "UTC".into()),
        // Python writes as it goes: its prints and errors reach the one pipe in order.
        ("PYTHONUNBUFFERED".into(), "1".into()),
        ("HOME".into(), prepared.home.display().to_string()),
        (
            "TMPDIR".into(),
            ctx.workdir.join("tmp").display().to_string(),
        ),
        ("SSL_CERT_FILE".into(), bundle.clone()),
        ("REQUESTS_CA_BUNDLE".into(), bundle.clone()),
        ("CURL_CA_BUNDLE".into(), bundle),
        (MARKER_ENV.into(), marker.into()),
    ];
    // In a sandbox Gandi's names are the mock already: no proxy.
    if ctx.network == Network::Proxy {
        env.extend([
            ("HTTPS_PROXY".into(), ctx.mock_proxy.to_string()),
            ("https_proxy".into(), ctx.mock_proxy.to_string()),
            ("NO_PROXY".into(), "127.0.0.1,localhost".into()),
            ("no_proxy".into(), "127.0.0.1,localhost".into()),
        ]);
    }
    if let Some(path) = std::env::var_os("PATH") {
        env.push(("PATH".into(), path.to_string_lossy().into_owned()));
    }
    env
}

fn new_marker() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs `invocation` in the work dir with the scenario's timeout. Whatever happens, when this
/// returns (or the future is dropped) no process of the run is left.
pub async fn run(
    ctx: &ClientContext<'_>,
    prepared: &Prepared,
    invocation: &Invocation,
) -> Finished {
    let marker = new_marker();
    let confinement = confine::active();
    let (program, args) = match confinement {
        Some(c) => c.wrap(
            &invocation.program,
            &invocation.args,
            Some(ctx.workdir),
            &[ctx.acme_ca, ctx.mock_ca],
        ),
        None => (invocation.program.clone(), invocation.args.clone()),
    };
    let mut command = Command::new(&program);
    command
        .args(&args)
        .env_clear()
        .envs(base_env(ctx, prepared, &marker))
        .envs(&invocation.env)
        .current_dir(ctx.workdir)
        .stdin(Stdio::null())
        .process_group(0)
        .kill_on_drop(true);
    // One pipe for stdout and stderr (the shell's `2>&1`): the lines come in the order the
    // program wrote them, not in the order two pipes happened to be read.
    let reader = match one_pipe_for_both(&mut command) {
        Ok(reader) => reader,
        Err(e) => {
            return Finished {
                exit_code: None,
                result: Err(format!("cannot make a pipe for the program's output: {e}")),
                output: String::new(),
            };
        }
    };
    let spawned = command.spawn();
    // The parent's copies of the pipe's writing end go with the command: the reader sees the
    // end of the output when the program's copies close.
    drop(command);
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            return Finished {
                exit_code: None,
                result: Err(format!(
                    "cannot start {}: {e}",
                    invocation.program.display()
                )),
                output: String::new(),
            };
        }
    };
    // From here on, dropping the guard kills everything the run started.
    let _guard = RunGuard {
        group: child.id(),
        marker,
    };
    let output = Output::default();
    let reader = output.collect(reader);
    let (exit_code, result) = match tokio::time::timeout(ctx.timeout, child.wait()).await {
        Ok(Ok(status)) => match status.code() {
            Some(0) => (Some(0), Ok(())),
            Some(code) => (Some(code), Err(format!("exit status {code}"))),
            None => (None, Err(format!("ended by a signal ({status})"))),
        },
        Ok(Err(e)) => (None, Err(format!("cannot wait for the program: {e}"))),
        Err(_) => (
            None,
            Err(format!(
                "did not finish within {}s: killed with every process it started",
                ctx.timeout.as_secs()
            )),
        ),
    };
    // Descendants may hold the pipes open: kill them first, then the readers see the end.
    drop(_guard);
    let _ = tokio::time::timeout(Duration::from_secs(5), reader).await;
    let output = output.text();
    // A failure the confinement caused says so.
    let result = match (result, confinement) {
        (Err(why), Some(c)) => Err(format!("{why}; {}", c.explain(&output, ctx.workdir))),
        (result, _) => result,
    };
    Finished {
        exit_code,
        result,
        output,
    }
}

/// Points the command's stdout and stderr at the writing end of one new pipe and returns its
/// reading end, non-blocking for the runtime.
fn one_pipe_for_both(command: &mut Command) -> std::io::Result<tokio::net::unix::pipe::Receiver> {
    let (reader, writer) = std::io::pipe()?;
    command.stdout(writer.try_clone()?).stderr(writer);
    tokio::net::unix::pipe::Receiver::from_owned_fd(reader.into())
}

/// Kills the process group and every process carrying the run's marker when dropped.
struct RunGuard {
    group: Option<u32>,
    marker: String,
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        if let Some(pid) = self
            .group
            .and_then(|g| i32::try_from(g).ok())
            .and_then(rustix::process::Pid::from_raw)
        {
            // ESRCH (nothing left in the group) is the usual case after a clean exit.
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
        kill_marked(&self.marker);
    }
}

/// Kills every process whose environment carries `MARKER_ENV=marker`, until none is left
/// (a process may fork while it is being looked for). Returns how many were killed.
pub fn kill_marked(marker: &str) -> usize {
    let needle = format!("{MARKER_ENV}={marker}");
    let mut killed = 0;
    for _ in 0..20 {
        let found = marked_processes(&needle);
        if found.is_empty() {
            break;
        }
        for pid in found {
            if let Some(pid) = rustix::process::Pid::from_raw(pid)
                && rustix::process::kill_process(pid, rustix::process::Signal::KILL).is_ok()
            {
                killed += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    killed
}

/// The live processes whose environment holds `needle` (`NAME=value`). Zombies have an empty
/// environment and are not counted; the ones that are not ours are reaped by their parent.
fn marked_processes(needle: &str) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let me = std::process::id() as i32;
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| *pid != me)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|environ| environ.split(|b| *b == 0).any(|kv| kv == needle.as_bytes()))
        })
        .collect()
}

/// The processes of a run still alive, for tests: `marker` is the value of [`MARKER_ENV`].
pub fn marked_alive(marker: &str) -> Vec<i32> {
    marked_processes(&format!("{MARKER_ENV}={marker}"))
}

/// stdout and stderr of one run, line by line in the order the program wrote them.
#[derive(Debug, Default, Clone)]
struct Output(Arc<Mutex<String>>);

impl Output {
    fn collect(
        &self,
        pipe: impl AsyncRead + Unpin + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let text = self.0.clone();
        tokio::spawn(async move {
            // Bytes, not `lines()`: a line that is not UTF-8 must not stop the reading (the
            // program would block on a full pipe).
            let mut reader = BufReader::new(pipe);
            let mut line = Vec::new();
            while reader
                .read_until(b'\n', &mut line)
                .await
                .is_ok_and(|n| n > 0)
            {
                let mut text = text.lock().unwrap_or_else(|p| p.into_inner());
                text.push_str(String::from_utf8_lossy(&line).trim_end_matches(['\n', '\r']));
                text.push('\n');
                if text.len() > OUTPUT_LIMIT {
                    let mut cut = text.len() - OUTPUT_LIMIT;
                    while !text.is_char_boundary(cut) {
                        cut += 1;
                    }
                    text.drain(..cut);
                }
                line.clear();
            }
        })
    }

    fn text(&self) -> String {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// The non-empty lines of `output` that contain none of `noise`: what is left of a client's
/// output once its progress and banners are gone.
pub fn lines_without(output: &str, noise: &[&str]) -> Vec<String> {
    output
        .lines()
        .filter(|l| !l.trim().is_empty() && !noise.iter().any(|n| l.contains(n)))
        .map(str::to_string)
        .collect()
}

/// Finds a program: `explicit` (a path, or a bare name looked up on `PATH`), else the variable
/// `env_var`, else each of `fallbacks` (same rules). `Err` says what was tried.
pub fn locate(
    explicit: Option<&str>,
    env_var: &str,
    fallbacks: &[&str],
) -> Result<PathBuf, String> {
    if let Some(named) = explicit {
        return resolve(named).ok_or_else(|| {
            format!("`{named}` (from the scenario or the command line) is not an executable file")
        });
    }
    if let Some(named) = std::env::var_os(env_var).filter(|v| !v.is_empty()) {
        let named = named.to_string_lossy().into_owned();
        return resolve(&named)
            .ok_or_else(|| format!("`{named}` (from {env_var}) is not an executable file"));
    }
    fallbacks
        .iter()
        .find_map(|f| resolve(f))
        .ok_or_else(|| format!("{env_var} is unset and none of {fallbacks:?} is found"))
}

/// A path with a `/` is taken relative to the harness's folder (and made absolute: programs
/// run in their work dir); a bare name is looked up on `PATH`.
fn resolve(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        let path = std::path::absolute(name).ok()?;
        return is_executable(&path).then_some(path);
    }
    let path_var = std::env::var_os("PATH")?;
    std::env::split_paths(&path_var)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

/// `venv_bin/name`, when `name` is on no folder of `PATH` and is an executable there.
pub(crate) fn in_venv(name: &str, venv_bin: &Path) -> Option<PathBuf> {
    if name.is_empty() || resolve(name).is_some() {
        return None;
    }
    let candidate = venv_bin.join(name);
    is_executable(&candidate).then_some(candidate)
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// What probing programs found (a version, a plugin), kept for the life of the process: a suite
/// asks once per binary, not once per scenario.
#[derive(Debug)]
pub struct ProbeCache<K, V>(std::sync::OnceLock<Mutex<std::collections::HashMap<K, V>>>);

impl<K: std::hash::Hash + Eq, V: Clone> Default for ProbeCache<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: std::hash::Hash + Eq, V: Clone> ProbeCache<K, V> {
    pub const fn new() -> Self {
        Self(std::sync::OnceLock::new())
    }

    /// The value for `key`, from `probe` the first time. The lock is not held while probing
    /// (two scenarios may probe at once; both find the same).
    pub async fn get_or_probe(&self, key: K, probe: impl Future<Output = V>) -> V {
        let map = self.0.get_or_init(Default::default);
        if let Some(v) = map.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return v.clone();
        }
        let value = probe.await;
        map.lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, value.clone());
        value
    }
}

/// Runs `program args` (no proxy, no scenario) and returns its stdout, for version probes;
/// confined as the clients are, when they are.
pub async fn probe_output(program: &Path, args: &[&str]) -> Result<String, String> {
    let asked: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    // `_scratch` lives until the probe is done, then is removed.
    let (mut command, _scratch) = match confine::active() {
        // Confined, a probe gets a scratch folder as its work folder, `HOME` and `TMPDIR`
        // (certbot makes a log folder before it reads `--version`).
        Some(c) => {
            let scratch = tempfile::Builder::new()
                .prefix("gandi-e2e-probe-")
                .tempdir()
                .map_err(|e| format!("cannot make a folder for a probe: {e}"))?;
            let (bwrap, args) = c.wrap(program, &asked, Some(scratch.path()), &[]);
            let mut command = Command::new(bwrap);
            command
                .args(args)
                .env("HOME", scratch.path())
                .env("TMPDIR", scratch.path());
            (command, Some(scratch))
        }
        None => {
            let mut command = Command::new(program);
            command.args(&asked);
            (command, None)
        }
    };
    let run = tokio::time::timeout(
        Duration::from_secs(20),
        command.stdin(Stdio::null()).kill_on_drop(true).output(),
    )
    .await
    .map_err(|_| {
        format!(
            "`{} {}` did not answer within 20s",
            program.display(),
            asked.join(" ")
        )
    })?
    .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    let mut text = String::from_utf8_lossy(&run.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&run.stderr));
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_name_is_looked_up_on_path_and_a_missing_one_says_what_was_tried() {
        assert!(resolve("sh").is_some());
        let e = locate(None, "GANDI_E2E_TEST_UNSET_VAR", &["no-such-program-x"]).unwrap_err();
        assert!(e.contains("GANDI_E2E_TEST_UNSET_VAR is unset"), "{e}");
        let e = locate(Some("/nonexistent/lego"), "X", &[]).unwrap_err();
        assert!(e.contains("/nonexistent/lego"), "{e}");
    }
}
