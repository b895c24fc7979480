//! Scenario files: one behaviour each, in TOML. Unknown keys are errors; every error names the
//! file, the line and the key. What a scenario expects is `expect`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mock_gandi::Seed;
use serde::Deserialize;
use toml::Spanned;

use crate::client::{ClientKind, ClientTable, Locations};
use crate::issuance::IssuanceRequest;
use crate::sandbox::Network;

mod expect;
pub use expect::{DnsAnswer, DnsExpect, Expect, Expectation, Outcome};

/// Default bound on one scenario's client run.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    description: String,
    reproduces: Option<String>,
    quote: Option<Spanned<String>>,
    timeout_seconds: Option<Spanned<u64>>,
    #[serde(default)]
    network: Network,
    #[serde(default)]
    gandi: Seed,
    client: ClientTable,
    expect: RawExpect,
}

/// `[expect]` as written: the outcome keeps its place in the file for error messages.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    outcome: Spanned<Outcome>,
    #[serde(default)]
    error_contains: Vec<String>,
    #[serde(default)]
    calls: Vec<String>,
    #[serde(default)]
    no_calls: Vec<String>,
    #[serde(default)]
    dns: Vec<DnsExpect>,
}

/// A scenario, read and checked.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The file name without `.toml`: the scenario's name.
    pub name: String,
    pub path: PathBuf,
    pub description: String,
    pub reproduces: Option<String>,
    /// The report's own line (an error text, a status, a body size) that the run must show,
    /// in the client's output or the transcript (`quote`; see [`Expect::quote`]).
    pub quote: Option<String>,
    pub request: IssuanceRequest,
    pub expect: Expect,
    /// The file's text, as read: a sandbox reads the scenario again on its side.
    pub source: String,
}

/// A scenario file that cannot be used, with where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.path.display(), line, self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for ScenarioError {}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|b| *b == b'\n')
        .count()
        + 1
}

impl Scenario {
    /// Reads and checks one file.
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
            path: path.to_path_buf(),
            line: None,
            message: format!("cannot read: {e}"),
        })?;
        Self::parse(path, &text)
    }

    /// Parses `text` as the content of `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ScenarioError> {
        let err = |line: Option<usize>, message: String| ScenarioError {
            path: path.to_path_buf(),
            line,
            message,
        };
        let raw: RawScenario = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start));
            // toml's message is one line of text after its own "TOML parse error" header and
            // a source excerpt; keep the message, the line is given separately.
            err(line, e.message().trim().to_string())
        })?;
        let at = |span: std::ops::Range<usize>| Some(line_of(text, span.start));
        raw.gandi.check().map_err(|d| {
            err(
                d.line_in(text),
                d.to_string()
                    .replacen("credential.", "gandi.credential.", 1),
            )
        })?;

        let mut raw = raw;
        let locations = Locations::of_file(path);
        raw.client
            .expand_locations(&locations)
            .map_err(|e| err(at(e.span.clone()), e.message))?;
        let mut client =
            ClientKind::from_table(&raw.client).map_err(|e| err(at(e.span.clone()), e.message))?;
        client.resolve_paths(
            path.parent().unwrap_or(Path::new(".")),
            locations.venv_bin().as_deref(),
        );
        let outcome_line = raw.expect.outcome.span();
        match raw.expect.outcome.get_ref() {
            Outcome::Issued if !client.can_issue() => {
                return Err(err(
                    at(outcome_line),
                    "expect.outcome: `issued` needs a certificate to check: give the command a \
                     `certificate` path, or expect `success`"
                        .into(),
                ));
            }
            Outcome::Success if !client.can_merely_succeed() => {
                return Err(err(
                    at(outcome_line),
                    format!(
                        "expect.outcome: a `{}` client issues a certificate: expect `issued` \
                         (`success` is for commands that only manage DNS)",
                        client.name()
                    ),
                ));
            }
            _ => {}
        }
        let domains_span = raw.client.domains.span();
        let env = raw.client.env();
        let domains = raw.client.domains.into_inner();
        if domains.is_empty() {
            return Err(err(
                at(domains_span),
                "client.domains: at least one name is needed".into(),
            ));
        }
        if let Some(bad) = domains.iter().find(|d| {
            let base = d.strip_prefix("*.").unwrap_or(d);
            mock_gandi::store::types::Fqdn::parse(base).is_err() || base.contains('*')
        }) {
            return Err(err(
                at(domains_span),
                format!("client.domains: `{bad}` is not a domain name"),
            ));
        }
        if *raw.expect.outcome.get_ref() != Outcome::Failure
            && !raw.expect.error_contains.is_empty()
        {
            return Err(err(
                at(outcome_line),
                format!(
                    "expect.error_contains: an `{}` outcome has no error text to match",
                    raw.expect.outcome.get_ref()
                ),
            ));
        }
        let timeout = match raw.timeout_seconds {
            Some(t) if *t.get_ref() == 0 || *t.get_ref() > 3600 => {
                return Err(err(
                    at(t.span()),
                    "timeout_seconds: must be between 1 and 3600".into(),
                ));
            }
            Some(t) => Duration::from_secs(*t.get_ref()),
            None => DEFAULT_TIMEOUT,
        };
        let quote = match raw.quote {
            Some(q) if q.get_ref().trim().is_empty() => {
                return Err(err(
                    at(q.span()),
                    "quote: an empty quote shows nothing".into(),
                ));
            }
            Some(q) if raw.reproduces.is_none() => {
                return Err(err(
                    at(q.span()),
                    "quote: a quote is a report's own line: name the report with `reproduces`"
                        .into(),
                ));
            }
            q => q.map(Spanned::into_inner),
        };
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Scenario {
            name,
            path: path.to_path_buf(),
            description: raw.description,
            reproduces: raw.reproduces,
            quote: quote.clone(),
            request: IssuanceRequest {
                seed: raw.gandi,
                client,
                domains,
                env,
                timeout,
                network: raw.network,
            },
            source: text.to_string(),
            expect: Expect {
                outcome: raw.expect.outcome.into_inner(),
                error_contains: raw.expect.error_contains,
                calls: raw.expect.calls,
                no_calls: raw.expect.no_calls,
                dns: raw.expect.dns,
                quote,
            },
        })
    }
}

