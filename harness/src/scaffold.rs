//! `harness scaffold RECORDING`: a scenario file from a recording (`mock-gandi record`, or any
//! format `mock-gandi replay` reads).
//!
//! - The seed is the one the replay infers (`mock_gandi::replay::implied_seed`): the domains the
//!   recording reached, legacy or LiveDNS, the records it read before writing them, and one
//!   credential of each kind, with the replay's own secrets (never the recorded ones: the
//!   recording holds placeholders).
//! - The client is the one the flags name (`--client lego --provider gandiv5 --env
//!   GANDIV5_API_KEY={apikey}`), or a `command` whose curl sends the recorded requests again in
//!   order, each with the seed's credential of the kind it used (a request the upstream refused
//!   for its credential keeps the recorded placeholder, so it is refused again).
//! - The expectations are what happened: one `calls` line per exchange, and for a `command`
//!   the text of every error answer (LiveDNS's `message`, the v4 API's `faultString`) in
//!   `error_contains` (the script then exits 1, and the outcome is `failure`).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use mock_gandi::replay::{APIKEY, Exchange, PAT, V4_KEY, implied_seed};
use mock_gandi::xmlrpc::{
    MethodResponse, Value, encode_method_call, parse_method_call, parse_method_response,
};
use serde_json::{Value as Json, json};

use crate::client::KIND_NAMES;

/// `harness scaffold`'s arguments.
#[derive(clap::Args, Debug)]
pub struct ScaffoldArgs {
    /// The recording (.jsonl, .har, or a vcrpy cassette).
    recording: PathBuf,
    /// The client kind: lego, certbot, builtin or command (default: command, with curl).
    #[arg(long, value_name = "KIND", value_parser = clap::builder::PossibleValuesParser::new(KIND_NAMES))]
    client: Option<String>,
    /// The provider of a lego or builtin client (gandi or gandiv5).
    #[arg(long)]
    provider: Option<String>,
    /// An environment variable of the client, NAME=VALUE; `{apikey}`, `{pat}` and `{v4-key}`
    /// in VALUE are the seed's credentials.
    #[arg(long, value_name = "NAME=VALUE")]
    env: Vec<String>,
    /// The authenticator of a certbot client (default: dns-gandi).
    #[arg(long, value_name = "NAME")]
    authenticator: Option<String>,
    /// A key of a certbot client's credentials file, KEY=VALUE (`{apikey}`, `{pat}` and
    /// `{v4-key}` in VALUE are the seed's credentials). Default: the recording's kind, `token =
    /// {pat}` when it sent a personal access token, else `api_key = {apikey}`.
    #[arg(long, value_name = "KEY=VALUE")]
    credential: Vec<String>,
}

/// `harness scaffold`: the scenario on stdout, 0; 2 when the recording cannot make one.
pub fn main(args: &ScaffoldArgs) -> u8 {
    let source = args.recording.display().to_string();
    let made = mock_gandi::replay::load(&args.recording)
        .map_err(|e| format!("{source}: {e}"))
        .and_then(|exchanges| {
            let flags = ClientFlags {
                kind: args.client.clone(),
                provider: args.provider.clone(),
                env: args.env.clone(),
                authenticator: args.authenticator.clone(),
                credentials: args.credential.clone(),
            };
            let name = args
                .recording
                .file_name()
                .map_or(source.clone(), |n| n.to_string_lossy().into_owned());
            scaffold(&name, &exchanges, &flags)
        });
    match made {
        Ok(text) => {
            // A reader that went away (`| head`) wanted no more.
            let _ = writeln!(std::io::stdout(), "{}", text.trim_end());
            0
        }
        Err(e) => {
            eprintln!("harness scaffold: {e}");
            2
        }
    }
}

/// What the client block is made of.
#[derive(Debug, Clone, Default)]
pub struct ClientFlags {
    /// `lego`, `certbot`, `builtin`, `command`; `None`: a curl `command`.
    pub kind: Option<String>,
    pub provider: Option<String>,
    /// `NAME=VALUE`; `{apikey}`, `{pat}` and `{v4-key}` in a value are the seed's secrets.
    pub env: Vec<String>,
    /// certbot's authenticator (`None`: dns-gandi).
    pub authenticator: Option<String>,
    /// certbot's credentials, `KEY=VALUE` as `env` (empty: by the recording's credential).
    pub credentials: Vec<String>,
}

