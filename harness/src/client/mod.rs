//! ACME clients behind one interface. Each kind is its own module:
//! - `builtin`: instant-acme with Rust copies of lego's Gandi providers, in process;
//! - `lego`, `certbot`, `command`: unmodified programs, run by `external` with the mock's proxy
//!   and a CA bundle, in their own process group, bounded by the scenario's timeout.
//!
//! Below them: `types` (what a client is pointed at and what it produced), `table` (the
//! `[client]` table of a scenario file) and `placeholders`. A scenario's `[client]` table is read
//! here into a [`ClientKind`]; the runner only calls
//! [`ClientKind::run`] and never knows a client's flags.

pub mod builtin;
mod certbot;
mod command;
pub mod confine;
pub mod external;
mod gandi_v4;
mod gandi_v5;
mod http;
mod lego;
mod lego_env;
pub mod listing;
mod locations;
mod placeholders;
mod table;
mod types;
mod zone;

use std::path::{Path, PathBuf};

pub use certbot::Certbot;
pub use command::CommandClient;
pub use lego::{FLAVOURS, Lego, LegoFlavour, lego_flavour};
pub use locations::{LOCATIONS, Locations, find_repo};
pub use placeholders::PLACEHOLDERS;
pub use table::{ClientTable, KeyError};
pub use types::{ClientContext, ClientRun, ProviderName};
pub use zone::txt_values;

/// The program kinds whose build a user can swap from the command line (`--lego`, `--certbot`).
#[derive(Debug, Clone, Default)]
pub struct ProgramOverrides {
    pub lego: Option<PathBuf>,
    pub certbot: Option<PathBuf>,
}

/// Which client runs the issuance, configured.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ClientKind {
    /// instant-acme with Rust copies of lego's providers.
    Builtin { provider: ProviderName },
    /// A lego binary.
    Lego(Lego),
    /// certbot with a DNS plugin.
    Certbot(Certbot),
    /// Any program.
    Command(CommandClient),
}

/// The names of the kinds, as scenario files and `--client` write them.
pub const KIND_NAMES: [&str; 4] = ["builtin", "lego", "certbot", "command"];

impl ClientKind {
    /// Reads a `[client]` table.
    pub fn from_table(table: &ClientTable) -> Result<Self, KeyError> {
        match table.kind.get_ref().as_str() {
            "builtin" => {
                table.only(&["provider", "env"])?;
                let provider = table.provider.as_ref().ok_or_else(|| {
                    KeyError::at(
                        &table.kind,
                        "client.provider: the builtin client needs a provider (gandi or gandiv5)",
                    )
                })?;
                Ok(ClientKind::Builtin {
                    provider: *provider.get_ref(),
                })
            }
            "lego" => Lego::from_table(table).map(ClientKind::Lego),
            "certbot" => Certbot::from_table(table).map(ClientKind::Certbot),
            "command" => CommandClient::from_table(table).map(ClientKind::Command),
            other => Err(KeyError::at(
                &table.kind,
                format!(
                    "client.kind: unknown client `{other}` (expected {})",
                    KIND_NAMES.join(", ")
                ),
            )),
        }
    }

