//! The HTML report (`harness run --html`): failing scenarios first, unmet expectations in the
//! red class, the first error marked, a client's markup shown as text, nothing fetched; drawn
//! from a real run's transcript; and rendered by a real headless Chromium without a console
//! error.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use harness::CaKind;
use harness::runner::{ScenarioReport, run_scenario};
use harness::sandbox::Network;
use harness::scenario::Scenario;
use harness::transcript::Step;

const HOSTILE: &str = "<script>alert(1)</script>";
const HOSTILE_ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt;";
const PAT: &str = "23e501f7a1b2c3d4e5f60718293a4b5c6d7e960b";

fn passing() -> ScenarioReport {
    ScenarioReport {
        name: "aa-passes".into(),
        path: "scenarios/aa-passes.toml".into(),
        description: "issues".into(),
        reproduces: None,
        quote: None,
        client: "builtin gandiv5".into(),
        passed: true,
        failures: vec![],
        unmet: vec![],
        transcript: "client: builtin gandiv5\napi:\n  \
            PUT /v5/livedns/domains/stubber.chat/records/_acme-challenge/TXT -> 201 (auth: pat, host: api.gandi.net)\n\
            dns:\n  TXT _acme-challenge.stubber.chat -> NOERROR [\"\\\"[token]\\\"\"]\n\
            outcome:\n  issued: {\"stubber.chat\"}\n"
            .into(),
        // No steps: the diagram falls back on the transcript's sections.
        steps: vec![],
        output: String::new(),
        network: Network::Proxy,
        twin: None,
        seconds: 0.2,
    }
}

/// A failing scenario whose client printed markup, with a forbidden call that was made.
fn failing() -> ScenarioReport {
    let put = "PUT /v5/livedns/domains/stubber.chat/records/_acme-challenge/TXT -> 403";
    ScenarioReport {
        name: "zz-fails".into(),
        path: "scenarios/zz-fails.toml".into(),
        description: format!("prints {HOSTILE} and <img src=\"https://example.com/x.png\">"),
        reproduces: Some("go-acme/lego#1".into()),
        quote: Some("does not match '^[a-z0-9]{24}$'".into()),
        client: "command sh".into(),
        passed: false,
        failures: vec![
            format!("an API call matches \"PUT\": {put}"),
            format!("expected a certificate, but the client failed: {HOSTILE}"),
        ],
        unmet: vec!["no_calls[0]".into(), "outcome".into()],
        transcript: format!(
            "client: command sh\napi:\n  {put} (auth: pat, host: api.gandi.net)\ndns:\n\
             outcome:\n  ended: exit 1\n  error: {HOSTILE}\n"
        ),
        steps: vec![
            Step::Dns("SOA stubber.chat -> NOERROR []".into()),
            Step::Api(format!("{put} (auth: pat, host: api.gandi.net)")),
            Step::Dns("TXT _acme-challenge.stubber.chat -> NXDOMAIN []".into()),
            Step::Dns("TXT _acme-challenge.stubber.chat -> NXDOMAIN []".into()),
        ],
        output: format!("{HOSTILE}\n<img src=\"http://example.com/x.png\"> & \u{1b}[31mred\n"),
        network: Network::Proxy,
        twin: None,
        seconds: 0.7,
    }
}

/// Every tag of the page (escaped text has no `<`), as written.
fn tags(html: &str) -> Vec<&str> {
    html.split('<')
        .skip(1)
        .map(|t| &t[..t.find('>').unwrap_or(t.len())])
        .collect()
}

/// What the page would load or link to outside itself.
fn external_references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for tag in tags(html) {
        let lower = tag.to_ascii_lowercase();
        let name = lower.split_whitespace().next().unwrap_or("");
        if [
            "script", "link", "img", "iframe", "object", "embed", "image", "use", "audio", "video",
            "source", "base", "form",
        ]
        .contains(&name)
        {
            found.push(format!("<{tag}>"));
        }
        for attr in [
            " src=", " srcset=", " action=", " poster=", " data=", " href=", ":href=",
        ] {
            if let Some(i) = lower.find(attr) {
                let value = lower[i + attr.len()..].trim_start_matches(['"', '\'']);
                if !(attr.ends_with("href=") && value.starts_with('#')) {
                    found.push(format!("<{tag}>"));
                }
            }
        }
    }
    let style = html
        .split("<style>")
        .nth(1)
        .and_then(|s| s.split("</style>").next())
        .unwrap_or("");
    if style.contains("url(") || style.contains("@import") {
        found.push("a url() or @import in the style".into());
    }
    found
}

