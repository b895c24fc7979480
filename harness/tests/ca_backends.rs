//! The Pebble backends, started for real: the directory answers over HTTPS to a client that
//! trusts only the run's CA bundle, the management listener hands out Pebble's root, and
//! dropping the backend leaves no process or container behind.
//!
//! Tests that need Pebble or Docker skip with a reason unless `GANDI_E2E_REQUIRE_ALL` is set.
//! Linux only: the container backend needs host networking, and process checks read `/proc`.
#![cfg(target_os = "linux")]

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use harness::require::skip_or_fail;
use harness::{
    CaBackend, CaError, CaKind, CaOptions, DEFAULT_PEBBLE_IMAGE, LOCAL_PEBBLE_IMAGE,
    PEBBLE_IMAGE_ENV, PebbleContainer, PebbleProcess, start_ca,
};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use testcontainers::bollard::query_parameters::ListContainersOptionsBuilder;
use testcontainers::core::client::docker_client_instance;

/// A stand-in DNS address: Pebble only dials it during a dns-01 validation, which these tests
/// never start. The socket is held so the port stays taken.
fn dns_placeholder() -> (UdpSocket, SocketAddr) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    (socket, addr)
}

/// `GET url` (https) trusting only the certificates in `bundle`: no system roots, nothing the
/// harness's own client does.
async fn get_trusting_only(bundle: &Path, url: &str) -> (u16, String) {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(bundle).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();

    let uri: hyper::Uri = url.parse().unwrap();
    let host = uri.host().unwrap().to_string();
    let port = uri.port_u16().unwrap();
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from(host.clone()).unwrap(), tcp)
        .await
        .expect("Pebble's certificate verifies against the bundle alone");
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(TokioIo::new(tls))
            .await
            .unwrap();
    tokio::spawn(connection);
    let request = hyper::Request::get(uri.path())
        .header("host", format!("{host}:{port}"))
        .header("user-agent", "ca-backends-test")
        .body(Empty::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// What every backend must provide, checked the same way for each.
async fn assert_serves_acme(ca: &dyn CaBackend) {
    let (status, body) = get_trusting_only(ca.ca_bundle_path(), ca.directory_url()).await;
    assert_eq!(status, 200, "{body}");
    let directory: serde_json::Value = serde_json::from_str(&body).unwrap();
    for key in ["newNonce", "newAccount", "newOrder"] {
        let url = directory[key].as_str().unwrap_or_default();
        assert!(url.starts_with("https://127.0.0.1:"), "{key}: {directory}");
    }

    let root_pem = ca.root_pem().await.unwrap();
    let intermediate_pem = ca.intermediate_pem().await.unwrap();
    let root_der = CertificateDer::from_pem_slice(root_pem.as_bytes()).unwrap();
    let intermediate_der = CertificateDer::from_pem_slice(intermediate_pem.as_bytes()).unwrap();
    let (_, root) = x509_parser::parse_x509_certificate(&root_der).unwrap();
    let (_, intermediate) = x509_parser::parse_x509_certificate(&intermediate_der).unwrap();
    assert!(root.is_ca());
    assert!(
        root.subject().to_string().contains("Pebble Root CA"),
        "{}",
        root.subject()
    );
    intermediate
        .verify_signature(Some(root.public_key()))
        .expect("the intermediate is signed by the root");

    // The management listener is HTTPS with the same certificate.
    let (status, _) = get_trusting_only(
        ca.ca_bundle_path(),
        &format!("{}/roots/0", ca.management_url()),
    )
    .await;
    assert_eq!(status, 200);
}

/// Pebble's start-up log shows the environment took effect: no validation sleeps, no
/// rejected nonces, no reused authorizations (each order queries DNS).
fn assert_test_environment(log: &str) {
    for line in [
        "Disabling random VA sleeps",
        "Configured to reject 0% of good nonces",
        "Configured to attempt authz reuse for each identifier 0% of the time",
    ] {
        assert!(log.contains(line), "missing `{line}` in:\n{log}");
    }
}

fn pebble_binary_or_skip(options: &CaOptions) -> bool {
    match PebbleProcess::locate(options) {
        Ok(_) => true,
        Err(e) => {
            skip_or_fail("the Pebble binary", &e.to_string());
            false
        }
    }
}

/// Whether a process is still there, zombies included (Linux: its `/proc` entry).
fn process_exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn process_backend_serves_acme_over_https_and_is_reaped_on_drop() {
    let (_dns, dns) = dns_placeholder();
    let options = CaOptions::new(dns);
    if !pebble_binary_or_skip(&options) {
        return;
    }
    let started = Instant::now();
    let pebble = PebbleProcess::start(&options).await.unwrap();
    eprintln!(
        "process backend ready in {:?} ({})",
        started.elapsed(),
        pebble.binary().display()
    );
    assert_eq!(pebble.kind(), CaKind::Process);
    assert_serves_acme(&pebble).await;

    assert_test_environment(&pebble.output());

    let pid = pebble.pid();
    let bundle = pebble.ca_bundle_path().to_path_buf();
    let directory: SocketAddr = pebble
        .directory_url()
        .trim_start_matches("https://")
        .trim_end_matches("/dir")
        .parse()
        .unwrap();
    assert!(process_exists(pid));
    let dropping = Instant::now();
    drop(pebble);
    eprintln!("process backend stopped in {:?}", dropping.elapsed());
    assert!(!process_exists(pid), "pid {pid} is killed and reaped");
    assert!(!bundle.exists(), "the run's files are removed");
    assert!(tokio::net::TcpStream::connect(directory).await.is_err());
}

#[test]
fn process_is_reaped_when_dropped_outside_any_runtime() {
    let (_dns, dns) = dns_placeholder();
    let options = CaOptions::new(dns);
    if !pebble_binary_or_skip(&options) {
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let pebble = runtime.block_on(PebbleProcess::start(&options)).unwrap();
    let pid = pebble.pid();
    drop(runtime);
    drop(pebble);
    assert!(!process_exists(pid), "pid {pid} is killed and reaped");
}

#[tokio::test]
async fn two_process_backends_run_side_by_side_with_their_own_roots() {
    let (_dns, dns) = dns_placeholder();
    let options = CaOptions::new(dns);
    if !pebble_binary_or_skip(&options) {
        return;
    }
    let (a, b) = tokio::join!(
        PebbleProcess::start(&options),
        PebbleProcess::start(&options)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_ne!(a.directory_url(), b.directory_url());
    assert_ne!(a.root_pem().await.unwrap(), b.root_pem().await.unwrap());
}

#[tokio::test]
async fn process_that_exits_early_is_reported_with_its_output() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("pebble");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho \"Calling ListenAndServeTLS(): open cert.pem: no such file\"\nexit 1\n",
    )
    .unwrap();
    make_executable(&fake);
    let (_dns, dns) = dns_placeholder();
    let mut options = CaOptions::new(dns);
    options.pebble_binary = Some(fake);
    let started = Instant::now();
    match PebbleProcess::start(&options).await {
        Err(CaError::Exited { status, output }) => {
            assert!(status.contains('1'), "{status}");
            assert!(output.contains("ListenAndServeTLS"), "{output}");
        }
        other => panic!("expected an early exit, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn real_pebble_with_an_unreadable_certificate_is_reported_not_awaited() {
    let (_dns, dns) = dns_placeholder();
    let options = CaOptions::new(dns);
    if !pebble_binary_or_skip(&options) {
        return;
    }
    let pebble = PebbleProcess::locate(&options).unwrap();
    // Pebble logs "ACME directory available" and only then fails to read its certificate.
    let dir = tempfile::tempdir().unwrap();
    let wrapper = dir.path().join("pebble");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\n# $1=-config $2=FILE: the certificate sits beside the configuration\n\
             rm -f \"$(dirname \"$2\")/cert.pem\"\nexec {} \"$@\"\n",
            pebble.display()
        ),
    )
    .unwrap();
    make_executable(&wrapper);
    let mut options = options;
    options.pebble_binary = Some(wrapper);
    let started = Instant::now();
    match PebbleProcess::start(&options).await {
        Err(CaError::Exited { status, output }) => {
            assert!(status.contains('1'), "{status}");
            assert!(output.contains("cert.pem"), "{output}");
        }
        other => panic!("expected an early exit, got {other:?}"),
    }
    assert!(
        started.elapsed() < options.start_timeout / 2,
        "detected long before the timeout"
    );
}

#[tokio::test]
async fn process_that_never_listens_times_out_and_is_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("pebble");
    let pid_file = dir.path().join("pid");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\necho $$ > {}\necho 'ACME directory available at: nowhere'\nexec sleep 60\n",
            pid_file.display()
        ),
    )
    .unwrap();
    make_executable(&fake);
    let (_dns, dns) = dns_placeholder();
    let mut options = CaOptions::new(dns);
    options.pebble_binary = Some(fake);
    options.start_timeout = Duration::from_millis(500);
    match PebbleProcess::start(&options).await {
        Err(CaError::Timeout { output, .. }) => {
            assert!(output.contains("ACME directory available"), "{output}")
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(!process_exists(pid), "the timed-out process {pid} is gone");
}

#[tokio::test]
async fn missing_binary_error_says_how_to_get_pebble() {
    let (_dns, dns) = dns_placeholder();
    let mut options = CaOptions::new(dns);
    options.pebble_binary = Some("/nonexistent/pebble".into());
    let err = PebbleProcess::start(&options).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("/nonexistent/pebble"), "{text}");
    assert!(text.contains("apt-get install -y pebble"), "{text}");
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Options whose image is the backend's own choice: `PEBBLE_IMAGE` when set, else the default
/// image when the engine has it, else the local image `ci/setup` built (no registry needed).
async fn options_with_image(dns: SocketAddr) -> CaOptions {
    let mut options = CaOptions::new(dns);
    options.pull_timeout = Duration::from_secs(60);
    options
}

/// [`options_with_image`] when the container backend can run, else skip (or fail in CI).
async fn container_options(dns: SocketAddr) -> Option<CaOptions> {
    let options = options_with_image(dns).await;
    match PebbleContainer::probe(&options).await {
        Ok(_) => Some(options),
        Err(e) => {
            skip_or_fail("a Docker engine with a Pebble image", &e.to_string());
            None
        }
    }
}

async fn containers_labelled(run_id: &str) -> usize {
    let docker = docker_client_instance().await.unwrap();
    let filters = HashMap::from([(
        "label",
        vec![format!("{}={run_id}", PebbleContainer::LABEL)],
    )]);
    let options = ListContainersOptionsBuilder::new()
        .all(true)
        .filters(&filters)
        .build();
    docker.list_containers(Some(options)).await.unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn container_backend_serves_acme_over_https_and_is_removed_on_drop() {
    let (_dns, dns) = dns_placeholder();
    let Some(options) = container_options(dns).await else {
        return;
    };
    let started = Instant::now();
    let pebble = PebbleContainer::start(&options).await.unwrap();
    eprintln!(
        "container backend ready in {:?} ({})",
        started.elapsed(),
        pebble.image()
    );
    assert_eq!(pebble.kind(), CaKind::Container);
    assert_serves_acme(&pebble).await;

    let logs = pebble.logs().await;
    assert_test_environment(&logs);
    assert!(
        logs.contains(&dns.to_string()),
        "-dnsserver reached Pebble: {logs}"
    );

    let run_id = pebble.run_id().to_string();
    assert_eq!(containers_labelled(&run_id).await, 1);
    let dropping = Instant::now();
    drop(pebble);
    eprintln!("container backend removed in {:?}", dropping.elapsed());
    assert_eq!(
        containers_labelled(&run_id).await,
        0,
        "the container is removed"
    );
}

#[tokio::test]
async fn container_is_removed_when_dropped_in_a_current_thread_runtime() {
    let (_dns, dns) = dns_placeholder();
    let Some(options) = container_options(dns).await else {
        return;
    };
    let pebble = PebbleContainer::start(&options).await.unwrap();
    let run_id = pebble.run_id().to_string();
    drop(pebble);
    assert_eq!(containers_labelled(&run_id).await, 0);
}

#[test]
fn container_is_removed_when_dropped_outside_any_runtime() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (_dns, dns) = dns_placeholder();
    let Some(options) = runtime.block_on(container_options(dns)) else {
        return;
    };
    let pebble = runtime.block_on(PebbleContainer::start(&options)).unwrap();
    let run_id = pebble.run_id().to_string();
    drop(runtime);
    drop(pebble);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    assert_eq!(runtime.block_on(containers_labelled(&run_id)), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_prefers_the_container_and_falls_back_to_the_process() {
    let (_dns, dns) = dns_placeholder();
    let options = options_with_image(dns).await;
    let container_possible = PebbleContainer::probe(&options).await.is_ok();
    let process_possible = PebbleProcess::locate(&options).is_ok();
    if !container_possible && !process_possible {
        let err = start_ca(CaKind::Auto, &options).await.unwrap_err();
        assert!(matches!(err, CaError::NoBackend { .. }));
        skip_or_fail("Pebble (binary or image)", &err.to_string());
        return;
    }
    let started = Instant::now();
    let ca = start_ca(CaKind::Auto, &options).await.unwrap();
    eprintln!("auto chose {} in {:?}", ca.kind(), started.elapsed());
    let expected = if container_possible {
        CaKind::Container
    } else {
        CaKind::Process
    };
    assert_eq!(ca.kind(), expected);
    assert_serves_acme(ca.as_ref()).await;
}

/// Where no variable names an image and the default one is not on the engine, the container
/// backend finds the image `ci/setup` built (`pebble-local:2.4.0`) by itself. Tests share one
/// environment, so this one runs again as a child without `PEBBLE_IMAGE`.
#[test]
fn without_a_variable_the_image_ci_setup_built_is_found() {
    const CHILD: &str = "CA_BACKENDS_WITHOUT_PEBBLE_IMAGE";
    const NAME: &str = "without_a_variable_the_image_ci_setup_built_is_found";
    if std::env::var_os(CHILD).is_none() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", NAME, "--nocapture"])
            .env(CHILD, "1")
            .env_remove(PEBBLE_IMAGE_ENV)
            // The child's skip is counted once, here, not in the runner's file as well.
            .env_remove(harness::require::SKIPS_FILE_ENV)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{text}");
        assert!(text.contains("1 passed"), "the child ran no test: {text}");
        // A skip in the child is shown here too.
        if let Some(line) = text.lines().find(|l| l.starts_with("SKIPPED")) {
            skip_or_fail("the child's Docker engine or image", line);
        }
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let docker = match docker_client_instance().await {
            Ok(docker) if docker.ping().await.is_ok() => docker,
            _ => return skip_or_fail("a Docker engine", "start one"),
        };
        let default_here = docker.inspect_image(DEFAULT_PEBBLE_IMAGE).await.is_ok();
        let local_here = docker.inspect_image(LOCAL_PEBBLE_IMAGE).await.is_ok();
        if !default_here && !local_here {
            return skip_or_fail(
                "the Pebble image ci/setup builds",
                "run ci/setup (or ci/build-pebble-image)",
            );
        }
        let (_dns, dns) = dns_placeholder();
        let mut options = CaOptions::new(dns);
        options.pull_timeout = Duration::from_secs(5);
        let expected = if default_here {
            DEFAULT_PEBBLE_IMAGE
        } else {
            LOCAL_PEBBLE_IMAGE
        };
        assert_eq!(PebbleContainer::probe(&options).await.unwrap(), expected);
        let pebble = PebbleContainer::start(&options).await.unwrap();
        assert_eq!(pebble.image(), expected);
        assert_serves_acme(&pebble).await;
    });
}
