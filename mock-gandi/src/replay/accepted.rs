//! Known and accepted differences between the mock and a recording, each with its reason, in
//! one TOML file:
//!
//! ```toml
//! [[accept]]
//! file = "*/REST-IntegrationTests/*"       # optional glob on the recording's path
//! request = "GET /v5/livedns/domains/*"    # optional glob on the request line
//! difference = "header content-type: *"    # glob on the difference line
//! reason = "why this difference does not matter, or why the mock cannot do better"
//! ```

use serde::Deserialize;

use crate::store::glob_matches;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub request: Option<String>,
    pub difference: String,
    pub reason: String,
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
                rule.difference
            ));
        }
        Ok(accepted)
    }

    /// The reason a difference is accepted, if a rule covers it.
    pub fn reason(&self, file: &str, request: &str, difference: &str) -> Option<&str> {
        self.accept
            .iter()
            .find(|r| {
                r.file.as_deref().is_none_or(|g| glob_matches(g, file))
                    && r.request
                        .as_deref()
                        .is_none_or(|g| glob_matches(g, request))
                    && glob_matches(&r.difference, difference)
            })
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
    }
}
