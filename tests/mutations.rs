//! Mutation testing of the corpus: every expectation of every scenario is shown able to fail,
//! for its own reason, when the world the client meets changes.
//!
//! A mutant never touches the client, its configuration or the recorded outcome: it is the
//! scenario file with a different Gandi — fault rules in front of the APIs (a call answered
//! otherwise, removals or writes that fail and change nothing, so DNS answers otherwise), or an
//! edit of the seed (a credential's kind, scope, permissions or expiry; a domain's platform,
//! owner or CNAME; a domain added; a scripted fault, rate limit or propagation lag taken away).
//! Each mutant runs for real (mock-gandi, Pebble, the client, the DNS checks), through the same
//! runner as the corpus.
//!
//! For each scenario: the unmutated file passes; then mutants run, in the order below, while an
//! expectation they aim at has not yet been met by another; every expectation (the outcome,
//! each `error_contains` fragment, each of `calls` and `no_calls`, each `[[expect.dns]]`) must
//! be the reason at least one mutant fails. What no change of Gandi can reach (a client that
//! refuses its own configuration before it calls anything) is listed in [`CLIENT_ONLY`], with
//! why; an entry there that a mutant does reach fails the test, so the list stays true.
//!
//! Each scenario prints its mutants (`killed by calls[0], outcome` or `survived`) and which
//! one met each expectation.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use harness::CaKind;
use harness::runner::{RunOptions, ScenarioReport, run_scenario_with};
use harness::scenario::{Expectation, Scenario};
use libtest_mimic::{Failed, Trial};

#[path = "mutations/client_only.rs"]
mod client_only;
mod common;
#[path = "mutations/seed_fixes.rs"]
mod seed_fixes;

use client_only::CLIENT_ONLY;
use seed_fixes::{seed_fixes, seed_list};
use toml::{Table, Value};

/// A change of the world a scenario's client meets.
struct Mutant {
    what: String,
    /// The expectations it is meant to reach: it runs while one of them is unmet by others.
    aims: Box<dyn Fn(Expectation) -> bool + Send>,
    edit: Box<dyn Fn(&mut Table) + Send>,
}

fn mutant(
    what: impl Into<String>,
    aims: impl Fn(Expectation) -> bool + Send + 'static,
    edit: impl Fn(&mut Table) + Send + 'static,
) -> Mutant {
    Mutant {
        what: what.into(),
        aims: Box::new(aims),
        edit: Box::new(edit),
    }
}

/// A table from TOML text (the rules below are written as a scenario would write them).
fn table(text: &str) -> Table {
    text.parse()
        .unwrap_or_else(|e| panic!("a mutant's TOML: {e}\n{text}"))
}

fn quoted(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// `[gandi]`'s array `key`, created when missing.
fn gandi_array<'t>(t: &'t mut Table, key: &str) -> &'t mut Vec<Value> {
    let gandi = t
        .entry("gandi")
        .or_insert_with(|| Value::Table(Table::new()));
    gandi
        .as_table_mut()
        .expect("[gandi] is a table")
        .entry(key)
        .or_insert_with(|| Value::Array(Vec::new()))
        .as_array_mut()
        .expect("an array of tables")
}

/// Fault rules placed before the scenario's own, so they answer first.
fn faults(rules: Vec<String>) -> impl Fn(&mut Table) + Send + 'static {
    move |t| {
        let list = gandi_array(t, "fault");
        for (i, rule) in rules.iter().enumerate() {
            list.insert(i, Value::Table(table(rule)));
        }
    }
}

/// An `[[expect]] calls` line, read back into the request it names.
enum Call {
    Rest {
        method: String,
        path: String,
        status: u16,
    },
    Rpc {
        method: String,
        fault: Option<i64>,
    },
}

fn parse_call(line: &str) -> Option<Call> {
    let (left, right) = line.rsplit_once(" -> ")?;
    match left.split_once(' ') {
        Some((method, path)) if path.starts_with('/') => Some(Call::Rest {
            method: method.to_string(),
            path: path.split('?').next()?.to_string(),
            status: right.parse().ok()?,
        }),
        Some(_) => None,
        None => Some(Call::Rpc {
            method: left.to_string(),
            fault: match right {
                "ok" => None,
                r => Some(r.strip_prefix("fault ")?.parse().ok()?),
            },
        }),
    }
}

/// A fault no scenario expects, so that its text shows where it went.
const MUTANT_FAULT: &str =
    "xmlrpc_fault = { code = 599999, message = \"answered otherwise by a mutant\" }";

