//! `harness run --untrusted`: every program a scenario names (the client, and the probes that
//! ask it its version) runs under bubblewrap (`bwrap`), inside the scenario's sandbox network:
//!
//! - the whole filesystem read-only (`--ro-bind / /`), its own work folder the one place it
//!   can write;
//! - no home, no sockets, no scratch space: empty read-only folders over `/home`, `/root`, the
//!   caller's `$HOME`, `/run` (the Docker socket, D-Bus, a user's runtime folder), `/tmp` and
//!   `/var/tmp` (other runs' work folders); what a scenario legitimately reads from under them
//!   (its own folder, `{repo}`, `{venv}`, the program, the CA files) is put back read-only;
//! - its own user namespace with no capability (as root too: a remount cannot undo the above),
//!   its own PID, IPC and UTS namespaces, a fresh `/dev` and `/proc`, a new session (no
//!   terminal to type into), and it dies with the harness.
//!
//! The network is the sandbox's (see [`crate::sandbox`]): Gandi's names and the system resolver
//! are the mock, and nothing else is reachable.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Folders hidden behind an empty, read-only folder.
const HIDDEN: [&str; 5] = ["/home", "/root", "/run", "/tmp", "/var/tmp"];

/// How every program of this process is confined, once [`confine_every_program`] was called.
static ACTIVE: OnceLock<Confinement> = OnceLock::new();

/// The confinement of one scenario's programs.
#[derive(Debug, Clone)]
pub struct Confinement {
    bwrap: PathBuf,
    /// Folders hidden: [`HIDDEN`] and the caller's home.
    hidden: Vec<PathBuf>,
    /// Paths under a hidden folder that the scenario reads: put back read-only.
    visible: Vec<PathBuf>,
}

impl Confinement {
    /// A confinement that hides [`HIDDEN`] and `home` and lets the programs read the
    /// `folders` (the scenario's, `{repo}`, `{venv}`) and the `programs` it names with their
    /// installations (a program in `~/.pyenv/shims` needs `~/.pyenv`, one in `~/go/bin`
    /// `~/go`). `Err` when there is no `bwrap`.
    pub fn new(
        home: Option<&Path>,
        folders: &[PathBuf],
        programs: &[PathBuf],
    ) -> Result<Self, String> {
        let bwrap = find_bwrap()?;
        let mut hidden: Vec<PathBuf> = HIDDEN.iter().map(PathBuf::from).collect();
        // Where /var/run is a folder of its own, not the usual link to /run.
        if Path::new("/var/run")
            .symlink_metadata()
            .is_ok_and(|m| m.is_dir())
        {
            hidden.push("/var/run".into());
        }
        if let Some(home) = home.filter(|h| h.is_absolute() && *h != Path::new("/"))
            && !hidden.iter().any(|h| home.starts_with(h))
        {
            hidden.push(home.to_path_buf());
        }
        let mut confinement = Confinement {
            bwrap,
            hidden,
            visible: Vec::new(),
        };
        let mut visible = folders.to_vec();
        visible.extend(programs.iter().map(|p| confinement.installation(p)));
        confinement.visible = confinement.under_hidden(&visible);
        Ok(confinement)
    }

    /// The folder a program under a hidden folder is installed in: the first folder below the
    /// hidden one (below the user's own in `/home`); the program itself when it lies directly
    /// there; elsewhere the program (nothing hides it).
    fn installation(&self, program: &Path) -> PathBuf {
        let Some(hidden) = self
            .hidden
            .iter()
            .filter(|h| program.starts_with(h))
            .max_by_key(|h| h.as_os_str().len())
        else {
            return program.to_path_buf();
        };
        let skip = if hidden == Path::new("/home") { 2 } else { 1 };
        let below: Vec<_> = program
            .strip_prefix(hidden)
            .map(|rest| rest.components().collect())
            .unwrap_or_default();
        if below.len() <= skip {
            return program.to_path_buf();
        }
        below[..skip]
            .iter()
            .fold(hidden.clone(), |path, part| path.join(part))
    }

    /// The existing paths of `paths` that a hidden folder would hide, without the ones inside
    /// another of them. A hidden folder itself is never put back whole (a scenario file lying
    /// directly in `/tmp` does not open every other run's work folder).
    fn under_hidden(&self, paths: &[PathBuf]) -> Vec<PathBuf> {
        let mut found: Vec<PathBuf> = paths
            .iter()
            .filter(|p| p.is_absolute() && p.exists())
            .filter(|p| self.hidden.iter().any(|h| p.starts_with(h) && *p != h))
            .cloned()
            .collect();
        found.sort();
        found.dedup();
        let all = found.clone();
        found.retain(|p| !all.iter().any(|other| other != p && p.starts_with(other)));
        found
    }

