//! The sandbox network: one scenario in a private network, mount and process namespace where
//! the Gandi host names *are* mock-gandi on 127.0.0.1:443, the system resolver *is* mock-gandi
//! on 127.0.0.1:53, and there is no route anywhere else.
//!
//! The namespaces come from util-linux's `unshare` (as an ordinary user inside a user
//! namespace that maps them to root; as root without one), which starts this same executable
//! again with [`CHILD_ENV`] set. The child brings its loopback up (`ip`), bind-mounts its own
//! `/etc/hosts` and `/etc/resolv.conf` over the real ones (its mount namespace is private), runs
//! the scenario (mock, Pebble as a process, client) and prints its report. It is process 1 of a
//! PID namespace: when it ends, is killed, or its parent dies, the kernel ends everything it
//! started.
//!
//! This module knows namespaces, not scenarios: the runner gives it bytes to pass to the
//! child and gets bytes back.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

/// Set in the child's environment: the process is the inside of a sandbox.
pub const CHILD_ENV: &str = "GANDI_E2E_SANDBOX_CHILD";

/// Where mock-gandi's DNS listens inside a sandbox: the system resolver.
pub const DNS_ADDR: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(LOOPBACK), 53);
/// Where its transparent HTTPS listener is: what the Gandi names resolve to.
pub const HTTPS_ADDR: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(LOOPBACK), 443);
const LOOPBACK: std::net::Ipv4Addr = std::net::Ipv4Addr::new(127, 0, 0, 1);

/// Which network a scenario's client runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    /// The harness's own network: the client reaches mock-gandi through its HTTPS proxy
    /// (`HTTPS_PROXY`) and is given the mock's DNS as its resolver where it takes one.
    #[default]
    Proxy,
    /// A private network namespace where Gandi's names and the system resolver are the mock.
    Sandbox,
}

impl std::fmt::Display for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Network::Proxy => "proxy",
            Network::Sandbox => "sandbox",
        })
    }
}

impl std::str::FromStr for Network {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "proxy" => Ok(Network::Proxy),
            "sandbox" => Ok(Network::Sandbox),
            other => Err(format!(
                "unknown network `{other}` (expected proxy or sandbox)"
            )),
        }
    }
}

/// Whether this process runs as root (then no user namespace is needed).
fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// The `unshare` command line that makes the namespaces and runs `program` in them.
fn unshare_args() -> Vec<&'static str> {
    let mut args = Vec::new();
    if !is_root() {
        args.push("--map-root-user");
    }
    // --mount-proc: a /proc of the new PID namespace (it implies --mount, whose propagation
    // util-linux makes private, so the bind mounts below stay inside).
    args.extend(["--net", "--pid", "--fork", "--kill-child", "--mount-proc"]);
    args
}

/// Whether a sandbox can be made here, or one line naming what stops it and the fix. Checked
/// once per run, before any scenario starts.
pub async fn check_available() -> Result<(), String> {
    let unshare = which("unshare").ok_or(
        "the sandbox needs `unshare` (util-linux): apt-get install util-linux".to_string(),
    )?;
    if which("ip").is_none() {
        return Err(
            "the sandbox needs `ip` (iproute2) to bring its loopback up: apt-get install \
             iproute2 (ci/setup does)"
                .into(),
        );
    }
    let probe = tokio::time::timeout(
        Duration::from_secs(10),
        Command::new(&unshare)
            .args(unshare_args())
            .arg("true")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .map_err(|_| "the sandbox probe (`unshare ... true`) did not answer in 10s".to_string())?
    .map_err(|e| format!("cannot run {}: {e}", unshare.display()))?;
    if probe.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&probe.stderr).trim().to_string();
    Err(format!("{}: {said}", why_not()))
}

/// The setting that forbids unprivileged user namespaces on this machine, and its fix.
fn why_not() -> String {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .ok()
            .map(|v| v.trim().to_string())
    };
    if is_root() {
        return "cannot create network, mount and PID namespaces even as root (a container \
                without CAP_SYS_ADMIN? run it with --privileged or --cap-add SYS_ADMIN)"
            .into();
    }
    if read("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
        return "unprivileged user namespaces are off (kernel.unprivileged_userns_clone=0): \
                `sudo sysctl kernel.unprivileged_userns_clone=1`, or run the harness with sudo"
            .into();
    }
    if read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref() == Some("1") {
        return "AppArmor restricts unprivileged user namespaces \
                (kernel.apparmor_restrict_unprivileged_userns=1, Ubuntu 24.04's default): \
                `sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0`, or run the \
                harness with sudo"
            .into();
    }
    if read("/proc/sys/user/max_user_namespaces").as_deref() == Some("0") {
        return "user namespaces are disabled (user.max_user_namespaces=0): \
                `sudo sysctl user.max_user_namespaces=15000`, or run the harness with sudo"
            .into();
    }
    "cannot create a user namespace here (a container's seccomp profile?); run the harness \
     with sudo, or use the proxy network"
        .into()
}

