//! The stand-in for the `scenario_parse` fuzz target (`mock-gandi/fuzz`), run by `cargo test`:
//! scenario files of the corpus, cut and mutated, and arbitrary text, are parsed or refused with
//! an error that names the file; nothing panics.

use std::path::Path;

use harness::scenario::Scenario;
use proptest::collection::vec;
use proptest::prelude::*;

fn corpus() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut texts: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    texts.sort();
    texts
}

/// What the fuzz target checks.
fn check(text: &str) {
    if let Err(e) = Scenario::parse(Path::new("fuzzed.toml"), text) {
        assert!(e.to_string().contains("fuzzed.toml"), "{e}");
    }
}

fn mutated_scenario() -> impl Strategy<Value = String> {
    let texts = corpus();
    assert!(texts.len() > 20);
    (
        prop::sample::select(texts),
        vec(
            (any::<prop::sample::Index>(), "[ -~\n]{0,12}", 0usize..40),
            1..4,
        ),
    )
        .prop_map(|(text, edits)| {
            let mut text = text;
            for (at, insert, remove) in edits {
                let mut i = at.index(text.len().max(1)).min(text.len());
                while !text.is_char_boundary(i) {
                    i -= 1;
                }
                let mut end = (i + remove).min(text.len());
                while !text.is_char_boundary(end) {
                    end += 1;
                }
                text.replace_range(i..end, &insert);
            }
            text
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn corpus_scenarios_cut_and_mutated(text in mutated_scenario()) {
        check(&text);
    }

    #[test]
    fn scenarios_of_any_text(text in ".{0,300}") {
        check(&text);
    }
}

#[test]
fn every_corpus_scenario_parses_unmutated() {
    for text in corpus() {
        Scenario::parse(Path::new("corpus.toml"), &text).unwrap();
    }
}
