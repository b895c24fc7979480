//! The endpoints of gandi-wire.md §4.1. One dispatcher reads the request in the order the
//! real service answers: the gateway's authentication, then the route, then the query, path
//! and body, then the domain's access rights, then the store.

use std::cmp::Ordering;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use time::OffsetDateTime;

use super::Generation;
use super::auth::authenticate;
use super::error::ApiError;
use super::extract::{
    Base, Fields, ListQuery, Target, json_object, path_fqdn, path_name, path_type,
    plain_rrset_body, read_body, stored_form,
};
use crate::journal::Note;
use crate::state::AppState;
use crate::store::{
    Credential, Denied, Domain, Fqdn, Need, RecordType, RelName, RrSet, State, StoreError,
};

/// What every rrset write answers (compact, 32 bytes: acme.sh looks for exactly this).
const RECORD_CREATED: &str = r#"{"message":"DNS Record Created"}"#;
/// What `POST /domains` answers (gandi-wire.md §4.1 gives it spaced).
const DOMAIN_CREATED: &str = r#"{"message": "Domain Created"}"#;

/// Entry point for every path below `/domains` of either base.
pub(crate) async fn dispatch(app: &AppState, generation: Generation, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let mut auth = None;
    // The body of a write is read before anything is decided, so that the journal keeps what
    // was sent even when authentication refuses it; a body that cannot be read is an error
    // only after authentication, as before.
    let write = parts.method == Method::POST || parts.method == Method::PUT;
    let body = if write {
        Some(read_body(body, app.limits.max_body).await)
    } else {
        None
    };
    let sent = match &body {
        Some(Ok(bytes)) if !bytes.is_empty() => Some(String::from_utf8_lossy(bytes).into_owned()),
        _ => None,
    };
    let mut response = match handle(app, generation, &parts, body, &mut auth).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    };
    response.extensions_mut().insert(Note {
        auth,
        body: sent,
        ..Note::default()
    });
    response
}

/// What a handler knows about its caller.
struct Cx<'a> {
    app: &'a AppState,
    cred: Arc<Credential>,
    base: Base<'a>,
    query: ListQuery,
}

async fn handle(
    app: &AppState,
    generation: Generation,
    parts: &Parts,
    body: Option<Result<bytes::Bytes, ApiError>>,
    auth: &mut Option<&'static str>,
) -> Result<Response, ApiError> {
    let now = OffsetDateTime::now_utc();
    let cred = app
        .store
        .read(|s| authenticate(generation, &parts.headers, s, now))?;
    *auth = Some(cred.kind.as_str());

    let path = parts.uri.path();
    let target = Target::parse(path.strip_prefix(generation.prefix()).unwrap_or(path));
    // HEAD is GET without a body; hyper drops the body.
    let method = if parts.method == Method::HEAD {
        Method::GET
    } else {
        parts.method.clone()
    };
    let allow = match target {
        Target::Domains => "GET, POST",
        Target::Domain(_) => "GET",
        Target::Records(_) => "DELETE, GET, POST, PUT",
        Target::Name(..) => "DELETE, GET, POST, PUT",
        Target::Rrset(..) => "DELETE, GET, POST, PUT",
        Target::Unknown => return Err(ApiError::NotFound),
    };
    if !allow.split(", ").any(|m| m == method.as_str()) {
        return Err(ApiError::MethodNotAllowed {
            method: parts.method.to_string(),
            allow,
        });
    }
    let query = ListQuery::parse(parts.uri.query())?;
    // Clients send `{}` with GET and DELETE (python-requests in the recordings); ignored.
    let bytes = body.transpose()?.unwrap_or_default();
    let cx = Cx {
        app,
        cred,
        base: Base::of(generation, parts),
        query,
    };

    match (target, method) {
        (Target::Domains, Method::GET) => list_domains(&cx),
        (Target::Domains, _) => create_domain(&cx, &bytes),
        (Target::Domain(d), _) => get_domain(&cx, &zone(d)?),
        (Target::Records(d), Method::GET) => list_records(&cx, &zone(d)?, &parts.headers),
        (Target::Records(d), Method::POST) => post_records(&cx, &zone(d)?, &bytes),
        (Target::Records(d), Method::PUT) => put_zone(&cx, &zone(d)?, &bytes),
        (Target::Records(d), _) => delete_zone(&cx, &zone(d)?),
        (Target::Name(d, n), method) => {
            let fqdn = zone(d)?;
            let name = path_name(n, fqdn.as_str())?;
            match method {
                Method::GET => get_name(&cx, &fqdn, &name),
                Method::POST => post_name(&cx, &fqdn, &name, &bytes),
                Method::PUT => put_name(&cx, &fqdn, &name, &bytes),
                _ => delete_name(&cx, &fqdn, &name),
            }
        }
        (Target::Rrset(d, n, t), method) => {
            let fqdn = zone(d)?;
            let name = path_name(n, fqdn.as_str());
            let rtype = path_type(t);
            let (name, rtype) = match (name, rtype) {
                (Ok(n), Ok(t)) => (n, t),
                (Err(ApiError::Validation(mut a)), Err(ApiError::Validation(b))) => {
                    a.extend(b);
                    return Err(ApiError::Validation(a));
                }
                (Err(e), _) | (_, Err(e)) => return Err(e),
            };
            match method {
                Method::GET => get_rrset(&cx, &fqdn, &name, rtype),
                Method::POST => post_rrset(&cx, &fqdn, &name, rtype, &bytes),
                Method::PUT => put_rrset(&cx, &fqdn, &name, rtype, &bytes),
                _ => delete_rrset(&cx, &fqdn, &name, rtype),
            }
        }
        (Target::Unknown, _) => Err(ApiError::NotFound),
    }
}

