use super::state::FIRST_RECORD_ID;
use super::*;

fn store() -> ZoneStore {
    ZoneStore::new(
        Seed::from_toml(
            r#"
[[domain]]
fqdn = "stubber.chat"
organization = "acme"
[[domain.record]]
name = "@"
type = "A"
ttl = 300
values = ["192.0.2.10"]
[[domain]]
fqdn = "old.example"
dns = "legacy"
[[domain.record]]
name = "www"
type = "A"
values = ["192.0.2.20"]
[[credential]]
kind = "pat"
secret = "0123456789abcdef0123456789abcdef01234567"
organization = "acme"
[[credential]]
kind = "apikey"
secret = "abcdefghijklmnopqrstuvwx"
permissions = ["dns:read"]
"#,
        )
        .unwrap(),
    )
}

/// One write to `stubber.chat`: a TXT rrset at `new`.
fn put_new_txt(store: &ZoneStore) {
    store
        .write(|s| {
            s.put_rrset(
                &f("stubber.chat"),
                &n("new"),
                RecordType::Txt,
                None,
                &["\"x\"".to_string()],
            )
        })
        .unwrap();
}

#[test]
fn a_write_under_a_held_snapshot_copies_only_what_it_changes() {
    let store = store();
    let before = store.current();
    put_new_txt(&store);
    let after = store.current();
    assert!(!Arc::ptr_eq(&before, &after), "a new snapshot");
    // The reader's snapshot is unchanged; the changed domain is a new one...
    assert!(
        before.domains[&f("stubber.chat")].rrsets.len()
            < after.domains[&f("stubber.chat")].rrsets.len()
    );
    // ...and everything else is shared, not copied.
    assert!(Arc::ptr_eq(
        &before.domains[&f("old.example")],
        &after.domains[&f("old.example")]
    ));
    for (id, zone) in &before.zones {
        assert!(Arc::ptr_eq(zone, &after.zones[id]));
    }
    // With no reader holding it, a write changes the snapshot in place.
    drop(before);
    let held = Arc::as_ptr(&after);
    drop(after);
    store
        .write(|s| s.delete_name(&f("stubber.chat"), &n("new")))
        .unwrap();
    assert_eq!(Arc::as_ptr(&store.current()), held);
}