    /// `builtin`, `lego`, `certbot` or `command`.
    pub fn name(&self) -> &'static str {
        match self {
            ClientKind::Builtin { .. } => "builtin",
            ClientKind::Lego(_) => "lego",
            ClientKind::Certbot(_) => "certbot",
            ClientKind::Command(_) => "command",
        }
    }

    /// Whether a run can end with a certificate to check (`outcome = "issued"`).
    pub fn can_issue(&self) -> bool {
        match self {
            ClientKind::Command(c) => c.certificate.is_some(),
            _ => true,
        }
    }

    /// Whether `outcome = "success"` (exit 0, no certificate checked) fits this kind: only
    /// programs that may do something else than issue.
    pub fn can_merely_succeed(&self) -> bool {
        matches!(self, ClientKind::Command(_))
    }

    /// Uses the builds named on the command line for the kinds they are for.
    pub fn apply_overrides(&mut self, overrides: &ProgramOverrides) {
        match self {
            ClientKind::Lego(l) => {
                if let Some(p) = &overrides.lego {
                    l.binary = Some(p.display().to_string());
                }
            }
            ClientKind::Certbot(c) => {
                if let Some(p) = &overrides.certbot {
                    c.binary = Some(p.display().to_string());
                }
            }
            ClientKind::Builtin { .. } | ClientKind::Command(_) => {}
        }
    }

    /// Makes the relative program paths of the scenario (`binary`, a command's program and
    /// `requires`) relative to `folder`, the scenario file's: a scenario runs the same from
    /// whatever folder `harness` is started in. A bare name (no `/`) stays a name on `PATH`,
    /// or, when `PATH` has no such program, becomes the one in `venv_bin` if that is there.
    pub fn resolve_paths(&mut self, folder: &std::path::Path, venv_bin: Option<&std::path::Path>) {
        let resolve = |p: &mut String| {
            if p.contains('/') {
                if !p.starts_with('/') {
                    // `components` drops the `.` of `./tool`.
                    let joined: PathBuf = folder.join(&*p).components().collect();
                    *p = joined.display().to_string();
                }
            } else if let Some(in_venv) = venv_bin.and_then(|bin| external::in_venv(p, bin)) {
                *p = in_venv.display().to_string();
            }
        };
        match self {
            ClientKind::Lego(l) => l.binary.iter_mut().for_each(resolve),
            ClientKind::Certbot(c) => c.binary.iter_mut().for_each(resolve),
            ClientKind::Command(c) => {
                c.argv.iter_mut().take(1).for_each(resolve);
                c.requires.iter_mut().for_each(resolve);
            }
            ClientKind::Builtin { .. } => {}
        }
    }

    /// Whether the program this client needs is here, found but not started (`harness check`
    /// runs nothing a file names). `Err` is one line naming the program and how to get it.
    pub fn find_program(&self) -> Result<(), String> {
        match self {
            ClientKind::Builtin { .. } => Ok(()),
            ClientKind::Lego(l) => l.locate().map(|_| ()),
            ClientKind::Certbot(c) => c.locate().map(|_| ()),
            ClientKind::Command(c) => c.locate().map(|_| ()),
        }
    }

    /// Whether the program this client needs is here, without running the scenario (certbot's
    /// Python is asked for the plugin). `Err` is one line naming the program and how to get it.
    pub async fn check_program(&self) -> Result<(), String> {
        match self {
            ClientKind::Builtin { .. } => Ok(()),
            ClientKind::Lego(l) => l.locate().map(|_| ()),
            ClientKind::Certbot(c) => c.check().await,
            ClientKind::Command(c) => c.locate().map(|_| ()),
        }
    }

    /// The files this client would run, found but not started (a missing one is left out):
    /// the program, a command's `requires`, and the interpreter of a script's `#!` line, each
    /// also as the file it links to.
    pub fn program_paths(&self) -> Vec<PathBuf> {
        let found: Vec<PathBuf> = match self {
            ClientKind::Builtin { .. } => Vec::new(),
            ClientKind::Lego(l) => l.locate().into_iter().collect(),
            ClientKind::Certbot(c) => c.locate().into_iter().collect(),
            ClientKind::Command(c) => c.located().into_iter().flatten().collect(),
        };
        let interpreters: Vec<PathBuf> = found.iter().filter_map(|p| interpreter(p)).collect();
        let mut paths = Vec::new();
        for program in found.into_iter().chain(interpreters) {
            paths.extend(program.canonicalize().ok().filter(|real| *real != program));
            paths.push(program);
        }
        paths
    }

    /// Runs the client once, as configured, against `ctx`.
    pub async fn run(&self, ctx: &ClientContext<'_>) -> ClientRun {
        match self {
            ClientKind::Builtin { provider } => builtin::run(*provider, ctx).await,
            ClientKind::Lego(l) => l.run(ctx).await,
            ClientKind::Certbot(c) => c.run(ctx).await,
            ClientKind::Command(c) => c.run(ctx).await,
        }
    }
}

/// The interpreter a script's `#!` line names (`/usr/bin/env` for `#!/usr/bin/env python3`),
/// read from the file, never run.
fn interpreter(program: &Path) -> Option<PathBuf> {
    shebang(program)?
        .split_whitespace()
        .next()
        .map(PathBuf::from)
}

/// A script's `#!` line, without the `#!`.
fn shebang(program: &Path) -> Option<String> {
    use std::io::Read;
    let mut head = [0u8; 256];
    let n = std::fs::File::open(program).ok()?.read(&mut head).ok()?;
    let first = head[..n].split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(first).ok()?.strip_prefix("#!")?;
    Some(line.trim().to_string())
}