/// Runs `program` (this executable, or one that handles [`CHILD_ENV`] the same way) in a new
/// sandbox with `request` on its standard input; returns its standard output. Bounded by
/// `deadline`; whatever happens, nothing it started survives (PID namespace).
pub async fn spawn(program: &Path, request: &[u8], deadline: Duration) -> Result<Vec<u8>, String> {
    let unshare = which("unshare").ok_or("the sandbox needs `unshare` (util-linux)")?;
    let mut child = Command::new(&unshare)
        .args(unshare_args())
        .arg(program)
        .env(CHILD_ENV, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Dropping the run (Ctrl-C) kills unshare, whose death kills the child (--kill-child),
        // whose death ends the PID namespace.
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", unshare.display()))?;
    let mut stdin = child.stdin.take().ok_or("no stdin for the sandbox")?;
    let mut stdout = child.stdout.take().ok_or("no stdout from the sandbox")?;
    let mut stderr = child.stderr.take().ok_or("no stderr from the sandbox")?;
    let request = request.to_vec();
    let exchange = async move {
        let write = async {
            let _ = stdin.write_all(&request).await;
            drop(stdin);
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let ((), out_read, err_read, status) = tokio::join!(
            write,
            stdout.read_to_end(&mut out),
            stderr.read_to_end(&mut err),
            child.wait()
        );
        let _ = (out_read, err_read);
        (status, out, err)
    };
    let (status, out, err) = tokio::time::timeout(deadline, exchange)
        .await
        .map_err(|_| format!("the sandbox did not finish within {}s", deadline.as_secs()))?;
    let status = status.map_err(|e| format!("cannot wait for the sandbox: {e}"))?;
    if !status.success() || out.is_empty() {
        let err = String::from_utf8_lossy(&err);
        let tail: Vec<&str> = err.lines().rev().take(20).collect();
        return Err(format!(
            "the sandbox failed ({status}): {}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        ));
    }
    Ok(out)
}

/// Inside the sandbox, before anything runs: the loopback up, Gandi's `names` (those the mock
/// answers for in the scenario's era) and the system resolver pointed at 127.0.0.1 (files
/// written in `folder`, bind-mounted over `/etc`).
pub fn enter(folder: &Path, names: &[&str]) -> Result<(), String> {
    let ip = which("ip").ok_or("the sandbox needs `ip` (iproute2)")?;
    let up = std::process::Command::new(&ip)
        .args(["link", "set", "lo", "up"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", ip.display()))?;
    if !up.status.success() {
        return Err(format!(
            "`ip link set lo up` failed: {}",
            String::from_utf8_lossy(&up.stderr).trim()
        ));
    }
    let hosts = folder.join("hosts");
    let resolv = folder.join("resolv.conf");
    let mut hosts_text = String::from("127.0.0.1 localhost\n::1 localhost\n");
    for name in names {
        hosts_text.push_str(&format!("127.0.0.1 {name}\n"));
    }
    let write = |p: &Path, text: &str| {
        std::fs::write(p, text).map_err(|e| format!("cannot write {}: {e}", p.display()))
    };
    write(&hosts, &hosts_text)?;
    write(
        &resolv,
        "nameserver 127.0.0.1\noptions timeout:2 attempts:1\n",
    )?;
    for (file, over) in [(&hosts, "/etc/hosts"), (&resolv, "/etc/resolv.conf")] {
        rustix::mount::mount_bind(file.as_path(), over)
            .map_err(|e| format!("cannot bind-mount {} over {over}: {e}", file.display()))?;
    }
    Ok(())
}

/// A program on `PATH`, or in the `sbin` folders an ordinary user's `PATH` often lacks (`ip`).
fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_network_parses_from_the_cli_and_the_scenario_words() {
        assert_eq!("sandbox".parse::<Network>(), Ok(Network::Sandbox));
        assert_eq!("proxy".parse::<Network>(), Ok(Network::Proxy));
        assert!("host".parse::<Network>().unwrap_err().contains("host"));
        assert_eq!(Network::default(), Network::Proxy);
    }

    #[test]
    fn as_root_no_user_namespace_is_asked_for() {
        let args = unshare_args();
        assert_eq!(args.contains(&"--map-root-user"), !is_root());
        for needed in ["--net", "--pid", "--kill-child", "--mount-proc"] {
            assert!(args.contains(&needed), "{needed}");
        }
    }
}