/// The scenario text for `exchanges`, read from `source` (named in the description).
pub fn scaffold(
    source: &str,
    exchanges: &[Exchange],
    flags: &ClientFlags,
) -> Result<String, String> {
    if exchanges.is_empty() {
        return Err(format!("{source}: no exchange in the recording"));
    }
    let (mut seed, mut notes) = implied_seed(exchanges);
    let mut domains: Vec<String> = seed["domain"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["fqdn"].as_str().map(str::to_string))
        .collect();
    if domains.is_empty() {
        // No answer confirmed a domain (every call was refused): the first one a request
        // named, so that the scenario has one; the replay's seed would have none.
        let (fqdn, legacy) = named_domain(exchanges).ok_or_else(|| {
            format!("{source}: no request of the recording names a domain, so no scenario can be seeded from it")
        })?;
        notes.push(format!(
            "{fqdn} is seeded because a request named it; no answer confirmed it"
        ));
        let mut domain = json!({ "fqdn": fqdn });
        if legacy {
            domain["dns"] = json!("legacy");
        }
        seed["domain"] = json!([domain]);
        domains.push(fqdn);
    }
    let mut out = String::new();
    let description = format!(
        "Scaffolded by `harness scaffold` from {source} ({} exchanges): edit this description \
         to say what the recording shows",
        exchanges.len()
    );
    let _ = writeln!(out, "description = {}", toml_string(&description));
    for note in &notes {
        let _ = writeln!(out, "# note: {note}");
    }
    let gandi = toml::to_string(&json!({ "gandi": seed }))
        .map_err(|e| format!("the seed cannot be written as TOML: {e}"))?;
    let _ = writeln!(out, "\n{gandi}");
    let command = flags.kind.as_deref().is_none_or(|k| k == "command");
    let mut client = toml::Table::new();
    client.insert(
        "kind".into(),
        flags.kind.clone().unwrap_or("command".into()).into(),
    );
    if let Some(provider) = &flags.provider {
        client.insert("provider".into(), provider.clone().into());
    }
    client.insert(
        "domains".into(),
        toml::Value::Array(vec![domains[0].clone().into()]),
    );
    if !flags.env.is_empty() {
        client.insert(
            "env".into(),
            toml::Value::Table(pairs("--env", &flags.env)?),
        );
    }
    if flags.kind.as_deref() == Some("certbot") {
        client.insert(
            "authenticator".into(),
            flags
                .authenticator
                .clone()
                .unwrap_or("dns-gandi".into())
                .into(),
        );
        let credentials = if flags.credentials.is_empty() {
            // The credential the recording sent: a PAT as a Bearer token, else an API key.
            let bearer = exchanges.iter().any(|e| {
                e.header("authorization")
                    .is_some_and(|a| a.to_ascii_lowercase().starts_with("bearer"))
            });
            if bearer {
                vec!["token={pat}".to_string()]
            } else {
                vec!["api_key={apikey}".to_string()]
            }
        } else {
            flags.credentials.clone()
        };
        client.insert(
            "credentials".into(),
            toml::Value::Table(pairs("--credential", &credentials)?),
        );
    }
    let errors: Vec<String> = if command {
        exchanges.iter().filter_map(error_text).collect()
    } else {
        Vec::new()
    };
    if command {
        let mut script = script(exchanges);
        // Error answers make the run a failure, so that their texts can be expectations.
        if !errors.is_empty() {
            let _ = writeln!(
                script,
                "echo '{} of the recorded answers were errors' >&2\nexit 1",
                errors.len()
            );
        }
        client.insert(
            "argv".into(),
            toml::Value::Array(vec!["sh".into(), "-ec".into(), script.into()]),
        );
    }
    let client = toml::to_string_pretty(&toml::Table::from_iter([(
        "client".to_string(),
        toml::Value::Table(client),
    )]))
    .map_err(|e| format!("the client cannot be written as TOML: {e}"))?;
    let _ = writeln!(out, "{client}");
    let calls: Vec<String> = exchanges.iter().map(call_line).collect();
    // A client that issues: every write succeeded → issued (a read may find nothing: lego
    // looks for the record before writing it); edit when the run says otherwise.
    let wrote_all = exchanges.iter().all(|e| {
        let read = e.method.eq_ignore_ascii_case("GET");
        read || (e.status < 400 && error_text(e).is_none())
    });
    let outcome = match () {
        () if command && errors.is_empty() => "success",
        () if command => "failure",
        () if wrote_all => "issued",
        () => "failure",
    };
    let mut expect = toml::Table::new();
    expect.insert("outcome".into(), outcome.into());
    if !errors.is_empty() {
        expect.insert(
            "error_contains".into(),
            toml::Value::Array(errors.into_iter().map(Into::into).collect()),
        );
    }
    expect.insert(
        "calls".into(),
        toml::Value::Array(calls.into_iter().map(Into::into).collect()),
    );
    let expect = toml::to_string_pretty(&toml::Table::from_iter([(
        "expect".to_string(),
        toml::Value::Table(expect),
    )]))
    .map_err(|e| format!("the expectations cannot be written as TOML: {e}"))?;
    out.push_str(&expect);
    Ok(out)
}

