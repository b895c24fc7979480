//! Known and accepted differences between the mock and a recording, each with its reason, in
//! one TOML file:
//!
//! ```toml
//! [[accept]]
//! file = "*/REST-IntegrationTests/*"       # optional glob on the recording's path
//! request = "GET /v5/livedns/domains/*"    # optional glob on the request line
//! difference = "header content-type: *"    # glob on the difference line, or a list of them
//! reason = "why this difference does not matter, or why the mock cannot do better"
//! ```
//!
//! A list (`difference = ["$.authinfo: recorded, missing from the mock", ...]`) names each
//! difference one reason covers: a member missing from an answer is accepted by its name, so a
//! member that goes missing later is a new difference, not one more of an accepted kind.

use serde::Deserialize;

use crate::store::glob_matches;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub request: Option<String>,
    pub difference: Differences,
    pub reason: String,
}

/// A rule's `difference`: one glob, or a list of globs with one reason.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Differences {
    One(String),
    Many(Vec<String>),
}

impl Differences {
    /// Every glob of the rule.
    pub fn globs(&self) -> &[String] {
        match self {
            Differences::One(g) => std::slice::from_ref(g),
            Differences::Many(list) => list,
        }
    }
}

impl Rule {
    /// The glob of this rule that matches `difference` of `request` in `file`, if one does.
    pub fn matching(&self, file: &str, request: &str, difference: &str) -> Option<&str> {
        if !(self.file.as_deref().is_none_or(|g| glob_matches(g, file))
            && self
                .request
                .as_deref()
                .is_none_or(|g| glob_matches(g, request)))
        {
            return None;
        }
        self.difference
            .globs()
            .iter()
            .find(|g| glob_matches(g, difference))
            .map(String::as_str)
    }
}

/// The accepted differences (none by default).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accepted {
    #[serde(default)]
    pub accept: Vec<Rule>,
}

impl Accepted {
    /// The differences the project itself accepts (`recorded/accepted.toml`), each with its
    /// reason: what `mock-gandi replay` applies unless `--strict`.
    pub fn builtin() -> Self {
        Self::parse(include_str!("../../../recorded/accepted.toml")).unwrap_or_default()
    }

    /// These rules and `other`'s.
    pub fn and(mut self, other: Accepted) -> Self {
        self.accept.extend(other.accept);
        self
    }

    /// Parses the file's text; an error names the line and the key.
    pub fn parse(text: &str) -> Result<Self, String> {
        let accepted: Accepted = toml::from_str(text).map_err(|e| e.to_string())?;
        if let Some(rule) = accepted.accept.iter().find(|r| r.reason.trim().is_empty()) {
            return Err(format!(
                "the rule for {:?} gives no reason: every accepted difference says why",
                rule.difference.globs()
            ));
        }
        if let Some(rule) = accepted
            .accept
            .iter()
            .find(|r| r.difference.globs().is_empty())
        {
            return Err(format!(
                "the rule with the reason {:?} names no difference",
                rule.reason
            ));
        }
        Ok(accepted)
    }

    /// The reason a difference is accepted, if a rule covers it.
    pub fn reason(&self, file: &str, request: &str, difference: &str) -> Option<&str> {
        self.accept
            .iter()
            .find(|r| r.matching(file, request, difference).is_some())
            .map(|r| r.reason.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_rules_parse_and_each_gives_a_reason() {
        let text = include_str!("../../../recorded/accepted.toml");
        let builtin = Accepted::parse(text).unwrap();
        assert_eq!(builtin.accept.len(), text.matches("[[accept]]").count());
        assert!(!builtin.accept.is_empty());
        assert_eq!(Accepted::builtin().accept.len(), builtin.accept.len());
    }

    #[test]
    fn a_rule_covers_what_its_globs_match_and_says_why() {
        let a = Accepted::parse(
            r#"
[[accept]]
file = "*/REST-*"
difference = "header content-type: *"
reason = "charset case"
"#,
        )
        .unwrap();
        assert_eq!(
            a.reason(
                "x/REST-IntegrationTests/t.yaml",
                "GET /",
                "header content-type: a, b"
            ),
            Some("charset case")
        );
        assert_eq!(
            a.reason(
                "x/RPC-IntegrationTests/t.yaml",
                "GET /",
                "header content-type: a"
            ),
            None
        );
        assert!(Accepted::parse("[[accept]]\ndifference = \"*\"\nreason = \" \"\n").is_err());
        let e = Accepted::parse("[[accept]]\ndiference = \"*\"\n").unwrap_err();
        assert!(e.contains("diference"), "{e}");
        let e = Accepted::parse("[[accept]]\ndifference = []\nreason = \"r\"\n").unwrap_err();
        assert!(e.contains("names no difference"), "{e}");
    }

    #[test]
    fn a_list_of_differences_covers_each_one_named_and_no_other() {
        let a = Accepted::parse(
            r#"
[[accept]]
request = "xmlrpc domain.info"
difference = ["$.authinfo: recorded, missing from the mock", "$.contacts: *"]
reason = "registration"
"#,
        )
        .unwrap();
        let reason = |d: &str| a.reason("f", "xmlrpc domain.info", d);
        assert_eq!(
            reason("$.authinfo: recorded, missing from the mock"),
            Some("registration")
        );
        assert_eq!(
            reason("$.contacts: recorded, missing from the mock"),
            Some("registration")
        );
        assert_eq!(reason("$.fqdn: recorded, missing from the mock"), None);
        assert_eq!(
            a.accept[0].matching("f", "xmlrpc domain.info", "$.contacts: x"),
            Some("$.contacts: *")
        );
    }
}
