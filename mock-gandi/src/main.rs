//! `mock-gandi serve`: the emulator as a process. Prints one JSON line on stdout when every
//! listener is ready; logs go to stderr; SIGINT or SIGTERM stop it.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use mock_gandi::{Limits, MockGandi};

#[derive(Parser)]
#[command(
    name = "mock-gandi",
    version,
    about = "An emulator of Gandi's DNS APIs and of the DNS they publish"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the API, DNS and proxy listeners.
    Serve(Box<Serve>),
    /// Replay recorded exchanges with the real Gandi (vcrpy cassettes, HAR, JSON lines; files
    /// or folders) against a fresh mock each, and print per exchange `same` or the difference.
    /// Exit 1 when any exchange differs.
    Replay {
        /// Recordings: files, or folders searched for *.yaml, *.yml, *.har, *.jsonl.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// More known and accepted differences (TOML `[[accept]]` rules, each with a reason),
        /// after the project's own (recorded/accepted.toml).
        #[arg(long, value_name = "FILE")]
        accepted: Option<PathBuf>,
        /// Apply no accepted difference, not even the project's own.
        #[arg(long)]
        strict: bool,
        /// Print only the recordings that differ, and the counts.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Forward every request a client sends to Gandi's hosts through this proxy (or HTTPS
    /// listener) to the real Gandi, and write each exchange, secrets and account ids replaced
    /// by placeholders, as a JSON-lines recording `mock-gandi replay` reads. Prints one JSON
    /// line when ready; SIGINT or SIGTERM stop it.
    Record(Record),
    /// Exit 0 when a running mock answers `GET /_mock/health`, 1 otherwise (a container's
    /// HEALTHCHECK; the image has no curl).
    Health {
        /// The mock's direct listener.
        #[arg(
            long,
            value_name = "ADDR",
            default_value = "127.0.0.1:8080",
            env = "MOCK_GANDI_HEALTH"
        )]
        api: SocketAddr,
    },
}

#[derive(clap::Args)]
struct Record {
    /// `gandi` (api.gandi.net, dns.api.gandi.net, rpc.gandi.net), `sandbox`
    /// (api.sandbox.gandi.net, rpc.ote.gandi.net) or a base `https://host:port` every Gandi
    /// host is sent to (its name kept in Host and TLS). `HTTPS_PROXY` is honoured.
    #[arg(long, value_name = "gandi|sandbox|URL")]
    upstream: mock_gandi::record::Upstream,
    /// The recording to write (created, or emptied), one exchange a line.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// HTTPS proxy listener (CONNECT to the Gandi hostnames only).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    proxy: SocketAddr,
    /// Transparent HTTPS listener (the Gandi host named in SNI), for clients that ignore
    /// proxies. Default: none.
    #[arg(long, value_name = "ADDR")]
    https: Option<SocketAddr>,
    /// Folder for ca.pem, the CA the client must trust (default: a temporary folder).
    #[arg(long, value_name = "DIR")]
    ca_dir: Option<PathBuf>,
    /// More roots to trust for the upstream, besides the system's (PEM).
    #[arg(long, value_name = "FILE")]
    upstream_ca: Vec<PathBuf>,
}

