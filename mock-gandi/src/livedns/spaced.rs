//! The old host's JSON as it was written until 2024-11 (`crate::era::Era::old_host_spaced_json`):
//! every body, success and error, with Python's `json.dumps` separators (`", "` and `": "`),
//! the members in the same order. The 401 of obynio/certbot-plugin-gandi#33 is 264 bytes
//! this way (257 compact); the 403 of qdm12/ddns-updater#852 reads
//! `{"object": "HTTPForbidden", "cause": "Forbidden", "code": 403, "message": "Access was denied to this resource."}`.

use axum::body::Body;
use axum::http::header;
use axum::response::Response;

/// `response` with its JSON body spaced (any other body as it is).
pub(crate) async fn respace(response: Response) -> Response {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    if !is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // The mock's own bodies: bounded by what it writes (a zone's records at most).
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let text = String::from_utf8_lossy(&bytes);
    let spaced = py_spaced(&text);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(spaced))
}

/// JSON text with Python's default separators: one space after every `,` and `:` outside
/// strings, no other white space outside strings.
pub(crate) fn py_spaced(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + json.len() / 8);
    let mut in_string = false;
    let mut escaped = false;
    for c in json.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            ',' => out.push_str(", "),
            ':' => out.push_str(": "),
            c if c.is_ascii_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_json_gets_pythons_separators_and_strings_stay_as_they_are() {
        assert_eq!(
            py_spaced(r#"{"message":"DNS Record Created"}"#),
            r#"{"message": "DNS Record Created"}"#
        );
        assert_eq!(
            py_spaced(r#"[{"a":[1,2],"b":"x, y: \"z,\":"}]"#),
            r#"[{"a": [1, 2], "b": "x, y: \"z,\":"}]"#
        );
        // Already spaced text is not spaced twice.
        let spaced = r#"{"code": 404, "message": "Unknown domain"}"#;
        assert_eq!(py_spaced(spaced), spaced);
    }
}
