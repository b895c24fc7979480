//! `kind = "lego"`: an unmodified lego binary with its `gandi` or `gandiv5` provider.
//!
//! The harness adds what lego needs to reach the mock and Pebble (`--server`, `--accept-tos`,
//! `--email`, `--path` in the work dir, `--dns`, `--dns.resolvers` = the mock's DNS, the switch
//! that skips the authoritative-nameserver propagation check, `LEGO_CA_CERTIFICATES` = Pebble's
//! HTTPS CA) and the proxy variables every program gets. The flags that changed between lego
//! versions are in one table, [`FLAVOURS`].

use std::path::{Path, PathBuf};

use super::external::{self, Invocation, ProbeCache};
use super::table::{ClientTable, KeyError};
use super::types::{ClientContext, ClientRun, ProviderName};
use crate::sandbox::Network;

/// How to get lego, for the one-line error of a missing binary.
pub const HOW_TO_GET_LEGO: &str = "run `ci/setup` (Debian's `apt-get install -y lego`), set \
     LEGO=/path/to/lego, or name it with `binary` in the scenario or `harness run --lego PATH`";

/// The variable naming the lego binary when a scenario does not.
pub const LEGO_ENV: &str = "LEGO";

/// The account email given to Pebble (it sends no mail).
const EMAIL: &str = "gandi-e2e@example.com";

/// The flags of one range of lego versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegoFlavour {
    /// The first version with these flags.
    pub since: (u32, u32, u32),
    /// The range, for reports.
    pub versions: &'static str,
    /// lego 4 takes its options before the `run` command (global flags); lego 5 after it.
    pub options_after_run: bool,
    /// The flag that skips the check that every authoritative nameserver has the record (the
    /// mock's nameservers are `.test` names that resolve nowhere); the recursive check against
    /// `--dns.resolvers`, where it exists, still runs.
    pub skip_authoritative_check: &'static str,
}

/// Every lego CLI the harness knows, oldest first (read from lego's `cmd/flags.go` at each
/// version; 5.x from `cmd/internal/flags/names.go`).
pub const FLAVOURS: [LegoFlavour; 3] = [
    LegoFlavour {
        since: (4, 0, 0),
        versions: "4.0 to 4.18",
        options_after_run: false,
        skip_authoritative_check: "--dns.disable-cp",
    },
    LegoFlavour {
        since: (4, 19, 0),
        versions: "4.19 to 4.x",
        options_after_run: false,
        skip_authoritative_check: "--dns.propagation-disable-ans",
    },
    LegoFlavour {
        since: (5, 0, 0),
        versions: "5.x",
        options_after_run: true,
        skip_authoritative_check: "--dns.propagation.disable-ans",
    },
];

/// The flavour for a version: the last one it is not older than; an unknown version, or one
/// older than every entry, gets the newest (lego 3 and older are not supported).
pub fn lego_flavour(version: Option<(u32, u32, u32)>) -> &'static LegoFlavour {
    let newest = &FLAVOURS[FLAVOURS.len() - 1];
    match version {
        None => newest,
        Some(v) => FLAVOURS
            .iter()
            .rev()
            .find(|f| v >= f.since)
            .unwrap_or(newest),
    }
}

/// `4.9.1` out of `lego version 4.9.1 linux/amd64`, `v4.35.2+dev-release`, `5.0.0-rc1`.
fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    let word = text
        .split_whitespace()
        .skip_while(|w| *w != "version")
        .nth(1)
        .unwrap_or(text.trim());
    let word = word.trim_start_matches('v');
    let mut parts = word.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let patch = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    Some((major, minor, patch))
}

/// The flavour whose switch a lego's `--help` lists, newest first (lego 4.19 to 4.x still
/// lists the deprecated `--dns.disable-cp`). lego 5 lists its options under `run --help` only,
/// so its top-level help matches nothing.
fn flavour_from_help(help: &str) -> Option<&'static LegoFlavour> {
    FLAVOURS
        .iter()
        .rev()
        .find(|f| help.contains(f.skip_authoritative_check))
}

/// A lego binary as the harness runs it: the version the report shows and the flags it gets.
#[derive(Debug, Clone)]
struct LegoBuild {
    shown: String,
    flavour: &'static LegoFlavour,
}

/// Asks `lego --version`. A build that says `dev` (Debian's 4.9.1 does, and so does a plain
/// `go build` of an older lego) is looked up in the package database when a package owns it,
/// else its flags are read from `lego --help`, else it gets the newest. Cached per binary.
async fn build_of(binary: &Path) -> LegoBuild {
    static CACHE: ProbeCache<PathBuf, LegoBuild> = ProbeCache::new();
    CACHE
        .get_or_probe(binary.to_path_buf(), probe_build(binary))
        .await
}

