//! Start-up time of the in-process handle: `MockGandi::start` until it returns (every
//! listener bound, the CA minted and written, the server thread spawned), then until the
//! proxy has answered a first CONNECT, over many starts. The target is under 20 ms, so that
//! a test suite can start one mock per test.
//!
//! `cargo bench -p mock-gandi --bench startup` (release profile); `-- N` sets the number of
//! starts (default 50).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use mock_gandi::MockGandi;

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(50);
    let mut start = Vec::with_capacity(runs);
    let mut serving = Vec::with_capacity(runs);
    let mut stop = Vec::with_capacity(runs);
    for _ in 0..runs {
        let began = Instant::now();
        let mock = match MockGandi::builder().start_blocking() {
            Ok(mock) => mock,
            Err(e) => {
                eprintln!("mock-gandi could not start: {e}");
                std::process::exit(1);
            }
        };
        start.push(began.elapsed());
        // "Serving" includes the server thread's runtime start and one CONNECT round trip.
        if let Err(e) = first_connect(&mock) {
            eprintln!("the proxy did not answer: {e}");
            std::process::exit(1);
        }
        serving.push(began.elapsed());
        let stopping = Instant::now();
        drop(mock);
        stop.push(stopping.elapsed());
    }
    report("start (returns, ready)", &mut start);
    report("start + first CONNECT answered", &mut serving);
    report("stop (drop)", &mut stop);
}

fn first_connect(mock: &MockGandi) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(mock.proxy_addr())?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.write_all(b"CONNECT api.gandi.net:443 HTTP/1.1\r\n\r\n")?;
    let mut answer = [0u8; 64];
    let n = stream.read(&mut answer)?;
    if answer[..n].starts_with(b"HTTP/1.1 200 ") {
        Ok(())
    } else {
        Err(std::io::Error::other(
            String::from_utf8_lossy(&answer[..n]).into_owned(),
        ))
    }
}

fn report(what: &str, samples: &mut [Duration]) {
    samples.sort();
    let n = samples.len().max(1) as u32;
    let mean = samples.iter().sum::<Duration>() / n;
    let median = samples.get(samples.len() / 2).copied().unwrap_or_default();
    let max = samples.last().copied().unwrap_or_default();
    println!(
        "{what:32} mean {:>8.2} ms   median {:>8.2} ms   max {:>8.2} ms   ({} runs)",
        ms(mean),
        ms(median),
        ms(max),
        samples.len()
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
