//! Pebble in a container through testcontainers, on the host's network.
//!
//! Host networking (Linux) lets the container listen on the host's loopback and reach the
//! mock's DNS there, with no port mapping and no sidecar. The command is only Pebble's flags:
//! the ghcr image is `FROM scratch` with `ENTRYPOINT ["/app"]`, the local one built by
//! `ci/build-pebble-image` has `ENTRYPOINT ["/usr/bin/pebble"]`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use testcontainers::bollard::Docker;
use testcontainers::bollard::query_parameters::{
    ListContainersOptionsBuilder, RemoveContainerOptionsBuilder,
};
use testcontainers::core::client::docker_client_instance;
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};

use super::{
    CONFIG_FILE, CaBackend, CaError, CaFuture, CaKind, CaOptions, DEFAULT_PEBBLE_IMAGE,
    PEBBLE_ENVIRONMENT, PEBBLE_IMAGE_ENV, PROBE_INTERVAL, PebbleRun, retry_port_races,
};

/// The image `ci/build-pebble-image` builds (and `ci/setup` with it) from the Debian binary:
/// used when neither [`super::CaOptions::image`] nor [`super::PEBBLE_IMAGE_ENV`] names one
/// and the default image is not on the engine, so that a machine that cannot pull finds the
/// image its setup built without a variable.
pub const LOCAL_PEBBLE_IMAGE: &str = "pebble-local:2.4.0";

/// How to get the container backend, for error messages and skipped tests.
pub const HOW_TO_GET_PEBBLE_IMAGE: &str = "run a Docker engine that can pull \
     ghcr.io/letsencrypt/pebble:2.10.1, or build the local image pebble-local:2.4.0 from the \
     Debian binary with `ci/build-pebble-image` (used when the default image is absent), or \
     set PEBBLE_IMAGE";

/// Where the configuration and TLS files are copied inside the container.
const FILES_IN_CONTAINER: &str = "/pebble";
/// Readiness probes per question to the engine whether the container still runs.
const RUNNING_CHECK_EVERY: usize = 4;
/// How long the engine may take to answer a ping.
const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// Pebble running in a container. Dropping it removes the container (forcibly, with its
/// volumes), then its files. Drop it inside a Tokio runtime when possible; outside one, a
/// short-lived runtime is made for the removal.
#[derive(Debug)]
pub struct PebbleContainer {
    container: Option<ContainerAsync<GenericImage>>,
    id: String,
    image: String,
    run_id: String,
    // Declared last: the files go after the container is gone.
    run: PebbleRun,
}

impl PebbleContainer {
    /// Label set on every container this backend starts; its value is [`Self::run_id`].
    pub const LABEL: &'static str = "dev.gandi-e2e.pebble-run";