async fn probe_build(binary: &Path) -> LegoBuild {
    let said = external::probe_output(binary, &["--version"])
        .await
        .unwrap_or_default();
    let known = match parse_version(&said) {
        Some(number) => Some(number),
        None => package_version(binary).await,
    };
    match known {
        Some(number) => LegoBuild {
            shown: format!("{}.{}.{}", number.0, number.1, number.2),
            flavour: lego_flavour(Some(number)),
        },
        None => {
            let word = said
                .split_whitespace()
                .skip_while(|w| *w != "version")
                .nth(1)
                .unwrap_or("unknown")
                .to_string();
            let help = external::probe_output(binary, &["--help"])
                .await
                .unwrap_or_default();
            match flavour_from_help(&help) {
                Some(flavour) => LegoBuild {
                    shown: format!("{word} (flags of lego {}, from --help)", flavour.versions),
                    flavour,
                },
                None => {
                    let flavour = lego_flavour(None);
                    LegoBuild {
                        shown: format!("{word} (unknown: flags of lego {})", flavour.versions),
                        flavour,
                    }
                }
            }
        }
    }
}

/// The upstream version of the Debian package that owns `binary`, if one does.
async fn package_version(binary: &Path) -> Option<(u32, u32, u32)> {
    let dpkg = Path::new("/usr/bin/dpkg-query");
    if !dpkg.exists() {
        return None;
    }
    let real = std::fs::canonicalize(binary).ok()?;
    let owner = external::probe_output(dpkg, &["-S", &real.display().to_string()])
        .await
        .ok()?;
    let package = owner.split(':').next()?.trim();
    if package.is_empty() || package.contains(' ') {
        return None;
    }
    let version = external::probe_output(dpkg, &["-W", "-f=${Version}", package])
        .await
        .ok()?;
    // `1:4.9.1-1` → `4.9.1`.
    let upstream = version.rsplit(':').next()?.split('-').next()?;
    parse_version(upstream)
}

/// A configured lego client.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Lego {
    pub provider: ProviderName,
    /// `binary` from the scenario or `--lego`; else `$LEGO`, else `lego` on `PATH`.
    pub binary: Option<String>,
    /// Extra flags, given where the harness puts its own (before `run` for lego 4).
    pub args: Vec<String>,
}

impl Lego {
    pub(crate) fn from_table(table: &ClientTable) -> Result<Self, KeyError> {
        table.only(&["provider", "env", "binary", "args"])?;
        let provider = table.provider.as_ref().ok_or_else(|| {
            KeyError::at(
                &table.kind,
                "client.provider: the lego client needs a provider (gandi or gandiv5)",
            )
        })?;
        table.check_env_placeholders()?;
        Ok(Lego {
            provider: *provider.get_ref(),
            binary: table.binary()?,
            args: table.args()?,
        })
    }

    pub(crate) fn locate(&self) -> Result<PathBuf, String> {
        external::locate(self.binary.as_deref(), LEGO_ENV, &["lego"])
            .map_err(|e| format!("lego is missing: {e}; {HOW_TO_GET_LEGO}"))
    }

    /// The command line for `flavour`: the harness's options, the scenario's `args`, then the
    /// domains, placed before `run` (lego 4) or after it (lego 5).
    fn arguments(
        &self,
        flavour: &LegoFlavour,
        ctx: &ClientContext<'_>,
        expand: impl Fn(&str) -> String,
    ) -> Vec<String> {
        let mut options = vec![
            "--server".to_string(),
            ctx.acme_directory.to_string(),
            "--accept-tos".into(),
            "--email".into(),
            EMAIL.into(),
            "--path".into(),
            ctx.workdir.join("lego").display().to_string(),
            "--dns".into(),
            self.provider.as_str().into(),
        ];
        // In a sandbox the system resolver is the mock and its nameservers resolve to it: lego
        // runs as it would at home, its whole propagation check included.
        if ctx.network == Network::Proxy {
            options.extend([
                "--dns.resolvers".into(),
                ctx.mock_dns.to_string(),
                flavour.skip_authoritative_check.into(),
            ]);
        }
        for d in ctx.domains {
            options.push("--domains".into());
            options.push(d.clone());
        }
        options.extend(self.args.iter().map(|a| expand(a)));
        if flavour.options_after_run {
            std::iter::once("run".to_string()).chain(options).collect()
        } else {
            options.push("run".into());
            options
        }
    }

