//! `kind = "command"`: any program (acme.sh, dehydrated, Caddy, a script, a provider
//! library's test binary), its `argv` and `env` with placeholders the harness fills
//! (`{acme_directory}`, `{ca_bundle}`, `{proxy}`, `{dns}`, ... see `external::PLACEHOLDERS`).
//! It runs in the work dir; `certificate` names the chain it writes when it issues one.

use std::path::PathBuf;

use super::external::{self, Invocation};
use super::placeholders::placeholders_in;
use super::table::{ClientTable, KeyError};
use super::types::{ClientContext, ClientRun};

/// A configured command.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CommandClient {
    /// The program (a path, or a name looked up on `PATH`) and its arguments.
    pub argv: Vec<String>,
    /// Where the program writes the issued chain (placeholders allowed), for `issued`.
    pub certificate: Option<String>,
    /// Other programs the command runs (`dehydrated`, `curl`): checked like the program itself,
    /// so that a missing one is said in one line instead of a shell's `not found`.
    pub requires: Vec<String>,
}

impl CommandClient {
    pub(crate) fn from_table(table: &ClientTable) -> Result<Self, KeyError> {
        table.only(&["argv", "env", "certificate", "requires"])?;
        let argv = table.argv.as_ref().ok_or_else(|| {
            KeyError::at(
                &table.kind,
                "client.argv: the command client needs argv = [\"program\", \"arg\", ...]",
            )
        })?;
        if argv.get_ref().first().is_none_or(|p| p.trim().is_empty()) {
            return Err(KeyError::at(argv, "client.argv: the program is missing"));
        }
        for a in argv.get_ref() {
            placeholders_in(a).map_err(|e| KeyError::at(argv, format!("client.argv: {e}")))?;
        }
        if let Some(c) = &table.certificate {
            placeholders_in(c.get_ref())
                .map_err(|e| KeyError::at(c, format!("client.certificate: {e}")))?;
        }
        table.check_env_placeholders()?;
        Ok(CommandClient {
            argv: argv.get_ref().clone(),
            certificate: table.certificate.as_ref().map(|c| c.get_ref().clone()),
            requires: table
                .requires
                .as_ref()
                .map(|r| r.get_ref().clone())
                .unwrap_or_default(),
        })
    }

    fn program_name(&self) -> &str {
        let program = self.argv.first().map_or("", String::as_str);
        program.rsplit('/').next().unwrap_or(program)
    }

    /// The program: a path with a `/` (relative to the harness's folder), else on `PATH`; and
    /// every program of `requires` is there too.
    pub(crate) fn locate(&self) -> Result<PathBuf, String> {
        let missing = |program: &str, fix: &str| {
            format!(
                "`{program}` is missing: it is not an executable file nor on PATH; install it \
                 (`ci/setup` installs what the corpus needs){fix}"
            )
        };
        for required in &self.requires {
            external::locate(Some(required), "GANDI_E2E_COMMAND", &[])
                .map_err(|_| missing(required, ""))?;
        }
        let program = self.argv.first().map_or("", String::as_str);
        external::locate(Some(program), "GANDI_E2E_COMMAND", &[])
            .map_err(|_| missing(program, " or give its path in argv"))
    }

    /// The program and each of `requires`, found (on `PATH` or as a path) or not; nothing run.
    pub(crate) fn located(&self) -> Vec<Option<PathBuf>> {
        self.argv
            .iter()
            .take(1)
            .chain(&self.requires)
            .map(|p| external::locate(Some(p), "GANDI_E2E_COMMAND", &[]).ok())
            .collect()
    }

    pub(crate) async fn run(&self, ctx: &ClientContext<'_>) -> ClientRun {
        let client = if self.requires.is_empty() {
            format!("command {}", self.program_name())
        } else {
            format!(
                "command {} with {}",
                self.program_name(),
                self.requires.join(", ")
            )
        };
        let program = match self.locate() {
            Ok(p) => p,
            Err(e) => return ClientRun::not_started(client, e),
        };
        let prepared = match external::prepare(ctx) {
            Ok(p) => p,
            Err(e) => return ClientRun::not_started(client, e),
        };
        let expand = |s: &String| prepared.placeholders.expand(s);
        let invocation = Invocation {
            program,
            args: self.argv.iter().skip(1).map(expand).collect(),
            env: ctx
                .env
                .iter()
                .map(|(k, v)| (k.clone(), expand(v)))
                .collect(),
        };
        let finished = external::run(ctx, &prepared, &invocation).await;
        let certificate = match &self.certificate {
            None => Err("the command names no `certificate`".to_string()),
            Some(path) => {
                let path = expand(path);
                std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read the certificate {path}: {e}"))
            }
        };
        // The program is the user's: every line it printed may matter.
        finished.into_client_run(client, every_line, certificate)
    }
}

fn every_line(output: &str) -> Vec<String> {
    external::lines_without(output, &[])
}
