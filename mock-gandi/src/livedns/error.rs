//! The one error type of the LiveDNS v5 API, and the catalogue it renders from.
//!
//! Gandi's answers come from two layers: the API gateway (compact JSON: `{"code":401,...}`)
//! and the LiveDNS backend (Python's `json.dumps` spacing: `{"code": 404, ...}`). Clients grep
//! these bytes (acme.sh looks for `"code": 404` with the space), so each body is kept verbatim
//! as data, with the place it was read from.

use std::fmt::Write as _;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::store::{Denied, StoreError};

/// Every kind of error the API answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    NotFound,
    UnknownDomain,
    RrsetNotFound,
    OtherOrganization,
    NoCredentials,
    BadApiKey,
    Forbidden,
    ServerError,
    Conflict,
    Validation,
    MethodNotAllowed,
    TooLarge,
    TooManyRequests,
    BadGateway,
    ServiceUnavailable,
    GatewayTimeout,
}

/// One row of the catalogue. `body` is a template: `{name}`, `{type}`, `{method}` are
/// replaced by JSON-escaped text, `{errors}` by the rendered validation list.
#[derive(Debug)]
pub(crate) struct Row {
    pub kind: Kind,
    pub status: u16,
    pub body: &'static str,
    /// Where the bytes come from.
    pub source: &'static str,
    /// No capture of the real bytes exists; the shape follows its neighbours.
    pub inferred: bool,
}