/// The domain of a path. A string that cannot be a domain name is no zone at all.
fn zone(raw: &str) -> Result<Fqdn, ApiError> {
    path_fqdn(raw).ok_or(ApiError::NotFound)
}

/// The caller's rights on a domain. A name the store does not hold as a domain (unknown, or
/// a subdomain of a zone) is "not a zone": the recorded answer for it is the generic 404.
/// A domain the store holds but the caller may not reach is "Unknown domain".
fn access<'s>(s: &'s State, cx: &Cx, fqdn: &Fqdn, need: Need) -> Result<&'s Domain, ApiError> {
    s.livedns_access(&cx.cred, fqdn, cx.query.sharing_id.as_deref(), need)
        .map_err(|d| match d {
            Denied::UnknownDomain if s.domain(fqdn).is_none() => ApiError::NotFound,
            other => other.into(),
        })
}

fn json(status: StatusCode, body: String) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

fn with_header(mut response: Response, name: header::HeaderName, value: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
    response
}

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain structs serialize")
}

fn created(location: Option<String>) -> Response {
    let mut response = (
        StatusCode::CREATED,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        )],
        RECORD_CREATED,
    )
        .into_response();
    if let Some(value) = location.and_then(|l| HeaderValue::try_from(l).ok()) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Serialize)]
struct DomainItem<'a> {
    fqdn: &'a str,
    domain_href: String,
    domain_records_href: String,
}

fn list_domains(cx: &Cx) -> Result<Response, ApiError> {
    if !cx.cred.read {
        return Err(ApiError::Forbidden);
    }
    let fqdns: Vec<Fqdn> = cx.app.store.read(|s| {
        s.domains()
            .filter(|d| access(s, cx, &d.fqdn, Need::Read).is_ok())
            .map(|d| d.fqdn.clone())
            .collect()
    });
    let total = fqdns.len();
    let items: Vec<DomainItem> = cx
        .query
        .page(fqdns.iter().collect())
        .into_iter()
        .map(|f| DomainItem {
            fqdn: f.as_str(),
            domain_href: cx.base.domain(f),
            domain_records_href: cx.base.records(f),
        })
        .collect();
    Ok(with_header(
        json(StatusCode::OK, to_json(&items)),
        header::HeaderName::from_static("total-count"),
        &total.to_string(),
    ))
}