impl Scenario {
    /// What a valid file should still change, one line each (`PATH:LINE: ...`): a credential
    /// that names its permissions with the mock's former words `dns:read` / `dns:write`
    /// instead of Gandi's.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for c in &self.request.seed.credential {
            for p in c.permissions.iter().flatten().filter(|p| p.is_alias()) {
                let word = p.name();
                let line = self
                    .source
                    .lines()
                    .position(|l| {
                        l.trim_start().starts_with("permissions")
                            && (l.contains(&format!("\"{word}\""))
                                || l.contains(&format!("'{word}'")))
                    })
                    .map_or_else(String::new, |i| format!(":{}", i + 1));
                let line = format!(
                    "{}{line}: gandi.credential.permissions: '{word}' is an alias; Gandi's token \
                     form says 'See and renew domain names', 'Manage domain name technical \
                     configurations', 'View Organization' (the README's permission table)",
                    self.path.display()
                );
                if !out.contains(&line) {
                    out.push(line);
                }
            }
        }
        out
    }
}

/// The scenario files under `paths` (files as given, folders searched for `*.toml`), sorted.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ScenarioError> {
    let mut found = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut stack = vec![path.clone()];
            while let Some(dir) = stack.pop() {
                let entries = std::fs::read_dir(&dir).map_err(|e| ScenarioError {
                    path: dir.clone(),
                    line: None,
                    message: format!("cannot read the folder: {e}"),
                })?;
                for entry in entries.flatten() {
                    let p = entry.path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if p.extension().is_some_and(|e| e == "toml") {
                        found.push(p);
                    }
                }
            }
        } else if path.is_file() {
            found.push(path.clone());
        } else {
            return Err(ScenarioError {
                path: path.clone(),
                line: None,
                message: "no such file or folder".into(),
            });
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"description = "A PAT given to the legacy API fails the key pattern"
reproduces = "go-acme/lego#2473"

[[gandi.domain]]
fqdn = "stubber.chat"
dns = "legacy"

[client]
kind = "builtin"
provider = "gandi"
domains = ["stubber.chat"]
env = { GANDI_API_KEY = "0123456789abcdef0123456789abcdef01234567" }

[expect]
outcome = "failure"
error_contains = ["(500037)"]
"#;

    fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        Scenario::parse(Path::new("scenarios/x.toml"), text)
    }

    #[test]
    fn a_good_file_parses() {
        let s = parse(GOOD).unwrap();
        assert_eq!(s.name, "x");
        assert_eq!(s.expect.outcome, Outcome::Failure);
        assert_eq!(s.request.domains, vec!["stubber.chat"]);
        assert_eq!(s.request.timeout, DEFAULT_TIMEOUT);
    }

    #[test]
    fn an_unknown_key_names_file_line_and_key() {
        let text = GOOD.replace(
            "outcome = \"failure\"",
            "outcome = \"failure\"\nretries = 3",
        );
        let e = parse(&text).unwrap_err();
        assert_eq!(e.line, Some(16), "{e}");
        let shown = e.to_string();
        assert!(shown.starts_with("scenarios/x.toml:16: "), "{shown}");
        assert!(shown.contains("retries"), "{shown}");
    }

    #[test]
    fn an_unknown_key_in_the_seed_is_found_too() {
        let text = GOOD.replace("dns = \"legacy\"", "dns = \"legacy\"\nzone_id = 4");
        let e = parse(&text).unwrap_err();
        assert!(e.to_string().contains("zone_id"), "{e}");
        assert!(e.line.is_some(), "{e}");
    }

    #[test]
    fn a_builtin_client_without_provider_is_refused_at_its_line() {
        let text = GOOD.replace("provider = \"gandi\"\n", "");
        let e = parse(&text).unwrap_err();
        assert_eq!(e.line, Some(9), "{e}");
        assert!(e.message.contains("client.provider"), "{e}");
    }

    #[test]
    fn a_quote_needs_its_report_and_some_text() {
        let with_quote = GOOD.replace(
            "reproduces = \"go-acme/lego#2473\"",
            "reproduces = \"go-acme/lego#2473\"\nquote = \"does not match\"",
        );
        let s = parse(&with_quote).unwrap();
        assert_eq!(s.quote.as_deref(), Some("does not match"));
        assert_eq!(s.expect.quote.as_deref(), Some("does not match"));
        assert!(s.expect.all().contains(&Expectation::Quote));

        let orphan = with_quote.replace("reproduces = \"go-acme/lego#2473\"\n", "");
        let e = parse(&orphan).unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        assert!(e.message.starts_with("quote: "), "{e}");
        assert!(e.message.contains("reproduces"), "{e}");

        let empty = with_quote.replace("\"does not match\"", "\" \"");
        let e = parse(&empty).unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.message.contains("empty"), "{e}");
    }

    #[test]
    fn an_issued_outcome_with_error_fragments_is_refused() {
        let text = GOOD.replace("outcome = \"failure\"", "outcome = \"issued\"");
        assert!(parse(&text).unwrap_err().message.contains("error_contains"));
    }

    /// A scenario with `client` as its `[client]` table (`[client]` on line 6, its first key on
    /// line 7) and `outcome`.
    fn with_client(client: &str, outcome: &str) -> String {
        format!(
            "description = \"d\"\n\n[[gandi.domain]]\nfqdn = \"stubber.chat\"\n\n[client]\n{client}\n\n[expect]\noutcome = \"{outcome}\"\n"
        )
    }

    #[test]
    fn a_secret_declared_twice_as_one_kind_is_refused_at_its_line() {
        let text = GOOD.replace(
            "[client]",
            "[[gandi.credential]]\nkind = \"pat\"\nsecret = \"p0123456789\"\n\
             [[gandi.credential]]\nkind = \"apikey\"\nsecret = \"p0123456789\"\n\
             [[gandi.credential]]\nkind = \"pat\"\nsecret = \"p0123456789\"\n\n[client]",
        );
        let e = parse(&text).unwrap_err();
        assert_eq!(e.line, Some(16), "{e}");
        assert!(
            e.message
                .starts_with("gandi.credential.secret: p012…6789 (11) is declared twice as `pat`"),
            "{e}"
        );
    }

    #[test]
    fn each_kind_reads_its_own_keys() {
        let lego = parse(&with_client(
            "kind = \"lego\"\nprovider = \"gandiv5\"\ndomains = [\"stubber.chat\"]\nbinary = \"/opt/lego\"\nargs = [\"--dns-timeout\", \"5\"]",
            "issued",
        ))
        .unwrap();
        let ClientKind::Lego(l) = &lego.request.client else {
            panic!("{:?}", lego.request.client)
        };
        assert_eq!((l.binary.as_deref(), l.args.len()), (Some("/opt/lego"), 2));

        let certbot = parse(&with_client(
            "kind = \"certbot\"\nauthenticator = \"dns-gandi\"\ndomains = [\"stubber.chat\"]\ncredentials = { token = \"t\" }\npropagation_seconds = 5",
            "issued",
        ))
        .unwrap();
        let ClientKind::Certbot(c) = &certbot.request.client else {
            panic!("{:?}", certbot.request.client)
        };
        assert_eq!(
            c.credentials.get("dns_gandi_token").map(String::as_str),
            Some("t")
        );
        assert_eq!(c.propagation_seconds, 5);

        let command = parse(&with_client(
            "kind = \"command\"\ndomains = [\"stubber.chat\"]\nargv = [\"curl\", \"{api}/_mock/state\"]",
            "success",
        ))
        .unwrap();
        assert_eq!(command.expect.outcome, Outcome::Success);
    }

    #[test]
    fn a_key_of_another_kind_is_refused_at_its_line() {
        let e = parse(&with_client(
            "kind = \"lego\"\nprovider = \"gandi\"\ndomains = [\"stubber.chat\"]\nargv = [\"x\"]",
            "issued",
        ))
        .unwrap_err();
        assert_eq!(e.line, Some(10), "{e}");
        assert!(
            e.message
                .contains("client.argv: not a key of a `lego` client"),
            "{e}"
        );
    }

    #[test]
    fn what_a_kind_needs_is_asked_for_at_the_kind_s_line() {
        for (client, needed) in [
            (
                "kind = \"lego\"\ndomains = [\"stubber.chat\"]",
                "client.provider",
            ),
            (
                "kind = \"certbot\"\ndomains = [\"stubber.chat\"]",
                "client.authenticator",
            ),
            (
                "kind = \"command\"\ndomains = [\"stubber.chat\"]",
                "client.argv",
            ),
        ] {
            let e = parse(&with_client(client, "failure")).unwrap_err();
            assert_eq!(e.line, Some(7), "{e}");
            assert!(e.message.contains(needed), "{e}");
        }
    }

    #[test]
    fn an_unknown_placeholder_is_refused_at_its_line() {
        let e = parse(&with_client(
            "kind = \"command\"\ndomains = [\"stubber.chat\"]\nargv = [\"sh\", \"-c\", \"dig @{dns_hots}\"]",
            "success",
        ))
        .unwrap_err();
        assert_eq!(e.line, Some(9), "{e}");
        assert!(
            e.message.contains("unknown placeholder `{dns_hots}`"),
            "{e}"
        );
    }

    #[test]
    fn repo_and_venv_are_replaced_when_the_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".git")).unwrap();
        let path = dir.path().join("scenarios/x.toml");
        let text = with_client(
            "kind = \"command\"\ndomains = [\"stubber.chat\"]\nargv = [\"{repo}/run\", \"{dns}\", \"{{repo}}\"]",
            "success",
        );
        let s = Scenario::parse(&path, &text).unwrap();
        let ClientKind::Command(c) = &s.request.client else {
            panic!("{:?}", s.request.client)
        };
        let repo = dir.path().display();
        assert_eq!(
            c.argv,
            [format!("{repo}/run"), "{dns}".into(), "{{repo}}".into()]
        );
    }

    #[test]
    fn a_repository_that_cannot_be_found_is_refused_at_its_line_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let text = with_client(
            "kind = \"command\"\ndomains = [\"stubber.chat\"]\nargv = [\"sh\"]\nenv = { TOOL = \"{repo}/tool\" }",
            "success",
        );
        let e = Scenario::parse(&dir.path().join("x.toml"), &text).unwrap_err();
        assert_eq!(e.line, Some(10), "{e}");
        assert!(
            e.message
                .starts_with("client.env: `{repo}`: no folder above"),
            "{e}"
        );
    }

    #[test]
    fn outcomes_that_a_kind_cannot_have_are_refused_at_the_outcome_line() {
        // A command without `certificate` has nothing to check for `issued`.
        let e = parse(&with_client(
            "kind = \"command\"\ndomains = [\"stubber.chat\"]\nargv = [\"true\"]",
            "issued",
        ))
        .unwrap_err();
        assert_eq!(e.line, Some(12), "{e}");
        assert!(e.message.contains("`issued` needs a certificate"), "{e}");
        // lego issues: `success` would check less than it can.
        let e = parse(&with_client(
            "kind = \"lego\"\nprovider = \"gandi\"\ndomains = [\"stubber.chat\"]",
            "success",
        ))
        .unwrap_err();
        assert!(e.message.contains("expect `issued`"), "{e}");
    }
}
