//! What a fault rule answers ([`FaultAnswer`]), and its status answer as the seed writes it
//! (`status`, with `body` and `content_type`, or `gateway`): Gandi's catalogued body, the
//! rule's own, or the front end's error page.

use serde::{Deserialize, Serialize};

use super::types::Invalid;

/// Where a connection is closed instead of answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CloseAt {
    /// No answer at all: the connection ends after the request was read.
    Before,
    /// The API's answer begins (its status, headers and half its body), then the connection
    /// ends.
    MidBody,
}

/// What the mock answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum FaultAnswer {
    /// This HTTP status with Gandi's body for it (LiveDNS's error catalogue).
    Status(u16),
    /// This HTTP status with a body of the rule's own (`body`, `content_type`), or Gandi's
    /// front end's error page (`gateway = "html"`).
    Custom {
        status: u16,
        body: String,
        content_type: String,
        gateway: bool,
    },
    /// An XML-RPC fault (HTTP 200); no message: the fault catalogue's text for the code.
    XmlRpcFault { code: i32, message: Option<String> },
    /// An XML-RPC success carrying this value (a TOML or JSON value: tables are structs).
    XmlRpcResult(serde_json::Value),
    /// Only the delay: then the API answers as usual.
    Delay,
    /// The connection is closed instead of (or in the middle of) the answer.
    Close(CloseAt),
    /// No answer, ever: the request waits until the client leaves or the mock stops.
    Hang,
}

/// The statuses a rule may answer with: those Gandi's error catalogue has a body for.
pub const FAULT_STATUSES: [u16; 10] = [401, 403, 404, 405, 413, 429, 500, 502, 503, 504];

/// A status answer: Gandi's body from the catalogue when the rule gives none, else the rule's
/// own body (any status from 200 to 599), or Gandi's front end's page (`gateway = "html"`).
pub(super) fn status_answer(
    status: u16,
    body: Option<String>,
    content_type: Option<String>,
    gateway: Option<String>,
) -> Result<FaultAnswer, Invalid> {
    if !(100..=599).contains(&status) {
        return Err(Invalid::new(
            "status",
            format!("{status} is no HTTP status (100 to 599)"),
        ));
    }
    if status < 200 {
        return Err(Invalid::new(
            "status",
            format!("{status} is informational: HTTP cannot end an exchange with it (200 to 599)"),
        ));
    }
    match (body, content_type, gateway.as_deref()) {
        (None, None, None) if FAULT_STATUSES.contains(&status) => Ok(FaultAnswer::Status(status)),
        (None, None, None) => Err(Invalid::new(
            "status",
            format!(
                "no Gandi body for {status} (the catalogue has {FAULT_STATUSES:?}): give body (and content_type) or gateway = \"html\""
            ),
        )),
        (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => Err(Invalid::new(
            "gateway",
            "gateway = \"html\" is a whole answer: no body or content_type beside it",
        )),
        (None, Some(_), None) => Err(Invalid::new("content_type", "content_type without body")),
        (_, _, Some("html")) => Ok(FaultAnswer::Custom {
            status,
            body: gateway_page(status),
            content_type: "text/html".to_string(),
            gateway: true,
        }),
        (_, _, Some(other)) => Err(Invalid::new(
            "gateway",
            format!("unknown gateway \"{other}\": \"html\" is the one there is"),
        )),
        (Some(_), _, None) if matches!(status, 204 | 304) => Err(Invalid::new(
            "body",
            format!("a {status} answer has no body"),
        )),
        (Some(body), content_type, None) => {
            let content_type = content_type.unwrap_or_else(|| {
                if serde_json::from_str::<serde_json::Value>(&body).is_ok() {
                    "application/json".to_string()
                } else {
                    "text/plain; charset=utf-8".to_string()
                }
            });
            if http::HeaderValue::from_str(&content_type).is_err() {
                return Err(Invalid::new(
                    "content_type",
                    format!("{content_type:?} cannot be a header value"),
                ));
            }
            Ok(FaultAnswer::Custom {
                status,
                body,
                content_type,
                gateway: false,
            })
        }
    }
}

/// The error page of Gandi's front end for `status`: nginx's own page (Gandi's API answers
/// carry `Server: nginx`, doc.livedns.gandi.net's example exchange), with the status's
/// reason phrase. Inferred: no capture of Gandi's page exists.
fn gateway_page(status: u16) -> String {
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    format!(
        "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
}