#[derive(clap::Args)]
struct Serve {
    /// Seed file (TOML or JSON) the store starts with and returns to on reset.
    #[arg(long, value_name = "FILE", env = "MOCK_GANDI_SEED")]
    seed: Option<PathBuf>,
    /// Direct HTTP listener (Gandi APIs by path, and /_mock). Port 0: any free port;
    /// 0.0.0.0 to listen on every interface (in a container).
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:0",
        env = "MOCK_GANDI_API"
    )]
    api: SocketAddr,
    /// DNS listener, UDP and TCP on the same port.
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:0",
        env = "MOCK_GANDI_DNS"
    )]
    dns: SocketAddr,
    /// HTTPS proxy listener (CONNECT to the Gandi hostnames only).
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:0",
        env = "MOCK_GANDI_PROXY"
    )]
    proxy: SocketAddr,
    /// Transparent HTTPS listener: TLS straight away, the Gandi host named in SNI (for
    /// clients whose resolver sends Gandi's names here, e.g. 127.0.0.1:443). Default: none.
    #[arg(long, value_name = "ADDR")]
    https: Option<SocketAddr>,
    /// Address of ns1 and ns2.mock-gandi.test. in DNS (default: the DNS listener's).
    #[arg(long, value_name = "IP")]
    ns_ip: Option<std::net::IpAddr>,
    /// Folder for ca.pem, the CA that signs the proxy's certificates (default: a
    /// temporary folder removed on exit).
    #[arg(long, value_name = "DIR", env = "MOCK_GANDI_CA_DIR")]
    ca_dir: Option<PathBuf>,
    /// Connections served at once on each TCP listener; over it, new HTTP connections wait in
    /// the backlog and new DNS-over-TCP connections are closed.
    #[arg(long, value_name = "N", default_value = "512", value_parser = count)]
    max_connections: usize,
    /// Seconds a client has to send a request head (HTTP and CONNECT); an idle keep-alive
    /// connection is closed after it.
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = seconds)]
    header_timeout: Duration,
    /// Largest request body read, in bytes (LiveDNS and v4; at most 1048576).
    #[arg(long, value_name = "BYTES", default_value = "1048576", value_parser = body_size)]
    max_body: usize,
    /// Seconds a DNS-over-TCP connection may stay without a question.
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = seconds)]
    dns_tcp_idle: Duration,
    /// Entries each journal keeps (API requests, DNS questions); when full, the oldest tenth
    /// goes.
    #[arg(long, value_name = "N", default_value = "100000", value_parser = entries)]
    journal_entries: usize,
    /// Gandi as of this date (YYYY-MM or YYYY-MM-DD), over the seed's `as_of`: each
    /// documented difference of that time (README, "Gandi as of a date"). Default: today.
    #[arg(long, value_name = "DATE", env = "MOCK_GANDI_AS_OF")]
    as_of: Option<mock_gandi::era::AsOf>,
}

/// A number of journal entries, 10 to 10 million.
fn entries(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (10..=10_000_000).contains(&n) => Ok(n),
        _ => Err(format!("{text:?} is not a number from 10 to 10000000")),
    }
}

/// A positive number of seconds, fractions allowed (`0.5`), at most a day.
fn seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(s) if s > 0.0 && s <= 86_400.0 => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!(
            "{text:?} is not a number of seconds above 0 and at most 86400"
        )),
    }
}

/// A number of connections, 1 to 65536.
fn count(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=65_536).contains(&n) => Ok(n),
        _ => Err(format!("{text:?} is not a number from 1 to 65536")),
    }
}

/// A body size in bytes, 1 to the parser's own bound.
fn body_size(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=Limits::MAX_BODY).contains(&n) => Ok(n),
        _ => Err(format!(
            "{text:?} is not a number of bytes from 1 to {}",
            Limits::MAX_BODY
        )),
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MOCK_GANDI_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let serve = match cli.command {
        Command::Serve(serve) => *serve,
        Command::Replay {
            files,
            accepted,
            strict,
            quiet,
        } => {
            return match replay(&files, accepted.as_deref(), strict, quiet) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::from(1),
                Err(e) => {
                    eprintln!("mock-gandi replay: {e:#}");
                    ExitCode::from(2)
                }
            };
        }
        Command::Record(record) => {
            return match run_recorder(record) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("mock-gandi record: {e:#}");
                    ExitCode::from(2)
                }
            };
        }
        // Docker reads 1 as unhealthy (2 is reserved).
        Command::Health { api } => {
            return match health(api) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("mock-gandi health: {e:#}");
                    ExitCode::from(1)
                }
            };
        }
    };
    match run(serve) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mock-gandi: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(serve: Serve) -> anyhow::Result<()> {
    let Serve {
        seed,
        api,
        dns,
        proxy,
        https,
        ns_ip,
        ca_dir,
        max_connections,
        header_timeout,
        max_body,
        dns_tcp_idle,
        journal_entries,
        as_of,
    } = serve;
    let mut builder = MockGandi::builder();
    if let Some(path) = seed {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        builder = builder
            .seed_text(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    }
    let mut builder = builder
        .api_addr(api)
        .dns_addr(dns)
        .proxy_addr(proxy)
        .limits(Limits {
            max_connections,
            header_timeout,
            max_body,
            dns_tcp_idle,
            journal_entries,
        });
    if let Some(dir) = ca_dir {
        builder = builder.ca_dir(dir);
    }
    if let Some(addr) = https {
        builder = builder.https_addr(addr);
    }
    if let Some(ip) = ns_ip {
        builder = builder.nameserver_ip(ip);
    }
    if let Some(as_of) = as_of {
        builder = builder.as_of(as_of);
    }
    // The handlers are installed before the ready line: a client may signal as soon as it
    // has read it.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (mut interrupt, mut terminate) = runtime.block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        anyhow::Ok((
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
        ))
    })?;
    let mock = builder.start_blocking()?;
    println!("{}", mock.ready_line());
    tracing::info!(api = %mock.api_url(), dns = %mock.dns_addr(), proxy = %mock.proxy_url(), "ready");
    runtime.block_on(async {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    });
    tracing::info!("stopping");
    mock.stop();
    Ok(())
}