/// `NAME=VALUE` pairs as a table, `{apikey}`, `{pat}` and `{v4-key}` in a value replaced by the
/// seed's secrets; `flag` names them in an error.
fn pairs(flag: &str, given: &[String]) -> Result<toml::Table, String> {
    let mut table = toml::Table::new();
    for pair in given {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("{flag} {pair:?}: give NAME=VALUE"))?;
        let value = value
            .replace("{apikey}", APIKEY)
            .replace("{pat}", PAT)
            .replace("{v4-key}", V4_KEY);
        table.insert(name.into(), value.into());
    }
    Ok(table)
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// The call line the harness's transcript gives this exchange (`domain.info -> fault 500037`,
/// `PUT /v5/livedns/domains/x/records/y/TXT -> 201`).
pub fn call_line(e: &Exchange) -> String {
    if e.path().starts_with("/xmlrpc")
        && let Ok(call) = parse_method_call(e.body.as_bytes())
    {
        return match parse_method_response(e.response_body.as_bytes()) {
            Ok(MethodResponse::Fault { code, .. }) => {
                format!("{} -> fault {code}", call.method_name)
            }
            _ => format!("{} -> ok", call.method_name),
        };
    }
    format!(
        "{} {} -> {}",
        e.method.to_ascii_uppercase(),
        e.path_and_query(),
        e.status
    )
}

/// The text of an error answer: a fault's string, a JSON error's `message`.
fn error_text(e: &Exchange) -> Option<String> {
    if let Ok(MethodResponse::Fault { message, .. }) =
        parse_method_response(e.response_body.as_bytes())
    {
        return Some(message);
    }
    if e.status < 400 {
        return None;
    }
    let json: Json = serde_json::from_str(&e.response_body).ok()?;
    json["message"].as_str().map(str::to_string)
}

/// The first domain a request names (LiveDNS paths, a v4 call's second parameter), and
/// whether it was named to the v4 API.
fn named_domain(exchanges: &[Exchange]) -> Option<(String, bool)> {
    exchanges.iter().find_map(|e| {
        let path = e.path();
        if let Some(rest) = path
            .strip_prefix("/v5/livedns/domains/")
            .or_else(|| path.strip_prefix("/api/v5/domains/"))
        {
            let fqdn = rest.split('/').next().filter(|f| !f.is_empty())?;
            return Some((fqdn.to_ascii_lowercase(), false));
        }
        let call = parse_method_call(e.body.as_bytes()).ok()?;
        match call.params.get(1) {
            Some(Value::String(fqdn)) if call.method_name.starts_with("domain.") => {
                Some((fqdn.to_ascii_lowercase(), true))
            }
            _ => None,
        }
    })
}

/// Whether the upstream refused the exchange's credential (then it is sent as recorded).
fn refused_credential(e: &Exchange) -> bool {
    matches!(e.status, 401 | 403)
        || matches!(
            parse_method_response(e.response_body.as_bytes()),
            Ok(MethodResponse::Fault {
                code: 500037 | 510150,
                ..
            })
        )
}

