//! The built-in providers reach Gandi by its names through the mock's proxy, as a client
//! configured by `HTTPS_PROXY` does: so the proxy's host routing is part of every built-in
//! scenario. Shown by putting a relay in front of the proxy that passes the tunnels through
//! unchanged (the scenario issues, its calls journaled under Gandi's hosts), then one that sends
//! each tunnel to the wrong Gandi host, as a broken routing table would (the same scenario
//! fails: the old host has no `/v5/livedns`, and lego cannot read its HTML 404).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use harness::client::{ClientContext, ClientKind, ProviderName};
use harness::sandbox::Network;
use harness::{CaKind, CaOptions, start_ca};
use mock_gandi::MockGandi;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const PAT: &str = "23e501f7a1b2c3d4e5f60718293a4b5c6d7e960b";
const V4_KEY: &str = "abcdefghijklmnopqrstuv12";

const SEED: &str = r#"
[[domain]]
fqdn = "stubber.chat"
[[domain]]
fqdn = "legacy.chat"
dns = "legacy"
[[credential]]
kind = "pat"
secret = "23e501f7a1b2c3d4e5f60718293a4b5c6d7e960b"
[[credential]]
kind = "v4-key"
secret = "abcdefghijklmnopqrstuv12"
"#;

/// A relay in front of `proxy`: each `CONNECT host:port` line is rewritten by `route`, then
/// everything is copied both ways. Returns its `http://` address.
async fn relay(proxy: SocketAddr, route: fn(&str) -> String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut client = BufReader::new(client);
                let mut line = String::new();
                if client.read_line(&mut line).await.is_err() {
                    return;
                }
                let rewritten = match line.split_whitespace().collect::<Vec<_>>()[..] {
                    ["CONNECT", target, version] => {
                        format!("CONNECT {} {version}\r\n", route(target))
                    }
                    _ => line.clone(),
                };
                let Ok(mut upstream) = TcpStream::connect(proxy).await else {
                    return;
                };
                if upstream.write_all(rewritten.as_bytes()).await.is_err() {
                    return;
                }
                // What the client sent past the first line (the rest of the head, maybe the
                // TLS hello) is in the reader's buffer: copy_bidirectional drains it first.
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    format!("http://{addr}")
}

fn unchanged(target: &str) -> String {
    target.to_string()
}

/// A broken routing table: LiveDNS's host sent to the old LiveDNS host, the v4 host to
/// LiveDNS's.
fn misrouted(target: &str) -> String {
    match target {
        "api.gandi.net:443" => "dns.api.gandi.net:443".into(),
        "rpc.gandi.net:443" => "api.gandi.net:443".into(),
        other => other.into(),
    }
}

struct Run {
    result: Result<(), String>,
    /// (host, path, status) of each request the mock journaled.
    calls: Vec<(String, String, u16, bool)>,
}

async fn issue(provider: ProviderName, domain: &str, route: fn(&str) -> String) -> Run {
    let mock = MockGandi::builder()
        .seed_text(SEED)
        .unwrap()
        .start()
        .await
        .unwrap();
    let ca = start_ca(CaKind::Process, &CaOptions::new(mock.dns_addr()))
        .await
        .unwrap();
    let proxy: SocketAddr = mock
        .proxy_url()
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let proxy = relay(proxy, route).await;
    let workdir = tempfile::tempdir().unwrap();
    let env = BTreeMap::from([
        ("GANDIV5_PERSONAL_ACCESS_TOKEN".to_string(), PAT.to_string()),
        ("GANDI_API_KEY".to_string(), V4_KEY.to_string()),
    ]);
    let domains = vec![domain.to_string()];
    let api = mock.api_url();
    let ctx = ClientContext {
        domains: &domains,
        env: &env,
        timeout: Duration::from_secs(60),
        acme_directory: ca.directory_url(),
        acme_ca: ca.ca_bundle_path(),
        mock_api: &api,
        mock_dns: mock.dns_addr(),
        mock_proxy: &proxy,
        mock_ca: mock.ca_cert_path(),
        workdir: workdir.path(),
        network: Network::Proxy,
    };
    let run = ClientKind::Builtin { provider }.run(&ctx).await;
    Run {
        result: run.result,
        calls: mock
            .requests()
            .into_iter()
            .map(|r| (r.host, r.path, r.status, r.proxied))
            .collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn built_in_scenarios_go_through_the_proxy_s_host_routing() {
    if !harness::require::pebble(CaKind::Process).await {
        return;
    }
    // Through the proxy, unchanged: issued, every call under Gandi's own host.
    let v5 = issue(ProviderName::Gandiv5, "stubber.chat", unchanged).await;
    assert_eq!(v5.result, Ok(()), "{:?}", v5.calls);
    assert!(!v5.calls.is_empty());
    assert!(
        v5.calls
            .iter()
            .all(|(host, path, _, proxied)| host == "api.gandi.net"
                && path.starts_with("/v5/livedns/")
                && *proxied),
        "{:?}",
        v5.calls
    );
    let v4 = issue(ProviderName::Gandi, "legacy.chat", unchanged).await;
    assert_eq!(v4.result, Ok(()), "{:?}", v4.calls);
    assert!(
        v4.calls
            .iter()
            .all(|(host, path, _, proxied)| host == "rpc.gandi.net"
                && path == "/xmlrpc/"
                && *proxied),
        "{:?}",
        v4.calls
    );

    // Routed to the wrong host: the same issuances fail on Gandi's 404.
    let v5 = issue(ProviderName::Gandiv5, "stubber.chat", misrouted).await;
    let err = v5.result.unwrap_err();
    assert!(
        err.contains(
            "unable to get TXT records for domain stubber.chat and name _acme-challenge: \
             unable to unmarshal response: [status code: 404]"
        ) && err
            .contains("Cannot GET /v5/livedns/domains/stubber.chat/records/_acme-challenge/TXT"),
        "{err}"
    );
    // The journal keeps the host the client named; the tunnel went to the other one.
    assert_eq!(
        v5.calls[0],
        (
            "api.gandi.net".to_string(),
            "/v5/livedns/domains/stubber.chat/records/_acme-challenge/TXT".to_string(),
            404,
            true
        )
    );
    let v4 = issue(ProviderName::Gandi, "legacy.chat", misrouted).await;
    let err = v4.result.unwrap_err();
    assert!(err.contains("gandi: "), "{err}");
    assert_eq!(v4.calls[0].0, "rpc.gandi.net");
    assert_eq!(v4.calls[0].1, "/xmlrpc/");
    assert_eq!(v4.calls[0].2, 404);
}
