//! The built-in `gandiv5` provider: what lego v5's `gandiv5` provider sends to LiveDNS
//! (`providers/dns/gandiv5/gandiv5.go`, `internal/client.go`): `GET` the TXT rrset, `PUT` it
//! back with the new value first, `DELETE` it on clean-up, at the name the challenge's CNAME
//! leads to, with the same variables, headers, body decoding and error texts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Method;
use serde::Serialize;

use super::http::{HttpClient, Reply, Route};
use super::lego_env::LegoEnv;
use super::zone::{Dns01, extract_sub_domain};

/// `minTTL`.
/// lego's `defaultBaseURL` (`providers/dns/gandiv5/internal/client.go`).
pub const BASE_URL: &str = "https://api.gandi.net/v5/livedns";

const MIN_TTL: i64 = 300;

/// lego's `Record`: the PUT body (`json.Encoder`: no spaces, a trailing newline).
#[derive(Serialize, Default, Debug)]
struct Record {
    #[serde(rename = "rrset_ttl")]
    ttl: i64,
    #[serde(rename = "rrset_values")]
    values: Vec<String>,
}

struct InProgress {
    auth_zone: String,
    field_name: String,
}

/// lego's `gandiv5` provider.
pub struct GandiV5 {
    http: HttpClient,
    base: String,
    api_key: String,
    pat: String,
    ttl: i64,
    /// `Timeout()`: the propagation timeout and polling interval dns01 uses.
    pub(crate) propagation: (Duration, Duration),
    dns: Arc<Dns01>,
    /// `inProgressFQDNs`, keyed by the effective FQDN.
    in_progress: Mutex<HashMap<String, InProgress>>,
    /// What lego logs while configuring (the API key deprecation, unreadable `_FILE`s).
    pub(crate) warnings: Vec<String>,
}

impl GandiV5 {
    /// `NewDNSProvider` / `NewDNSProviderConfig`: `GANDIV5_PERSONAL_ACCESS_TOKEN`,
    /// `GANDIV5_API_KEY`, `GANDIV5_TTL` (300), `GANDIV5_PROPAGATION_TIMEOUT` (1200 s),
    /// `GANDIV5_POLLING_INTERVAL` (20 s), `GANDIV5_HTTP_TIMEOUT` (10 s), each also from its
    /// `_FILE`.
    pub fn from_env(env: &LegoEnv<'_>, route: &Route, dns: Arc<Dns01>) -> Result<Self, String> {
        let api_key = env.get_or_file("GANDIV5_API_KEY");
        let pat = env.get_or_file("GANDIV5_PERSONAL_ACCESS_TOKEN");
        let ttl = env.int_or("GANDIV5_TTL", MIN_TTL);
        let propagation = (
            env.seconds_or("GANDIV5_PROPAGATION_TIMEOUT", Duration::from_secs(20 * 60)),
            env.seconds_or("GANDIV5_POLLING_INTERVAL", Duration::from_secs(20)),
        );
        let http = HttpClient::new(
            route,
            env.seconds_or("GANDIV5_HTTP_TIMEOUT", Duration::from_secs(10)),
        )
        .map_err(|e| format!("gandiv5: {e}"))?;
        let mut warnings = env.warnings();
        if !api_key.is_empty() {
            warnings.push(
                "level=WARN msg=\"gandiv5: API Key is deprecated, use Personal Access Token instead\""
                    .into(),
            );
        }
        if api_key.is_empty() && pat.is_empty() {
            return Err("gandiv5: credentials information are missing".into());
        }
        if ttl < MIN_TTL {
            return Err(format!(
                "gandiv5: invalid TTL, TTL ({ttl}) must be greater than {MIN_TTL}"
            ));
        }
        Ok(Self {
            http,
            base: BASE_URL.to_string(),
            api_key,
            pat,
            ttl,
            propagation,
            dns,
            in_progress: Mutex::new(HashMap::new()),
            warnings,
        })
    }

    /// `newJSONRequest` and `do`: `Accept`, `Content-Type` with a body, `Authorization: Apikey`
    /// then `Bearer` (a PAT wins); 404 on GET is "no record"; below 400 the body is decoded;
    /// from 400 up, `parseError`.
    async fn request(
        &self,
        method: Method,
        domain: &str,
        name: &str,
        payload: Option<&Record>,
    ) -> Result<Reply, String> {
        let url = format!("{}/domains/{domain}/records/{name}/TXT", self.base);
        let mut headers = vec![("accept", "application/json".to_string())];
        let body = match payload {
            Some(p) => {
                headers.push(("content-type", "application/json".to_string()));
                let mut b = serde_json::to_vec(p).map_err(|e| e.to_string())?;
                b.push(b'\n');
                Some(b)
            }
            None => None,
        };
        if !self.api_key.is_empty() {
            headers.push(("authorization", format!("Apikey {}", self.api_key)));
        }
        if !self.pat.is_empty() {
            headers.retain(|(h, _)| *h != "authorization");
            headers.push(("authorization", format!("Bearer {}", self.pat)));
        }
        let reply = self
            .http
            .send(method.clone(), &url, &headers, body)
            .await
            .map_err(|e| format!("unable to communicate with the API server: error: {e}"))?;
        if reply.status == 404 && method == Method::GET {
            return Ok(reply);
        }
        if reply.status < 400 {
            return Ok(reply);
        }
        Err(parse_error(&reply))
    }