    /// The image this backend asks for first: [`CaOptions::image`], else `$PEBBLE_IMAGE`, else
    /// [`DEFAULT_PEBBLE_IMAGE`] (which [`Self::probe`] replaces by [`LOCAL_PEBBLE_IMAGE`] when
    /// only that one is on the engine).
    pub fn image_for(options: &CaOptions) -> String {
        options
            .image
            .clone()
            .or_else(|| std::env::var(PEBBLE_IMAGE_ENV).ok())
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_PEBBLE_IMAGE.to_string())
    }

    /// Checks that this backend can run: a Docker engine answers a ping, and the image is
    /// present or was pulled within [`CaOptions::pull_timeout`]. Returns the image.
    pub async fn probe(options: &CaOptions) -> Result<String, CaError> {
        if !cfg!(target_os = "linux") {
            return Err(CaError::Unsupported(
                "the container backend needs Linux host networking; use the process backend".into(),
            ));
        }
        let image = Self::image_for(options);
        let (name, tag) = split_image(&image)?;
        let docker = engine().await?;
        if docker.inspect_image(&format!("{name}:{tag}")).await.is_ok() {
            return Ok(image);
        }
        // Nothing named an image and the default is not here: the one ci/setup built, if it
        // is, rather than a pull that cannot work offline.
        let named = options.image.is_some()
            || std::env::var(PEBBLE_IMAGE_ENV).is_ok_and(|v| !v.trim().is_empty());
        if !named && docker.inspect_image(LOCAL_PEBBLE_IMAGE).await.is_ok() {
            tracing::info!(
                default = %image,
                local = LOCAL_PEBBLE_IMAGE,
                "the default Pebble image is not on the engine: using the local image ci/setup built"
            );
            return Ok(LOCAL_PEBBLE_IMAGE.to_string());
        }
        tracing::info!(%image, "pulling the Pebble image");
        let pull = GenericImage::new(name, tag).pull_image();
        match tokio::time::timeout(options.pull_timeout, pull).await {
            Ok(Ok(_)) => Ok(image),
            Ok(Err(e)) => Err(CaError::ImageUnavailable {
                image,
                reason: format!("not present and the pull failed: {e}"),
            }),
            Err(_) => Err(CaError::ImageUnavailable {
                image,
                reason: format!(
                    "not present and the pull did not finish within {:?}",
                    options.pull_timeout
                ),
            }),
        }
    }

    /// Starts Pebble in a container and waits until its directory and management listener
    /// answer over HTTPS. On failure the container is removed and the error carries its logs.
    pub async fn start(options: &CaOptions) -> Result<Self, CaError> {
        let image = Self::probe(options).await?;
        retry_port_races(|| Self::start_once(&image, options)).await
    }

    async fn start_once(image: &str, options: &CaOptions) -> Result<Self, CaError> {
        let started = Instant::now();
        let (name, tag) = split_image(image)?;
        let run = PebbleRun::prepare(Some(FILES_IN_CONTAINER))?;
        let run_id = new_run_id();
        let config_in_container = format!("{FILES_IN_CONTAINER}/{CONFIG_FILE}");

        let mut request = GenericImage::new(name, tag)
            .with_network("host")
            // testcontainers publishes all ports by default; that means nothing on the host
            // network, and some engines refuse the combination.
            .with_host_config_modifier(|host_config| {
                host_config.publish_all_ports = Some(false);
                host_config.port_bindings = None;
            })
            .with_label(Self::LABEL, run_id.as_str())
            .with_cmd([
                "-config".to_string(),
                config_in_container,
                "-dnsserver".to_string(),
                options.dns_server.to_string(),
            ])
            .with_startup_timeout(options.start_timeout);
        for (key, value) in PEBBLE_ENVIRONMENT {
            request = request.with_env_var(key, value);
        }
        // Copied, not mounted: works with a FROM-scratch image, a remote engine and whatever
        // user the image runs as. One folder, one upload (each costs the engine ~50 ms).
        request = request.with_copy_to(FILES_IN_CONTAINER, run.pebble_files.as_path());

        // Until a value owns the container, this guard removes it if the start is abandoned.
        let mut guard = AbandonedStart {
            run_id: run_id.clone(),
            armed: true,
        };
        tracing::debug!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "Pebble container: files prepared"
        );
        let container = match request.start().await {
            Ok(container) => container,
            Err(e) => {
                // A container created but never started is not owned by any value yet.
                guard.armed = false;
                remove_labelled(&run_id).await;
                return Err(CaError::Docker(format!("starting {image}: {e}")));
            }
        };
        guard.armed = false;
        let mut pebble = PebbleContainer {
            id: container.id().to_string(),
            container: Some(container),
            image: image.to_string(),
            run_id,
            run,
        };
        tracing::debug!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "Pebble container: started"
        );
        pebble.wait_ready(started, options.start_timeout).await?;
        tracing::info!(
            container = %pebble.id,
            image = %pebble.image,
            directory = %pebble.run.directory_url,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "Pebble container ready"
        );
        Ok(pebble)
    }

    async fn wait_ready(&mut self, started: Instant, timeout: Duration) -> Result<(), CaError> {
        let deadline = started + timeout;
        let mut attempt = 0usize;
        loop {
            let container = self.container.as_ref().expect("present until drop");
            // Asking the engine costs it more than a probe costs Pebble: every few probes.
            let ask = attempt.is_multiple_of(RUNNING_CHECK_EVERY) || Instant::now() >= deadline;
            attempt += 1;
            let running = !ask
                || container
                    .is_running()
                    .await
                    .map_err(|e| CaError::Docker(format!("inspecting {}: {e}", self.id)))?;
            if !running {
                let status = match container.exit_code().await {
                    Ok(Some(code)) => format!("exit status: {code}"),
                    _ => "stopped".to_string(),
                };
                return Err(CaError::Exited {
                    status,
                    output: self.logs().await,
                });
            }
            let last_error = match self.run.probe().await {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            if Instant::now() >= deadline {
                return Err(CaError::Timeout {
                    after: timeout,
                    last_error,
                    output: self.logs().await,
                });
            }
            tokio::time::sleep(PROBE_INTERVAL).await;
        }
    }

    /// The container's stdout and stderr so far (Pebble logs to stdout).
    pub async fn logs(&self) -> String {
        let Some(container) = &self.container else {
            return String::new();
        };
        let mut text = String::new();
        for bytes in [
            container.stdout_to_vec().await,
            container.stderr_to_vec().await,
        ] {
            match bytes {
                Ok(bytes) => text.push_str(&String::from_utf8_lossy(&bytes)),
                Err(e) => text.push_str(&format!("(logs unavailable: {e})\n")),
            }
        }
        text
    }

    async fn log_text(&self) -> String {
        self.logs().await
    }

    /// Removes the container (forcibly, with its volumes), then its files.
    async fn stop_now(mut self: Box<Self>) {
        if let Some(container) = self.container.take()
            && let Err(e) = container.rm().await
        {
            tracing::warn!(container = %self.id, "removing the Pebble container: {e}; removing it by its label");
            remove_labelled(&self.run_id).await;
        }
    }

    /// The container id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The image it runs, `NAME[:TAG]` as configured.
    pub fn image(&self) -> &str {
        &self.image
    }

    /// The value of [`Self::LABEL`] on this run's container, unique per start.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }
}

super::impl_ca_backend!(PebbleContainer, CaKind::Container);

