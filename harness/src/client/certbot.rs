//! `kind = "certbot"`: an unmodified certbot with a DNS plugin: `dns-gandi`
//! (certbot-dns-gandi) or `dns-multi` (certbot-dns-multi, lego's own provider code inside
//! certbot), or any other authenticator installed beside it.
//!
//! The harness writes `credentials` to an ini file (mode 0600), adds `--server`, puts certbot's
//! config, work and logs folders in the work dir, names the lineage so the chain is found, and
//! gives dns-multi the mock's DNS as its nameserver.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::external::{self, Invocation, ProbeCache};
use super::placeholders::placeholders_in;
use super::table::{ClientTable, KeyError};
use super::types::{ClientContext, ClientRun};
use crate::sandbox::Network;

/// How to get certbot and its Gandi plugins, for the one-line error of a missing one.
pub const HOW_TO_GET_CERTBOT: &str = "run `ci/setup` (certbot, certbot-dns-gandi and \
     certbot-dns-multi in .venv), set CERTBOT=/path/to/certbot, or name it with `binary` in the \
     scenario or `harness run --certbot PATH`";

/// The variable naming the certbot program when a scenario does not.
pub const CERTBOT_ENV: &str = "CERTBOT";

/// The lineage name, so that the chain is at `live/<it>/fullchain.pem` whatever the domains.
const CERT_NAME: &str = "gandi-e2e";

/// A configured certbot client.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Certbot {
    /// `dns-gandi`, `dns-multi`, or another installed authenticator.
    pub authenticator: String,
    /// The credentials file's keys: for `dns-multi` exactly as given; for every other
    /// authenticator prefixed with its name (`token` → `dns_gandi_token`) unless they already are.
    pub credentials: BTreeMap<String, String>,
    pub propagation_seconds: u64,
    /// `binary` from the scenario or `--certbot`; else `$CERTBOT`, else `.venv/bin/certbot`, else
    /// `certbot` on `PATH`.
    pub binary: Option<String>,
    /// Extra flags, after the harness's own.
    pub args: Vec<String>,
}