fn create_domain(cx: &Cx, bytes: &[u8]) -> Result<Response, ApiError> {
    let map = json_object(bytes)?;
    let mut errors = Vec::new();
    let fqdn = {
        let mut f = Fields::new(&map, String::new(), &mut errors);
        f.string("fqdn")
    };
    let fqdn = match fqdn.map(|t| Fqdn::parse(&t)) {
        Some(Ok(f)) if errors.is_empty() => f,
        Some(Err(i)) => return Err(ApiError::invalid("body", "fqdn", i.description)),
        _ => return Err(ApiError::Validation(errors)),
    };
    if !cx.cred.write {
        return Err(ApiError::Forbidden);
    }
    let organization = cx.cred.organization.clone();
    cx.app
        .store
        .write(|s| s.create_domain(&fqdn, organization))?;
    Ok(with_header(
        json(StatusCode::CREATED, DOMAIN_CREATED.to_string()),
        header::LOCATION,
        &cx.base.domain(&fqdn),
    ))
}

/// `GET /domains/{fqdn}`: compact, in the recorded key order.
#[derive(Serialize)]
struct DomainJson<'a> {
    domain_keys_href: String,
    fqdn: &'a str,
    automatic_snapshots: bool,
    domain_records_href: String,
    domain_href: String,
}

fn get_domain(cx: &Cx, fqdn: &Fqdn) -> Result<Response, ApiError> {
    cx.app
        .store
        .read(|s| access(s, cx, fqdn, Need::Read).map(|_| ()))?;
    let body = DomainJson {
        domain_keys_href: cx.base.keys(fqdn),
        fqdn: fqdn.as_str(),
        automatic_snapshots: true,
        domain_records_href: cx.base.records(fqdn),
        domain_href: cx.base.domain(fqdn),
    };
    Ok(json(StatusCode::OK, to_json(&body)))
}

/// One rrset, in the recorded key order.
#[derive(Serialize)]
struct RrsetJson<'a> {
    rrset_type: &'a str,
    rrset_ttl: u32,
    rrset_name: &'a str,
    rrset_href: String,
    rrset_values: &'a [String],
}

fn rrset_json<'a>(cx: &Cx, fqdn: &Fqdn, r: &'a RrSet) -> RrsetJson<'a> {
    RrsetJson {
        rrset_type: r.rtype.as_str(),
        rrset_ttl: r.ttl,
        rrset_name: r.name.as_str(),
        rrset_href: cx.base.rrset(fqdn, &r.name, r.rtype),
        rrset_values: &r.values,
    }
}

/// The order of a listing as recorded: `@` first, then names, where `_` sorts after the
/// letters (`www` before `_acme-challenge`), then types alphabetically.
pub(crate) fn listing_order(a: &RrSet, b: &RrSet) -> Ordering {
    fn key(name: &RelName) -> Vec<u8> {
        name.as_str()
            .bytes()
            .map(|b| match b {
                b'@' => 0,
                b'_' => 0x7f,
                b => b,
            })
            .collect()
    }
    key(&a.name)
        .cmp(&key(&b.name))
        .then_with(|| a.rtype.as_str().cmp(b.rtype.as_str()))
}

/// True when the client prefers a zone file (`Accept: text/plain`) to JSON.
fn wants_zone_file(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    for item in accept.split(',') {
        let media = item.split(';').next().unwrap_or_default().trim();
        if media.eq_ignore_ascii_case("text/plain") {
            return true;
        }
        if media.eq_ignore_ascii_case("application/json") {
            return false;
        }
    }
    false
}

fn zone_file(rrsets: &[RrSet]) -> String {
    let mut out = String::new();
    for r in rrsets {
        for v in &r.values {
            let _ = writeln!(out, "{} {} IN {} {}", r.name, r.ttl, r.rtype, v);
        }
    }
    out
}