    /// `Present`.
    pub async fn present(&self, domain: &str, value: &str) -> Result<(), String> {
        let fqdn = self.dns.effective_fqdn(domain).await;
        let auth_zone = self
            .dns
            .find_zone_by_fqdn(&fqdn)
            .await
            .map_err(|e| format!("gandiv5: could not find zone for domain {domain:?}: {e}"))?;
        let sub = extract_sub_domain(&fqdn, &auth_zone).map_err(|e| format!("gandiv5: {e}"))?;
        let zone_name = auth_zone.trim_end_matches('.').to_string();

        let existing = self
            .request(Method::GET, &zone_name, &sub, None)
            .await
            .and_then(|reply| decode_record(&reply))
            .map_err(|e| {
                format!("unable to get TXT records for domain {zone_name} and name {sub}: {e}")
            })?;
        let mut values = vec![value.to_string()];
        values.extend(existing);
        let record = Record {
            ttl: self.ttl,
            values,
        };
        self.request(Method::PUT, &zone_name, &sub, Some(&record))
            .await
            .and_then(|reply| decode_api_response(&reply))
            .map_err(|e| {
                format!("unable to create TXT record for domain {zone_name} and name {sub}: {e}")
            })?;
        self.in_progress
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                fqdn,
                InProgress {
                    auth_zone,
                    field_name: sub,
                },
            );
        Ok(())
    }

    /// `CleanUp`: deletes the whole rrset, once per effective FQDN.
    pub async fn cleanup(&self, domain: &str) -> Result<(), String> {
        let fqdn = self.dns.effective_fqdn(domain).await;
        let Some(entry) = self
            .in_progress
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&fqdn)
        else {
            return Ok(());
        };
        let zone_name = entry.auth_zone.trim_end_matches('.');
        self.request(Method::DELETE, zone_name, &entry.field_name, None)
            .await
            .and_then(|reply| decode_api_response(&reply))
            .map_err(|e| {
                format!(
                    "gandiv5: unable to delete TXT record for domain {zone_name} and name {}: {e}",
                    entry.field_name
                )
            })
    }
}

/// `errutils.NewUnmarshalError`.
fn unmarshal_error(reply: &Reply, e: &str) -> String {
    format!(
        "unable to unmarshal response: [status code: {}] body: {} error: {e}",
        reply.status,
        String::from_utf8_lossy(&reply.body).trim()
    )
}

/// The GET answer decoded into lego's `Record` (a 404 body too): its values.
fn decode_record(reply: &Reply) -> Result<Vec<String>, String> {
    if reply.body.is_empty() {
        return Ok(Vec::new());
    }
    let object =
        go_json_object(&reply.body, "internal.Record").map_err(|e| unmarshal_error(reply, &e))?;
    let Some(object) = object else {
        return Ok(Vec::new());
    };
    let field = |name: &str| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    if let Some(ttl) = field("rrset_ttl")
        && !(ttl.is_null() || ttl.is_i64())
    {
        return Err(unmarshal_error(
            reply,
            &format!(
                "json: cannot unmarshal {} into Go struct field Record.rrset_ttl of type int",
                go_type(ttl)
            ),
        ));
    }
    match field("rrset_values") {
        None => Ok(Vec::new()),
        Some(v) if v.is_null() => Ok(Vec::new()),
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                serde_json::Value::String(s) => Ok(s.clone()),
                serde_json::Value::Null => Ok(String::new()),
                other => Err(unmarshal_error(
                    reply,
                    &format!(
                        "json: cannot unmarshal {} into Go struct field Record.rrset_values of type string",
                        go_type(other)
                    ),
                )),
            })
            .collect(),
        Some(other) => Err(unmarshal_error(
            reply,
            &format!(
                "json: cannot unmarshal {} into Go struct field Record.rrset_values of type []string",
                go_type(other)
            ),
        )),
    }
}

