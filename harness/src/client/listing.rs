//! What `harness check` says a scenario would run: every program, found on this machine but
//! never started (a scenario from someone else is code: read this before running it, then run it
//! with `--untrusted`).

use std::collections::BTreeMap;
use std::path::Path;

use super::{ClientKind, external, shebang};

/// The lines that say what `client` would run with `env`, indented for `harness check`.
pub fn programs(client: &ClientKind, env: &BTreeMap<String, String>) -> Vec<String> {
    let found = |located: Result<std::path::PathBuf, String>| match located {
        Ok(path) => with_interpreter(&path),
        Err(_) => "(not found here)".to_string(),
    };
    let mut lines = match client {
        ClientKind::Builtin { provider } => vec![format!(
            "no program: the built-in {} provider is the harness's own code",
            provider.as_str()
        )],
        ClientKind::Lego(l) => vec![format!(
            "lego {}, provider {}, with the harness's flags{}",
            found(l.locate()),
            l.provider.as_str(),
            then_args(&l.args)
        )],
        ClientKind::Certbot(c) => vec![format!(
            "certbot {}, the code of its `{}` plugin, with the harness's flags{}",
            found(c.locate()),
            c.authenticator,
            then_args(&c.args)
        )],
        ClientKind::Command(c) => {
            let program = c.argv.first().map_or("", String::as_str);
            let located = external::locate(Some(program), "GANDI_E2E_COMMAND", &[]);
            let mut lines = vec![format!("{program} {}", found(located))];
            for arg in c.argv.iter().skip(1) {
                lines.extend(shown(arg));
            }
            if !c.requires.is_empty() {
                let each: Vec<String> = c
                    .requires
                    .iter()
                    .map(|r| {
                        let located = external::locate(Some(r), "GANDI_E2E_COMMAND", &[]);
                        format!("{r} {}", found(located))
                    })
                    .collect();
                lines.push(format!("  and, by its own account, {}", each.join(", ")));
            }
            if c.argv.iter().skip(1).any(|a| a.contains('\n')) {
                lines.push(
                    "  (a script runs whatever it says, whatever `requires` lists: read it)".into(),
                );
            }
            lines
        }
    };
    if !env.is_empty() {
        let each: Vec<String> = env
            .iter()
            .map(|(k, v)| format!("{k}={}", quoted(v)))
            .collect();
        lines.push(format!("  with the file's env: {}", each.join(" ")));
    }
    lines
}

/// `(path)`, and the interpreter its `#!` line names.
fn with_interpreter(path: &Path) -> String {
    match shebang(path) {
        Some(line) => format!("({}, a script for `{line}`)", path.display()),
        None => format!("({})", path.display()),
    }
}

fn then_args(args: &[String]) -> String {
    if args.is_empty() {
        String::new()
    } else {
        let each: Vec<String> = args.iter().map(|a| quoted(a)).collect();
        format!(", then the file's: {}", each.join(" "))
    }
}

/// One argument of a command: a line, or a block for a script.
fn shown(arg: &str) -> Vec<String> {
    if !arg.contains('\n') {
        return vec![format!("  arg {}", quoted(arg))];
    }
    let mut lines = vec!["  arg (a script):".to_string()];
    lines.extend(arg.trim_end().lines().map(|l| format!("  | {l}")));
    lines
}

/// `text` as a shell would need it: bare when it is plain, else in single quotes.
fn quoted(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || "-_./:=,@%+{}".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::CommandClient;

    #[test]
    fn a_command_is_shown_whole_its_script_as_a_block_and_its_env() {
        let client = ClientKind::Command(CommandClient {
            argv: vec![
                "sh".into(),
                "-c".into(),
                "curl -s https://api.gandi.net/\nrm -rf ~\n".into(),
                "it's".into(),
            ],
            certificate: None,
            requires: vec!["curl".into(), "no-such-program-here".into()],
        });
        let env = BTreeMap::from([("LD_PRELOAD".to_string(), "./x.so".to_string())]);
        let lines = programs(&client, &env);
        assert!(lines[0].starts_with("sh (/"), "{lines:?}");
        assert_eq!(lines[1], "  arg -c");
        assert_eq!(lines[2], "  arg (a script):");
        assert_eq!(lines[3], "  | curl -s https://api.gandi.net/");
        assert_eq!(lines[4], "  | rm -rf ~");
        assert_eq!(lines[5], r"  arg 'it'\''s'");
        assert!(
            lines[6].starts_with("  and, by its own account, curl (/")
                && lines[6].ends_with("no-such-program-here (not found here)"),
            "{lines:?}"
        );
        assert!(lines[7].contains("read it"), "{lines:?}");
        assert_eq!(lines[8], "  with the file's env: LD_PRELOAD=./x.so");
    }
}
