//! The mock-gandi image (`ci/build-mock-image`, `mock-gandi:local`) through its testcontainers
//! [`MockGandiImage`]: seeded through a copied file, the API, the admin API and DNS reached on
//! the published ports, a write seen in DNS, the HEALTHCHECK reporting healthy, and the
//! container gone when the handle drops.
//!
//! Without the image the test says how to build it and passes, unless GANDI_E2E_REQUIRE_ALL is
//! set (CI), where a missing image fails it.

mod common;

use std::time::{Duration, Instant};

use common::wire::{http, txt_over_udp};
use hickory_proto::op::ResponseCode;
use mock_gandi::container::MockGandiImage;
use testcontainers::runners::AsyncRunner;

const PAT: &str = "0123456789abcdef0123456789abcdef01234567";

fn docker(args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("docker")
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// A skip, written past the test harness's capture so that it shows in a passing run.
fn skipped(why: &str) {
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("SKIPPED (counted as passed; set GANDI_E2E_REQUIRE_ALL=1 to fail): {why}\n")
            .as_bytes(),
    );
}

fn image_present() -> bool {
    let image = std::env::var("MOCK_GANDI_IMAGE").unwrap_or_else(|_| "mock-gandi:local".into());
    if docker(&["image", "inspect", &image]).is_some() {
        return true;
    }
    let why = format!("no {image} image: build it with ci/build-mock-image");
    if std::env::var_os("GANDI_E2E_REQUIRE_ALL").is_some() {
        panic!("{why} (GANDI_E2E_REQUIRE_ALL is set)");
    }
    skipped(&why);
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_image_serves_the_apis_and_dns_from_its_seed_and_reports_healthy() {
    if !image_present() {
        return;
    }
    let seed = format!(
        "[[domain]]\nfqdn = \"stubber.chat\"\n[[credential]]\nkind = \"pat\"\nsecret = \"{PAT}\"\n"
    );
    let container = MockGandiImage::default()
        .with_seed(seed)
        .start()
        .await
        .unwrap();
    let api = MockGandiImage::api_url(&container).await.unwrap();
    let dns = MockGandiImage::dns_addr(&container)
        .await
        .unwrap()
        .to_string();
    let id = container.id().to_string();

    let (status, body) = tokio::task::spawn_blocking({
        let api = api.clone();
        move || http(&api, "GET", "/_mock/health", &[], "")
    })
    .await
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["domains"], 1, "{body}");

    let auth = format!("Bearer {PAT}");
    let api2 = api.clone();
    let dns2 = dns.clone();
    let (put, txt) = tokio::task::spawn_blocking(move || {
        let put = http(
            &api2,
            "PUT",
            "/v5/livedns/domains/stubber.chat/records/_acme-challenge/TXT",
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            r#"{"rrset_values": ["token-from-the-host"], "rrset_ttl": 300}"#,
        );
        (put, txt_over_udp(&dns2, "_acme-challenge.stubber.chat."))
    })
    .await
    .unwrap();
    assert_eq!(put.0, 201, "{}", put.1);
    assert_eq!(
        txt,
        (
            ResponseCode::NoError,
            vec!["token-from-the-host".to_string()]
        )
    );

    // The image's HEALTHCHECK runs `mock-gandi health` inside the container.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let health = docker(&["inspect", "--format", "{{.State.Health.Status}}", &id]);
        if health.as_deref() == Some("healthy") {
            break;
        }
        assert!(Instant::now() < deadline, "health is still {health:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    container.rm().await.unwrap();
    assert_eq!(docker(&["inspect", "--format", "{{.Id}}", &id]), None);
}

/// The guide's Python example (docs/container.md: `examples/python`, pytest with testcontainers
/// from PyPI, in the repository's .venv that ci/setup makes) passes against the same image:
/// what a Python project's test suite would run.
#[test]
fn the_python_testcontainers_example_passes_against_the_image() {
    if !image_present() {
        return;
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let pytest = root.join(".venv/bin/pytest");
    let has_testcontainers = std::process::Command::new(root.join(".venv/bin/python"))
        .args(["-c", "import testcontainers, pytest"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_testcontainers {
        let why = "no .venv with pytest and testcontainers: run ci/setup --tests";
        if std::env::var_os("GANDI_E2E_REQUIRE_ALL").is_some() {
            panic!("{why} (GANDI_E2E_REQUIRE_ALL is set)");
        }
        skipped(why);
        return;
    }
    let out = std::process::Command::new(pytest)
        .args(["-q", "-p", "no:cacheprovider", "examples/python"])
        .current_dir(&root)
        // Ryuk, testcontainers' reaper, is an image from a registry; the example's fixture
        // stops its container itself.
        .env("TESTCONTAINERS_RYUK_DISABLED", "true")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("4 passed"), "{stdout}");
}
