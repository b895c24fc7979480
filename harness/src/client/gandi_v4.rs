//! The built-in `gandi` provider: what lego v5's `gandi` provider (legacy v4 XML-RPC;
//! `providers/dns/gandi/gandi.go`, `internal/client.go`, `internal/types.go`) sends, in the
//! same order, with the same request bodies (`xml.Header`, then Go's `xml.Encoder` indented by
//! two spaces, no `<params>` wrapper) and the same error texts. It reads answers the way lego
//! does: fixed paths, only `<int>`, `<string>` and `<boolean>`, anything else reads as zero.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Method;

use super::http::{HttpClient, Route};
use super::lego_env::{LegoEnv, parse_bool};
use super::zone::{Dns01, extract_sub_domain};

/// lego's minimum TTL for Gandi; lower values are raised to it silently.
/// lego's `defaultBaseURL` (`providers/dns/gandi/internal/client.go`).
pub const BASE_URL: &str = "https://rpc.gandi.net/xmlrpc/";

const MIN_TTL: i64 = 300;

/// One XML-RPC parameter as lego's types model them.
enum Param {
    Str(String),
    Int(i64),
    Struct(Vec<(&'static str, Param)>),
}

/// Go's `xml.EscapeText`: the five entities, tab and line breaks as character references,
/// and any character XML cannot carry as U+FFFD.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let allowed = matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..);
        if !allowed {
            out.push('\u{FFFD}');
            continue;
        }
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            _ => out.push(c),
        }
    }
    out
}

fn write_value(out: &mut String, indent: usize, param: &Param) {
    let pad = "  ".repeat(indent);
    out.push_str(&format!("{pad}<value>\n"));
    match param {
        Param::Str(s) => out.push_str(&format!("{pad}  <string>{}</string>\n", escape(s))),
        Param::Int(i) => out.push_str(&format!("{pad}  <int>{i}</int>\n")),
        Param::Struct(members) => {
            out.push_str(&format!("{pad}  <struct>\n"));
            for (name, value) in members {
                out.push_str(&format!("{pad}    <member>\n"));
                out.push_str(&format!("{pad}      <name>{}</name>\n", escape(name)));
                write_value(out, indent + 3, value);
                out.push_str(&format!("{pad}    </member>\n"));
            }
            out.push_str(&format!("{pad}  </struct>\n"));
        }
    }
    out.push_str(&format!("{pad}</value>\n"));
}

/// The body lego sends for a call.
fn method_call(method: &str, params: &[Param]) -> String {
    // `xml.Header`.
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<methodCall>\n");
    out.push_str(&format!("  <methodName>{}</methodName>\n", escape(method)));
    for p in params {
        out.push_str("  <param>\n");
        write_value(&mut out, 2, p);
        out.push_str("  </param>\n");
    }
    out.push_str("</methodCall>");
    out
}

/// What lego reads of an answer.
#[derive(Debug, Default)]
struct Answer {
    fault_code: i64,
    fault_string: String,
    /// `params>param>value>int`
    int: i64,
    /// `params>param>value>boolean`
    boolean: bool,
    /// `params>param>value>struct>member`, name → `value>int`
    members: BTreeMap<String, i64>,
}

fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children().find(|c| c.has_tag_name(name))
}

/// All the character data of an element, untrimmed (Go concatenates text and CDATA).
fn text_of(node: Option<roxmltree::Node<'_, '_>>) -> String {
    node.map(|n| {
        n.descendants()
            .filter(|d| d.is_text())
            .filter_map(|d| d.text())
            .collect()
    })
    .unwrap_or_default()
}

/// `<int>` as Go's decoder reads it: trimmed, empty is 0, anything else must parse.
fn int_of(node: Option<roxmltree::Node<'_, '_>>) -> Result<i64, String> {
    let text = text_of(node);
    let text = text.trim();
    if text.is_empty() {
        return Ok(0);
    }
    text.parse()
        .map_err(|_| format!("unmarshal error: strconv.ParseInt: parsing {text:?}: invalid syntax"))
}