/// The rule answering `call` otherwise: another status, another fault, or a fault for a
/// success.
fn otherwise(call: &Call) -> String {
    match call {
        Call::Rest {
            method,
            path,
            status,
        } => {
            let other = if *status == 500 { 503 } else { 500 };
            format!(
                "method = {}\npath = {}\nstatus = {other}",
                quoted(method),
                quoted(path)
            )
        }
        Call::Rpc { method, .. } => format!("xmlrpc_method = {}\n{MUTANT_FAULT}", quoted(method)),
    }
}

/// The rule answering a failed `call` as a success would go on: a LiveDNS read finds nothing
/// (404, which lego takes as "no record yet"), an XML-RPC call returns a result.
fn success_instead(call: &Call, domain: &str) -> Option<String> {
    match call {
        Call::Rest {
            method,
            path,
            status,
        } if *status >= 400 && *status != 404 => Some(format!(
            "method = {}\npath = {}\nstatus = 404",
            quoted(method),
            quoted(path)
        )),
        Call::Rpc {
            method,
            fault: Some(_),
        } => {
            let result = if method == "domain.info" {
                format!(
                    "{{ fqdn = {}, zone_id = 424242, id = 424242 }}",
                    quoted(domain)
                )
            } else {
                "true".to_string()
            };
            Some(format!(
                "xmlrpc_method = {}\nxmlrpc_result = {result}",
                quoted(method)
            ))
        }
        _ => None,
    }
}

fn any(_: Expectation) -> bool {
    true
}

fn about_errors(e: Expectation) -> bool {
    matches!(
        e,
        Expectation::Outcome | Expectation::ErrorContains(_) | Expectation::Call(_)
    )
}

fn about_dns(e: Expectation) -> bool {
    matches!(e, Expectation::Dns(_))
}

fn about_going_further(e: Expectation) -> bool {
    matches!(e, Expectation::Outcome | Expectation::NoCall(_))
}