fn readable_rrsets(cx: &Cx, fqdn: &Fqdn) -> Result<Vec<RrSet>, ApiError> {
    let mut rrsets = cx.app.store.read(|s| {
        access(s, cx, fqdn, Need::Read)?;
        s.rrsets(fqdn).map_err(ApiError::from)
    })?;
    rrsets.sort_by(listing_order);
    Ok(rrsets)
}

fn list_records(cx: &Cx, fqdn: &Fqdn, headers: &HeaderMap) -> Result<Response, ApiError> {
    let rrsets = readable_rrsets(cx, fqdn)?;
    if wants_zone_file(headers) {
        return Ok((
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            )],
            zone_file(&rrsets),
        )
            .into_response());
    }
    let total = rrsets.len();
    let page = cx.query.page(rrsets);
    let items: Vec<RrsetJson> = page.iter().map(|r| rrset_json(cx, fqdn, r)).collect();
    Ok(with_header(
        json(StatusCode::OK, to_json(&items)),
        header::HeaderName::from_static("total-count"),
        &total.to_string(),
    ))
}

/// A full rrset from a body: name, type, TTL, values.
type FullRrset = (RelName, RecordType, Option<u32>, Vec<String>);

fn read_full_rrset(f: &mut Fields<'_>, fqdn: &Fqdn, non_empty: bool) -> Option<FullRrset> {
    let name = f.rrset_name(fqdn);
    let rtype = f.rrset_type();
    let ttl = f.ttl();
    let values = f.values(rtype, non_empty);
    Some((name?, rtype?, ttl?, values?))
}