/// `<boolean>` as Go's decoder reads it (`strconv.ParseBool`): empty is false.
fn bool_of(node: Option<roxmltree::Node<'_, '_>>) -> Result<bool, String> {
    let text = text_of(node);
    let text = text.trim();
    if text.is_empty() {
        return Ok(false);
    }
    parse_bool(text).ok_or_else(|| {
        format!("unmarshal error: strconv.ParseBool: parsing {text:?}: invalid syntax")
    })
}

fn parse_answer(body: &str) -> Result<Answer, String> {
    if body.trim().is_empty() {
        return Err("unmarshal error: EOF".into());
    }
    let doc = roxmltree::Document::parse(body).map_err(|e| format!("unmarshal error: {e}"))?;
    let root = doc.root_element();
    let mut answer = Answer::default();
    if let Some(fault) = child(root, "fault") {
        let members = child(fault, "value")
            .and_then(|v| child(v, "struct"))
            .into_iter()
            .flat_map(|s| s.children().filter(|c| c.has_tag_name("member")));
        // The last member of each kind wins, as Go's decoder assigns in order.
        for member in members {
            let value = child(member, "value");
            if let Some(i) = value.and_then(|v| child(v, "int")) {
                answer.fault_code = int_of(Some(i))?;
            }
            if let Some(s) = value.and_then(|v| child(v, "string")) {
                answer.fault_string = text_of(Some(s));
            }
        }
    }
    let params = child(root, "params")
        .into_iter()
        .flat_map(|p| p.children().filter(|c| c.has_tag_name("param")));
    for param in params {
        let Some(value) = child(param, "value") else {
            continue;
        };
        if let Some(i) = child(value, "int") {
            answer.int = int_of(Some(i))?;
        }
        if let Some(b) = child(value, "boolean") {
            answer.boolean = bool_of(Some(b))?;
        }
        if let Some(s) = child(value, "struct") {
            for member in s.children().filter(|c| c.has_tag_name("member")) {
                let name = text_of(child(member, "name"));
                let v = int_of(child(member, "value").and_then(|v| child(v, "int")))?;
                answer.members.insert(name, v);
            }
        }
    }
    Ok(answer)
}

struct InProgress {
    zone_id: i64,
    new_zone_id: i64,
    auth_zone: String,
}

/// lego's `gandi` provider.
pub struct GandiV4 {
    http: HttpClient,
    url: String,
    api_key: String,
    ttl: i64,
    /// `Timeout()`: the propagation timeout and polling interval dns01 uses.
    pub(crate) propagation: (Duration, Duration),
    dns: Arc<Dns01>,
    state: Mutex<State>,
    /// What lego logs while configuring (unreadable `_FILE`s).
    pub(crate) warnings: Vec<String>,
}

#[derive(Default)]
struct State {
    fqdns: HashMap<String, InProgress>,
    zones: std::collections::HashSet<String>,
}

impl GandiV4 {
    /// `NewDNSProvider`: `GANDI_API_KEY` (required), `GANDI_TTL` (300), `GANDI_PROPAGATION_TIMEOUT`
    /// (2400 s), `GANDI_POLLING_INTERVAL` (60 s), `GANDI_HTTP_TIMEOUT` (60 s), each also from its
    /// `_FILE`.
    pub fn from_env(env: &LegoEnv<'_>, route: &Route, dns: Arc<Dns01>) -> Result<Self, String> {
        let api_key = env.get_or_file("GANDI_API_KEY");
        if api_key.is_empty() {
            return Err("gandi: some credentials information are missing: GANDI_API_KEY".into());
        }
        Ok(Self {
            http: HttpClient::new(
                route,
                env.seconds_or("GANDI_HTTP_TIMEOUT", Duration::from_secs(60)),
            )
            .map_err(|e| format!("gandi: {e}"))?,
            url: BASE_URL.to_string(),
            api_key,
            ttl: env.int_or("GANDI_TTL", MIN_TTL),
            propagation: (
                env.seconds_or("GANDI_PROPAGATION_TIMEOUT", Duration::from_secs(40 * 60)),
                env.seconds_or("GANDI_POLLING_INTERVAL", Duration::from_secs(60)),
            ),
            dns,
            state: Mutex::new(State::default()),
            warnings: env.warnings(),
        })
    }

