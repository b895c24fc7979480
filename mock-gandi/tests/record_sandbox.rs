//! `mock-gandi record` through its transparent HTTPS listener, for a client that ignores
//! proxies, as a user runs it in a network namespace of their own: Gandi's names in `/etc/hosts`
//! lead to the recorder on 127.0.0.1:443, the recorder forwards to a second mock (the
//! upstream, its own seed and CA), and Python's `xmlrpc.client` (which never reads
//! `HTTPS_PROXY`) calls the v4 API by its real name. The recording has both calls, the host the
//! client named, no v4 key, and replays clean.

use std::path::Path;
use std::process::Command;

const V4KEY: &str = "v4sandboxkey000000abcdef";

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_mock-gandi")
}

/// What runs inside the namespace: the loopback up, `/etc/hosts` replaced, the upstream and
/// the recorder started, the client run, the recorder stopped (it writes its last line).
const SCRIPT: &str = r#"
set -eu
D=$1
ip link set lo up
printf '127.0.0.1 localhost\n127.0.0.1 rpc.gandi.net api.gandi.net\n' > "$D/hosts"
mount --bind "$D/hosts" /etc/hosts
ready() { for _ in $(seq 200); do [ -s "$1" ] && return 0; sleep 0.05; done; echo "no $1"; exit 1; }
field() { "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
"$BIN" serve --seed "$D/upstream.toml" --https 127.0.0.1:0 --ca-dir "$D/upstream-ca" \
  > "$D/upstream.json" 2> "$D/upstream.log" &
upstream=$!
ready "$D/upstream.json"
"$BIN" record --upstream "https://$(field "$D/upstream.json" https)" \
  --upstream-ca "$(field "$D/upstream.json" ca_cert)" --out "$D/recorded.jsonl" \
  --https 127.0.0.1:443 --ca-dir "$D/recorder-ca" > "$D/recorder.json" 2> "$D/recorder.log" &
recorder=$!
ready "$D/recorder.json"
# A proxy that is not there: a client that read it would fail.
HTTPS_PROXY=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 \
SSL_CERT_FILE="$(field "$D/recorder.json" ca_cert)" "$PY" - <<'CLIENT'
import os, xmlrpc.client
api = xmlrpc.client.ServerProxy("https://rpc.gandi.net/xmlrpc/")
key = os.environ["V4KEY"]
info = api.domain.info(key, "legacy-zone.fr")
records = api.domain.zone.record.list(key, info["zone_id"], 0)
print("records:", sorted(r["name"] for r in records))
CLIENT
kill -TERM "$recorder"
wait "$recorder"
kill "$upstream"
"#;

#[test]
fn a_client_that_ignores_proxies_is_recorded_through_the_https_listener_in_a_namespace() {
    let unshare = ["/usr/bin/unshare", "/bin/unshare"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    let python = ["/usr/bin/python3", "/bin/python3"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    let (Some(unshare), Some(python)) = (unshare, python) else {
        mock_gandi::require::skip_or_fail(
            "unshare and python3",
            "apt-get install util-linux python3",
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("upstream.toml"),
        format!(
            "[[domain]]\nfqdn = \"legacy-zone.fr\"\ndns = \"legacy\"\n[[domain.record]]\n\
             name = \"mail\"\ntype = \"A\"\nttl = 1800\nvalues = [\"192.0.2.25\"]\n\n\
             [[credential]]\nkind = \"v4-key\"\nsecret = \"{V4KEY}\"\n"
        ),
    )
    .unwrap();
    let mut command = Command::new(unshare);
    // /proc/self belongs to the process's effective user.
    let root =
        std::fs::metadata("/proc/self").is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0);
    if !root {
        command.arg("--map-root-user");
    }
    let out = command
        .args(["--net", "--mount", "--fork", "sh", "-c", SCRIPT, "sh"])
        .arg(dir.path())
        .env("BIN", bin())
        .env("PY", python)
        .env("V4KEY", V4KEY)
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env_remove("MOCK_GANDI_LOG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && stderr.contains("unshare failed") {
        mock_gandi::require::skip_or_fail("a network namespace (unshare --net)", &stderr);
        return;
    }
    let log = std::fs::read_to_string(dir.path().join("recorder.log")).unwrap_or_default();
    assert!(out.status.success(), "{stdout}\n{stderr}\n{log}");
    assert!(stdout.contains("'mail'"), "{stdout}");

    // Both calls, under the name the client used, and never the key.
    let recording = std::fs::read_to_string(dir.path().join("recorded.jsonl")).unwrap();
    // After the recorder's `#` header line, one exchange per line.
    let lines: Vec<serde_json::Value> = recording
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{recording}");
    for (line, method) in lines.iter().zip(["domain.info", "domain.zone.record.list"]) {
        let text = line.to_string();
        assert!(text.contains(method), "{text}");
        assert!(text.contains("rpc.gandi.net"), "{text}");
    }
    for (what, text) in [("recording", &recording), ("log", &log)] {
        assert!(!text.contains(V4KEY), "the v4 key reached the {what}");
    }

    // It replays clean against the mock.
    let replay = Command::new(bin())
        .args(["replay"])
        .arg(dir.path().join("recorded.jsonl"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&replay.stdout);
    assert!(
        replay.status.success(),
        "{said}\n{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    assert!(said.contains("2 same, 0 different"), "{said}");
}