impl Drop for PebbleContainer {
    fn drop(&mut self) {
        let Some(container) = self.container.take() else {
            return;
        };
        // testcontainers removes the container in its own Drop, which needs a Tokio runtime
        // context (it blocks on the removal). Provide one when dropped outside a runtime.
        if tokio::runtime::Handle::try_current().is_ok() {
            drop(container);
            return;
        }
        match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime.block_on(async move { drop(container) }),
            Err(e) => {
                tracing::error!(container = %self.id, "cannot remove the Pebble container: {e}");
                std::mem::forget(container);
            }
        }
    }
}

/// A ping-checked client for the Docker engine testcontainers is configured to use.
async fn engine() -> Result<Docker, CaError> {
    let docker = docker_client_instance()
        .await
        .map_err(|e| CaError::NoDocker {
            reason: e.to_string(),
        })?;
    match tokio::time::timeout(PING_TIMEOUT, docker.ping()).await {
        Ok(Ok(_)) => Ok(docker),
        Ok(Err(e)) => Err(CaError::NoDocker {
            reason: e.to_string(),
        }),
        Err(_) => Err(CaError::NoDocker {
            reason: format!("no answer to a ping within {PING_TIMEOUT:?}"),
        }),
    }
}

/// Removes this run's container when a start is abandoned half way: its future dropped by a
/// timeout or Ctrl-C while the engine was creating or starting the container, before any value
/// owned it.
struct AbandonedStart {
    run_id: String,
    armed: bool,
}

impl Drop for AbandonedStart {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let run_id = std::mem::take(&mut self.run_id);
        // A thread with its own runtime and its own client: the caller's runtime may be
        // shutting down, and the shared client's connections belong to it.
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            let Ok(docker) = Docker::connect_with_defaults() else {
                return;
            };
            runtime.block_on(async {
                // The engine may still be creating the container that the dropped request
                // asked for: look again for a short while.
                let deadline = Instant::now() + ABANDONED_START_WATCH;
                let mut removed = 0;
                loop {
                    let n = remove_labelled_with(&docker, &run_id).await;
                    removed += n;
                    if (removed > 0 && n == 0) || Instant::now() >= deadline {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

/// How long an abandoned start is watched for a container appearing late.
const ABANDONED_START_WATCH: Duration = Duration::from_secs(3);

/// Forcibly removes every container carrying this run's label (cleanup after a failed start).
async fn remove_labelled(run_id: &str) {
    let Ok(docker) = docker_client_instance().await else {
        return;
    };
    remove_labelled_with(&docker, run_id).await;
}

/// Removes this run's containers with `docker`; returns how many it found.
async fn remove_labelled_with(docker: &Docker, run_id: &str) -> usize {
    let filters = HashMap::from([(
        "label".to_string(),
        vec![format!("{}={run_id}", PebbleContainer::LABEL)],
    )]);
    let list = ListContainersOptionsBuilder::new()
        .all(true)
        .filters(&filters)
        .build();
    let Ok(containers) = docker.list_containers(Some(list)).await else {
        return 0;
    };
    let ids: Vec<String> = containers.into_iter().filter_map(|c| c.id).collect();
    for id in &ids {
        let options = RemoveContainerOptionsBuilder::new()
            .force(true)
            .v(true)
            .build();
        if let Err(e) = docker.remove_container(id, Some(options)).await {
            tracing::warn!(container = %id, "removing a failed Pebble container: {e}");
        }
    }
    ids.len()
}

/// Splits `NAME[:TAG]` (the tag defaults to `latest`). A colon before the last `/` belongs to a
/// registry port. Digests (`@sha256:`) are not supported by testcontainers' name/tag model.
fn split_image(image: &str) -> Result<(&str, &str), CaError> {
    if image.contains('@') {
        return Err(CaError::ImageUnavailable {
            image: image.to_string(),
            reason: "digest references are not supported; use NAME:TAG".into(),
        });
    }
    let last_slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[last_slash..].rfind(':') {
        Some(i) => Ok((&image[..last_slash + i], &image[last_slash + i + 1..])),
        None => Ok((image, "latest")),
    }
}

/// A label value unique to this start (process id, time, counter).
fn new_run_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{}-{nanos:x}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references_split_into_name_and_tag() {
        let split = |s| split_image(s).unwrap();
        assert_eq!(
            split("ghcr.io/letsencrypt/pebble:2.10.1"),
            ("ghcr.io/letsencrypt/pebble", "2.10.1")
        );
        assert_eq!(split("pebble-local:2.4.0"), ("pebble-local", "2.4.0"));
        assert_eq!(split("pebble-local"), ("pebble-local", "latest"));
        assert_eq!(
            split("localhost:5000/pebble"),
            ("localhost:5000/pebble", "latest")
        );
        assert_eq!(
            split("localhost:5000/pebble:1"),
            ("localhost:5000/pebble", "1")
        );
        assert!(split_image("pebble@sha256:abcd").is_err());
    }

    #[test]
    fn run_ids_differ() {
        assert_ne!(new_run_id(), new_run_id());
    }
}
