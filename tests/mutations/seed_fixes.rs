//! Seed edits that fix what a misconfiguration scenario is about.

use harness::scenario::Scenario;
use toml::{Table, Value};

use super::{gandi_array, quoted, table};

/// `[gandi]`'s array of tables `key` as the scenario wrote it.
pub(crate) fn seed_list(base: &Table, key: &str) -> Vec<Table> {
    base.get("gandi")
        .and_then(|g| g.get(key))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_table).cloned().collect())
        .unwrap_or_default()
}

pub(crate) type Edit = std::sync::Arc<dyn Fn(&mut Table) + Send + Sync>;

/// Seed edits that fix what a misconfiguration scenario is about: each credential and each
/// domain made right in one way, and the names the client asks for made Gandi's.
pub(crate) fn seed_fixes(s: &Scenario, base: &Table) -> Vec<(String, Edit)> {
    let mut out: Vec<(String, Edit)> = Vec::new();
    let entry = |key: &'static str, i: usize, f: Box<dyn Fn(&mut Table) + Send + Sync>| -> Edit {
        std::sync::Arc::new(move |t: &mut Table| {
            if let Some(entry) = gandi_array(t, key)[i].as_table_mut() {
                f(entry);
            }
        })
    };
    for (i, c) in seed_list(base, "credential").iter().enumerate() {
        for key in ["expires", "permissions", "domains", "organization"] {
            if c.contains_key(key) {
                out.push((
                    format!("credential #{} without its `{key}`", i + 1),
                    entry(
                        "credential",
                        i,
                        Box::new(move |c| {
                            c.remove(key);
                        }),
                    ),
                ));
            }
        }
        let kind = c.get("kind").and_then(Value::as_str).unwrap_or_default();
        for other in ["pat", "apikey", "v4-key"] {
            if other != kind {
                out.push((
                    format!("credential #{} of kind {other:?}", i + 1),
                    entry(
                        "credential",
                        i,
                        Box::new(move |c| {
                            c.insert("kind".into(), Value::String(other.into()));
                        }),
                    ),
                ));
            }
        }
    }
    let domains = seed_list(base, "domain");
    for (i, d) in domains.iter().enumerate() {
        let platform = d.get("dns").and_then(Value::as_str).unwrap_or("livedns");
        let flipped = if platform == "legacy" {
            "livedns"
        } else {
            "legacy"
        };
        out.push((
            format!("domain #{} served by {flipped} DNS", i + 1),
            entry(
                "domain",
                i,
                Box::new(move |d| {
                    d.insert("dns".into(), Value::String(flipped.into()));
                }),
            ),
        ));
        for key in [
            "account",
            "organization",
            "nameservers",
            "zone_owner",
            "shared_zone",
        ] {
            if d.contains_key(key) {
                out.push((
                    format!("domain #{} without its `{key}`", i + 1),
                    entry(
                        "domain",
                        i,
                        Box::new(move |d| {
                            d.remove(key);
                        }),
                    ),
                ));
            }
        }
        let is_cname = |r: &Value| r.get("type").and_then(Value::as_str) == Some("CNAME");
        let has_cname = d
            .get("record")
            .and_then(Value::as_array)
            .is_some_and(|r| r.iter().any(is_cname));
        if has_cname {
            out.push((
                format!("domain #{} without its CNAME records", i + 1),
                entry(
                    "domain",
                    i,
                    Box::new(move |d| {
                        if let Some(Value::Array(records)) = d.get_mut("record") {
                            records.retain(|r| !is_cname(r));
                        }
                    }),
                ),
            ));
        }
    }
    // Gandi of today instead of the scenario's date.
    if base
        .get("gandi")
        .and_then(Value::as_table)
        .is_some_and(|g| g.contains_key("as_of"))
    {
        out.push((
            "Gandi as of today (no `as_of`)".to_string(),
            std::sync::Arc::new(|t: &mut Table| {
                if let Some(gandi) = t.get_mut("gandi").and_then(Value::as_table_mut) {
                    gandi.remove("as_of");
                }
            }),
        ));
    }
    let held: Vec<String> = domains
        .iter()
        .filter_map(|d| d.get("fqdn").and_then(Value::as_str))
        .map(str::to_ascii_lowercase)
        .collect();
    for name in &s.request.domains {
        let name = name.trim_start_matches("*.").to_ascii_lowercase();
        if held.contains(&name) {
            continue;
        }
        let rule = format!("fqdn = {}", quoted(&name));
        out.push((
            format!("{name} is a domain of the account"),
            std::sync::Arc::new(move |t: &mut Table| {
                gandi_array(t, "domain").push(Value::Table(table(&rule)));
            }),
        ));
    }
    out
}