/// A shell script sending every recorded request with curl, in order, each answer printed.
/// The v4 API's own ids (a zone id `domain.info` names, a new version's number, a cloned or
/// created zone's id) are the mock's, not the recording's: the script reads each from the
/// mock's answer and sends it where the recording sent the recorded one.
fn script(exchanges: &[Exchange]) -> String {
    let mut s = String::from(
        "# The recorded requests, in order; each answer is printed (the expectations read it).\n",
    );
    // The recorded ids the script has learned so far: each is `$ID_<recorded>` from then on.
    let mut learned: Vec<i64> = Vec::new();
    for (i, e) in exchanges.iter().enumerate() {
        let keep = refused_credential(e);
        let mut line = format!(
            "curl -sS -w '\\n' -X {} {}",
            e.method.to_ascii_uppercase(),
            quote(&e.url)
        );
        for (name, value) in &e.headers {
            let lower = name.to_ascii_lowercase();
            let skipped = matches!(
                lower.as_str(),
                "host"
                    | "content-length"
                    | "accept-encoding"
                    | "connection"
                    | "transfer-encoding"
                    | "user-agent"
            );
            let credential = matches!(lower.as_str(), "authorization" | "x-api-key");
            if skipped || (credential && !keep) {
                continue;
            }
            let _ = write!(line, " -H {}", quote(&format!("{name}: {value}")));
        }
        let mut body = e.body.clone();
        let mut learns = None;
        if e.path().starts_with("/xmlrpc") {
            if let Ok(call) = parse_method_call(e.body.as_bytes()) {
                let mut params = call.params.clone();
                if !keep && !params.is_empty() {
                    params[0] = Value::string(V4_KEY);
                }
                body = with_learned_ids(&call.method_name, &params, &learned);
                learns = learned_id(&call.method_name, e);
            }
        } else if !keep {
            let recorded = e
                .header("authorization")
                .unwrap_or_default()
                .to_ascii_lowercase();
            let header = if e.path().starts_with("/api/v5") {
                format!("X-Api-Key: {APIKEY}")
            } else if recorded.starts_with("bearer") {
                format!("Authorization: Bearer {PAT}")
            } else {
                format!("Authorization: Apikey {APIKEY}")
            };
            let _ = write!(line, " -H {}", quote(&header));
        }
        if !body.is_empty() {
            // A body with a learned id is expanded by the shell: its other `\`, `$` and `` ` ``
            // stay literal.
            let delimiter = format!("MOCK_GANDI_BODY_{i}");
            let (open, body) = if body.contains(ID_MARK) {
                (delimiter.clone(), shell_expanded(&body))
            } else {
                (format!("'{delimiter}'"), body)
            };
            let _ = write!(
                line,
                " --data-binary @- <<{open}\n{}\n{delimiter}",
                body.trim_end_matches('\n')
            );
        }
        match learns {
            Some((recorded, pattern)) => {
                let _ = writeln!(
                    s,
                    "answer=$({line}\n)\nprintf '%s\\n' \"$answer\"\n\
                     ID_{recorded}=$(printf '%s' \"$answer\" | tr -d '\\n' | sed -n {})",
                    quote(&format!(
                        "s|.*{pattern}<value><int>\\([0-9]*\\)</int>.*|\\1|p"
                    ))
                );
                learned.push(recorded);
            }
            None => {
                let _ = writeln!(s, "{line}");
            }
        }
    }
    escape_placeholders(&s)
}

/// Marks where a learned id goes in a body until the shell variable is written.
const ID_MARK: &str = "\u{1}";

/// The recorded id a v4 answer gives (the ids the mock numbers itself, as the replay maps
/// them) and what precedes it in the answer, flattened to one line.
fn learned_id(method: &str, e: &Exchange) -> Option<(i64, &'static str)> {
    let MethodResponse::Success(answer) = parse_method_response(e.response_body.as_bytes()).ok()?
    else {
        return None;
    };
    let (value, pattern) = match method {
        "domain.info" => (answer.member("zone_id")?, "<name>zone_id</name>"),
        "domain.zone.version.new" => (&answer, "<param>"),
        "domain.zone.clone" | "domain.zone.create" => (answer.member("id")?, "<name>id</name>"),
        _ => return None,
    };
    match value {
        Value::Int(id) => Some((*id, pattern)),
        _ => None,
    }
}

/// The call's body, each top-level integer parameter that is a learned id (a zone id, a
/// version) written as its shell variable, the recorded value if the mock's was not found.
fn with_learned_ids(method: &str, params: &[Value], learned: &[i64]) -> String {
    let marked: Vec<Value> = params
        .iter()
        .enumerate()
        .map(|(at, p)| match p {
            Value::Int(id) if at > 0 && learned.contains(id) => {
                Value::string(format!("{ID_MARK}{id}{ID_MARK}"))
            }
            other => other.clone(),
        })
        .collect();
    let mut body = encode_method_call(method, &marked);
    for id in learned {
        body = body.replace(
            &format!("<value><string>{ID_MARK}{id}{ID_MARK}</string></value>"),
            &format!("<value><int>{ID_MARK}{{ID_{id}:-{id}}}</int></value>"),
        );
    }
    body
}

/// `body` for an unquoted here-document: `\`, `$` and `` ` `` escaped, then each id mark
/// made the `$` of its variable.
fn shell_expanded(body: &str) -> String {
    body.replace('\\', "\\\\")
        .replace('$', "\\$")
        .replace('`', "\\`")
        .replace(ID_MARK, "$")
}

/// Single-quoted for sh.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// `{word}` in recorded text is not one of the harness's placeholders: doubled, it stays
/// literal (harness/src/client/placeholders.rs).
fn escape_placeholders(text: &str) -> String {
    let pattern = regex::Regex::new(r"([$%]?)\{([a-z][a-z0-9_]*)\}").expect("a valid pattern");
    pattern
        .replace_all(text, |caps: &regex::Captures<'_>| {
            if caps[1].is_empty() {
                format!("{{{{{}}}}}", &caps[2])
            } else {
                caps[0].to_string()
            }
        })
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_bodies_stay_literal_and_words_in_braces_are_doubled() {
        assert_eq!(
            escape_placeholders(r#"{"rrset_values": ["{domain}"]} ${HOME}"#),
            r#"{"rrset_values": ["{{domain}}"]} ${HOME}"#
        );
        assert_eq!(quote("it's"), r"'it'\''s'");
    }
}