/// Where a scenario's section starts.
fn section_of(html: &str, name: &str) -> usize {
    html.find(&format!("<span class=\"name\">{name}</span>"))
        .unwrap_or_else(|| panic!("no section for {name}"))
}

#[test]
fn failures_come_first_with_unmet_expectations_in_red_and_markup_as_text() {
    let html = harness::html::render(&[passing(), failing()], Duration::from_secs(3));
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("1 failed</span>") && html.contains("1 passed</span>"));
    assert!(section_of(&html, "zz-fails") < section_of(&html, "aa-passes"));
    // The unmet expectations, by the names the scenario file gives them, in the red class.
    assert!(
        html.contains("<li class=\"unmet\"><code>no_calls[0]</code> an API call matches"),
        "{html}"
    );
    assert!(html.contains("<li class=\"unmet\"><code>outcome</code>"));
    // The report a scenario reproduces and its quote are beside the outcome.
    assert!(
        html.contains(
            "reproduces go-acme/lego#1 · quote: <q>does not match &#39;^[a-z0-9]{24}$&#39;</q>"
        ),
        "the reference and its quote are not shown: {html}"
    );
    // In the diagram: the forbidden call is a red arrow, the outcome a red note, and the
    // first thing that went wrong (the 403) is marked.
    assert!(
        html.contains("<g class=\"row api problem unmet\">"),
        "{html}"
    );
    assert!(html.contains("<g class=\"row unmet\"><title>ACME outcome: failed"));
    let first = html.find("first error").unwrap();
    let forbidden = html.find("<g class=\"row api problem unmet\">").unwrap();
    let soa = html.find("SOA stubber.chat -&gt; NOERROR").unwrap();
    assert!(soa < first && first < forbidden, "{html}");
    // Repeated questions are one arrow.
    assert!(html.contains("TXT _acme-challenge.stubber.chat -&gt; NXDOMAIN [] ×2"));
    // The passing report has no steps: its diagram comes from the transcript's lines.
    assert!(html.contains("certificate issued: {&quot;stubber.chat&quot;}"));
    // A client's markup is text, wherever it shows.
    assert!(!html.to_ascii_lowercase().contains("<script"), "{html}");
    assert!(html.matches(HOSTILE_ESCAPED).count() >= 4, "{html}");
    assert!(html.contains("&amp; \u{241b}[31mred"));
    assert_eq!(external_references(&html), Vec::<String>::new());
    assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none'"));
}

#[test]
fn the_reference_check_finds_what_it_looks_for() {
    assert_eq!(
        external_references("<p>&lt;img src=http://x&gt; <a href=\"#s1\">x</a>").len(),
        0
    );
    assert_eq!(external_references("<img src=\"http://x/y.png\">").len(), 2);
    assert_eq!(external_references("<a href=\"https://x\">x</a>").len(), 1);
    assert_eq!(
        external_references("<style>a{background:url(x.png)}</style>").len(),
        1
    );
}