impl Certbot {
    pub(crate) fn from_table(table: &ClientTable) -> Result<Self, KeyError> {
        table.only(&[
            "authenticator",
            "credentials",
            "propagation_seconds",
            "env",
            "binary",
            "args",
        ])?;
        let authenticator = table.authenticator.as_ref().ok_or_else(|| {
            KeyError::at(
                &table.kind,
                "client.authenticator: the certbot client needs an authenticator (dns-gandi or dns-multi)",
            )
        })?;
        let name = authenticator.get_ref();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            return Err(KeyError::at(
                authenticator,
                format!(
                    "client.authenticator: `{name}` is not a certbot plugin name (e.g. dns-gandi, dns-multi)"
                ),
            ));
        }
        let mut credentials = BTreeMap::new();
        if let Some(given) = &table.credentials {
            for (key, value) in given.get_ref() {
                if key.is_empty()
                    || !key
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
                {
                    return Err(KeyError::at(
                        given,
                        format!("client.credentials: `{key}` cannot be a key of an ini file"),
                    ));
                }
                if value.contains('"') && value.contains('\'') || value.contains('\n') {
                    return Err(KeyError::at(
                        given,
                        format!(
                            "client.credentials.{key}: a value cannot hold both quote kinds or a line break"
                        ),
                    ));
                }
                placeholders_in(value)
                    .map_err(|e| KeyError::at(given, format!("client.credentials.{key}: {e}")))?;
                credentials.insert(credential_key(name, key), value.clone());
            }
        }
        table.check_env_placeholders()?;
        Ok(Certbot {
            authenticator: name.clone(),
            credentials,
            propagation_seconds: table
                .propagation_seconds
                .as_ref()
                .map_or(0, |p| *p.get_ref()),
            binary: table.binary()?,
            args: table.args()?,
        })
    }

    pub(crate) fn locate(&self) -> Result<PathBuf, String> {
        let workspace_venv = concat!(env!("CARGO_MANIFEST_DIR"), "/../.venv/bin/certbot");
        external::locate(
            self.binary.as_deref(),
            CERTBOT_ENV,
            &[".venv/bin/certbot", workspace_venv, "certbot"],
        )
        .map_err(|e| format!("certbot is missing: {e}; {HOW_TO_GET_CERTBOT}"))
    }

    /// certbot is here and, when its Python can be asked, has the plugin.
    pub(crate) async fn check(&self) -> Result<(), String> {
        let binary = self.locate()?;
        match plugin_of(&binary, &self.authenticator).await {
            Plugin::Missing => Err(format!(
                "certbot at {} has no `{}` plugin; {HOW_TO_GET_CERTBOT}",
                binary.display(),
                self.authenticator
            )),
            Plugin::Found(_) | Plugin::Unknown => Ok(()),
        }
    }

    fn arguments(
        &self,
        ctx: &ClientContext<'_>,
        credentials: &Path,
        expand: impl Fn(&str) -> String,
    ) -> Vec<String> {
        let folder = ctx.workdir.join("certbot");
        let plugin = &self.authenticator;
        let mut args: Vec<String> = vec![
            "certonly".into(),
            "--non-interactive".into(),
            "--agree-tos".into(),
            "--register-unsafely-without-email".into(),
            "--server".into(),
            ctx.acme_directory.into(),
            "--config-dir".into(),
            folder.join("config").display().to_string(),
            "--work-dir".into(),
            folder.join("work").display().to_string(),
            "--logs-dir".into(),
            folder.join("logs").display().to_string(),
            "--cert-name".into(),
            CERT_NAME.into(),
            "--authenticator".into(),
            plugin.clone(),
            format!("--{plugin}-credentials"),
            credentials.display().to_string(),
            format!("--{plugin}-propagation-seconds"),
            self.propagation_seconds.to_string(),
        ];
        if plugin == "dns-multi" && ctx.network == Network::Proxy {
            args.push("--dns-multi-nameservers".into());
            args.push(ctx.mock_dns.to_string());
        }
        for d in ctx.domains {
            args.push("-d".into());
            args.push(d.clone());
        }
        args.extend(self.args.iter().map(|a| expand(a)));
        args
    }

    pub(crate) async fn run(&self, ctx: &ClientContext<'_>) -> ClientRun {
        let binary = match self.locate() {
            Ok(b) => b,
            Err(e) => {
                return ClientRun::not_started(format!("certbot {}", self.authenticator), e);
            }
        };
        let certbot_version = certbot_version(&binary).await;
        let client = match plugin_of(&binary, &self.authenticator).await {
            Plugin::Found(dist) => {
                format!("certbot {certbot_version} {} ({dist})", self.authenticator)
            }
            Plugin::Missing | Plugin::Unknown => {
                format!("certbot {certbot_version} {}", self.authenticator)
            }
        };
        let prepared = match external::prepare(ctx) {
            Ok(p) => p,
            Err(e) => return ClientRun::not_started(client, e),
        };
        let credentials = ctx.workdir.join("credentials.ini");
        let expanded: BTreeMap<String, String> = self
            .credentials
            .iter()
            .map(|(k, v)| (k.clone(), prepared.placeholders.expand(v)))
            .collect();
        if let Err(e) = write_ini(&credentials, &expanded) {
            return ClientRun::not_started(client, e);
        }
        let invocation = Invocation {
            program: binary,
            args: self.arguments(ctx, &credentials, |a| prepared.placeholders.expand(a)),
            env: ctx
                .env
                .iter()
                .map(|(k, v)| (k.clone(), prepared.placeholders.expand(v)))
                .collect(),
        };
        let finished = external::run(ctx, &prepared, &invocation).await;
        let chain = ctx
            .workdir
            .join("certbot/config/live")
            .join(CERT_NAME)
            .join("fullchain.pem");
        let certificate = std::fs::read_to_string(&chain)
            .map_err(|_| format!("certbot wrote no certificate at {}", chain.display()));
        finished.into_client_run(client, error_lines, certificate)
    }
}

/// The key a plugin reads: `dns-gandi` + `token` → `dns_gandi_token`; dns-multi's keys (its
/// provider and lego's own variables) are taken as given.
fn credential_key(authenticator: &str, key: &str) -> String {
    let prefix = format!("{}_", authenticator.replace('-', "_"));
    if authenticator == "dns-multi" || key.starts_with(&prefix) {
        key.to_string()
    } else {
        format!("{prefix}{}", key.replace('-', "_"))
    }
}

