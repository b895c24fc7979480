//! Pebble as a local child process (`PEBBLE` or `pebble` on `PATH`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

use super::{
    CONFIG_FILE, CaBackend, CaError, CaFuture, CaKind, CaOptions, OutputTail, PEBBLE_ENV,
    PEBBLE_ENVIRONMENT, PROBE_INTERVAL, PebbleRun, retry_port_races,
};

/// How long `Drop` waits for the killed child to be reaped.
const REAP_TIMEOUT: Duration = Duration::from_secs(5);

/// Pebble running as a child process. Dropping it kills and reaps the process, then removes
/// its files.
#[derive(Debug)]
pub struct PebbleProcess {
    child: Child,
    pid: u32,
    binary: PathBuf,
    output: OutputTail,
    readers: Vec<JoinHandle<()>>,
    // Declared last: the files go after the process is gone.
    run: PebbleRun,
}

impl PebbleProcess {
    /// Finds the Pebble binary: [`CaOptions::pebble_binary`], else `$PEBBLE`, else `pebble` on
    /// `PATH`. A named file must exist; nothing is run.
    pub fn locate(options: &CaOptions) -> Result<PathBuf, CaError> {
        let named = options
            .pebble_binary
            .clone()
            .map(|p| (p, "the options"))
            .or_else(|| {
                std::env::var_os(PEBBLE_ENV)
                    .filter(|v| !v.is_empty())
                    .map(|v| (PathBuf::from(v), "PEBBLE"))
            });
        if let Some((path, source)) = named {
            return if is_executable(&path) {
                Ok(path)
            } else {
                Err(CaError::BinaryNotFound {
                    reason: format!(
                        "{} (from {source}) is not an executable file",
                        path.display()
                    ),
                })
            };
        }
        let path_var = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path_var)
            .map(|dir| dir.join("pebble"))
            .find(|candidate| is_executable(candidate))
            .ok_or_else(|| CaError::BinaryNotFound {
                reason: "PEBBLE is unset and no `pebble` is on PATH".into(),
            })
    }

    /// Starts Pebble and waits until its directory and management listener answer over HTTPS.
    /// On failure (early exit, timeout) the process is stopped and the error carries its
    /// output.
    pub async fn start(options: &CaOptions) -> Result<Self, CaError> {
        let binary = Self::locate(options)?;
        retry_port_races(|| Self::start_once(&binary, options)).await
    }

    async fn start_once(binary: &Path, options: &CaOptions) -> Result<Self, CaError> {
        let started = Instant::now();
        let run = PebbleRun::prepare(None)?;
        let mut command = Command::new(binary);
        command
            .arg("-config")
            .arg(run.file(CONFIG_FILE))
            .arg("-dnsserver")
            .arg(options.dns_server.to_string())
            // Relative paths Pebble might resolve land in the run folder.
            .current_dir(run.dir.path())
            .env_remove("PEBBLE_VA_ALWAYS_VALID")
            .envs(PEBBLE_ENVIRONMENT)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // If this value is leaked or the future is cancelled mid-start, tokio still kills.
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .map_err(|e| CaError::io(format!("starting {}", binary.display()), e))?;
        let pid = child.id().unwrap_or_default();
        let output = OutputTail::default();
        let mut readers = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            readers.push(forward_lines(stdout, output.clone(), pid));
        }
        if let Some(stderr) = child.stderr.take() {
            readers.push(forward_lines(stderr, output.clone(), pid));
        }
        let mut pebble = PebbleProcess {
            child,
            pid,
            binary: binary.to_path_buf(),
            output,
            readers,
            run,
        };
        pebble.wait_ready(started, options.start_timeout).await?;
        tracing::info!(
            pid,
            directory = %pebble.run.directory_url,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "Pebble process ready"
        );
        Ok(pebble)
    }

    async fn wait_ready(&mut self, started: Instant, timeout: Duration) -> Result<(), CaError> {
        let deadline = started + timeout;
        loop {
            if let Some(status) = self
                .child
                .try_wait()
                .map_err(|e| CaError::io("checking on Pebble", e))?
            {
                // Let the readers drain what Pebble wrote before it died.
                for reader in self.readers.drain(..) {
                    let _ = tokio::time::timeout(Duration::from_secs(1), reader).await;
                }
                return Err(CaError::Exited {
                    status: status.to_string(),
                    output: self.output.text(),
                });
            }
            let last_error = match self.run.probe().await {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            if Instant::now() >= deadline {
                return Err(CaError::Timeout {
                    after: timeout,
                    last_error,
                    output: self.output.text(),
                });
            }
            tokio::time::sleep(PROBE_INTERVAL).await;
        }
    }

    /// The process id, to check from outside that it is gone after drop.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The binary that was started.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// The last 64 KiB of Pebble's stdout and stderr.
    pub fn output(&self) -> String {
        self.output.text()
    }

    async fn log_text(&self) -> String {
        self.output()
    }

    /// Stopping a process takes a signal and a reap: it is the drop.
    async fn stop_now(self: Box<Self>) {
        drop(self);
    }
}

super::impl_ca_backend!(PebbleProcess, CaKind::Process);

impl Drop for PebbleProcess {
    fn drop(&mut self) {
        // Synchronous, so nothing depends on a runtime still running: signal, then reap, so no
        // zombie remains when the value is gone.
        if let Err(e) = self.child.start_kill() {
            // Already exited (and maybe reaped): nothing to kill.
            tracing::trace!(pid = self.pid, "kill Pebble: {e}");
        }
        let deadline = Instant::now() + REAP_TIMEOUT;
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() >= deadline => {
                    tracing::warn!(pid = self.pid, "Pebble did not exit after SIGKILL");
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        for reader in &self.readers {
            reader.abort();
        }
    }
}

/// Copies lines from one of Pebble's pipes into the tail and the `pebble` trace target.
fn forward_lines(
    pipe: impl AsyncRead + Unpin + Send + 'static,
    tail: OutputTail,
    pid: u32,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut lines = BufReader::new(pipe).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            tracing::debug!(target: "pebble", pid, "{line}");
            tail.push_line(&line);
        }
    })
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}
