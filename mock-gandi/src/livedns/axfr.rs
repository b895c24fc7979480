//! Zone transfer: TSIG keys (`/axfr/tsig`), and a domain's TSIG associations and slaves
//! (`/domains/{fqdn}/axfr/...`). Fields are those of Gandi's reference ("TSIG keys",
//! "Software configuration information", "Zone transfer slaves", "TSIG keys associated with a
//! domain"); the confirmation words and the statuses are not in the reference's scrape and are
//! inferred from the records' endpoints (201 with `Location` for a creation, 204 for a
//! removal). The DNS server reads what is set here (see `dns::axfr`).

use std::net::IpAddr;

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde::Serialize;

use super::context::{Cx, access, json, message, no_content, to_json, with_header, zone};
use super::error::ApiError;
use super::paths::{Target, percent_decode};
use crate::store::{Fqdn, Need, TsigKey};

/// The software a configuration sample is written for, in the reference's order.
const SOFTWARE: [&str; 4] = ["bind", "knot", "nsd", "powerdns"];
/// What adding a slave answers (inferred).
const SLAVE_ADDED: &str = r#"{"message": "Slave Added"}"#;
/// What associating a TSIG key answers (inferred).
const TSIG_ASSOCIATED: &str = r#"{"message": "TSIG Key Associated"}"#;

pub(super) fn answer(cx: &Cx, target: Target, _bytes: &[u8]) -> Result<Response, ApiError> {
    match (target, &cx.method) {
        (Target::Tsigs, &Method::GET) => list_keys(cx),
        (Target::Tsigs, _) => create_key(cx),
        (Target::Tsig(id), _) => show_key(cx, id),
        (Target::TsigConfig(id, software), _) => config(cx, id, software),
        (Target::Slaves(d), _) => list_slaves(cx, &zone(d)?),
        (Target::Slave(d, ip), &Method::PUT) => add_slave(cx, &zone(d)?, ip),
        (Target::Slave(d, ip), _) => remove_slave(cx, &zone(d)?, ip),
        (Target::DomainTsigs(d), _) => list_associations(cx, &zone(d)?),
        (Target::DomainTsig(d, id), &Method::PUT) => associate(cx, &zone(d)?, id),
        (Target::DomainTsig(d, id), _) => dissociate(cx, &zone(d)?, id),
        _ => Err(ApiError::NotFound),
    }
}

/// The account's keys are "relative to the optional sharing_id passed as argument (default
/// to user_id)": a key is seen under the sharing_id it was created with.
fn visible(cx: &Cx, key: &TsigKey) -> bool {
    key.sharing_id == cx.query.sharing_id
}

fn account(cx: &Cx, need: Need) -> Result<(), ApiError> {
    if cx.cred.rights.allow(need) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

fn key_href(cx: &Cx, id: &str) -> String {
    format!("{}/axfr/tsig/{id}", cx.base.root())
}

#[derive(Serialize)]
struct Listed<'a> {
    href: String,
    id: &'a str,
    key_name: &'a str,
    secret: &'a str,
}

fn list_keys(cx: &Cx) -> Result<Response, ApiError> {
    account(cx, Need::Read)?;
    let keys: Vec<TsigKey> = cx.app.store.read(|s| {
        s.tsig_keys()
            .iter()
            .filter(|k| visible(cx, k))
            .cloned()
            .collect()
    });
    let items: Vec<Listed> = keys
        .iter()
        .map(|k| Listed {
            href: key_href(cx, &k.id),
            id: &k.id,
            key_name: &k.key_name,
            secret: &k.secret,
        })
        .collect();
    Ok(json(StatusCode::OK, to_json(&items)))
}

/// A key without its secret: what a creation and a domain's associations show.
#[derive(Serialize)]
struct Named<'a> {
    href: String,
    id: &'a str,
    key_name: &'a str,
}

fn create_key(cx: &Cx) -> Result<Response, ApiError> {
    account(cx, Need::Write)?;
    let key = cx
        .app
        .store
        .write(|s| s.create_tsig_key(cx.query.sharing_id.clone()))
        .ok_or(ApiError::ServerError)?;
    let href = key_href(cx, &key.id);
    let body = to_json(&Named {
        href: href.clone(),
        id: &key.id,
        key_name: &key.key_name,
    });
    Ok(with_header(
        json(StatusCode::CREATED, body),
        axum::http::header::LOCATION,
        &href,
    ))
}

