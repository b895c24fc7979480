//! lego's `platform/env` (`env.go`), over a scenario's `env` instead of the process's: every
//! value may come from the file named by `<VAR>_FILE` when `<VAR>` is empty, numbers that do not
//! parse fall back to their default, and booleans take Go's `strconv.ParseBool` spellings.

use std::collections::BTreeMap;
use std::time::Duration;

/// A scenario's variables read the way lego reads its environment, with the warnings lego logs.
#[derive(Debug)]
pub(crate) struct LegoEnv<'a> {
    env: &'a BTreeMap<String, String>,
    warnings: std::cell::RefCell<Vec<String>>,
}

impl<'a> LegoEnv<'a> {
    pub(crate) fn new(env: &'a BTreeMap<String, String>) -> Self {
        Self {
            env,
            warnings: Default::default(),
        }
    }

    /// `os.Getenv`.
    pub(crate) fn raw(&self, name: &str) -> String {
        self.env.get(name).cloned().unwrap_or_default()
    }

    /// `env.GetOrFile`: the value, else the contents of the file `<name>_FILE` names (trailing
    /// `\r` and `\n` removed), else empty. An unreadable file is a warning and an empty value.
    pub(crate) fn get_or_file(&self, name: &str) -> String {
        let value = self.raw(name);
        if !value.is_empty() {
            return value;
        }
        let file_var = format!("{name}_FILE");
        let path = self.raw(&file_var);
        if path.is_empty() {
            return value;
        }
        match std::fs::read_to_string(&path) {
            Ok(text) => text.trim_end_matches(['\r', '\n']).to_string(),
            Err(e) => {
                self.warnings.borrow_mut().push(format!(
                    "level=WARN msg=\"Failed to read the file.\" filepath={path} envVar={file_var} error=\"{e}\""
                ));
                String::new()
            }
        }
    }

    /// `env.GetOrDefaultInt`: any value that does not parse is the default.
    pub(crate) fn int_or(&self, name: &str, default: i64) -> i64 {
        self.get_or_file(name).parse().unwrap_or(default)
    }

    /// `env.GetOrDefaultSecond`: whole seconds; negative or unparsable is the default.
    pub(crate) fn seconds_or(&self, name: &str, default: Duration) -> Duration {
        match self.get_or_file(name).parse::<i64>() {
            Ok(s) if s >= 0 => Duration::from_secs(s.unsigned_abs()),
            _ => default,
        }
    }

    /// `strconv.ParseBool(os.Getenv(name))`, false when it does not parse.
    pub(crate) fn bool(&self, name: &str) -> bool {
        parse_bool(&self.raw(name)).unwrap_or(false)
    }

    /// What lego would have logged while reading.
    pub(crate) fn warnings(&self) -> Vec<String> {
        self.warnings.borrow().clone()
    }
}

/// Go's `strconv.ParseBool`.
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_stands_in_for_an_empty_variable() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "s3cr3t\r\n").unwrap();
        let env = BTreeMap::from([
            ("A_FILE".to_string(), file.display().to_string()),
            ("B".to_string(), "given".to_string()),
            ("B_FILE".to_string(), file.display().to_string()),
            ("C_FILE".to_string(), "/nonexistent".to_string()),
        ]);
        let lego = LegoEnv::new(&env);
        assert_eq!(lego.get_or_file("A"), "s3cr3t");
        assert_eq!(
            lego.get_or_file("B"),
            "given",
            "the variable wins over its file"
        );
        assert_eq!(lego.get_or_file("C"), "");
        assert_eq!(lego.warnings().len(), 1);
        assert!(lego.warnings()[0].contains("envVar=C_FILE"));
    }

    #[test]
    fn numbers_and_booleans_read_as_go_reads_them() {
        let env = BTreeMap::from([
            ("T".to_string(), "-5".to_string()),
            ("U".to_string(), "junk".to_string()),
            ("V".to_string(), "30".to_string()),
            ("X".to_string(), "T".to_string()),
            ("Y".to_string(), "yes".to_string()),
        ]);
        let lego = LegoEnv::new(&env);
        let d = Duration::from_secs(20);
        assert_eq!(lego.seconds_or("T", d), d);
        assert_eq!(lego.seconds_or("U", d), d);
        assert_eq!(lego.seconds_or("V", d), Duration::from_secs(30));
        assert_eq!(lego.int_or("U", 300), 300);
        assert!(lego.bool("X"));
        assert!(!lego.bool("Y"));
    }
}
