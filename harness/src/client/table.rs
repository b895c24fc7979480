//! The `[client]` table of a scenario file, every key with its place in the file, and the
//! checks every kind shares (which keys it takes, placeholders, `args`, `binary`).

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::locations::Locations;
use super::placeholders::placeholders_in;
use super::types::ProviderName;

/// The `[client]` table of a scenario as written, every key with its place in the file. Each
/// kind takes the keys it knows from it and refuses the others.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientTable {
    pub kind: Spanned<String>,
    pub domains: Spanned<Vec<String>>,
    pub env: Option<Spanned<BTreeMap<String, String>>>,
    pub provider: Option<Spanned<ProviderName>>,
    pub binary: Option<Spanned<String>>,
    pub args: Option<Spanned<Vec<String>>>,
    pub authenticator: Option<Spanned<String>>,
    pub credentials: Option<Spanned<BTreeMap<String, String>>>,
    pub propagation_seconds: Option<Spanned<u64>>,
    pub argv: Option<Spanned<Vec<String>>>,
    pub certificate: Option<Spanned<String>>,
    pub requires: Option<Spanned<Vec<String>>>,
}

/// A problem with one key of the `[client]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError {
    /// Byte range in the file.
    pub span: Range<usize>,
    pub message: String,
}

impl KeyError {
    pub(crate) fn at<T>(value: &Spanned<T>, message: impl Into<String>) -> Self {
        KeyError {
            span: value.span(),
            message: message.into(),
        }
    }
}

impl ClientTable {
    /// The optional keys that are set, with where.
    fn set_keys(&self) -> Vec<(&'static str, Range<usize>)> {
        let mut keys = Vec::new();
        let mut add = |name, span: Option<Range<usize>>| {
            if let Some(span) = span {
                keys.push((name, span));
            }
        };
        add("env", self.env.as_ref().map(Spanned::span));
        add("provider", self.provider.as_ref().map(Spanned::span));
        add("binary", self.binary.as_ref().map(Spanned::span));
        add("args", self.args.as_ref().map(Spanned::span));
        add(
            "authenticator",
            self.authenticator.as_ref().map(Spanned::span),
        );
        add("credentials", self.credentials.as_ref().map(Spanned::span));
        add(
            "propagation_seconds",
            self.propagation_seconds.as_ref().map(Spanned::span),
        );
        add("argv", self.argv.as_ref().map(Spanned::span));
        add("certificate", self.certificate.as_ref().map(Spanned::span));
        add("requires", self.requires.as_ref().map(Spanned::span));
        keys
    }

    /// Refuses every optional key that `kind` does not take (`kind` and `domains` always are).
    pub(crate) fn only(&self, allowed: &[&str]) -> Result<(), KeyError> {
        match self
            .set_keys()
            .into_iter()
            .find(|(k, _)| !allowed.contains(k))
        {
            None => Ok(()),
            Some((key, span)) => Err(KeyError {
                span,
                message: format!(
                    "client.{key}: not a key of a `{}` client (its keys: kind, domains, {})",
                    self.kind.get_ref(),
                    allowed.join(", ")
                ),
            }),
        }
    }

    /// Replaces `{repo}` and `{venv}` in every text a program client is given (`binary`,
    /// `args`, `argv`, `requires`, `certificate`, the values of `env` and `credentials`); an
    /// error names the key. The built-in client takes no placeholders: its table is left as is.
    pub fn expand_locations(&mut self, locations: &Locations) -> Result<(), KeyError> {
        if self.kind.get_ref() == "builtin" {
            return Ok(());
        }
        fn one(
            key: &str,
            value: &mut Spanned<String>,
            locations: &Locations,
        ) -> Result<(), KeyError> {
            let expanded = locations
                .expand(value.get_ref())
                .map_err(|e| KeyError::at(value, format!("client.{key}: {e}")))?;
            *value.get_mut() = expanded;
            Ok(())
        }
        fn each<'a>(
            key: &str,
            span: Range<usize>,
            values: impl Iterator<Item = &'a mut String>,
            locations: &Locations,
        ) -> Result<(), KeyError> {
            for value in values {
                *value = locations.expand(value).map_err(|e| KeyError {
                    span: span.clone(),
                    message: format!("client.{key}: {e}"),
                })?;
            }
            Ok(())
        }
        for (key, value) in [
            ("binary", &mut self.binary),
            ("certificate", &mut self.certificate),
        ] {
            if let Some(value) = value {
                one(key, value, locations)?;
            }
        }
        for (key, list) in [
            ("args", &mut self.args),
            ("argv", &mut self.argv),
            ("requires", &mut self.requires),
        ] {
            if let Some(list) = list {
                let span = list.span();
                each(key, span, list.get_mut().iter_mut(), locations)?;
            }
        }
        for (key, map) in [
            ("env", &mut self.env),
            ("credentials", &mut self.credentials),
        ] {
            if let Some(map) = map {
                let span = map.span();
                each(key, span, map.get_mut().values_mut(), locations)?;
            }
        }
        Ok(())
    }

    pub(crate) fn env(&self) -> BTreeMap<String, String> {
        self.env
            .as_ref()
            .map(|e| e.get_ref().clone())
            .unwrap_or_default()
    }

    /// Every placeholder in `env` must be known (programs only).
    pub(crate) fn check_env_placeholders(&self) -> Result<(), KeyError> {
        if let Some(env) = &self.env {
            for (name, value) in env.get_ref() {
                placeholders_in(value)
                    .map_err(|e| KeyError::at(env, format!("client.env.{name}: {e}")))?;
            }
        }
        Ok(())
    }

    /// `args` (optional), every placeholder known.
    pub(crate) fn args(&self) -> Result<Vec<String>, KeyError> {
        let Some(args) = &self.args else {
            return Ok(Vec::new());
        };
        for a in args.get_ref() {
            placeholders_in(a).map_err(|e| KeyError::at(args, format!("client.args: {e}")))?;
        }
        Ok(args.get_ref().clone())
    }

    pub(crate) fn binary(&self) -> Result<Option<String>, KeyError> {
        match &self.binary {
            Some(b) if b.get_ref().trim().is_empty() => {
                Err(KeyError::at(b, "client.binary: an empty path"))
            }
            Some(b) => Ok(Some(b.get_ref().clone())),
            None => Ok(None),
        }
    }
}