    pub(crate) async fn run(&self, ctx: &ClientContext<'_>) -> ClientRun {
        let label = |version: &str| format!("lego {version} {}", self.provider.as_str());
        let binary = match self.locate() {
            Ok(b) => b,
            Err(e) => return ClientRun::not_started(label("(missing)"), e),
        };
        let build = build_of(&binary).await;
        let flavour = build.flavour;
        let client = label(&build.shown);
        let prepared = match external::prepare(ctx) {
            Ok(p) => p,
            Err(e) => return ClientRun::not_started(client, e),
        };
        // lego sleeps one polling interval (gandi 60 s, gandiv5 20 s) before it checks that a
        // record propagated; the mock has no lag, so the wait is 0 unless the scenario says.
        let interval = match self.provider {
            ProviderName::Gandi => "GANDI_POLLING_INTERVAL",
            ProviderName::Gandiv5 => "GANDIV5_POLLING_INTERVAL",
        };
        let mut env: std::collections::BTreeMap<String, String> = [
            (
                "LEGO_CA_CERTIFICATES".to_string(),
                ctx.acme_ca.display().to_string(),
            ),
            (interval.to_string(), "0".to_string()),
        ]
        .into();
        env.extend(
            ctx.env
                .iter()
                .map(|(k, v)| (k.clone(), prepared.placeholders.expand(v))),
        );
        let invocation = Invocation {
            program: binary,
            args: self.arguments(flavour, ctx, |a| prepared.placeholders.expand(a)),
            env,
        };
        let finished = external::run(ctx, &prepared, &invocation).await;
        let certificate = certificate(&ctx.workdir.join("lego"), ctx.domains);
        finished.into_client_run(client, error_lines, certificate)
    }
}

/// What lego prints that says nothing about what went wrong: its progress (`[INFO]`, or
/// `level=INFO` in lego 5's structured logs) and the account banner of a first run.
const NOISE: [&str; 11] = [
    "[INFO]",
    "level=INFO",
    "No key found for account",
    "Saved key to",
    "!!!! HEADS UP !!!!",
    "Your account credentials have been saved",
    "configuration directory at",
    "You should make a secure backup",
    "configuration directory will also contain",
    "private keys obtained from",
    "backups of this folder is ideal",
];

fn error_lines(output: &str) -> Vec<String> {
    external::lines_without(output, &NOISE)
}