/// Every mutant of a scenario, in the order they are tried.
fn catalogue(s: &Scenario, base: &Table) -> Vec<Mutant> {
    let mut out = Vec::new();
    let domain = s
        .request
        .domains
        .first()
        .map(|d| d.trim_start_matches("*.").to_string())
        .unwrap_or_default();
    let calls: Vec<(usize, Call)> = s
        .expect
        .calls
        .iter()
        .enumerate()
        .filter_map(|(i, l)| parse_call(l).map(|c| (i, c)))
        .collect();
    // A call the scenario expects, answered otherwise.
    for (i, call) in &calls {
        let i = *i;
        out.push(mutant(
            format!("the request of calls[{i}] answered otherwise"),
            move |e| e == Expectation::Call(i) || about_errors(e),
            faults(vec![otherwise(call)]),
        ));
    }
    out.push(mutant(
        "every API request answered 502 (a gateway error)",
        about_errors,
        faults(vec!["status = 502".into()]),
    ));
    out.push(mutant(
        "every LiveDNS request answered 500, every XML-RPC call a fault",
        about_errors,
        faults(vec![
            "api = \"livedns\"\nstatus = 500".into(),
            format!("api = \"v4\"\n{MUTANT_FAULT}"),
        ]),
    ));
    // DNS answers otherwise: what the client removes stays, what it writes never arrives.
    let platform = |p: &str| {
        seed_list(base, "domain")
            .iter()
            .any(|d| d.get("dns").and_then(Value::as_str).unwrap_or("livedns") == p)
    };
    if platform("livedns") {
        out.push(mutant(
            "LiveDNS removals fail and change nothing (DELETE 502)",
            about_dns,
            faults(vec!["method = \"DELETE\"\nstatus = 502".into()]),
        ));
        out.push(mutant(
            "LiveDNS writes fail and change nothing (PUT, POST 502)",
            about_dns,
            faults(livedns_writes_fail(1)),
        ));
        out.push(mutant(
            "LiveDNS writes after the first fail and change nothing (PUT, POST 502 from the \
             second: a clean-up that rewrites the rrset)",
            about_dns,
            faults(livedns_writes_fail(2)),
        ));
    }
    if platform("legacy") {
        out.push(mutant(
            "v4 removals fail and change nothing (record.delete, and the second zone.set and \
             version.set, the clean-up's, a fault)",
            about_dns,
            faults(vec![
                format!("xmlrpc_method = \"domain.zone.record.delete\"\n{MUTANT_FAULT}"),
                format!("xmlrpc_method = \"domain.zone.set\"\nfrom = 2\n{MUTANT_FAULT}"),
                format!("xmlrpc_method = \"domain.zone.version.set\"\nfrom = 2\n{MUTANT_FAULT}"),
            ]),
        ));
        out.push(mutant(
            "v4 writes fail and change nothing (record.add a fault)",
            about_dns,
            faults(vec![format!(
                "xmlrpc_method = \"domain.zone.record.add\"\n{MUTANT_FAULT}"
            )]),
        ));
    }
    // A failed call answered so that the client goes further.
    for (i, call) in &calls {
        if let Some(rule) = success_instead(call, &domain) {
            out.push(mutant(
                format!("the failed request of calls[{i}] answered as a success would"),
                about_going_further,
                faults(vec![rule]),
            ));
        }
    }
    // The scenario's own fault rules, each taken away.
    let scripted = seed_list(base, "fault").len();
    for j in 0..scripted {
        out.push(mutant(
            format!("the scenario's fault rule #{} taken away", j + 1),
            any,
            move |t| {
                gandi_array(t, "fault").remove(j);
            },
        ));
    }
    // The scenario's DNS fault rules, each taken away.
    for j in 0..seed_list(base, "dns_fault").len() {
        out.push(mutant(
            format!("the scenario's DNS fault rule #{} taken away", j + 1),
            any,
            move |t| {
                gandi_array(t, "dns_fault").remove(j);
            },
        ));
    }
    // Its rate limit and its propagation lag, taken away.
    for (key, what) in [
        ("rate_limit", "the scenario's rate limit taken away"),
        (
            "propagation",
            "the scenario's propagation lag taken away (DNS serves each write at once)",
        ),
    ] {
        let present = base.get("gandi").and_then(|g| g.get(key)).is_some();
        if present {
            out.push(mutant(what, any, move |t| {
                if let Some(gandi) = t.get_mut("gandi").and_then(Value::as_table_mut) {
                    gandi.remove(key);
                }
            }));
        }
    }
    // ... or making its change before it answers (what a gateway timeout may hide).
    for (j, rule) in seed_list(base, "fault").iter().enumerate() {
        if rule.get("apply").and_then(Value::as_str) != Some("before") {
            out.push(mutant(
                format!(
                    "the scenario's fault rule #{} makes the change first",
                    j + 1
                ),
                about_dns,
                move |t| {
                    if let Some(rule) = gandi_array(t, "fault")[j].as_table_mut() {
                        rule.insert("apply".into(), Value::String("before".into()));
                    }
                },
            ));
        }
    }
    let fixes = seed_fixes(s, base);
    for (what, fix) in &fixes {
        let fix = fix.clone();
        out.push(mutant(what.clone(), about_going_further, move |t| fix(t)));
    }
    // A fix takes the client further; writes failing there make it fail elsewhere, with
    // another error.
    for (what, fix) in fixes {
        let writes_fail = faults(every_write_fails());
        out.push(mutant(
            format!("{what}, and every write fails"),
            |e| matches!(e, Expectation::ErrorContains(_)),
            move |t| {
                fix(t);
                writes_fail(t);
            },
        ));
    }
    out
}

/// LiveDNS writes (PUT, POST) from the `from`-th each, answered 502 without a change.
fn livedns_writes_fail(from: u32) -> Vec<String> {
    ["PUT", "POST"]
        .iter()
        .map(|m| format!("method = \"{m}\"\nfrom = {from}\nstatus = 502"))
        .collect()
}

/// Every write of either API answered as an error, without a change.
fn every_write_fails() -> Vec<String> {
    let mut rules = livedns_writes_fail(1);
    rules.push(format!(
        "xmlrpc_method = \"domain.zone.record.add\"\n{MUTANT_FAULT}"
    ));
    rules
}

/// What became of one mutant.
struct Run {
    what: String,
    /// The expectations it made fail (empty: it survived).
    killed_by: Vec<Expectation>,
}

fn run(s: &Scenario, text: &str, shared: &common::Shared) -> Result<ScenarioReport, Failed> {
    let scenario = Scenario::parse(&s.path, text)
        .map_err(|e| Failed::from(format!("a mutant is not a valid scenario: {e}\n{text}")))?;
    Ok(shared.runtime.block_on(run_scenario_with(
        &scenario,
        RunOptions {
            ca: shared.ca(CaKind::Process),
            twin: false,
            untrusted: false,
        },
    )))
}

