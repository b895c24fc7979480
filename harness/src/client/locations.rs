//! Where a scenario lives: the placeholders `{repo}` and `{venv}`, known when the file is read,
//! so that a scenario names its programs without a path relative to one checkout
//! (`{venv}/bin/python`, not `../.venv/bin/python`) and runs the same from any folder.
//!
//! - `{repo}`: the repository that holds the scenario file: the nearest folder above it (its
//!   own folder first) that holds a `.git` (a folder, or a worktree's file) or a `Cargo.toml`
//!   with a `[workspace]` table.
//! - `{venv}`: `$VIRTUAL_ENV` when it is set, else `{repo}/.venv`.
//!
//! Bare program names (no `/`) are looked up on `PATH`, then in `{venv}/bin`.

use std::path::{Path, PathBuf};

use regex::Captures;

use super::placeholders::{Found, classify, pattern};

/// The placeholders of this module.
pub const LOCATIONS: [&str; 2] = ["repo", "venv"];

/// The variable that names the virtual environment (as `activate` sets it).
pub const VIRTUAL_ENV: &str = "VIRTUAL_ENV";

/// `{repo}` and `{venv}` of one scenario file, or why each cannot be known.
#[derive(Debug, Clone)]
pub struct Locations {
    repo: Result<PathBuf, String>,
    venv: Result<PathBuf, String>,
}

impl Locations {
    /// The locations of the scenario file at `path` (made absolute against the current folder),
    /// with `virtual_env` as `$VIRTUAL_ENV`.
    pub fn of(path: &Path, virtual_env: Option<PathBuf>) -> Self {
        let file = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let folder = file.parent().unwrap_or(Path::new("/"));
        let repo = find_repo(folder).ok_or_else(|| {
            format!(
                "no folder above {} holds a `.git` or a Cargo.toml with [workspace]: keep the \
                 scenario in a repository, or give the path",
                folder.display()
            )
        });
        let venv = match virtual_env.filter(|v| !v.as_os_str().is_empty()) {
            Some(v) => Ok(v),
            None => repo
                .as_ref()
                .map(|r| r.join(".venv"))
                .map_err(|e| format!("{VIRTUAL_ENV} is unset and `{{repo}}` is unknown ({e})")),
        };
        Locations { repo, venv }
    }

    /// [`Locations::of`] with this process's `$VIRTUAL_ENV`.
    pub fn of_file(path: &Path) -> Self {
        Self::of(path, std::env::var_os(VIRTUAL_ENV).map(PathBuf::from))
    }

    /// `text` with `{repo}` and `{venv}` replaced; every other brace as it is (the run's
    /// placeholders and `{{literals}}` are expanded when the client runs).
    pub fn expand(&self, text: &str) -> Result<String, String> {
        let mut problem = None;
        let expanded = pattern().replace_all(text, |caps: &Captures<'_>| {
            let value = match classify(caps) {
                Found::Placeholder("repo") => &self.repo,
                Found::Placeholder("venv") => &self.venv,
                _ => return caps[0].to_string(),
            };
            match value {
                Ok(p) => p.display().to_string(),
                Err(e) => {
                    problem.get_or_insert_with(|| format!("`{}`: {e}", &caps[0]));
                    caps[0].to_string()
                }
            }
        });
        match problem {
            Some(p) => Err(p),
            None => Ok(expanded.into_owned()),
        }
    }

    /// `{repo}` and `{venv}`, those that are known.
    pub fn known(&self) -> Vec<PathBuf> {
        [&self.repo, &self.venv]
            .into_iter()
            .filter_map(|p| p.as_ref().ok().cloned())
            .collect()
    }

    /// `{venv}/bin`, when the virtual environment is known.
    pub fn venv_bin(&self) -> Option<PathBuf> {
        self.venv.as_ref().ok().map(|v| v.join("bin"))
    }
}

/// The nearest of `folder` and its ancestors that holds a `.git` or a workspace's Cargo.toml.
pub fn find_repo(folder: &Path) -> Option<PathBuf> {
    folder
        .ancestors()
        .find(|dir| dir.join(".git").exists() || is_workspace_manifest(&dir.join("Cargo.toml")))
        .map(Path::to_path_buf)
}

fn is_workspace_manifest(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .is_some_and(|manifest| manifest.contains_key("workspace"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_is_the_nearest_folder_with_git_or_a_workspace_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let deep = root.join("a/b/c");
        std::fs::create_dir_all(&deep).unwrap();
        assert_eq!(find_repo(&deep).filter(|r| r.starts_with(root)), None);
        std::fs::create_dir(root.join(".git")).unwrap();
        assert_eq!(find_repo(&deep).as_deref(), Some(root));
        // A member's manifest is not the workspace; the workspace's is, and it is nearer.
        std::fs::write(root.join("a/b/Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
        assert_eq!(find_repo(&deep).as_deref(), Some(root));
        std::fs::write(root.join("a/Cargo.toml"), "[workspace]\nmembers = []\n").unwrap();
        assert_eq!(find_repo(&deep).as_deref(), Some(root.join("a").as_path()));
    }

    #[test]
    fn venv_is_virtual_env_else_the_repository_s_dot_venv() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        let file = dir.path().join("scenarios/x.toml");
        let here = Locations::of(&file, None);
        assert_eq!(
            here.expand("{repo}/bin {venv}/bin/python {{venv}} {dns} ${venv}")
                .unwrap(),
            format!(
                "{0}/bin {0}/.venv/bin/python {{{{venv}}}} {{dns}} ${{venv}}",
                dir.path().display()
            )
        );
        let elsewhere = Locations::of(&file, Some("/opt/env".into()));
        assert_eq!(elsewhere.expand("{venv}/bin/x").unwrap(), "/opt/env/bin/x");
        assert_eq!(elsewhere.venv_bin(), Some(PathBuf::from("/opt/env/bin")));
    }

    #[test]
    fn an_unknown_repository_is_an_error_only_where_it_is_used() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            find_repo(dir.path()),
            None,
            "the temporary folder is in a repository"
        );
        let loose = Locations::of(&dir.path().join("x.toml"), None);
        assert_eq!(loose.expand("sh -c true").unwrap(), "sh -c true");
        let e = loose.expand("{venv}/bin/python").unwrap_err();
        assert!(e.starts_with("`{venv}`: VIRTUAL_ENV is unset"), "{e}");
        let e = loose.expand("{repo}/x").unwrap_err();
        assert!(
            e.contains("holds a `.git` or a Cargo.toml with [workspace]"),
            "{e}"
        );
    }
}