/// Every error body of the API, exactly as sent.
pub(crate) const CATALOGUE: &[Row] = &[
    Row {
        kind: Kind::NotFound,
        status: 404,
        body: r#"{"code": 404, "message": "The resource could not be found.", "object": "HTTPNotFound", "cause": "Not Found"}"#,
        source: "gandi-wire.md §4.2 (108 bytes); recorded: lexicon-gandi REST test_provider_authenticate_with_unmanaged_domain_should_fail (GET /domains/<not a zone>)",
        inferred: false,
    },
    Row {
        kind: Kind::UnknownDomain,
        status: 404,
        body: r#"{"code": 404, "message": "Unknown domain", "object": "LocalizedHTTPNotFound", "cause": "Not Found"}"#,
        source: "gandi-wire.md §4.2 (99 bytes)",
        inferred: false,
    },
    Row {
        kind: Kind::RrsetNotFound,
        status: 404,
        body: r#"{"code": 404, "message": "Can't find the DNS record {name}/{type} in the zone", "object": "dns-record", "cause": "Not Found"}"#,
        source: "gandi-wire.md §4.2; recorded: lexicon-gandi REST test_provider_when_calling_create_record_for_A_with_valid_name_and_content (123 bytes for localhost/A)",
        inferred: false,
    },
    Row {
        kind: Kind::OtherOrganization,
        status: 404,
        body: r#"{"code":404,"cause":"Unknown","message":"The resource does not exist"}"#,
        source: "gandi-wire.md §4.2 (another organization's domain without sharing_id)",
        inferred: false,
    },
    Row {
        kind: Kind::NoCredentials,
        status: 401,
        body: r#"{"message":"You must provide an access token or an API Key. See https://api.gandi.net/docs/authentication/"}"#,
        source: "gandi-wire.md §4.2 (current host, no recognised Authorization header)",
        inferred: false,
    },
    Row {
        kind: Kind::BadApiKey,
        status: 401,
        body: r#"{"code":401,"message":"The server could not verify that you authorized to access the document you requested. Either you supplied the wrong credentials (e.g., bad api key), or your access token has expired","object":"HTTPUnauthorized","cause":"Unauthorized"}"#,
        source: "gandi-wire.md §4.2 (Authorization: Apikey <unknown>); on the old host for a missing or unknown X-Api-Key: inferred",
        inferred: false,
    },
    Row {
        kind: Kind::Forbidden,
        status: 403,
        body: r#"{"object":"HTTPForbidden","cause":"Forbidden","code":403,"message":"Access was denied to this resource."}"#,
        source: "gandi-wire.md §4.2 (Bearer unknown, expired or under-privileged; a PAT sent as Apikey)",
        inferred: false,
    },
    Row {
        kind: Kind::ServerError,
        status: 500,
        body: r#"{"code": 500, "message": "The server has either erred or is incapable of performing the requested operation.", "object": "HTTPInternalServerError", "cause": "Internal Server Error"}"#,
        source: "gandi-wire.md §4.2 gives the message (a PAT sent as X-Api-Key to the old host); the backend shape around it is inferred",
        inferred: true,
    },
    Row {
        kind: Kind::Conflict,
        status: 409,
        body: r#"{"code": 409, "message": "Record {name} already exists", "object": "HTTPConflict", "cause": "Duplicate Entry"}"#,
        source: "gandi-wire.md §4.2: the old zone API's fixture in apache/libcloud; no capture of the current text",
        inferred: true,
    },
    Row {
        kind: Kind::Validation,
        status: 400,
        body: r#"{"status": "error", "errors": {errors}}"#,
        source: "gandi-wire.md §4.2 (validation: bad value, TTL or type); descriptions of malformed JSON, wrong types and path or query parameters are inferred",
        inferred: false,
    },
    Row {
        kind: Kind::MethodNotAllowed,
        status: 405,
        body: r#"{"code": 405, "message": "The method {method} is not allowed for this resource.", "object": "HTTPMethodNotAllowed", "cause": "Method Not Allowed"}"#,
        source: "inferred: the backend shape with the HTTP status's usual text",
        inferred: true,
    },
    Row {
        kind: Kind::TooLarge,
        status: 413,
        body: r#"{"code": 413, "message": "The body of your request was too large for this server.", "object": "HTTPRequestEntityTooLarge", "cause": "Request Entity Too Large"}"#,
        source: "inferred: the backend shape; the mock refuses bodies over 1 MiB",
        inferred: true,
    },
    Row {
        kind: Kind::TooManyRequests,
        status: 429,
        body: r#"{"code": 429, "message": "Too many requests, the limit is 1000 requests per minute.", "object": "HTTPTooManyRequests", "cause": "Too Many Requests"}"#,
        source: "inferred: gandi-wire.md §4.2 documents the limit (1000 requests per minute per IP), never captured; answered for `[rate_limit]` and by fault rules",
        inferred: true,
    },
    Row {
        kind: Kind::BadGateway,
        status: 502,
        body: r#"{"code": 502, "message": "Bad Gateway", "object": "HTTPBadGateway", "cause": "Bad Gateway"}"#,
        source: "inferred: never captured; the backend shape with the HTTP status's text (answered only by fault rules)",
        inferred: true,
    },
    Row {
        kind: Kind::ServiceUnavailable,
        status: 503,
        body: r#"{"code": 503, "message": "Service Unavailable", "object": "HTTPServiceUnavailable", "cause": "Service Unavailable"}"#,
        source: "inferred: never captured; the backend shape with the HTTP status's text (answered only by fault rules)",
        inferred: true,
    },
    Row {
        kind: Kind::GatewayTimeout,
        status: 504,
        body: r#"{"code": 504, "message": "Gateway Timeout", "object": "HTTPGatewayTimeout", "cause": "Gateway Timeout"}"#,
        source: "inferred: never captured; the backend shape with the HTTP status's text (answered only by fault rules)",
        inferred: true,
    },
];

impl Kind {
    pub(crate) fn row(self) -> &'static Row {
        CATALOGUE
            .iter()
            .find(|r| r.kind == self)
            .expect("every kind has a catalogue row")
    }
}

/// One entry of a validation error: where (`body`, `path`, `querystring`), which field, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldError {
    pub location: &'static str,
    pub name: String,
    pub description: String,
}

impl FieldError {
    pub(crate) fn new(
        location: &'static str,
        name: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        Self {
            location,
            name: name.into(),
            description: description.into(),
        }
    }
}