fn mutate(path: &Path, shared: &common::Shared) -> Result<(), Failed> {
    let s = Scenario::load(path).map_err(|e| Failed::from(e.to_string()))?;
    if !common::ready(&s, CaKind::Process, &shared.runtime) {
        return Ok(());
    }
    let base: Table = s
        .source
        .parse()
        .map_err(|e| Failed::from(format!("{}: {e}", s.path.display())))?;
    let unmutated = run(&s, &s.source, shared)?;
    if !unmutated.passed {
        return Err(format!(
            "{}: the unmutated scenario must pass first:\n{}",
            s.name,
            unmutated.failures.join("\n")
        )
        .into());
    }
    let exempt: BTreeMap<String, &str> = CLIENT_ONLY
        .iter()
        .filter(|(name, _, _)| *name == s.name)
        .map(|(_, e, why)| (e.to_string(), *why))
        .collect();
    let expectations = s.expect.all();
    let mut met_by: BTreeMap<Expectation, usize> = BTreeMap::new();
    let mut runs: Vec<Run> = Vec::new();
    for m in catalogue(&s, &base) {
        let useful = expectations
            .iter()
            .any(|e| !met_by.contains_key(e) && (m.aims)(*e));
        if !useful {
            continue;
        }
        let mut t = base.clone();
        (m.edit)(&mut t);
        let text = toml::to_string(&t).map_err(|e| Failed::from(e.to_string()))?;
        let report = run(&s, &text, shared)?;
        if !report.passed && report.unmet.is_empty() {
            return Err(format!(
                "{}: the mutant \"{}\" did not run: {}",
                s.name,
                m.what,
                report.failures.join("\n")
            )
            .into());
        }
        let killed_by: Vec<Expectation> = expectations
            .iter()
            .copied()
            .filter(|e| report.unmet.contains(&e.to_string()))
            .collect();
        for e in &killed_by {
            met_by.entry(*e).or_insert(runs.len());
        }
        runs.push(Run {
            what: m.what,
            killed_by,
        });
    }
    let mut lines = vec![format!(
        "{}: {} mutants run, {} killed",
        s.name,
        runs.len(),
        runs.iter().filter(|r| !r.killed_by.is_empty()).count()
    )];
    for (i, r) in runs.iter().enumerate() {
        let verdict = if r.killed_by.is_empty() {
            "survived".to_string()
        } else {
            let names: Vec<String> = r.killed_by.iter().map(ToString::to_string).collect();
            format!("killed by {}", names.join(", "))
        };
        lines.push(format!("  #{} {}: {verdict}", i + 1, r.what));
    }
    let mut problems = Vec::new();
    for e in &expectations {
        let name = e.to_string();
        match (met_by.get(e), exempt.get(&name)) {
            (Some(i), None) => lines.push(format!("  {name} <- #{}", i + 1)),
            (None, Some(why)) => lines.push(format!("  {name}: no change of Gandi reaches it ({why})")),
            (None, None) => problems.push(format!(
                "{name} is met by no mutant: it pins nothing the world can change"
            )),
            (Some(i), Some(_)) => problems.push(format!(
                "{name} is listed in CLIENT_ONLY but mutant #{} makes it fail: remove it from the list",
                i + 1
            )),
        }
    }
    for name in exempt.keys() {
        if !expectations.iter().any(|e| e.to_string() == *name) {
            problems.push(format!(
                "CLIENT_ONLY names {name}, which the scenario does not have"
            ));
        }
    }
    println!("{}", lines.join("\n"));
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}:\n{}\n{}",
            s.path.display(),
            problems.join("\n"),
            lines.join("\n")
        )
        .into())
    }
}

/// Every scenario a [`CLIENT_ONLY`] entry names exists.
fn client_only_names_scenarios(files: &[PathBuf]) -> Result<(), Failed> {
    let names: Vec<String> = files
        .iter()
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    let stale: Vec<&str> = CLIENT_ONLY
        .iter()
        .map(|(name, _, _)| *name)
        .filter(|name| !names.iter().any(|n| n == name))
        .collect();
    if stale.is_empty() {
        Ok(())
    } else {
        Err(format!("CLIENT_ONLY names scenarios that do not exist: {stale:?}").into())
    }
}

fn main() {
    let files = common::corpus();
    common::run_per_scenario(
        "mutants",
        mutate,
        vec![Trial::test(
            "mutants::client_only_names_scenarios",
            move || client_only_names_scenarios(&files),
        )],
    )
}