    async fn call(&self, method: &str, params: Vec<Param>) -> Result<Answer, String> {
        let mut all = vec![Param::Str(self.api_key.clone())];
        all.extend(params);
        let body = method_call(method, &all);
        let reply = self
            .http
            .send(
                Method::POST,
                &self.url,
                &[("content-type", "text/xml".to_string())],
                Some(body.into_bytes()),
            )
            .await
            .map_err(|e| format!("unable to communicate with the API server: error: {e}"))?;
        let answer = parse_answer(&String::from_utf8_lossy(&reply.body))?;
        if answer.fault_code != 0 {
            return Err(format!(
                "Gandi DNS: RPC Error: ({}) {}",
                answer.fault_code, answer.fault_string
            ));
        }
        Ok(answer)
    }

    /// lego's `Present`: find the zone, clone it, add the TXT record to a new version of the
    /// clone, activate it and point the domain at the clone.
    pub async fn present(&self, domain: &str, value: &str) -> Result<(), String> {
        let fqdn = self.dns.effective_fqdn(domain).await;
        let ttl = self.ttl.max(MIN_TTL);
        let auth_zone = self
            .dns
            .find_zone_by_fqdn(&fqdn)
            .await
            .map_err(|e| format!("gandi: could not find zone for domain {domain:?}: {e}"))?;
        let answer = self
            .call("domain.info", vec![Param::Str(auth_zone.clone())])
            .await
            .map_err(|e| format!("gandi: {e}"))?;
        let zone_id = answer.members.get("zone_id").copied().unwrap_or(0);
        if zone_id == 0 {
            return Err(format!("gandi: could not find zone_id for {auth_zone}"));
        }
        let sub = extract_sub_domain(&fqdn, &auth_zone).map_err(|e| format!("gandi: {e}"))?;
        {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if !state.zones.insert(auth_zone.clone()) {
                return Err(format!(
                    "gandi: challenge already in progress for authZone {auth_zone}"
                ));
            }
        }
        let result = self
            .present_in_zone(&auth_zone, zone_id, &sub, value, ttl)
            .await;
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match result {
            Ok(new_zone_id) => {
                state.fqdns.insert(
                    fqdn,
                    InProgress {
                        zone_id,
                        new_zone_id,
                        auth_zone,
                    },
                );
                Ok(())
            }
            Err(e) => {
                // lego keeps the zone marked only once the whole sequence succeeded.
                state.zones.remove(&auth_zone);
                Err(e)
            }
        }
    }

    async fn present_in_zone(
        &self,
        auth_zone: &str,
        zone_id: i64,
        sub: &str,
        value: &str,
        ttl: i64,
    ) -> Result<i64, String> {
        let name = format!(
            "{} [ACME Challenge {}]",
            auth_zone.trim_end_matches('.'),
            rfc822z_now()
        );
        let clone = self
            .call(
                "domain.zone.clone",
                vec![
                    Param::Int(zone_id),
                    Param::Int(0),
                    Param::Struct(vec![("name", Param::Str(name))]),
                ],
            )
            .await?;
        let new_zone_id = clone.members.get("id").copied().unwrap_or(0);
        if new_zone_id == 0 {
            return Err("could not determine cloned zone_id".into());
        }
        let version = self
            .call("domain.zone.version.new", vec![Param::Int(new_zone_id)])
            .await
            .map_err(|e| format!("gandi: {e}"))?
            .int;
        if version == 0 {
            return Err("gandi: could not create new zone version".into());
        }
        self.call(
            "domain.zone.record.add",
            vec![
                Param::Int(new_zone_id),
                Param::Int(version),
                Param::Struct(vec![
                    ("type", Param::Str("TXT".into())),
                    ("name", Param::Str(sub.to_string())),
                    ("value", Param::Str(value.to_string())),
                    ("ttl", Param::Int(ttl)),
                ]),
            ],
        )
        .await
        .map_err(|e| format!("gandi: {e}"))?;
        let set = self
            .call(
                "domain.zone.version.set",
                vec![Param::Int(new_zone_id), Param::Int(version)],
            )
            .await
            .map_err(|e| format!("gandi: {e}"))?;
        if !set.boolean {
            return Err("gandi: could not set zone version".into());
        }
        let domain_info = self
            .call(
                "domain.zone.set",
                vec![Param::Str(auth_zone.to_string()), Param::Int(new_zone_id)],
            )
            .await
            .map_err(|e| format!("gandi: {e}"))?;
        if domain_info.members.get("zone_id").copied() != Some(new_zone_id) {
            return Err(format!("gandi: could not set new zone_id for {auth_zone}"));
        }
        Ok(new_zone_id)
    }