#[test]
fn a_seeded_zone_version_lists_the_seed_s_records_and_shares_the_rrsets() {
    // A plain domain (read from its rrsets), one whose records repeat an rrset and a
    // value (written out), and a third after them: ids run on across all three.
    let text = r#"
[[domain]]
fqdn = "plain.example"
[[domain.record]]
name = "www"
type = "A"
ttl = 600
values = ["192.0.2.2", "192.0.2.1"]
[[domain.record]]
name = "@"
type = "TXT"
values = ["\"b\"", "\"a\""]
[[domain]]
fqdn = "repeats.example"
dns = "legacy"
[[domain.record]]
name = "x"
type = "A"
values = ["192.0.2.1", "192.0.2.1"]
[[domain.record]]
name = "x"
type = "A"
ttl = 900
values = ["192.0.2.3"]
[[domain]]
fqdn = "after.example"
[[domain.record]]
name = "@"
type = "MX"
values = ["10 mx.example."]
"#;
    let seed = Seed::from_toml(text).unwrap();
    let store = ZoneStore::parse(text).unwrap();
    let state = store.current();
    let mut first = FIRST_RECORD_ID;
    for d in &seed.domain {
        let domain = &state.domains[&d.fqdn];
        let version = &state.zones[&domain.zone_id].versions[&1];
        assert_eq!(
            version.iter().collect::<Vec<_>>(),
            records::listing(&d.record, first)
        );
        first += version.len() as u64;
        match (d.fqdn.as_str(), version) {
            ("repeats.example", Records::Listed(_)) => {}
            (_, Records::Seeded(s)) if d.fqdn.as_str() != "repeats.example" => {
                assert!(s.rrsets().shares(&domain.rrsets), "{}", d.fqdn);
            }
            (fqdn, _) => panic!("{fqdn}: not the expected form"),
        }
    }
    // DNS serves the legacy domain's version grouped as LiveDNS would hold it.
    let view = store.zone_for(&f("x.repeats.example")).unwrap();
    let sets: Vec<_> = view.rrsets().cloned().collect();
    assert_eq!(sets.len(), 1);
    assert_eq!((sets[0].ttl, sets[0].values.len()), (DEFAULT_TTL, 2));

    // A LiveDNS write copies the rrsets: version 1 keeps listing the seed's records.
    let plain = &seed.domain[0];
    store
        .write(|s| {
            s.put_rrset(
                &plain.fqdn,
                &n("www"),
                RecordType::A,
                None,
                &["192.0.2.9".into()],
            )
        })
        .unwrap();
    let state = store.current();
    let domain = &state.domains[&plain.fqdn];
    let version = &state.zones[&domain.zone_id].versions[&1];
    assert_eq!(
        version.iter().collect::<Vec<_>>(),
        records::listing(&plain.record, FIRST_RECORD_ID)
    );
    // A v4 edit writes the version out, the same records then the new one.
    let zone = domain.zone_id as i64;
    let next = store.write(|s| s.legacy_new_version(zone, None)).unwrap();
    store
        .write(|s| s.legacy_set_version(zone, i64::from(next)))
        .unwrap();
    let input = RecordInput {
        name: "new".into(),
        rtype: "TXT".into(),
        value: "\"c\"".into(),
        ttl: None,
    };
    store
        .write(|s| s.legacy_add_record(zone, 1, &input))
        .unwrap();
    let state = store.current();
    let version = &state.zones[&domain.zone_id].versions[&1];
    assert!(matches!(version, Records::Listed(_)));
    let listed: Vec<_> = version.iter().collect();
    assert_eq!(
        listed[..4],
        records::listing(&plain.record, FIRST_RECORD_ID)[..]
    );
    assert_eq!(listed[4].name.as_str(), "new");
    // reset returns to the seeded form.
    store.reset();
    let state = store.current();
    let version = &state.zones[&state.domains[&plain.fqdn].zone_id].versions[&1];
    assert!(matches!(version, Records::Seeded(_)));
}

#[test]
fn the_seed_is_held_once_and_reset_returns_to_it() {
    let store = store();
    let seeded = store.snapshot();
    // Before any write the current state is the seeded one itself.
    assert!(Arc::ptr_eq(&store.current(), &store.initial));
    put_new_txt(&store);
    let after = store.current();
    let (initial, now) = (&store.initial.domains, &after.domains);
    assert!(Arc::ptr_eq(
        &initial[&f("old.example")],
        &now[&f("old.example")]
    ));
    assert!(!Arc::ptr_eq(
        &initial[&f("stubber.chat")],
        &now[&f("stubber.chat")]
    ));
    assert_ne!(store.snapshot(), seeded);
    store.reset();
    assert_eq!(store.snapshot(), seeded);
    let now = store.current();
    assert!(Arc::ptr_eq(
        &store.initial.domains[&f("stubber.chat")],
        &now.domains[&f("stubber.chat")]
    ));
    assert!(now.generation > after.generation, "DNS sees a new serial");
}

#[test]
fn reset_starts_every_rule_s_count_again() {
    use std::sync::atomic::Ordering::SeqCst;
    let store = ZoneStore::new(
        Seed::from_toml(
            "[[fault]]\nmethod = \"PUT\"\npath = \"/v5/*\"\ntimes = 1\nstatus = 429\n\
             [[dns_fault]]\nname = \"x.example\"\ntimes = 1\ndrop = true\n\
             [rate_limit]\nper_minute = 2\n",
        )
        .unwrap(),
    );
    let used = store.current();
    used.faults[0].seen.store(5, SeqCst);
    used.faults[0].fired.store(1, SeqCst);
    used.dns_faults[0].seen.store(3, SeqCst);
    store.reset();
    let now = store.current();
    assert_eq!(now.faults.len(), 1);
    assert_eq!(
        (
            now.faults[0].seen.load(SeqCst),
            now.faults[0].fired.load(SeqCst)
        ),
        (0, 0)
    );
    assert_eq!(now.faults[0].rule, used.faults[0].rule);
    assert_eq!(now.dns_faults[0].seen.load(SeqCst), 0);
    let (before, after) = (used.rate_limiter().unwrap(), now.rate_limiter().unwrap());
    assert!(!Arc::ptr_eq(&before, &after), "a new rate window");
    assert_eq!(before.limit(), after.limit());
}