    /// `program args` as bubblewrap runs it: `writable` (the work folder) the one folder it may
    /// write, `readable` (files of this run under a hidden folder: the CA files) put back
    /// read-only. Returns bwrap and its arguments.
    pub fn wrap(
        &self,
        program: &Path,
        args: &[String],
        writable: Option<&Path>,
        readable: &[&Path],
    ) -> (PathBuf, Vec<String>) {
        let s = |p: &Path| p.display().to_string();
        let mut a: Vec<String> = [
            "--unshare-user",
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--die-with-parent",
            "--new-session",
            "--cap-drop",
            "ALL",
            "--ro-bind",
            "/",
            "/",
            "--dev",
            "/dev",
            "--proc",
            "/proc",
        ]
        .map(String::from)
        .to_vec();
        for hidden in self.hidden.iter().filter(|h| h.is_dir()) {
            a.extend(["--tmpfs".into(), s(hidden)]);
        }
        let mut shown: Vec<PathBuf> = self.visible.clone();
        shown.extend(
            self.under_hidden(
                &std::iter::once(program)
                    .chain(readable.iter().copied())
                    .map(Path::to_path_buf)
                    .collect::<Vec<_>>(),
            ),
        );
        for path in &shown {
            a.extend(["--ro-bind".into(), s(path), s(path)]);
        }
        if let Some(dir) = writable {
            a.extend(["--bind".into(), s(dir), s(dir), "--chdir".into(), s(dir)]);
        }
        // Last: the empty folders become read-only once everything was mounted into them.
        for hidden in self.hidden.iter().filter(|h| h.is_dir()) {
            a.extend(["--remount-ro".into(), s(hidden)]);
        }
        a.push("--".into());
        a.push(s(program));
        a.extend(args.iter().cloned());
        (self.bwrap.clone(), a)
    }

    /// What the confinement forbade a failed program, for its error: what `output` (what it
    /// printed) shows it ran into, else what it could not reach.
    pub fn explain(&self, output: &str, workdir: &Path) -> String {
        let mut said = Vec::new();
        if output.contains("Read-only file system") {
            said.push(format!(
                "under --untrusted the filesystem is read-only except the work folder ({}): \
                 the program tried to write elsewhere",
                workdir.display()
            ));
        }
        if output.contains("docker.sock") {
            said.push(
                "under --untrusted there is no Docker socket (/run is an empty folder): the \
                 program looked for it"
                    .into(),
            );
        }
        let hidden = output.lines().find_map(|line| {
            let denied = ["No such file", "not found", "cannot", "Permission denied"]
                .iter()
                .any(|w| line.contains(w));
            // The longest hidden folder the line names as a path of its own (`/home` is not
            // named by `/srv/x/home/y`).
            let named = self
                .hidden
                .iter()
                .filter(|h| names_path(line, &h.display().to_string()))
                .max_by_key(|h| h.as_os_str().len())?;
            let other = line.contains("docker.sock") || line.contains("Read-only file system");
            (denied && !other).then_some(named)
        });
        if let Some(hidden) = hidden {
            said.push(format!(
                "under --untrusted {} is an empty folder (no home, no sockets, no other run's \
                 files): the program looked for something there",
                hidden.display()
            ));
        }
        if said.is_empty() {
            // Nothing in the output points at it (a socket that is not there is often said as
            // "cannot connect"): what the program could not reach, in one line.
            said.push(format!(
                "it ran under --untrusted: the filesystem read-only but for its work folder, \
                 {} empty (no home, no Docker socket)",
                self.hidden
                    .iter()
                    .map(|h| h.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        said.join("; ")
    }
}

/// Whether `line` names `folder` or a path in it: `folder` not inside a longer path, followed
/// by `/`, `:`, a quote, a space or the end.
fn names_path(line: &str, folder: &str) -> bool {
    let inside_path = |c: char| c.is_alphanumeric() || "/.-_~".contains(c);
    line.match_indices(folder).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + folder.len()..].chars().next();
        !before.is_some_and(inside_path) && after.is_none_or(|c| "/:'\"` ".contains(c))
    })
}

/// Every program this process starts from now on runs under `confinement`. Called once, by
/// the inside of an untrusted scenario's sandbox, before anything runs.
pub fn confine_every_program(confinement: Confinement) -> Result<(), String> {
    ACTIVE
        .set(confinement)
        .map_err(|_| "the programs of this process are confined already".to_string())
}

/// The confinement of this process's programs, if any.
pub fn active() -> Option<&'static Confinement> {
    ACTIVE.get()
}

fn find_bwrap() -> Result<PathBuf, String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("bwrap"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            "--untrusted runs every client under bubblewrap, and `bwrap` is not on PATH: \
             apt-get install bubblewrap (ci/setup does)"
                .to_string()
        })
}

