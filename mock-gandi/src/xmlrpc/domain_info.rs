//! The domain struct of `domain.info`, `domain.list` and `domain.zone.set`: every member the
//! recorded answer has (lexicon-gandi RPC test_provider_authenticate, 2018), in its order.
//! Registrar data (dates, contacts, authinfo, renewal) is placeholder in that shape, the same
//! placeholders the Domain API shows; `domain.list` items are the same struct (Gandi/gandi.cli
//! gandi/cli/tests/fixtures/_domain.py lists domains with every member of `domain.info`).

use crate::era::Era;
use crate::store::{DnsMode, Domain, organization_uuid};

use super::codec::Value;
use super::faults::OWNER_HANDLE;

/// An id as Gandi sends it: an int up to 2^31, a string above (as Python's marshaller must).
pub(super) fn id_value(id: u64) -> Value {
    match i32::try_from(id) {
        Ok(small) => Value::Int(i64::from(small)),
        Err(_) => Value::String(id.to_string()),
    }
}

fn date(text: &str) -> Value {
    Value::DateTime(text.to_string())
}

/// One contact as `domain.info` gives it: handle and id.
fn contact() -> Value {
    Value::Struct(vec![
        ("handle".into(), Value::string(OWNER_HANDLE)),
        ("id".into(), Value::Int(1_000_001)),
    ])
}

/// The domain struct. Dates are the Domain API's placeholders (created 2019-02-13, registry
/// end 2030-02-13) with the recorded offsets between them.
pub(super) fn domain_value(d: &Domain, era: Era) -> Value {
    // A LiveDNS domain has no zone of v4's in the era of
    // `Era::v4_livedns_domain_without_zone` (`zone_id` nil).
    let zone_id = if d.dns == DnsMode::Livedns && era.v4_livedns_domain_without_zone() {
        Value::Nil
    } else {
        id_value(d.zone_id)
    };
    let fqdn = d.fqdn.as_str();
    let tld = fqdn.rsplit('.').next().unwrap_or(fqdn);
    let services = match d.dns {
        DnsMode::Legacy => "gandidns",
        DnsMode::Livedns => "gandilivedns",
    };
    let contacts = Value::Struct(vec![
        ("owner".into(), contact()),
        ("admin".into(), contact()),
        ("bill".into(), contact()),
        ("tech".into(), contact()),
        ("reseller".into(), Value::Nil),
    ]);
    let autorenew = Value::Struct(vec![
        ("product_id".into(), id_value(d.id)),
        ("duration".into(), Value::Int(1)),
        ("contact".into(), Value::string(OWNER_HANDLE)),
        ("active".into(), Value::Boolean(false)),
        ("id".into(), id_value(d.id)),
        ("product_type_id".into(), Value::Int(1)),
    ]);
    Value::Struct(vec![
        (
            "entity_id".into(),
            Value::string(organization_uuid(&format!("domain {fqdn}"))),
        ),
        ("date_updated".into(), date("20190225T16:20:49")),
        ("date_delete".into(), date("20300330T01:41:46")),
        ("can_tld_lock".into(), Value::Boolean(true)),
        ("is_premium".into(), Value::Boolean(false)),
        ("is_special_price".into(), Value::Boolean(false)),
        ("date_hold_begin".into(), date("20300213T10:04:18")),
        ("date_registry_end".into(), date("20300213T10:04:18")),
        ("authinfo_expiration_date".into(), date("20300113T10:04:18")),
        ("contacts".into(), contacts),
        (
            "nameservers".into(),
            Value::Array(d.delegated_to().into_iter().map(Value::String).collect()),
        ),
        ("date_restore_end".into(), date("20300429T10:04:18")),
        ("id".into(), id_value(d.id)),
        ("authinfo".into(), Value::string("mock-authinfo")),
        (
            "status".into(),
            Value::Array(vec![
                Value::string("serverTransferProhibited"),
                Value::string("clientTransferProhibited"),
            ]),
        ),
        ("tags".into(), Value::Array(vec![])),
        ("date_hold_end".into(), date("20300330T10:04:18")),
        (
            "services".into(),
            Value::Array(vec![Value::string(services)]),
        ),
        ("date_pending_delete_end".into(), date("20300429T10:04:18")),
        ("zone_id".into(), zone_id),
        ("date_renew_begin".into(), date("20120101T00:00:00")),
        ("fqdn".into(), Value::string(fqdn)),
        ("autorenew".into(), autorenew),
        ("date_registry_creation".into(), date("20190213T10:04:18")),
        ("tld".into(), Value::string(tld)),
        ("date_created".into(), date("20190213T11:04:18")),
    ])
}