fn find_key(cx: &Cx, id: &str) -> Result<TsigKey, ApiError> {
    account(cx, Need::Read)?;
    let id = percent_decode(id, false).ok_or(ApiError::NotFound)?;
    cx.app
        .store
        .read(|s| s.tsig_keys().get(&id).filter(|k| visible(cx, k)).cloned())
        .ok_or(ApiError::NotFound)
}

#[derive(Serialize)]
struct Samples {
    bind: String,
    knot: String,
    nsd: String,
    powerdns: String,
}

#[derive(Serialize)]
struct Shown<'a> {
    href: String,
    id: &'a str,
    key_name: &'a str,
    secret: &'a str,
    config_samples: Samples,
}

fn show_key(cx: &Cx, id: &str) -> Result<Response, ApiError> {
    let key = find_key(cx, id)?;
    let href = key_href(cx, &key.id);
    let sample = |software: &str| format!("{href}/config/{software}");
    let body = Shown {
        config_samples: Samples {
            bind: sample("bind"),
            knot: sample("knot"),
            nsd: sample("nsd"),
            powerdns: sample("powerdns"),
        },
        href: href.clone(),
        id: &key.id,
        key_name: &key.key_name,
        secret: &key.secret,
    };
    Ok(json(StatusCode::OK, to_json(&body)))
}

/// "String representation of the configuration for that key", as a JSON string. Gandi
/// publishes no example: each text is the software's own syntax for a secondary that
/// transfers from the mock's nameserver with this key (inferred).
fn config(cx: &Cx, id: &str, software: &str) -> Result<Response, ApiError> {
    let key = find_key(cx, id)?;
    let primary = cx
        .app
        .store
        .nameserver_ip()
        .map_or_else(|| "127.0.0.1".to_string(), |ip| ip.to_string());
    let text = match software {
        "bind" => bind(&key, &primary),
        "knot" => knot(&key, &primary),
        "nsd" => nsd(&key, &primary),
        "powerdns" => powerdns(&key, &primary),
        other => {
            return Err(ApiError::invalid(
                "path",
                "software",
                format!("\"{other}\" is not one of {}", SOFTWARE.join(", ")),
            ));
        }
    };
    Ok(json(StatusCode::OK, to_json(&text)))
}

/// BIND 9 (named.conf): the key, and the primary that signs transfers with it.
fn bind(key: &TsigKey, primary: &str) -> String {
    let TsigKey {
        key_name, secret, ..
    } = key;
    format!(
        "key \"{key_name}\" {{\n\talgorithm hmac-sha256;\n\tsecret \"{secret}\";\n}};\n\n\
         server {primary} {{\n\tkeys {{ \"{key_name}\"; }};\n}};\n\n\
         # zone \"example.com\" {{ type secondary; primaries {{ {primary} key \"{key_name}\"; }}; }};\n"
    )
}

/// Knot DNS (knot.conf, YAML): the key, and a remote that uses it.
fn knot(key: &TsigKey, primary: &str) -> String {
    let TsigKey {
        key_name, secret, ..
    } = key;
    format!(
        "key:\n  - id: {key_name}\n    algorithm: hmac-sha256\n    secret: {secret}\n\n\
         remote:\n  - id: gandi\n    address: {primary}\n    key: {key_name}\n\n\
         # zone:\n#   - domain: example.com\n#     master: gandi\n"
    )
}

/// NSD (nsd.conf): the key, and a pattern requesting transfers with it.
fn nsd(key: &TsigKey, primary: &str) -> String {
    let TsigKey {
        key_name, secret, ..
    } = key;
    format!(
        "key:\n\tname: \"{key_name}\"\n\talgorithm: hmac-sha256\n\tsecret: \"{secret}\"\n\n\
         pattern:\n\tname: \"gandi\"\n\trequest-xfr: AXFR {primary} {key_name}\n\
         \tallow-notify: {primary} {key_name}\n"
    )
}

/// PowerDNS keeps TSIG keys in its backend: the `pdnsutil` commands that add the key and
/// make a secondary zone transfer with it.
fn powerdns(key: &TsigKey, primary: &str) -> String {
    let TsigKey {
        key_name, secret, ..
    } = key;
    format!(
        "pdnsutil import-tsig-key {key_name} hmac-sha256 {secret}\n\
         # pdnsutil create-secondary-zone example.com {primary}\n\
         # pdnsutil set-meta example.com AXFR-MASTER-TSIG {key_name}\n"
    )
}