/// An error of the LiveDNS API; renders the exact wire bytes of its catalogue row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ApiError {
    #[error("no such resource")]
    NotFound,
    #[error("unknown domain")]
    UnknownDomain,
    #[error("no rrset {name}/{rtype}")]
    RrsetNotFound { name: String, rtype: String },
    #[error("domain of another organization")]
    OtherOrganization,
    #[error("no credentials")]
    NoCredentials,
    #[error("unknown API key")]
    BadApiKey,
    #[error("forbidden")]
    Forbidden,
    #[error("server error")]
    ServerError,
    #[error("rrset {name} exists")]
    Conflict { name: String },
    #[error("invalid request: {0:?}")]
    Validation(Vec<FieldError>),
    #[error("method {method} not allowed")]
    MethodNotAllowed { method: String, allow: &'static str },
    #[error("body too large")]
    TooLarge,
    #[error("too many requests")]
    TooManyRequests,
    #[error("bad gateway")]
    BadGateway,
    #[error("service unavailable")]
    ServiceUnavailable,
    #[error("gateway timeout")]
    GatewayTimeout,
}

impl ApiError {
    pub(crate) fn invalid(
        location: &'static str,
        name: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        Self::Validation(vec![FieldError::new(location, name, description)])
    }

    pub(crate) fn kind(&self) -> Kind {
        match self {
            Self::NotFound => Kind::NotFound,
            Self::UnknownDomain => Kind::UnknownDomain,
            Self::RrsetNotFound { .. } => Kind::RrsetNotFound,
            Self::OtherOrganization => Kind::OtherOrganization,
            Self::NoCredentials => Kind::NoCredentials,
            Self::BadApiKey => Kind::BadApiKey,
            Self::Forbidden => Kind::Forbidden,
            Self::ServerError => Kind::ServerError,
            Self::Conflict { .. } => Kind::Conflict,
            Self::Validation(_) => Kind::Validation,
            Self::MethodNotAllowed { .. } => Kind::MethodNotAllowed,
            Self::TooLarge => Kind::TooLarge,
            Self::TooManyRequests => Kind::TooManyRequests,
            Self::BadGateway => Kind::BadGateway,
            Self::ServiceUnavailable => Kind::ServiceUnavailable,
            Self::GatewayTimeout => Kind::GatewayTimeout,
        }
    }

    /// The error a fault rule answers with for `status` (one of `store::FAULT_STATUSES`).
    pub(crate) fn for_status(status: u16, method: &str) -> Self {
        match status {
            401 => Self::BadApiKey,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            405 => Self::MethodNotAllowed {
                method: method.to_string(),
                allow: "",
            },
            413 => Self::TooLarge,
            429 => Self::TooManyRequests,
            502 => Self::BadGateway,
            503 => Self::ServiceUnavailable,
            504 => Self::GatewayTimeout,
            _ => Self::ServerError,
        }
    }

