//! `mock-gandi serve`: the emulator as a process. Prints one JSON line on stdout when every
//! listener is ready; logs go to stderr; SIGINT or SIGTERM stop it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use mock_gandi::{MockGandi, Seed};

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
    Serve {
        /// Seed file (TOML) the store starts with and returns to on reset.
        #[arg(long, value_name = "FILE")]
        seed: Option<PathBuf>,
        /// Direct HTTP listener (Gandi APIs by path, and /_mock). Port 0: any free port.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
        api: SocketAddr,
        /// DNS listener, UDP and TCP on the same port.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
        dns: SocketAddr,
        /// HTTPS proxy listener (CONNECT to the Gandi hostnames only).
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
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
        #[arg(long, value_name = "DIR")]
        ca_dir: Option<PathBuf>,
    },
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
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mock-gandi: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let Command::Serve {
        seed,
        api,
        dns,
        proxy,
        https,
        ns_ip,
        ca_dir,
    } = cli.command;
    let seed = match seed {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Seed::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        None => Seed::default(),
    };
    let mut builder = MockGandi::builder()
        .seed(seed)
        .api_addr(api)
        .dns_addr(dns)
        .proxy_addr(proxy);
    if let Some(dir) = ca_dir {
        builder = builder.ca_dir(dir);
    }
    if let Some(addr) = https {
        builder = builder.https_addr(addr);
    }
    if let Some(ip) = ns_ip {
        builder = builder.nameserver_ip(ip);
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
