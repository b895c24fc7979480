//! The request and DNS journals: what clients asked and what they got, for tests, scenario
//! transcripts and `GET /_mock/requests` / `GET /_mock/dns/queries`.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;
use time::OffsetDateTime;

/// Entries kept at most per journal unless told otherwise (`Limits::journal_entries`); the
/// oldest go first. Enough for any scenario, and a bound on memory for a mock left running
/// under load.
pub const CAPACITY: usize = 100_000;

/// Which API generation a request reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Api {
    /// Legacy v4 XML-RPC.
    V4,
    /// Old LiveDNS host (`dns.api.gandi.net/api/v5`).
    LivednsOld,
    /// Current LiveDNS host (`api.gandi.net/v5/livedns`).
    Livedns,
    /// The Domain and Organization APIs (`api.gandi.net/v5/domain`, `/v5/organization`).
    Domain,
    /// The mock's own `/_mock` API.
    Admin,
    /// Anything else.
    Other,
}

/// What a handler tells the journal about a request, beyond what the HTTP layer sees. Handlers
/// put it in the response's extensions; the journal layer reads it from there.
#[derive(Debug, Clone, Default)]
pub struct Note {
    pub xmlrpc_method: Option<String>,
    pub fault_code: Option<i64>,
    /// The kind of credential that authenticated (`pat`, `apikey`, `v4-key`), if one did.
    pub auth: Option<&'static str>,
    /// The request body as the handler read it (UTF-8, lossy), for in-process comparisons of
    /// what clients sent (the harness's twin runs).
    pub body: Option<String>,
}

/// One HTTP request as the journal keeps it.
#[derive(Debug, Clone, Serialize)]
pub struct RequestEntry {
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    pub api: Api,
    pub host: String,
    pub method: String,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xmlrpc_method: Option<String>,
    /// The status answered; 0 when the request was abandoned.
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault_code: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<&'static str>,
    /// How the request presented a credential, whether or not it authenticated: the scheme of
    /// its `Authorization` header (`Bearer`, `Apikey`, as sent), `X-Api-Key`, or none (the v4
    /// API's key is a parameter). Never the credential itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// The request's `Content-Type`, as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// True when the request came through the HTTPS proxy.
    pub proxied: bool,
    /// The fault rule (from 1, in seed order) that answered instead of the API, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<u32>,
    /// The request body (XML-RPC calls, LiveDNS writes), kept in process only: it may carry
    /// a key, and `GET /_mock/requests` shows no secret.
    #[serde(skip)]
    pub body: Option<String>,
    /// The client closed the connection before the answer (it gave up waiting: a fault's
    /// `delay_ms` longer than its timeout); `status` is then 0.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub abandoned: bool,
    /// A fault rule closed the connection instead of answering (`before`: no answer, `status`
    /// is 0) or in the middle of the answer (`mid-body`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed: Option<crate::store::CloseAt>,
    /// Refused by the rate limit (`[rate_limit]`): answered 429 without reaching the API.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub rate_limited: bool,
}

/// [`RequestEntry::scheme`] of a request's headers.
pub fn auth_scheme(headers: &http::HeaderMap) -> Option<String> {
    if let Some(value) = headers.get(http::header::AUTHORIZATION) {
        let text = String::from_utf8_lossy(value.as_bytes());
        // Only the scheme: the rest is the secret.
        return Some(text.split_whitespace().next().unwrap_or("").to_string());
    }
    headers
        .contains_key("x-api-key")
        .then(|| "X-Api-Key".to_string())
}

/// [`RequestEntry::content_type`] of a request's headers.
pub fn content_type(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get(http::header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// What is known of a request while it is being answered, for the journal entry written if
/// the client leaves first: the fault rule that fired, the XML-RPC method it named. The
/// journal layer puts it in the request's extensions; the fault layer fills it.
#[derive(Debug, Clone, Default)]
pub struct InFlight(std::sync::Arc<std::sync::Mutex<InFlightNote>>);

#[derive(Debug, Clone, Default)]
pub struct InFlightNote {
    pub fault: Option<u32>,
    pub xmlrpc_method: Option<String>,
}

impl InFlight {
    pub fn set(&self, note: InFlightNote) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = note;
    }

    pub fn get(&self) -> InFlightNote {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// One DNS query as the journal keeps it.
#[derive(Debug, Clone, Serialize)]
pub struct DnsEntry {
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// `udp` or `tcp`.
    pub transport: &'static str,
    /// The name as asked (case kept, no trailing dot).
    pub name: String,
    /// `TXT`, `A`, ...; the number for a type with no name.
    #[serde(rename = "type")]
    pub qtype: String,
    /// `NOERROR`, `NXDOMAIN`, `REFUSED`, `FORMERR`, ...
    pub rcode: String,
    /// The answers, as presentation text (`"token"` for TXT).
    pub answers: Vec<String>,
    /// The DNS fault rule (from 1, in seed order) that took the query; `rcode` is then what it
    /// answered (`DROPPED` when nothing was).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<u32>,
}

/// Both journals. Interior locking for the same reason as the store: short sections, never
/// held across an await.
#[derive(Debug)]
pub struct Journal {
    requests: Mutex<VecDeque<RequestEntry>>,
    dns: Mutex<VecDeque<DnsEntry>>,
    capacity: usize,
}

impl Default for Journal {
    fn default() -> Self {
        Self::with_capacity(CAPACITY)
    }
}

impl Journal {
    /// A journal keeping the last `capacity` entries of each kind (at least 10): when full,
    /// the oldest tenth goes.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            requests: Mutex::default(),
            dns: Mutex::default(),
            capacity: capacity.max(10),
        }
    }

    fn push<T>(&self, list: &Mutex<VecDeque<T>>, entry: T) {
        let mut list = list.lock().unwrap_or_else(|p| p.into_inner());
        if list.len() >= self.capacity {
            // A ring: the oldest go without moving the others.
            list.drain(..self.capacity / 10);
        }
        list.push_back(entry);
    }

    pub fn record_request(&self, entry: RequestEntry) {
        self.push(&self.requests, entry);
    }

    pub fn record_dns(&self, entry: DnsEntry) {
        self.push(&self.dns, entry);
    }

    pub fn requests(&self) -> Vec<RequestEntry> {
        let list = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        list.iter().cloned().collect()
    }

    pub fn dns_queries(&self) -> Vec<DnsEntry> {
        let list = self.dns.lock().unwrap_or_else(|p| p.into_inner());
        list.iter().cloned().collect()
    }

    pub fn clear_requests(&self) {
        self.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    pub fn clear_dns(&self) {
        self.dns.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}