fn scenario(name: &str, text: &str) -> Scenario {
    Scenario::parse(&PathBuf::from(format!("{name}.toml")), text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_run_is_drawn_from_the_same_lines_as_its_transcript() {
    if !harness::require::pebble(CaKind::Process).await {
        return;
    }
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let passes = std::fs::read_to_string(corpus.join("pat-to-legacy-gandi-provider.toml")).unwrap();
    assert!(passes.contains("calls = [\"domain.info -> fault 500037\"]"));
    let fails = passes.replace(
        "calls = [\"domain.info -> fault 500037\"]",
        "calls = [\"domain.info -> ok\"]",
    );
    // A program that prints markup (and the token) and fails, where success is expected.
    let hostile = format!(
        r#"description = "prints markup"
[[gandi.domain]]
fqdn = "stubber.chat"
[[gandi.credential]]
kind = "pat"
secret = "{PAT}"
[client]
kind = "command"
domains = ["stubber.chat"]
env = {{ TOKEN = "{PAT}" }}
argv = ["sh", "-c", "echo 'error: {HOSTILE} token '$TOKEN >&2; exit 1"]
[expect]
outcome = "success"
"#
    );
    let mut reports = Vec::new();
    for (name, text) in [
        ("passes", &passes),
        ("fails", &fails),
        ("hostile", &hostile),
    ] {
        reports.push(run_scenario(&scenario(name, text), CaKind::Process).await);
    }
    let verdicts: Vec<bool> = reports.iter().map(|r| r.passed).collect();
    assert_eq!(verdicts, [true, false, false], "{reports:#?}");
    for r in &reports[..2] {
        // The diagram's lines are the transcript's lines.
        assert!(!r.steps.is_empty(), "{r:#?}");
        for step in &r.steps {
            let (Step::Api(line) | Step::Dns(line)) = step;
            assert!(
                r.transcript.contains(&format!("  {line}\n")),
                "{line}\n{}",
                r.transcript
            );
        }
    }

    let html = harness::html::render(&reports, Duration::from_secs(2));
    assert!(section_of(&html, "fails") < section_of(&html, "passes"));
    assert!(section_of(&html, "hostile") < section_of(&html, "passes"));
    assert!(html.contains("<li class=\"unmet\"><code>calls[0]</code> no API call matches"));
    assert!(html.contains("<li class=\"unmet\"><code>outcome</code>"));
    assert!(html.contains("<g class=\"row api problem\"><title>domain.info -&gt; fault 500037"));
    assert!(html.contains("first error"));
    assert!(
        html.contains(&format!("error: {HOSTILE_ESCAPED} token [TOKEN]")),
        "{html}"
    );
    assert!(!html.to_ascii_lowercase().contains("<script"));
    // Redacted where the transcript is, and nowhere else needed.
    assert!(!html.contains(PAT));
    assert_eq!(external_references(&html), Vec::<String>::new());
}

// --- a real browser -------------------------------------------------------------------------

const CHROMIUM: &str = "chromium";

fn chromium_found() -> bool {
    Command::new(CHROMIUM)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Headless Chromium on `page` with `args`, a profile of its own (tests run at once), its log
/// on stderr, bounded in time.
fn chromium(page: &Path, args: &[&str]) -> Output {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    // Read both pipes while waiting, so a full pipe cannot stall it.
    fn drain(mut pipe: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            pipe.read_to_end(&mut buf).unwrap();
            buf
        })
    }
    let readers = [
        drain(child.stdout.take().unwrap()),
        drain(child.stderr.take().unwrap()),
    ];
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let [stdout, stderr] = readers.map(|r| r.join().unwrap());
    Output {
        status,
        stdout,
        stderr,
    }
}

/// What the page's scripts and loads said: Chromium logs each console message as `CONSOLE`.
fn console_lines(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .map(str::to_string)
        .collect()
}

/// Screenshot of `page` at 1200x2000: the PNG's bytes, and the console lines.
fn screenshot(page: &Path, png: &Path) -> (Vec<u8>, Vec<String>) {
    let out = chromium(
        page,
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1200,2000",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (std::fs::read(png).unwrap(), console_lines(&out.stderr))
}

/// A PNG's width, height and the total length of its image data (IDAT chunks). There is no
/// PNG decoder among the workspace's dependencies; the compressed size says enough: a page of
/// one colour compresses to almost nothing.
fn png_facts(png: &[u8]) -> (u32, u32, usize) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    let (mut at, mut size, mut idat) = (8, (0, 0), 0);
    while at + 8 <= png.len() {
        let len = be(&png[at..]) as usize;
        let kind = &png[at + 4..at + 8];
        if kind == b"IHDR" {
            size = (be(&png[at + 8..]), be(&png[at + 12..]));
        } else if kind == b"IDAT" {
            idat += len;
        }
        at += 12 + len;
    }
    (size.0, size.1, idat)
}

#[test]
fn chromium_renders_the_report_without_a_console_error() {
    if !chromium_found() {
        harness::require::skip_or_fail(
            "Chromium",
            "apt-get install -y chromium (Debian's package; ci/setup --tests installs it)",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };

    // The check must be able to fail: a page with a script error is seen as one.
    let canary = write(
        "canary.html",
        "<!DOCTYPE html><p>x</p><script>console.error('canary-says'); undefinedFunction()</script>",
    );
    let (_, lines) = screenshot(&canary, &dir.path().join("canary.png"));
    assert!(
        lines.iter().any(|l| l.contains("canary-says"))
            && lines.iter().any(|l| l.contains("Uncaught")),
        "Chromium's console log is not on stderr as expected: {lines:?}"
    );

    let page = write(
        "report.html",
        &harness::html::render(&[passing(), failing()], Duration::from_secs(3)),
    );
    let (png, lines) = screenshot(&page, &dir.path().join("report.png"));
    assert_eq!(lines, Vec::<String>::new(), "console messages");
    let blank = write("blank.html", "<!DOCTYPE html><title>blank</title>");
    let (blank_png, _) = screenshot(&blank, &dir.path().join("blank.png"));
    let (w, h, idat) = png_facts(&png);
    let (bw, bh, blank_idat) = png_facts(&blank_png);
    assert_eq!((w, h), (1200, 2000));
    assert_eq!((bw, bh), (1200, 2000));
    assert!(
        idat > 20 * 1024 && idat > 5 * blank_idat,
        "the report's screenshot looks blank: {idat} bytes of image data, {blank_idat} for a blank page"
    );

    // The diagrams are there to be seen: laid out at a readable size, not hidden by a style,
    // and what the browser finds at their middle.
    let diagrams = diagrams_as_laid_out(&dir.path().join("measured.html"), &page);
    assert_eq!(diagrams.len(), 2, "{diagrams:?}");
    for d in &diagrams {
        assert!(
            d.width >= 600.0 && d.height >= 100.0,
            "a sequence diagram is not laid out at a readable size: {d:?}"
        );
        assert!(
            d.visible && d.at_its_middle,
            "a sequence diagram is laid out but not visible: {d:?}"
        );
    }

    // What the browser made of the page: the markup a client printed is text, not elements.
    let out = chromium(&page, &["--dump-dom"]);
    let dom = String::from_utf8_lossy(&out.stdout);
    assert_eq!(console_lines(&out.stderr), Vec::<String>::new());
    assert!(dom.contains("<svg class=\"sequence\""), "{dom}");
    assert_eq!(dom.matches("<section class=\"scenario").count(), 2);
    assert!(dom.contains(HOSTILE_ESCAPED));
    assert!(!dom.to_ascii_lowercase().contains("<script"));
    assert!(!dom.to_ascii_lowercase().contains("<img"));
}

/// One sequence diagram as Chromium laid it out.
#[derive(Debug)]
struct Diagram {
    width: f64,
    height: f64,
    /// `checkVisibility` with opacity and visibility: no `display: none`, `visibility:
    /// hidden` or `opacity: 0` on it or above it.
    visible: bool,
    /// The element Chromium finds at the diagram's middle (scrolled into view) is the
    /// diagram or inside it: nothing covers it.
    at_its_middle: bool,
}

/// Every `svg.sequence` of `page` as Chromium lays it out at 1200x2000, each scenario's
/// section opened. The report's policy forbids scripts; a copy without it, with a measuring
/// script at its end, is written to `copy` and its DOM read back.
fn diagrams_as_laid_out(copy: &Path, page: &Path) -> Vec<Diagram> {
    let html = std::fs::read_to_string(page).unwrap();
    let policy = html
        .find("<meta http-equiv=\"Content-Security-Policy\"")
        .expect("the report has a policy");
    let end = policy + html[policy..].find('>').unwrap() + 1;
    let script = r#"<script>
const out = [];
for (const d of document.querySelectorAll('details')) d.open = true;
for (const svg of document.querySelectorAll('svg.sequence')) {
  svg.scrollIntoView({block: 'start'});
  const r = svg.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + Math.min(r.height / 2, 900));
  const visible = svg.checkVisibility({opacityProperty: true, visibilityProperty: true});
  out.push([r.width, r.height, visible, hit !== null && (hit === svg || svg.contains(hit))]);
}
const pre = document.createElement('pre');
pre.id = 'measured';
pre.textContent = JSON.stringify(out);
document.body.appendChild(pre);
</script>"#;
    let measured = format!("{}{}{script}", &html[..policy], &html[end..]);
    std::fs::write(copy, measured).unwrap();
    let out = chromium(copy, &["--window-size=1200,2000", "--dump-dom"]);
    let dom = String::from_utf8_lossy(&out.stdout);
    let json = dom
        .split("<pre id=\"measured\">")
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .unwrap_or_else(|| panic!("the measuring script did not run: {dom}"));
    let rows: Vec<(f64, f64, bool, bool)> = serde_json::from_str(json).unwrap();
    rows.into_iter()
        .map(|(width, height, visible, at_its_middle)| Diagram {
            width,
            height,
            visible,
            at_its_middle,
        })
        .collect()
}