/// `mock-gandi record`: the recorder until SIGINT or SIGTERM.
fn run_recorder(record: Record) -> anyhow::Result<()> {
    use mock_gandi::record::{RecordOptions, Recorder};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        let (mut interrupt, mut terminate) = (
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
        );
        let recorder = Recorder::start(RecordOptions {
            upstream: record.upstream,
            out: record.out,
            proxy: record.proxy,
            https: record.https,
            ca_dir: record.ca_dir,
            upstream_roots: record.upstream_ca,
        })
        .await
        .map_err(anyhow::Error::msg)?;
        println!("{}", recorder.ready_line());
        tracing::info!(proxy = %recorder.proxy_url(), "recording");
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        tracing::info!("stopping");
        recorder.stop().await;
        anyhow::Ok(())
    })
}

/// One `GET /_mock/health` over a plain socket, two seconds at most.
fn health(api: SocketAddr) -> anyhow::Result<()> {
    use std::io::Read;
    let timeout = std::time::Duration::from_secs(2);
    let mut stream = std::net::TcpStream::connect_timeout(&api, timeout)
        .with_context(|| format!("nothing answers on {api}"))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET /_mock/health HTTP/1.1\r\nHost: {api}\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = Vec::new();
    stream
        .take(64 * 1024)
        .read_to_end(&mut answer)
        .with_context(|| format!("no answer from {api}"))?;
    let answer = String::from_utf8_lossy(&answer);
    match answer.lines().next() {
        Some(status) if status.starts_with("HTTP/1.1 200") => {
            println!("{}", answer.split("\r\n\r\n").nth(1).unwrap_or_default());
            Ok(())
        }
        status => anyhow::bail!("{api} answered {:?}", status.unwrap_or_default()),
    }
}

/// Replays every recording; true when every exchange was answered as recorded.
fn replay(
    files: &[PathBuf],
    accepted: Option<&std::path::Path>,
    strict: bool,
    quiet: bool,
) -> anyhow::Result<bool> {
    use mock_gandi::replay::{Accepted, replay_file};
    let base = if strict {
        Accepted::default()
    } else {
        Accepted::builtin()
    };
    let accepted = match accepted {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            base.and(
                Accepted::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
            )
        }
        None => base,
    };
    let mut recordings = Vec::new();
    for path in files {
        collect(path, &mut recordings)?;
    }
    if recordings.is_empty() {
        anyhow::bail!("no recording (*.yaml, *.yml, *.har, *.jsonl) in the paths given");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (mut same, mut different, mut accepted_count) = (0, 0, 0);
    let mut stdout = std::io::stdout().lock();
    for path in &recordings {
        let replayed = runtime
            .block_on(replay_file(path, &accepted))
            .map_err(anyhow::Error::msg)?;
        same += replayed.same();
        different += replayed.different();
        accepted_count += replayed
            .verdicts
            .iter()
            .filter(|v| v.same() && !v.accepted.is_empty())
            .count();
        if (!quiet || replayed.different() > 0)
            && !printed(write!(stdout, "{}", replayed.render()))?
        {
            return Ok(different == 0);
        }
    }
    printed(writeln!(
        stdout,
        "{same} same, {different} different ({} recordings; {accepted_count} same only with accepted differences)",
        recordings.len()
    ))?;
    Ok(different == 0)
}

/// Whether the output is still read: a reader that went away (`| head`) ends the listing
/// quietly; any other write error is one.
fn printed(result: std::io::Result<()>) -> anyhow::Result<bool> {
    match result {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(e).context("cannot write the report"),
    }
}

/// The recordings under a path: the file itself, or a folder's files by extension, sorted.
fn collect(path: &std::path::Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if !path.is_dir() {
        if !path.exists() {
            anyhow::bail!("{}: no such file", path.display());
        }
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for entry in entries {
        let recording = matches!(
            entry.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "har" | "jsonl" | "ndjson")
        );
        if entry.is_dir() || recording {
            collect(&entry, out)?;
        }
    }
    Ok(())
}