fn f(s: &str) -> Fqdn {
    Fqdn::parse(s).unwrap()
}

fn n(s: &str) -> RelName {
    RelName::parse(s).unwrap()
}

#[test]
fn dns_sees_livedns_rrsets_for_a_livedns_domain() {
    let s = store();
    let view = s.zone_for(&f("www.stubber.chat")).unwrap();
    assert_eq!(view.apex, f("stubber.chat"));
    assert_eq!(view.rrsets().count(), 1);
    assert!(s.zone_for(&f("example.org")).is_none());
}

#[test]
fn dns_sees_the_active_legacy_version_for_a_legacy_domain() {
    let s = store();
    // A LiveDNS write to a legacy domain never reaches DNS.
    s.write(|st| {
        st.put_rrset(
            &f("old.example"),
            &n("x"),
            RecordType::A,
            None,
            &["192.0.2.99".into()],
        )
        .unwrap()
    });
    let view = s.zone_for(&f("old.example")).unwrap();
    assert_eq!(view.rrsets().count(), 1);
    assert_eq!(view.rrsets().next().unwrap().name, n("www"));
}

#[test]
fn put_without_ttl_gives_the_default_and_empty_values_remove() {
    let s = store();
    let d = f("stubber.chat");
    let set = s
        .write(|st| {
            st.put_rrset(
                &d,
                &n("_acme-challenge"),
                RecordType::Txt,
                None,
                &["tok".into()],
            )
        })
        .unwrap()
        .unwrap();
    assert_eq!(set.ttl, DEFAULT_TTL);
    assert_eq!(set.values, vec!["\"tok\""]);
    let gone = s
        .write(|st| st.put_rrset(&d, &n("_acme-challenge"), RecordType::Txt, Some(300), &[]))
        .unwrap();
    assert!(gone.is_none());
    assert!(
        s.read(|st| st.rrset(&d, &n("_acme-challenge"), RecordType::Txt))
            .is_none()
    );
}

#[test]
fn cname_stands_alone() {
    let s = store();
    let d = f("stubber.chat");
    let err = s
        .write(|st| st.put_rrset(&d, &n("@"), RecordType::Cname, None, &["x.example.".into()]))
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)));
}

#[test]
fn a_failed_zone_replace_changes_nothing() {
    let s = store();
    let d = f("stubber.chat");
    let before = s.read(|st| st.rrsets(&d)).unwrap();
    let err = s.write(|st| {
        st.replace_zone(
            &d,
            &[
                (n("a"), RecordType::A, None, vec!["192.0.2.1".into()]),
                (n("b"), RecordType::A, None, vec!["bad".into()]),
            ],
        )
    });
    assert!(err.is_err());
    assert_eq!(s.read(|st| st.rrsets(&d)).unwrap(), before);
}

#[test]
fn access_follows_scope_organization_and_permission() {
    let s = store();
    s.read(|st| {
        let pat = st
            .credential(
                "0123456789abcdef0123456789abcdef01234567",
                CredentialKind::Pat,
            )
            .unwrap();
        let key = st
            .credential("abcdefghijklmnopqrstuvwx", CredentialKind::ApiKey)
            .unwrap();
        let d = f("stubber.chat");
        assert!(st.livedns_access(pat, &d, None, Need::Write).is_ok());
        assert_eq!(
            st.livedns_access(key, &d, None, Need::Read).unwrap_err(),
            Denied::OtherOrganization
        );
        assert!(st.livedns_access(key, &d, Some("acme"), Need::Read).is_ok());
        assert!(
            st.livedns_access(key, &d, Some(&organization_uuid("acme")), Need::Read)
                .is_ok()
        );
        assert_eq!(
            st.livedns_access(key, &d, Some("acme"), Need::Write)
                .unwrap_err(),
            Denied::Forbidden
        );
        assert_eq!(
            st.livedns_access(pat, &f("old.example"), None, Need::Read)
                .unwrap_err(),
            Denied::UnknownDomain
        );
    });
}