fn validated<T>(
    bytes: &[u8],
    read: impl FnOnce(&mut Fields<'_>) -> Option<T>,
) -> Result<T, ApiError> {
    let map = json_object(bytes)?;
    let mut errors = Vec::new();
    let value = {
        let mut fields = Fields::new(&map, String::new(), &mut errors);
        read(&mut fields)
    };
    match value {
        Some(v) if errors.is_empty() => Ok(v),
        _ => Err(ApiError::Validation(errors)),
    }
}

fn post_records(cx: &Cx, fqdn: &Fqdn, bytes: &[u8]) -> Result<Response, ApiError> {
    let (name, rtype, ttl, values) = validated(bytes, |f| read_full_rrset(f, fqdn, true))?;
    cx.app.store.write(|s| {
        access(s, cx, fqdn, Need::Write)?;
        s.create_rrset(fqdn, &name, rtype, ttl, &values)
            .map_err(ApiError::from)
    })?;
    Ok(created(Some(cx.base.rrset(fqdn, &name, rtype))))
}

fn put_zone(cx: &Cx, fqdn: &Fqdn, bytes: &[u8]) -> Result<Response, ApiError> {
    let items = validated(bytes, |f| {
        f.items(|item| read_full_rrset(item, fqdn, false))
    })?;
    cx.app.store.write(|s| {
        access(s, cx, fqdn, Need::Write)?;
        s.replace_zone(fqdn, &items).map_err(ApiError::from)
    })?;
    Ok(created(None))
}

fn delete_zone(cx: &Cx, fqdn: &Fqdn) -> Result<Response, ApiError> {
    cx.app.store.write(|s| {
        access(s, cx, fqdn, Need::Write)?;
        s.replace_zone(fqdn, &[]).map_err(ApiError::from)
    })?;
    Ok(no_content())
}

fn get_name(cx: &Cx, fqdn: &Fqdn, name: &RelName) -> Result<Response, ApiError> {
    let rrsets: Vec<RrSet> = readable_rrsets(cx, fqdn)?
        .into_iter()
        .filter(|r| &r.name == name)
        .collect();
    let items: Vec<RrsetJson> = rrsets.iter().map(|r| rrset_json(cx, fqdn, r)).collect();
    Ok(json(StatusCode::OK, to_json(&items)))
}

/// `POST /records/{name}`: one rrset whose type is in the body.
fn post_name(cx: &Cx, fqdn: &Fqdn, name: &RelName, bytes: &[u8]) -> Result<Response, ApiError> {
    let (rtype, ttl, values) = validated(bytes, |f| {
        let rtype = f.rrset_type();
        let ttl = f.ttl();
        let values = f.values(rtype, true);
        Some((rtype?, ttl?, values?))
    })?;
    cx.app.store.write(|s| {
        access(s, cx, fqdn, Need::Write)?;
        s.create_rrset(fqdn, name, rtype, ttl, &values)
            .map_err(ApiError::from)
    })?;
    Ok(created(Some(cx.base.rrset(fqdn, name, rtype))))
}

fn put_name(cx: &Cx, fqdn: &Fqdn, name: &RelName, bytes: &[u8]) -> Result<Response, ApiError> {
    let items = validated(bytes, |f| {
        f.items(|item| {
            let rtype = item.rrset_type();
            let ttl = item.ttl();
            let values = item.values(rtype, false);
            Some((rtype?, ttl?, values?))
        })
    })?;
    cx.app.store.write(|s| {
        access(s, cx, fqdn, Need::Write)?;
        s.replace_name(fqdn, name, &items).map_err(ApiError::from)
    })?;
    Ok(created(None))
}

fn delete_name(cx: &Cx, fqdn: &Fqdn, name: &RelName) -> Result<Response, ApiError> {
    cx.app.store.write(|s| {
        access(s, cx, fqdn, Need::Write)?;
        s.delete_name(fqdn, name).map_err(ApiError::from)
    })?;
    Ok(no_content())
}

fn get_rrset(
    cx: &Cx,
    fqdn: &Fqdn,
    name: &RelName,
    rtype: RecordType,
) -> Result<Response, ApiError> {
    let rrset = cx.app.store.read(|s| {
        access(s, cx, fqdn, Need::Read)?;
        s.rrset(fqdn, name, rtype)
            .ok_or_else(|| ApiError::RrsetNotFound {
                name: name.to_string(),
                rtype: rtype.to_string(),
            })
    })?;
    Ok(json(StatusCode::OK, to_json(&rrset_json(cx, fqdn, &rrset))))
}

fn post_rrset(
    cx: &Cx,
    fqdn: &Fqdn,
    name: &RelName,
    rtype: RecordType,
    bytes: &[u8],
) -> Result<Response, ApiError> {
    let (ttl, values) = validated(bytes, |f| {
        let ttl = f.ttl();
        let values = f.values(Some(rtype), true);
        Some((ttl?, values?))
    })?;
    cx.app.store.write(|s| {
        access(s, cx, fqdn, Need::Write)?;
        s.create_rrset(fqdn, name, rtype, ttl, &values)
            .map_err(ApiError::from)
    })?;
    Ok(created(Some(cx.base.rrset(fqdn, name, rtype))))
}

fn put_rrset(
    cx: &Cx,
    fqdn: &Fqdn,
    name: &RelName,
    rtype: RecordType,
    bytes: &[u8],
) -> Result<Response, ApiError> {
    let (ttl, values) = match plain_rrset_body(bytes, rtype) {
        Some(read) => read,
        None => put_rrset_body(bytes, rtype)?,
    };
    cx.app.store.write(|s| {
        access(s, cx, fqdn, Need::Write)?;
        s.put_normalized_rrset(fqdn, name, rtype, ttl, values)
            .map_err(ApiError::from)
    })?;
    // The recordings show the location header on PUT as well as on POST.
    Ok(created(Some(cx.base.rrset(fqdn, name, rtype))))
}

/// The TTL and values (in the store's form) of a one-rrset `PUT` body, read field by field
/// with every error Gandi reports; [`plain_rrset_body`] reads the common shape faster, to the
/// same result.
fn put_rrset_body(bytes: &[u8], rtype: RecordType) -> Result<(u32, Vec<String>), ApiError> {
    let (ttl, values) = validated(bytes, |f| {
        let ttl = f.ttl();
        // An empty list is how certbot and acme.sh clean up: it removes the rrset.
        let values = f.values(Some(rtype), false);
        Some((ttl?, values?))
    })?;
    Ok(stored_form(rtype, ttl, &values).map_err(StoreError::from)?)
}

fn delete_rrset(
    cx: &Cx,
    fqdn: &Fqdn,
    name: &RelName,
    rtype: RecordType,
) -> Result<Response, ApiError> {
    cx.app.store.write(|s| {
        access(s, cx, fqdn, Need::Write)?;
        s.delete_rrset(fqdn, name, rtype).map_err(ApiError::from)
    })?;
    Ok(no_content())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::store::DEFAULT_TTL;

    /// Bodies of every shape: the common one, and what only the general reading takes or
    /// refuses (TTLs as strings, floats, out of range, nulls, values that are not strings or
    /// not valid for the type, duplicate keys, other fields, not JSON at all).
    fn body() -> impl Strategy<Value = String> {
        let ttl = prop_oneof![
            Just(String::new()),
            (0i64..5_000_000_000).prop_map(|n| format!(r#""rrset_ttl":{n},"#)),
            (-5i64..400).prop_map(|n| format!(r#""rrset_ttl":{n},"#)),
            Just(r#""rrset_ttl":"300","#.to_string()),
            Just(r#""rrset_ttl":300.0,"#.to_string()),
            Just(r#""rrset_ttl":null,"#.to_string()),
            Just(r#""rrset_ttl":300,"rrset_ttl":600,"#.to_string()),
        ];
        let value = prop_oneof![
            "[a-z0-9 .\\\\\"-]{0,12}".prop_map(|v| serde_json::to_string(&v).unwrap()),
            Just(r#""\"quoted\"""#.to_string()),
            Just(r#""192.0.2.1""#.to_string()),
            Just(r#""2001:db8::1""#.to_string()),
            Just(r#""10 mail.example.com.""#.to_string()),
            Just("42".to_string()),
            Just("null".to_string()),
        ];
        let values = prop_oneof![
            proptest::collection::vec(value, 0..4)
                .prop_map(|v| format!(r#""rrset_values":[{}]"#, v.join(","))),
            Just(r#""rrset_values":null"#.to_string()),
            Just(r#""rrset_values":"x""#.to_string()),
            Just(r#""other":1"#.to_string()),
        ];
        let extra = prop_oneof![Just(""), Just(r#","rrset_name":"www""#), Just(",")];
        (ttl, values, extra).prop_map(|(t, v, e)| format!("{{{t}{v}{e}}}"))
    }

    fn rtype() -> impl Strategy<Value = RecordType> {
        prop_oneof![
            Just(RecordType::Txt),
            Just(RecordType::A),
            Just(RecordType::Aaaa),
            Just(RecordType::Mx),
            Just(RecordType::Cname),
        ]
    }

    proptest! {
        /// The fast reading of the common shape gives what the general one gives, and leaves
        /// to it every body it does not take whole.
        #[test]
        fn the_plain_rrset_body_reads_as_the_general_reading(body in body(), rtype in rtype()) {
            let general = put_rrset_body(body.as_bytes(), rtype).ok();
            match plain_rrset_body(body.as_bytes(), rtype) {
                Some(plain) => prop_assert_eq!(Some(plain), general, "{}", body),
                // Only the shapes the fast reading leaves alone may still be valid.
                None => prop_assert!(
                    general.is_none()
                        || body.contains(r#""300""#)
                        || body.contains("300.0")
                        || body.contains(r#""rrset_ttl":300,"rrset_ttl""#),
                    "{} read as {:?}", body, general
                ),
            }
        }
    }

    #[test]
    fn the_common_bodies_take_the_fast_reading() {
        let body = br#"{"rrset_ttl":300,"rrset_values":["hello","world","hello"]}"#;
        assert_eq!(
            plain_rrset_body(body, RecordType::Txt),
            Some((300, vec!["\"hello\"".to_string(), "\"world\"".to_string()]))
        );
        // No TTL is the default; other fields are ignored; an empty list removes the rrset.
        assert_eq!(
            plain_rrset_body(br#"{"rrset_name":"x","rrset_values":[]}"#, RecordType::Txt),
            Some((DEFAULT_TTL, vec![]))
        );
    }
}