/// Writes `values` as an ini file only its owner can read (certbot warns otherwise). Values are
/// quoted: configobj would split an unquoted value at its commas.
fn write_ini(path: &Path, values: &BTreeMap<String, String>) -> Result<(), String> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut text = String::new();
    for (k, v) in values {
        let quote = if v.contains('"') { '\'' } else { '"' };
        text.push_str(&format!("{k} = {quote}{v}{quote}\n"));
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// certbot's own lines that say nothing about what went wrong: progress, where files are,
/// expiry dates, the donation box.
const NOISE: [&str; 17] = [
    "Saving debug log to",
    "Account registered",
    "Requesting a certificate for",
    "Waiting ",
    "Successfully received certificate",
    "Certificate is saved at",
    "Key is saved at",
    "This certificate expires on",
    "These files will be updated",
    "Certbot has set up a scheduled task",
    "NEXT STEPS",
    "- The certificate will need to be renewed",
    "- - - -",
    "If you like Certbot",
    "* Donating to",
    "Ask for help or search for solutions",
    "Simulating a certificate request",
];

fn error_lines(output: &str) -> Vec<String> {
    external::lines_without(output, &NOISE)
}

async fn certbot_version(binary: &Path) -> String {
    static CACHE: ProbeCache<PathBuf, String> = ProbeCache::new();
    CACHE
        .get_or_probe(binary.to_path_buf(), probe_version(binary))
        .await
}

async fn probe_version(binary: &Path) -> String {
    // `certbot 5.8.0`
    let said = external::probe_output(binary, &["--version"])
        .await
        .unwrap_or_default();
    said.split_whitespace()
        .skip_while(|w| *w != "certbot")
        .nth(1)
        .unwrap_or("(unknown version)")
        .to_string()
}

/// What certbot's Python says of an authenticator.
#[derive(Debug, Clone)]
enum Plugin {
    /// Installed: its distribution and version (`certbot-dns-multi 5.5.1`).
    Found(String),
    Missing,
    /// certbot is not a Python script this harness can ask (a snap, a wrapper).
    Unknown,
}

/// Asks the Python that runs `binary` (its `#!` line) for the `certbot.plugins` entry point
/// named `authenticator`. Cached per binary and authenticator.
async fn plugin_of(binary: &Path, authenticator: &str) -> Plugin {
    static CACHE: ProbeCache<(PathBuf, String), Plugin> = ProbeCache::new();
    let key = (binary.to_path_buf(), authenticator.to_string());
    CACHE
        .get_or_probe(key, ask_python(binary, authenticator))
        .await
}

async fn ask_python(binary: &Path, authenticator: &str) -> Plugin {
    let Some(python) = std::fs::read(binary).ok().and_then(|bytes| {
        let first = bytes.split(|b| *b == b'\n').next()?;
        let line = std::str::from_utf8(first).ok()?.strip_prefix("#!")?;
        let program = line.split_whitespace().next()?;
        program.contains("python").then(|| PathBuf::from(program))
    }) else {
        return Plugin::Unknown;
    };
    let script = "import importlib.metadata as m, sys\n\
                  found = [e for e in m.entry_points(group='certbot.plugins') if e.name == sys.argv[1]]\n\
                  print(f'{found[0].dist.name} {found[0].dist.version}' if found else 'MISSING')";
    match external::probe_output(&python, &["-c", script, authenticator]).await {
        Ok(out) if out.trim() == "MISSING" => Plugin::Missing,
        Ok(out) if !out.trim().is_empty() && !out.contains("Traceback") => {
            Plugin::Found(out.trim().to_string())
        }
        _ => Plugin::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_prefixed_for_dns_gandi_and_kept_for_dns_multi() {
        assert_eq!(credential_key("dns-gandi", "token"), "dns_gandi_token");
        assert_eq!(
            credential_key("dns-gandi", "sharing-id"),
            "dns_gandi_sharing_id"
        );
        assert_eq!(
            credential_key("dns-gandi", "dns_gandi_token"),
            "dns_gandi_token"
        );
        assert_eq!(
            credential_key("dns-multi", "GANDIV5_PERSONAL_ACCESS_TOKEN"),
            "GANDIV5_PERSONAL_ACCESS_TOKEN"
        );
        assert_eq!(
            credential_key("dns-multi", "dns_multi_provider"),
            "dns_multi_provider"
        );
    }

    #[test]
    fn the_ini_file_is_private_and_quoted() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.ini");
        let values = BTreeMap::from([
            ("dns_gandi_token".to_string(), "a,b".to_string()),
            ("x".to_string(), "say \"hi\"".to_string()),
        ]);
        write_ini(&path, &values).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "dns_gandi_token = \"a,b\"\nx = 'say \"hi\"'\n"
        );
    }

    #[test]
    fn progress_and_donation_lines_are_not_error_lines() {
        let out = "Saving debug log to /tmp/x/letsencrypt.log\n\
                   Requesting a certificate for stubber.chat\n\
                   An error occurred adding the DNS TXT record: 403 Forbidden\n\
                   Ask for help or search for solutions at https://community.letsencrypt.org.\n";
        assert_eq!(
            error_lines(out),
            vec!["An error occurred adding the DNS TXT record: 403 Forbidden"]
        );
    }
}