/// Whether programs can be confined here: `bwrap` is there and can make its namespaces (inside
/// a sandbox, where they will be made). `Err` is one line with the fix.
pub async fn check_available() -> Result<(), String> {
    let confinement = Confinement::new(None, &[], &[])?;
    let (program, args) = confinement.wrap(Path::new("/bin/true"), &[], None, &[]);
    let probe = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tokio::process::Command::new(&program)
            .args(&args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .map_err(|_| "the bubblewrap probe (`bwrap ... true`) did not answer in 10s".to_string())?
    .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    if probe.status.success() {
        return Ok(());
    }
    Err(format!(
        "bubblewrap cannot confine a program here ({}); it needs user namespaces, as the \
         sandbox does",
        String::from_utf8_lossy(&probe.stderr).trim()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn confinement(home: Option<&str>, visible: &[&str]) -> Confinement {
        let mut c = Confinement {
            bwrap: "/usr/bin/bwrap".into(),
            hidden: HIDDEN.iter().map(PathBuf::from).collect(),
            visible: Vec::new(),
        };
        if let Some(h) = home {
            c.hidden.push(h.into());
        }
        c.visible = visible.iter().map(PathBuf::from).collect();
        c
    }

    #[test]
    fn the_work_folder_is_writable_after_the_masks_and_the_masks_end_read_only() {
        let c = confinement(None, &["/root/project"]);
        let (_, args) = c.wrap(
            Path::new("/bin/sh"),
            &["-c".into()],
            Some(Path::new("/tmp/w")),
            &[],
        );
        let at = |needle: &[&str]| {
            args.windows(needle.len())
                .position(|w| w == needle)
                .unwrap_or_else(|| panic!("{needle:?} in {args:?}"))
        };
        let root = at(&["--ro-bind", "/", "/"]);
        let mask_tmp = at(&["--tmpfs", "/tmp"]);
        let back = at(&["--ro-bind", "/root/project", "/root/project"]);
        let work = at(&["--bind", "/tmp/w", "/tmp/w"]);
        let ro_tmp = at(&["--remount-ro", "/tmp"]);
        assert!(root < mask_tmp && mask_tmp < back && back < work && work < ro_tmp);
        let end = at(&["--", "/bin/sh", "-c"]);
        assert_eq!(end + 3, args.len());
        for needed in [
            "--unshare-user",
            "--cap-drop",
            "--die-with-parent",
            "--new-session",
        ] {
            assert!(args.iter().any(|a| a == needed), "{needed}");
        }
    }

    #[test]
    fn a_program_under_a_hidden_folder_brings_its_installation() {
        let c = confinement(Some("/srv/me"), &[]);
        let at = |p: &str| c.installation(Path::new(p));
        assert_eq!(at("/root/.pyenv/shims/python3"), Path::new("/root/.pyenv"));
        assert_eq!(at("/home/me/go/bin/lego"), Path::new("/home/me/go"));
        assert_eq!(
            at("/srv/me/.local/bin/certbot"),
            Path::new("/srv/me/.local")
        );
        assert_eq!(at("/root/lego"), Path::new("/root/lego"));
        assert_eq!(at("/home/me/lego"), Path::new("/home/me/lego"));
        assert_eq!(at("/usr/bin/lego"), Path::new("/usr/bin/lego"));
    }

    #[test]
    fn only_paths_under_a_hidden_folder_are_put_back_and_a_folder_covers_what_is_in_it() {
        let c = confinement(None, &[]);
        let found = c.under_hidden(&[
            "/tmp".into(),
            "/tmp/x".into(),
            "/usr/bin".into(),
            "relative".into(),
        ]);
        assert!(found.is_empty(), "{found:?}");
        // A folder of its own in /tmp is put back, and covers what is in it.
        let dir = tempfile::tempdir_in("/tmp").unwrap();
        let inside = dir.path().join("x");
        std::fs::create_dir(&inside).unwrap();
        let found = c.under_hidden(&[dir.path().to_path_buf(), inside]);
        assert_eq!(found, vec![dir.path().to_path_buf()]);
    }

    #[test]
    fn a_failure_is_explained_when_the_output_points_at_the_confinement() {
        let c = confinement(Some("/srv/me"), &[]);
        let w = Path::new("/tmp/w");
        let said = c.explain("sh: 1: cannot create /work/x: Read-only file system", w);
        assert!(
            said.contains("read-only except the work folder (/tmp/w)"),
            "{said}"
        );
        let said = c.explain("cat: /srv/me/.ssh/id_ed25519: No such file or directory", w);
        assert!(said.contains("/srv/me is an empty folder"), "{said}");
        let said = c.explain(
            "curl: (7) Couldn't connect to server /var/run/docker.sock",
            w,
        );
        assert!(said.contains("no Docker socket"), "{said}");
        let said = c.explain("Error: 403 Forbidden", w);
        assert!(said.contains("it ran under --untrusted"), "{said}");
        assert!(
            said.contains("/home, /root, /run, /tmp, /var/tmp, /srv/me empty"),
            "{said}"
        );
        // A path that merely contains a hidden folder's name is not in it.
        let said = c.explain("cat: /srv/me/x/home/k: No such file or directory", w);
        assert!(said.contains("/srv/me is an empty folder"), "{said}");
        let said = c.explain("cat: /work/home/k: No such file or directory", w);
        assert!(said.contains("it ran under --untrusted"), "{said}");
    }
}