/// A PUT or DELETE answer decoded into lego's `apiResponse` (`message`, `uuid`): nothing is
/// read from it, but a body that does not decode is an error.
fn decode_api_response(reply: &Reply) -> Result<(), String> {
    if reply.body.is_empty() {
        return Ok(());
    }
    let object = go_json_object(&reply.body, "internal.apiResponse")
        .map_err(|e| unmarshal_error(reply, &e))?;
    for (key, value) in object.into_iter().flatten() {
        for field in ["message", "uuid"] {
            if key.eq_ignore_ascii_case(field) && !(value.is_string() || value.is_null()) {
                return Err(unmarshal_error(
                    reply,
                    &format!(
                        "json: cannot unmarshal {} into Go struct field apiResponse.{field} of type string",
                        go_type(&value)
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// `json.Unmarshal` into a struct: an object (or `null`), else Go's error text.
fn go_json_object(
    body: &[u8],
    go_type_name: &str,
) -> Result<Option<serde_json::Map<String, serde_json::Value>>, String> {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim_start();
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(map)) => Ok(Some(map)),
        Ok(serde_json::Value::Null) => Ok(None),
        Ok(other) => Err(format!(
            "json: cannot unmarshal {} into Go value of type {go_type_name}",
            go_type(&other)
        )),
        Err(_) if trimmed.is_empty() => Err("unexpected end of JSON input".into()),
        Err(e) if e.is_eof() => Err("unexpected end of JSON input".into()),
        Err(e) => {
            // The character serde stopped at, as Go names it.
            let at = e.column().saturating_sub(1);
            let line = text.lines().nth(e.line().saturating_sub(1)).unwrap_or("");
            let c = line.chars().nth(at).unwrap_or(' ');
            let position = if e.line() == 1 && line[..line.len().min(at)].trim().is_empty() {
                "looking for beginning of value"
            } else {
                "after top-level value"
            };
            Err(format!("invalid character '{c}' {position}"))
        }
    }
}

/// Go's name of a JSON value's type in decoding errors.
fn go_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// `parseError`: `<status>: request failed: <message>` when the body decodes as an
/// `apiResponse`, else `errutils.NewUnexpectedStatusCodeError`.
fn parse_error(reply: &Reply) -> String {
    let message = go_json_object(&reply.body, "internal.apiResponse")
        .ok()
        .map(|o| {
            o.and_then(|o| {
                o.into_iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("message"))
                    .and_then(|(_, v)| v.as_str().map(str::to_string))
            })
            .unwrap_or_default()
        });
    match message {
        Some(m) if decode_api_response(reply).is_ok() => {
            format!("{}: request failed: {m}", reply.status)
        }
        _ => format!(
            "unexpected status code: [status code: {}] body: {}",
            reply.status,
            String::from_utf8_lossy(&reply.body).trim()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_render_like_lego() {
        let reply = Reply {
            status: 403,
            body: bytes::Bytes::from_static(
                br#"{"object":"HTTPForbidden","cause":"Forbidden","code":403,"message":"Access was denied to this resource."}"#,
            ),
        };
        assert_eq!(
            parse_error(&reply),
            "403: request failed: Access was denied to this resource."
        );
    }

    #[test]
    fn the_put_body_is_what_go_encodes() {
        let r = Record {
            ttl: 300,
            values: vec!["new".into(), "old".into()],
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"rrset_ttl":300,"rrset_values":["new","old"]}"#
        );
    }

    #[test]
    fn a_ttl_below_300_is_refused_and_an_api_key_is_deprecated() {
        let env = std::collections::BTreeMap::from([
            ("GANDIV5_API_KEY".to_string(), "x".to_string()),
            ("GANDIV5_TTL".to_string(), "120".to_string()),
        ]);
        let dns = Arc::new(Dns01::new("127.0.0.1:53".parse().unwrap(), true));
        let err = GandiV5::from_env(&LegoEnv::new(&env), &Route::default(), dns.clone())
            .err()
            .unwrap();
        assert_eq!(
            err,
            "gandiv5: invalid TTL, TTL (120) must be greater than 300"
        );
        let env =
            std::collections::BTreeMap::from([("GANDIV5_API_KEY".to_string(), "x".to_string())]);
        let p = GandiV5::from_env(&LegoEnv::new(&env), &Route::default(), dns).unwrap();
        assert!(
            p.warnings[0].contains("API Key is deprecated"),
            "{:?}",
            p.warnings
        );
        assert_eq!(
            p.propagation,
            (Duration::from_secs(1200), Duration::from_secs(20))
        );
    }

    fn reply(status: u16, body: &'static str) -> Reply {
        Reply {
            status,
            body: bytes::Bytes::from_static(body.as_bytes()),
        }
    }

    #[test]
    fn success_bodies_are_decoded_as_go_decodes_them() {
        assert_eq!(
            decode_api_response(&reply(201, r#"{"message":"DNS Record Created"}"#)),
            Ok(())
        );
        assert_eq!(decode_api_response(&reply(204, "")), Ok(()));
        assert_eq!(
            decode_api_response(&reply(201, "Created")),
            Err("unable to unmarshal response: [status code: 201] body: Created error: invalid character 'C' looking for beginning of value".into())
        );
        assert_eq!(
            decode_api_response(&reply(201, r#"{"message":1}"#)),
            Err("unable to unmarshal response: [status code: 201] body: {\"message\":1} error: json: cannot unmarshal number into Go struct field apiResponse.message of type string".into())
        );
        assert_eq!(
            decode_record(&reply(200, r#"{"rrset_values":["a","b"],"rrset_ttl":300}"#)),
            Ok(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            decode_record(&reply(404, r#"{"code": 404, "message": "Can't find"}"#)),
            Ok(vec![])
        );
        assert_eq!(
            parse_error(&reply(
                403,
                r#"{"Message":"Access was denied to this resource."}"#
            )),
            "403: request failed: Access was denied to this resource."
        );
        assert_eq!(
            parse_error(&reply(502, "<html>Bad Gateway</html>")),
            "unexpected status code: [status code: 502] body: <html>Bad Gateway</html>"
        );
    }
}