    /// lego's `CleanUp`: point the domain back at its zone (the answer must name that zone)
    /// and delete the clone.
    pub async fn cleanup(&self, domain: &str) -> Result<(), String> {
        let fqdn = self.dns.effective_fqdn(domain).await;
        let entry = {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let Some(entry) = state.fqdns.remove(&fqdn) else {
                return Ok(());
            };
            state.zones.remove(&entry.auth_zone);
            entry
        };
        let domain_info = self
            .call(
                "domain.zone.set",
                vec![
                    Param::Str(entry.auth_zone.clone()),
                    Param::Int(entry.zone_id),
                ],
            )
            .await
            .map_err(|e| format!("gandi: {e}"))?;
        // `Client.SetZone` checks the answer the same way in Present and in CleanUp.
        if domain_info.members.get("zone_id").copied() != Some(entry.zone_id) {
            return Err(format!(
                "gandi: could not set new zone_id for {}",
                entry.auth_zone
            ));
        }
        let deleted = self
            .call("domain.zone.delete", vec![Param::Int(entry.new_zone_id)])
            .await?;
        if !deleted.boolean {
            return Err("could not delete zone_id".into());
        }
        Ok(())
    }
}

/// Go's `time.RFC822Z` layout, `02 Jan 06 15:04 -0700`, in UTC (lego uses the local time zone;
/// every client the harness runs gets `TZ=UTC`).
fn rfc822z_now() -> String {
    let format = time::macros::format_description!(
        "[day] [month repr:short] [year repr:last_two] [hour]:[minute] +0000"
    );
    time::OffsetDateTime::now_utc()
        .format(format)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_have_no_params_wrapper_and_go_indentation() {
        let body = method_call(
            "domain.zone.clone",
            &[
                Param::Str("key".into()),
                Param::Int(42),
                Param::Struct(vec![("name", Param::Str("a & b".into()))]),
            ],
        );
        let expected = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<methodCall>\n  <methodName>domain.zone.clone</methodName>\n  <param>\n    <value>\n      <string>key</string>\n    </value>\n  </param>\n  <param>\n    <value>\n      <int>42</int>\n    </value>\n  </param>\n  <param>\n    <value>\n      <struct>\n        <member>\n          <name>name</name>\n          <value>\n            <string>a &amp; b</string>\n          </value>\n        </member>\n      </struct>\n    </value>\n  </param>\n</methodCall>";
        assert_eq!(body, expected);
    }

    #[test]
    fn answers_are_read_at_lego_s_fixed_paths() {
        let fault = "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value><int>510042</int></value>\n</member>\n<member>\n<name>faultString</name>\n<value><string>nope</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n";
        let a = parse_answer(fault).unwrap();
        assert_eq!((a.fault_code, a.fault_string.as_str()), (510042, "nope"));
        let info = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><struct>\n<member>\n<name>zone_id</name>\n<value><int>7</int></value>\n</member>\n<member>\n<name>fqdn</name>\n<value><string>x</string></value>\n</member>\n</struct></value>\n</param>\n</params>\n</methodResponse>\n";
        assert_eq!(parse_answer(info).unwrap().members.get("zone_id"), Some(&7));
        let i4 = "<methodResponse><params><param><value><i4>6</i4></value></param></params></methodResponse>";
        assert_eq!(parse_answer(i4).unwrap().int, 0, "lego reads only <int>");
        let junk = "<methodResponse><params><param><value><int>abc</int></value></param></params></methodResponse>";
        assert_eq!(
            parse_answer(junk).unwrap_err(),
            "unmarshal error: strconv.ParseInt: parsing \"abc\": invalid syntax"
        );
        let t = "<methodResponse><params><param><value><boolean>T</boolean></value></param></params></methodResponse>";
        assert!(parse_answer(t).unwrap().boolean, "Go's ParseBool spellings");
        assert_eq!(parse_answer("  ").unwrap_err(), "unmarshal error: EOF");
    }
}
