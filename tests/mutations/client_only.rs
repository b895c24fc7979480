//! The expectations no change of Gandi can make fail, each with its reason.

const V4_REFUSES_A_PAT: &str =
    "the v4 API refuses a 40-character token whatever the seed holds, and the client sends it";

/// Expectations no change of Gandi can make fail: (scenario, expectation, why).
pub(crate) const CLIENT_ONLY: &[(&str, &str, &str)] = &[
    (
        "certbot-plugin-gandi-rotated-key-old-host-2022",
        "outcome",
        "the key the client sends is one the account does not hold (rotated): no change of \
         Gandi makes it valid, so every base-domain guess ends refused",
    ),
    (
        "certbot-plugin-gandi-zones-refused-domains-accepted-2019",
        "outcome",
        "the script prints what Gandi answered and ends without an error whatever the answers \
         (its calls and the TXT left in DNS pin them)",
    ),
    (
        "lego-4-9-pat-to-gandiv5",
        "outcome",
        "lego 4.9.1 refuses its configuration before any request",
    ),
    (
        "lego-4-9-pat-to-gandiv5",
        "error_contains[0]",
        "lego 4.9.1 refuses its configuration before any request",
    ),
    (
        "lego-4-9-pat-to-gandiv5",
        "no_calls[0]",
        "lego 4.9.1 refuses its configuration before any request",
    ),
    (
        "ttl-below-300",
        "outcome",
        "the provider refuses the TTL before any request",
    ),
    (
        "ttl-below-300",
        "error_contains[0]",
        "the provider refuses the TTL before any request",
    ),
    (
        "ttl-below-300",
        "no_calls[0]",
        "the provider refuses the TTL before any request",
    ),
    (
        "certbot-dns-multi-apikey-on-current-host",
        "no_calls[0]",
        "the client picks the API host; Gandi cannot send it to the other one",
    ),
    (
        "lego-apikey-to-gandiv5-apex-and-wildcard",
        "no_calls[0]",
        "the client picks the API host; Gandi cannot send it to the other one",
    ),
    (
        "two-names-one-fails-to-present",
        "error_contains[2]",
        "lego deactivates every authorization that is not valid on every failure path",
    ),
    ("pat-to-legacy-gandi-provider", "outcome", V4_REFUSES_A_PAT),
    ("lego-pat-to-gandi-provider", "outcome", V4_REFUSES_A_PAT),
    (
        "certbot-dns-multi-pat-to-gandi-provider",
        "outcome",
        V4_REFUSES_A_PAT,
    ),
    (
        "apex-and-wildcard-through-gandi",
        "outcome",
        "lego's gandi provider itself refuses a second challenge in one zone",
    ),
    (
        "caddy-libdns-empty-bearer-token",
        "outcome",
        "the client sends an empty token: no credential of the seed is ever presented",
    ),
    (
        "ansible-gandi-livedns-ttl-below-300",
        "outcome",
        "the client asks for a TTL below Gandi's minimum: refused whatever the seed",
    ),
    (
        "lego-4-30-x-api-key-on-current-host",
        "outcome",
        "the client sends its key as X-Api-Key, which api.gandi.net never reads",
    ),
    (
        "octodns-gandi-alias-off-the-apex-sandbox",
        "outcome",
        "the client creates an ALIAS away from the apex: refused whatever the seed",
    ),
    (
        "acme-sh-2017-apex-and-wildcard-single-value-put",
        "outcome",
        "the client's second single-value PUT replaces the first: no answer keeps both values",
    ),
    (
        "no-way-out-of-the-sandbox",
        "outcome",
        "the script fails on the sandbox's closed internet, which is not Gandi",
    ),
    (
        "no-way-out-of-the-sandbox",
        "error_contains[0]",
        "the sandbox's closed internet, not Gandi",
    ),
    (
        "no-way-out-of-the-sandbox",
        "error_contains[1]",
        "the sandbox's closed internet, not Gandi",
    ),
];
