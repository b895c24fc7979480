//! A fault rule's status answer as the seed writes it (`status`, with `body` and
//! `content_type`, or `gateway`): Gandi's catalogued body, the rule's own, or the front end's
//! error page.

use super::fault::{FAULT_STATUSES, FaultAnswer};
use super::types::Invalid;

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