#[test]
fn a_domain_outside_the_account_is_served_by_dns_and_unknown_to_the_apis() {
    let s = ZoneStore::new(
        Seed::from_toml(
            "[[domain]]\nfqdn = \"sub.stubber.chat\"\naccount = false\n\
             [[credential]]\nkind = \"pat\"\nsecret = \"p\"\n",
        )
        .unwrap(),
    );
    assert!(s.zone_for(&f("x.sub.stubber.chat")).is_some());
    s.read(|st| {
        assert!(st.domain(&f("sub.stubber.chat")).is_none());
        assert_eq!(st.domains().count(), 0);
        assert!(st.legacy_domain("sub.stubber.chat.").is_err());
        let pat = st.credential("p", CredentialKind::Pat).unwrap();
        assert_eq!(
            st.livedns_access(pat, &f("sub.stubber.chat"), None, Need::Read)
                .unwrap_err(),
            Denied::UnknownDomain
        );
    });
}

#[test]
fn reset_returns_to_the_start_up_seed() {
    let s = store();
    let d = f("stubber.chat");
    s.write(|st| st.delete_name(&d, &n("@"))).unwrap();
    assert!(s.read(|st| st.rrsets(&d)).unwrap().is_empty());
    s.reset();
    assert_eq!(s.read(|st| st.rrsets(&d)).unwrap().len(), 1);
}

#[test]
fn secrets_are_redacted() {
    assert_eq!(
        redact("0123456789abcdef0123456789abcdef01234567"),
        "0123…4567 (40)"
    );
    let snap = store().snapshot().to_string();
    assert!(!snap.contains("0123456789abcdef"));
}

#[test]
fn a_domain_delegated_away_from_gandi_is_not_served_and_comes_back_with_gandi_s_nameservers() {
    let store = store();
    let apex = f("stubber.chat");
    assert!(store.zone_for(&apex).is_some());
    store
        .write(|s| s.set_nameservers(&apex, vec!["ns1.elsewhere.example".into()]))
        .unwrap();
    assert!(store.zone_for(&apex).is_none(), "delegated elsewhere");
    assert!(store.zone_for(&f("www.stubber.chat")).is_none());
    store
        .write(|s| s.set_nameservers(&apex, vec!["ns-1-a.gandi.net".into()]))
        .unwrap();
    assert!(store.zone_for(&apex).is_some(), "back on Gandi's");
}

#[test]
fn a_move_to_livedns_serves_the_legacy_zone_s_records_from_livedns() {
    let store = store();
    let old = f("old.example");
    let served = |store: &ZoneStore| -> Vec<String> {
        store
            .zone_for(&old)
            .unwrap()
            .rrsets()
            .map(|r| format!("{} {} {:?}", r.name, r.rtype, r.values))
            .collect()
    };
    let before = served(&store);
    assert_eq!(before, ["www A [\"192.0.2.20\"]"]);
    assert_eq!(store.write(|s| s.move_to_livedns(&old)), Ok(true));
    assert_eq!(served(&store), before, "the same records, now LiveDNS's");
    store.read(|s| {
        let d = s.domain(&old).unwrap();
        assert_eq!(d.dns, DnsMode::Livedns);
        assert_eq!(d.delegated_to(), crate::store::NAMESERVERS);
    });
    // A LiveDNS write reaches DNS now; moving again changes nothing.
    store
        .write(|s| {
            s.put_rrset(
                &old,
                &n("new"),
                RecordType::A,
                None,
                &["192.0.2.30".to_string()],
            )
        })
        .unwrap();
    assert!(served(&store).iter().any(|r| r.starts_with("new A")));
    assert_eq!(store.write(|s| s.move_to_livedns(&old)), Ok(false));
}
