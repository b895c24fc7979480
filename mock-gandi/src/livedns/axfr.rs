//! Zone transfer: TSIG keys (`/axfr/tsig`), and a domain's TSIG associations and slaves
//! (`/domains/{fqdn}/axfr/...`).

use axum::response::Response;

use super::error::ApiError;
use super::handlers::Cx;
use super::paths::Target;

pub(super) fn answer(_cx: &Cx, _target: Target, _bytes: &[u8]) -> Result<Response, ApiError> {
    Err(ApiError::NotFound)
}
