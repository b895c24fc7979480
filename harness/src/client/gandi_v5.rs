//! The built-in `gandiv5` provider: what current lego's `gandiv5` provider sends to LiveDNS
//! (`GET` the TXT rrset, `PUT` it back with the new value first, `DELETE` it on clean-up), with
//! the same headers and error texts.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Mutex;

use http::Method;
use serde::{Deserialize, Serialize};

use super::http::{HttpClient, Reply};
use super::zone;

const MIN_TTL: i64 = 300;

#[derive(Serialize, Deserialize, Default)]
struct Record {
    #[serde(rename = "rrset_ttl", default)]
    ttl: i64,
    #[serde(rename = "rrset_values", default)]
    values: Vec<String>,
}

#[derive(Deserialize, Default)]
struct ApiResponse {
    #[serde(default)]
    message: String,
}

struct InProgress {
    auth_zone: String,
    field_name: String,
}

/// lego's `gandiv5` provider.
pub struct GandiV5 {
    http: HttpClient,
    base: String,
    api_key: Option<String>,
    pat: Option<String>,
    ttl: i64,
    dns: SocketAddr,
    in_progress: Mutex<HashMap<String, InProgress>>,
}

impl GandiV5 {
    /// Configured from lego's variables: `GANDIV5_PERSONAL_ACCESS_TOKEN` and/or
    /// `GANDIV5_API_KEY`, `GANDIV5_TTL`.
    pub fn from_env(
        env: &BTreeMap<String, String>,
        base: String,
        dns: SocketAddr,
        http: HttpClient,
    ) -> Result<Self, String> {
        let get = |k: &str| env.get(k).filter(|v| !v.is_empty()).cloned();
        let api_key = get("GANDIV5_API_KEY");
        let pat = get("GANDIV5_PERSONAL_ACCESS_TOKEN");
        if api_key.is_none() && pat.is_none() {
            return Err("gandiv5: credentials information are missing".into());
        }
        let ttl = get("GANDIV5_TTL")
            .and_then(|t| t.parse().ok())
            .unwrap_or(MIN_TTL);
        if ttl < MIN_TTL {
            return Err(format!(
                "gandiv5: invalid TTL, TTL ({ttl}) must be greater than {MIN_TTL}"
            ));
        }
        Ok(Self {
            http,
            base,
            api_key,
            pat,
            ttl,
            dns,
            in_progress: Mutex::new(HashMap::new()),
        })
    }

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
                // Go's json.Encoder ends the body with a newline.
                let mut b = serde_json::to_vec(p).map_err(|e| e.to_string())?;
                b.push(b'\n');
                Some(b)
            }
            None => None,
        };
        if let Some(key) = &self.api_key {
            headers.push(("authorization", format!("Apikey {key}")));
        }
        if let Some(pat) = &self.pat {
            // Set after the key, so a PAT wins when both are given, as in lego.
            headers.retain(|(h, _)| *h != "authorization");
            headers.push(("authorization", format!("Bearer {pat}")));
        }
        let reply = self
            .http
            .send(method.clone(), &url, &headers, body)
            .await
            .map_err(|e| format!("unable to communicate with the API server: error: {e}"))?;
        // A 404 on GET means "no record yet"; any other status from 400 up is an error.
        if reply.status < 400 || (reply.status == 404 && method == Method::GET) {
            return Ok(reply);
        }
        Err(parse_error(&reply))
    }

    /// lego's `Present`.
    pub async fn present(&self, domain: &str, value: &str) -> Result<(), String> {
        let fqdn = format!("_acme-challenge.{domain}.");
        let auth_zone = zone::find_zone(&fqdn, self.dns)
            .await
            .map_err(|e| format!("gandiv5: could not find zone for domain {domain:?}: {e}"))?;
        let sub = fqdn
            .strip_suffix(&format!(".{auth_zone}"))
            .map(str::to_string)
            .ok_or_else(|| {
                format!(
                    "gandiv5: no subdomain because the domain and the zone are identical: {fqdn}"
                )
            })?;
        let zone_name = auth_zone.trim_end_matches('.').to_string();

        let existing = self
            .request(Method::GET, &zone_name, &sub, None)
            .await
            .map_err(|e| {
                format!("unable to get TXT records for domain {zone_name} and name {sub}: {e}")
            })
            .and_then(|reply| {
                if reply.body.is_empty() {
                    return Ok(Record::default());
                }
                serde_json::from_slice::<Record>(&reply.body).map_err(|e| {
                    format!(
                        "unable to get TXT records for domain {zone_name} and name {sub}: unable to unmarshal response: [status code: {}] body: {} error: {e}",
                        reply.status,
                        String::from_utf8_lossy(&reply.body).trim()
                    )
                })
            })?;
        let mut values = vec![value.to_string()];
        values.extend(existing.values);
        let record = Record {
            ttl: self.ttl,
            values,
        };
        self.request(Method::PUT, &zone_name, &sub, Some(&record))
            .await
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

    /// lego's `CleanUp`: deletes the whole rrset, once per challenge name.
    pub async fn cleanup(&self, domain: &str) -> Result<(), String> {
        let fqdn = format!("_acme-challenge.{domain}.");
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
            .map(|_| ())
            .map_err(|e| {
                format!(
                    "gandiv5: unable to delete TXT record for domain {zone_name} and name {}: {e}",
                    entry.field_name
                )
            })
    }
}

/// lego's `parseError`: the JSON `message`, else the raw body.
fn parse_error(reply: &Reply) -> String {
    match serde_json::from_slice::<ApiResponse>(&reply.body) {
        Ok(r) => format!("{}: request failed: {}", reply.status, r.message),
        Err(_) => format!(
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
    fn a_ttl_below_300_is_refused() {
        let env = BTreeMap::from([
            ("GANDIV5_PERSONAL_ACCESS_TOKEN".to_string(), "x".to_string()),
            ("GANDIV5_TTL".to_string(), "120".to_string()),
        ]);
        let err = GandiV5::from_env(
            &env,
            String::new(),
            "127.0.0.1:53".parse().unwrap(),
            HttpClient::new(std::time::Duration::from_secs(1)),
        )
        .err()
        .unwrap();
        assert_eq!(
            err,
            "gandiv5: invalid TTL, TTL (120) must be greater than 300"
        );
    }
}
