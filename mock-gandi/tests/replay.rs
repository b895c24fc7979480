//! `mock-gandi replay` over recorded real Gandi traffic (dns-lexicon's Gandi provider against the
//! real v4 API in 2018 and LiveDNS in 2020, `recorded/lexicon-gandi`): every exchange answered
//! as Gandi answered it, the accepted differences exactly those the project lists, and a
//! recording that does not match is reported with the place it differs.

use std::path::{Path, PathBuf};
use std::process::Command;

use mock_gandi::replay::{Accepted, Replayed, cassette, replay, replay_file};

fn recorded() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../recorded")
}

fn cassettes(folder: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(recorded().join("lexicon-gandi").join(folder))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

async fn replay_all(accepted: &Accepted) -> Vec<Replayed> {
    let mut out = Vec::new();
    for folder in ["RPC-IntegrationTests", "REST-IntegrationTests"] {
        let files = cassettes(folder);
        assert_eq!(files.len(), 26, "{folder}");
        for file in files {
            out.push(replay_file(&file, accepted).await.unwrap());
        }
    }
    out
}

#[tokio::test]
async fn every_recorded_real_exchange_is_answered_as_gandi_answered_it() {
    let replayed = replay_all(&Accepted::builtin()).await;
    let different: Vec<String> = replayed
        .iter()
        .filter(|r| r.different() > 0)
        .map(Replayed::render)
        .collect();
    assert!(different.is_empty(), "{}", different.join("\n"));
    let same: usize = replayed.iter().map(Replayed::same).sum();
    assert!(same >= 280, "only {same} exchanges compared");
    let notes: Vec<&String> = replayed.iter().flat_map(|r| &r.notes).collect();
    assert!(notes.is_empty(), "{notes:?}");
}

/// Without the accepted list, what differs is exactly what the list covers, and every glob of
/// every rule is needed by some exchange: the list cannot hide a new difference or keep a
/// stale rule.
#[tokio::test]
async fn the_accepted_differences_are_all_needed_and_cover_nothing_else() {
    let builtin = Accepted::builtin();
    let strict = replay_all(&Accepted::default()).await;
    let mut used: std::collections::BTreeMap<(usize, &str), usize> = builtin
        .accept
        .iter()
        .enumerate()
        .flat_map(|(i, rule)| {
            rule.difference
                .globs()
                .iter()
                .map(move |g| ((i, g.as_str()), 0))
        })
        .collect();
    for r in &strict {
        for v in &r.verdicts {
            for d in &v.differences {
                let glob = builtin
                    .accept
                    .iter()
                    .enumerate()
                    .find_map(|(i, rule)| Some((i, rule.matching(&r.file, &v.request, d)?)));
                match glob {
                    Some(key) => *used.get_mut(&key).unwrap() += 1,
                    None => panic!("{} #{} {}: {d} is not accepted", r.file, v.index, v.request),
                }
            }
        }
    }
    for ((_, glob), n) in &used {
        assert!(*n > 0, "the accepted difference {glob:?} is never needed");
    }
}

/// The members of the mock's `domain.info` are all the recorded answer's; only the values of
/// the registrar's placeholders differ, each member named in `recorded/accepted.toml`: no
/// member (`fqdn`, `nameservers`, `zone_id`, `authinfo`...) can go missing behind a rule.
#[tokio::test]
async fn domain_info_misses_only_the_members_the_accepted_list_names() {
    let path = recorded().join(
        "lexicon-gandi/RPC-IntegrationTests/test_provider_when_calling_list_records_with_fqdn_name_filter_should_return_record.yaml",
    );
    let replayed = replay_file(&path, &Accepted::default()).await.unwrap();
    let info = replayed
        .verdicts
        .iter()
        .find(|v| v.request == "xmlrpc domain.info")
        .expect("the recording calls domain.info");
    let missing: Vec<&str> = info
        .differences
        .iter()
        .filter_map(|d| d.strip_suffix(": recorded, missing from the mock"))
        .collect();
    assert!(missing.is_empty(), "{:#?}", info.differences);
    for member in [
        "fqdn",
        "nameservers",
        "zone_id",
        "id",
        "status",
        "tags",
        "services",
        "tld",
    ] {
        assert!(
            !missing.contains(&format!("$.{member}").as_str()),
            "domain.info lost {member}: {missing:?}"
        );
    }
    let reason = |d: &str| {
        Accepted::builtin()
            .reason(&replayed.file, &info.request, d)
            .map(str::to_string)
    };
    assert_eq!(reason("$.fqdn: recorded, missing from the mock"), None);
    assert_eq!(
        reason("$.nameservers: recorded, missing from the mock"),
        None
    );
    assert_eq!(reason("$.authinfo: recorded, missing from the mock"), None);
    assert!(reason(r#"$.authinfo: recorded "6gtmbKuvtk", mock "mock-authinfo""#).is_some());
    assert_eq!(
        reason("$.fqdn: recorded \"a.example\", mock \"b.example\""),
        None
    );
}

/// A recording the mock does not match: each difference names the exchange and the place.
#[tokio::test]
async fn a_recording_that_differs_is_reported_where_it_differs() {
    let path = recorded().join(
        "lexicon-gandi/REST-IntegrationTests/test_provider_when_calling_create_record_multiple_times_should_create_record_set.yaml",
    );
    let mut exchanges = cassette(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let get = exchanges
        .iter()
        .rposition(|e| e.method == "GET" && e.status == 200 && e.path().contains("/records/"))
        .unwrap();
    exchanges[get].response_body = exchanges[get]
        .response_body
        .replace("challengetoken1", "challengetokenX");
    let created = exchanges.iter().position(|e| e.status == 201).unwrap();
    exchanges[created].status = 200;
    let replayed = replay("altered", &exchanges, &Accepted::builtin()).await;
    assert_eq!(replayed.different(), 2, "{}", replayed.render());
    let status = &replayed.verdicts[created].differences;
    assert_eq!(status, &["status: recorded 200, mock 201"]);
    let body = replayed.verdicts[get].differences.join("\n");
    assert!(
        body.contains("$.rrset_values[0]: recorded \"\\\"challengetokenX\\\"\""),
        "{body}"
    );
}

/// The bug that started the project, transcribed from its report as one JSON line: the mock
/// refuses a 40-character token on the v4 API with Gandi's fault, byte for byte, and a JSON
/// line with a key the format does not have is refused with its line.
#[tokio::test]
async fn a_bug_report_transcribed_as_json_lines_replays() {
    let path = recorded().join("bug-reports/lego-2473.jsonl");
    let replayed = replay_file(&path, &Accepted::default()).await.unwrap();
    assert_eq!((replayed.same(), replayed.different()), (1, 0));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "# one good line then a bad one\n{\"request\": {\"method\": \"GET\", \"url\": \"https://api.gandi.net/v5/livedns/domains\"}, \"response\": {\"status\": 200}}\n{\"request\": {\"method\": \"GET\", \"url\": \"x\"}, \"respons\": {}}\n",
    )
    .unwrap();
    let e = replay_file(&bad, &Accepted::default()).await.unwrap_err();
    assert!(
        e.contains("bad.jsonl: line 3: unknown field `respons`"),
        "{e}"
    );
}

/// The command as a user runs it: counts on the last line, exit 0 when all is the same, 1 when
/// something differs, 2 when a recording cannot be read.
#[test]
fn the_command_prints_counts_and_exits_by_the_outcome() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_mock-gandi"))
            .arg("replay")
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let folder = recorded();
    let (code, stdout, _) = run(&["--quiet", folder.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stdout}");
    let last = stdout.lines().last().unwrap();
    assert!(
        last.contains(" same, 0 different (53 recordings;"),
        "{last}"
    );

    let (code, stdout, _) = run(&["--strict", "--quiet", folder.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(stdout.contains("header content-type: recorded"), "{stdout}");

    let (code, _, stderr) = run(&["/nonexistent/recording.yaml"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("/nonexistent/recording.yaml: no such file"),
        "{stderr}"
    );
}