    /// Status and body bytes.
    pub(crate) fn render(&self) -> (StatusCode, String) {
        let row = self.kind().row();
        let fill = |key: &str, value: &str| row.body.replace(key, &py_escape(value));
        let body = match self {
            Self::RrsetNotFound { name, rtype } => {
                fill("{name}", name).replace("{type}", &py_escape(rtype))
            }
            Self::Conflict { name } => fill("{name}", name),
            Self::MethodNotAllowed { method, .. } => fill("{method}", method),
            Self::Validation(errors) => row.body.replace("{errors}", &render_errors(errors)),
            _ => row.body.to_string(),
        };
        let status = StatusCode::from_u16(row.status).expect("catalogue statuses are valid");
        (status, body)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let row = self.kind().row();
        // Says, in the mock's log, whether the bytes a client got were seen on the real
        // service or inferred.
        tracing::debug!(
            status = row.status,
            source = row.source,
            inferred = row.inferred,
            "LiveDNS error"
        );
        let (status, body) = self.render();
        // go-gandi (external-dns) reads an error body only when the type is exactly this
        // (gandi-wire.md §4.1). The 2020 recordings show `application/json; charset=UTF-8`
        // on backend 404s; the spec's choice wins because a client depends on it.
        let mut response = (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response();
        if let Self::MethodNotAllowed { allow, .. } = self {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(i) => Self::invalid("body", i.field, i.description),
            StoreError::UnknownDomain(_) => Self::UnknownDomain,
            StoreError::RrsetNotFound { name, rtype } => Self::RrsetNotFound {
                name,
                rtype: rtype.to_string(),
            },
            StoreError::RrsetExists { name, .. } => Self::Conflict { name },
            StoreError::SnapshotNotFound(_) => Self::NotFound,
        }
    }
}

impl From<Denied> for ApiError {
    fn from(d: Denied) -> Self {
        match d {
            Denied::UnknownDomain => Self::UnknownDomain,
            Denied::OtherOrganization => Self::OtherOrganization,
            Denied::Forbidden => Self::Forbidden,
        }
    }
}

/// `[{"location": ..., "name": ..., "description": ...}, ...]` with Python's spacing.
fn render_errors(errors: &[FieldError]) -> String {
    let items: Vec<String> = errors
        .iter()
        .map(|e| {
            format!(
                r#"{{"location": "{}", "name": "{}", "description": "{}"}}"#,
                py_escape(e.location),
                py_escape(&e.name),
                py_escape(&e.description)
            )
        })
        .collect();
    format!("[{}]", items.join(", "))
}

/// The inside of a JSON string as Python's `json.dumps` writes it (the backend is Python):
/// everything outside printable ASCII becomes `\uXXXX`.
pub(crate) fn py_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_exactly_one_row() {
        for row in CATALOGUE {
            assert_eq!(
                CATALOGUE.iter().filter(|r| r.kind == row.kind).count(),
                1,
                "{:?}",
                row.kind
            );
            assert!(!row.source.is_empty());
        }
    }

    #[test]
    fn the_spec_gives_these_lengths() {
        assert_eq!(ApiError::NotFound.render().1.len(), 108);
        assert_eq!(ApiError::UnknownDomain.render().1.len(), 99);
        let missing = ApiError::RrsetNotFound {
            name: "localhost".into(),
            rtype: "A".into(),
        };
        assert_eq!(missing.render().1.len(), 123);
    }

    /// The whole catalogue in one reviewable place: status, exact body, source, inferred.
    #[test]
    fn the_catalogue_renders_these_bytes() {
        let samples = [
            ApiError::NotFound,
            ApiError::UnknownDomain,
            ApiError::RrsetNotFound {
                name: "_acme-challenge".into(),
                rtype: "TXT".into(),
            },
            ApiError::OtherOrganization,
            ApiError::NoCredentials,
            ApiError::BadApiKey,
            ApiError::Forbidden,
            ApiError::ServerError,
            ApiError::Conflict { name: "bob".into() },
            ApiError::invalid("body", "rrset_ttl", "60 is less than minimum value 300"),
            ApiError::MethodNotAllowed {
                method: "PATCH".into(),
                allow: "GET",
            },
            ApiError::TooLarge,
            ApiError::TooManyRequests,
            ApiError::BadGateway,
            ApiError::ServiceUnavailable,
            ApiError::GatewayTimeout,
        ];
        assert_eq!(samples.len(), CATALOGUE.len());
        let mut out = String::new();
        for e in &samples {
            let row = e.kind().row();
            let (status, body) = e.render();
            let _ = writeln!(
                out,
                "{:?} {} ({} bytes){}\n  {body}\n  source: {}\n",
                row.kind,
                status.as_u16(),
                body.len(),
                if row.inferred { " INFERRED" } else { "" },
                row.source
            );
        }
        insta::assert_snapshot!(out);
    }

    #[test]
    fn escaping_follows_python_json_dumps() {
        assert_eq!(py_escape("a\"b\\c"), "a\\\"b\\\\c");
        assert_eq!(py_escape("é"), "\\u00e9");
        assert_eq!(py_escape("😀"), "\\ud83d\\ude00");
        assert_eq!(py_escape("\u{7f}"), "\\u007f");
    }
}