/// The bundle lego wrote (`<path>/certificates/<first domain, * as _>.crt`: leaf and issuer).
fn certificate(path: &Path, domains: &[String]) -> Result<String, String> {
    let folder = path.join("certificates");
    let first = domains
        .first()
        .map(|d| d.replace('*', "_"))
        .unwrap_or_default();
    let expected = folder.join(format!("{first}.crt"));
    if let Ok(pem) = std::fs::read_to_string(&expected) {
        return Ok(pem);
    }
    // Another version may name it otherwise: take the one certificate that is not an issuer.
    let others: Vec<PathBuf> = std::fs::read_dir(&folder)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    name.ends_with(".crt") && !name.ends_with(".issuer.crt")
                })
                .collect()
        })
        .unwrap_or_default();
    match others.as_slice() {
        [one] => {
            std::fs::read_to_string(one).map_err(|e| format!("cannot read {}: {e}", one.display()))
        }
        _ => Err(format!(
            "lego wrote no certificate at {}",
            expected.display()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_what_lego_prints() {
        assert_eq!(
            parse_version("lego version 4.9.1 linux/amd64"),
            Some((4, 9, 1))
        );
        assert_eq!(
            parse_version("lego version v4.35.2+dev-release linux/amd64"),
            Some((4, 35, 2))
        );
        assert_eq!(
            parse_version("lego version 5.0.0-rc1 linux/amd64"),
            Some((5, 0, 0))
        );
        assert_eq!(parse_version("4.9.1"), Some((4, 9, 1)));
        assert_eq!(parse_version("lego version dev linux/amd64"), None);
        assert_eq!(parse_version(""), None);
    }

    #[test]
    fn each_version_gets_the_flags_its_cli_has() {
        let flags = |v| lego_flavour(Some(v));
        // Debian's 4.9.1: global options before `run`, `--dns.disable-cp`.
        assert_eq!(
            flags((4, 9, 1)).skip_authoritative_check,
            "--dns.disable-cp"
        );
        assert!(!flags((4, 9, 1)).options_after_run);
        assert_eq!(
            flags((4, 18, 9)).skip_authoritative_check,
            "--dns.disable-cp"
        );
        // 4.19 deprecated `--dns.disable-cp` for `--dns.propagation-disable-ans`.
        assert_eq!(
            flags((4, 19, 0)).skip_authoritative_check,
            "--dns.propagation-disable-ans"
        );
        assert_eq!(
            flags((4, 35, 2)).skip_authoritative_check,
            "--dns.propagation-disable-ans"
        );
        // 5.x: options belong to `run`, propagation flags renamed with dots.
        for v in [(5, 0, 0), (5, 5, 1), (6, 0, 0)] {
            assert!(flags(v).options_after_run);
            assert_eq!(
                flags(v).skip_authoritative_check,
                "--dns.propagation.disable-ans"
            );
        }
        // Unknown: the newest.
        assert_eq!(lego_flavour(None), &FLAVOURS[FLAVOURS.len() - 1]);
        assert!(FLAVOURS.windows(2).all(|w| w[0].since < w[1].since));
    }

    #[test]
    fn an_unknown_build_s_flags_are_read_from_its_help() {
        // Excerpts of `lego --help` of 4.9.1 and 4.35.2 (which still lists the deprecated flag).
        let v4_9 =
            "GLOBAL OPTIONS:\n   --dns.disable-cp  By setting this flag to true, disables ...";
        let v4_35 = "   --dns.disable-cp  (deprecated) use dns.propagation-disable-ans instead.\n   \
                     --dns.propagation-disable-ans  By setting this flag to true, ...";
        assert_eq!(flavour_from_help(v4_9), Some(&FLAVOURS[0]));
        assert_eq!(flavour_from_help(v4_35), Some(&FLAVOURS[1]));
        // lego 5's top-level help names no DNS flag at all.
        assert_eq!(
            flavour_from_help("COMMANDS:\n   run  Get or renew a certificate"),
            None
        );
    }

    #[test]
    fn lego_4_takes_options_before_run_and_lego_5_after() {
        let lego = Lego {
            provider: ProviderName::Gandiv5,
            binary: None,
            args: vec!["--dns-timeout".into(), "{dns_port}".into()],
        };
        let domains = vec!["stubber.chat".to_string(), "*.stubber.chat".to_string()];
        let env = Default::default();
        let ctx = ClientContext {
            domains: &domains,
            env: &env,
            timeout: std::time::Duration::from_secs(5),
            acme_directory: "https://127.0.0.1:14000/dir",
            acme_ca: Path::new("/tmp/acme.pem"),
            mock_api: "http://127.0.0.1:1",
            mock_dns: "127.0.0.1:5353".parse().unwrap(),
            mock_proxy: "http://127.0.0.1:2",
            mock_ca: Path::new("/tmp/mock.pem"),
            workdir: Path::new("/w"),
            network: Network::Proxy,
        };
        let v4 = lego.arguments(lego_flavour(Some((4, 9, 1))), &ctx, |a| {
            a.replace("{dns_port}", "5353")
        });
        assert_eq!(
            v4.join(" "),
            "--server https://127.0.0.1:14000/dir --accept-tos --email gandi-e2e@example.com \
             --path /w/lego --dns gandiv5 --dns.resolvers 127.0.0.1:5353 --dns.disable-cp \
             --domains stubber.chat --domains *.stubber.chat --dns-timeout 5353 run"
        );
        let v5 = lego.arguments(lego_flavour(Some((5, 3, 1))), &ctx, |a| a.to_string());
        assert_eq!(v5[0], "run");
        assert!(v5.contains(&"--dns.propagation.disable-ans".to_string()));
        assert_eq!(v5.last().map(String::as_str), Some("{dns_port}"));
        // In a sandbox: no resolver, no switch; lego checks propagation as it would at home.
        let sandboxed = ClientContext {
            network: Network::Sandbox,
            ..ctx
        };
        let v4 = lego.arguments(lego_flavour(Some((4, 9, 1))), &sandboxed, |a| a.to_string());
        assert!(!v4.iter().any(|a| a.starts_with("--dns.")), "{v4:?}");
    }

    #[test]
    fn progress_lines_are_not_error_lines() {
        let out = "2026/12/01 10:00:00 [INFO] [stubber.chat] acme: Obtaining bundled SAN certificate\n\
                   2026/12/01 10:00:01 Could not obtain certificates:\n\
                   \terror: one or more domains had a problem:\n\
                   [stubber.chat] acme: error presenting token: gandi: boom\n";
        assert_eq!(
            error_lines(out),
            vec![
                "2026/12/01 10:00:01 Could not obtain certificates:",
                "\terror: one or more domains had a problem:",
                "[stubber.chat] acme: error presenting token: gandi: boom",
            ]
        );
    }
}
