//! Placeholders in the `argv`, `args`, `env` and `credentials` of program clients and a
//! command's `certificate`: `{name}` (a lowercase word) is replaced by the value of this run
//! (`{dns}` → `127.0.0.1:PORT`); `{{name}}` is the literal text `{name}`. Every other brace is
//! literal, so JSON bodies need no escaping, and `${name}` (shell) and `%{name}` (curl's `-w`)
//! are left alone. Names are checked when the scenario is read. `{repo}` and `{venv}` are known
//! then too, and replaced then (see `locations`).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use regex::{Captures, Regex};

use super::types::ClientContext;

/// Every placeholder a `command` (and the `args` and `env` of every program) may use.
pub const PLACEHOLDERS: [&str; 13] = [
    "repo",
    "venv",
    "acme_directory",
    "acme_ca",
    "ca_bundle",
    "proxy",
    "dns",
    "dns_host",
    "dns_port",
    "api",
    "workdir",
    "domain",
    "domains",
];

/// A word in braces: group 1 is a `$` or `%` before it (then it is not ours), groups 2 and 4
/// the doubled braces of a literal, group 3 the word.
pub(super) fn pattern() -> &'static Regex {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN.get_or_init(|| {
        Regex::new(r"([$%]?)\{(\{?)([a-z][a-z0-9_]*)(\}?)\}").expect("a valid pattern")
    })
}

/// What one match of [`pattern`] is.
pub(super) enum Found<'t> {
    Placeholder(&'t str),
    Literal(&'t str),
    NotOurs,
}

pub(super) fn classify<'t>(caps: &Captures<'t>) -> Found<'t> {
    let word = caps.get(3).map_or("", |m| m.as_str());
    let (open, close) = (&caps[2], &caps[4]);
    if !caps[1].is_empty() {
        Found::NotOurs
    } else if !open.is_empty() && !close.is_empty() {
        Found::Literal(word)
    } else if open.is_empty() && close.is_empty() {
        Found::Placeholder(word)
    } else {
        Found::NotOurs
    }
}

/// The placeholders of `text`, or the first unknown one, with the list of known ones.
pub fn placeholders_in(text: &str) -> Result<Vec<&str>, String> {
    let mut found = Vec::new();
    for caps in pattern().captures_iter(text) {
        let Found::Placeholder(name) = classify(&caps) else {
            continue;
        };
        if !PLACEHOLDERS.contains(&name) {
            return Err(format!(
                "unknown placeholder `{{{name}}}` in {text:?} (known: {}; `{{{{{name}}}}}` \
                 is the literal text)",
                PLACEHOLDERS
                    .iter()
                    .map(|p| format!("{{{p}}}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        found.push(name);
    }
    Ok(found)
}

/// The values of the placeholders for one run.
#[derive(Debug, Clone)]
pub struct Placeholders(BTreeMap<&'static str, String>);

impl Placeholders {
    pub(crate) fn new(ctx: &ClientContext<'_>, bundle: &Path) -> Self {
        let dns = ctx.mock_dns;
        let values = [
            ("acme_directory", ctx.acme_directory.to_string()),
            ("acme_ca", ctx.acme_ca.display().to_string()),
            ("ca_bundle", bundle.display().to_string()),
            ("proxy", ctx.mock_proxy.to_string()),
            ("dns", dns.to_string()),
            ("dns_host", dns.ip().to_string()),
            ("dns_port", dns.port().to_string()),
            ("api", ctx.mock_api.to_string()),
            ("workdir", ctx.workdir.display().to_string()),
            ("domain", ctx.domains.first().cloned().unwrap_or_default()),
            ("domains", ctx.domains.join(",")),
        ];
        Self(values.into_iter().collect())
    }

    /// `text` with every placeholder replaced. Texts are checked when the scenario is read, so
    /// an unknown name here is left as it is.
    pub fn expand(&self, text: &str) -> String {
        pattern()
            .replace_all(text, |caps: &Captures<'_>| match classify(caps) {
                Found::Literal(word) => format!("{{{word}}}"),
                Found::Placeholder(name) => self
                    .0
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| caps[0].to_string()),
                Found::NotOurs => caps[0].to_string(),
            })
            .into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_found_and_unknown_ones_refused() {
        assert_eq!(
            placeholders_in("--server={acme_directory} {{literal}}").unwrap(),
            vec!["acme_directory"]
        );
        let e = placeholders_in("{nope}").unwrap_err();
        assert!(e.contains("unknown placeholder `{nope}`"), "{e}");
        assert!(e.contains("`{{nope}}` is the literal text"), "{e}");
        // JSON is not a placeholder.
        assert!(
            placeholders_in(r#"-d {"rrset_values": ["x"], "a": {"b": {}}}"#)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn expansion_replaces_known_names_and_keeps_literals_and_json() {
        let p = Placeholders(BTreeMap::from([
            ("dns", "127.0.0.1:53".to_string()),
            ("domain", "stubber.chat".to_string()),
        ]));
        assert_eq!(
            p.expand(r#"@{dns} {domain} {{domain}} {unknown} {"a": {"b": 1}} ${domain} %{dns}"#),
            r#"@127.0.0.1:53 stubber.chat {domain} {unknown} {"a": {"b": 1}} ${domain} %{dns}"#
        );
    }
}