/// An address as the reference's example lists it: IPv4 dotted, IPv6 with every group
/// written out (`2001:0db8:0000:0000:0000:0000:0000:0001`).
fn address_text(ip: &IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => v6
            .segments()
            .iter()
            .map(|s| format!("{s:04x}"))
            .collect::<Vec<_>>()
            .join(":"),
    }
}

fn list_slaves(cx: &Cx, fqdn: &Fqdn) -> Result<Response, ApiError> {
    let slaves: Vec<String> = cx.app.store.read(|s| {
        access(s, cx, fqdn, Need::Read)?;
        Ok::<_, ApiError>(s.transfer(fqdn)?.slaves.iter().map(address_text).collect())
    })?;
    Ok(json(StatusCode::OK, to_json(&slaves)))
}

/// The address in the path ("IP address (v4 or v6)").
fn path_ip(raw: &str) -> Result<IpAddr, ApiError> {
    percent_decode(raw, false)
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| {
            ApiError::invalid("path", "ip", format!("\"{raw}\" is not a valid IP address"))
        })
}

fn add_slave(cx: &Cx, fqdn: &Fqdn, raw: &str) -> Result<Response, ApiError> {
    let ip = path_ip(raw)?;
    cx.app.store.write(|s| {
        access(s, cx, fqdn, Need::Write)?;
        s.add_slave(fqdn, ip).map_err(ApiError::from)
    })?;
    let location = format!("{}/axfr/slaves/{raw}", cx.base.domain(fqdn));
    Ok(message(StatusCode::CREATED, SLAVE_ADDED, Some(location)))
}

fn remove_slave(cx: &Cx, fqdn: &Fqdn, raw: &str) -> Result<Response, ApiError> {
    let ip = path_ip(raw)?;
    let removed = cx.app.store.write(|s| {
        access(s, cx, fqdn, Need::Write)?;
        s.remove_slave(fqdn, ip).map_err(ApiError::from)
    })?;
    if removed {
        Ok(no_content())
    } else {
        Err(ApiError::NotFound)
    }
}

fn list_associations(cx: &Cx, fqdn: &Fqdn) -> Result<Response, ApiError> {
    let keys: Vec<TsigKey> = cx.app.store.read(|s| {
        access(s, cx, fqdn, Need::Read)?;
        let keys = s.tsig_keys();
        Ok::<_, ApiError>(
            s.transfer(fqdn)?
                .tsig
                .iter()
                .filter_map(|id| keys.get(id).cloned())
                .collect(),
        )
    })?;
    let base = cx.base.domain(fqdn);
    let items: Vec<Named> = keys
        .iter()
        .map(|k| Named {
            href: format!("{base}/axfr/tsig/{}", k.id),
            id: &k.id,
            key_name: &k.key_name,
        })
        .collect();
    Ok(json(StatusCode::OK, to_json(&items)))
}

fn associate(cx: &Cx, fqdn: &Fqdn, id: &str) -> Result<Response, ApiError> {
    let id = percent_decode(id, false).ok_or(ApiError::NotFound)?;
    cx.app.store.write(|s| {
        access(s, cx, fqdn, Need::Write)?;
        if !s.tsig_keys().get(&id).is_some_and(|k| visible(cx, k)) {
            return Err(ApiError::NotFound);
        }
        s.associate_tsig(fqdn, &id).map_err(ApiError::from)
    })?;
    let location = format!("{}/axfr/tsig/{id}", cx.base.domain(fqdn));
    Ok(message(
        StatusCode::CREATED,
        TSIG_ASSOCIATED,
        Some(location),
    ))
}

fn dissociate(cx: &Cx, fqdn: &Fqdn, id: &str) -> Result<Response, ApiError> {
    let id = percent_decode(id, false).ok_or(ApiError::NotFound)?;
    let removed = cx.app.store.write(|s| {
        access(s, cx, fqdn, Need::Write)?;
        s.dissociate_tsig(fqdn, &id).map_err(ApiError::from)
    })?;
    if removed {
        Ok(no_content())
    } else {
        Err(ApiError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_slaves_are_listed_with_every_group_written_out() {
        let ip: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(address_text(&ip), "2001:0db8:0000:0000:0000:0000:0000:0001");
        assert_eq!(address_text(&"192.0.2.1".parse().unwrap()), "192.0.2.1");
    }
}
