//! Whom the words of tricky sentences describe: contrasts, comparisons,
//! appositions, lists, negation, parentheses and a name that is an everyday
//! word, one expectation per row of `fixtures/text/attribution.tsv`.

use std::path::{Path, PathBuf};

use encore_text::{Entity, Linker, TermModelBuilder, TermModelConfig};
use encore_types::{normalize_name, Document};

fn fixtures() -> PathBuf {
    Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it")).join("../../fixtures/text")
}

#[test]
fn every_word_goes_to_the_artist_of_its_clause() {
    let mut artists: Vec<(i64, String)> = Vec::new();
    for line in std::fs::read_to_string(fixtures().join("realistic/catalog.jsonl")).expect("catalog").lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("json");
        let name = v["artist"].as_str().expect("artist").to_string();
        if !artists.iter().any(|a| a.1 == name) {
            artists.push((artists.len() as i64 + 1, name));
        }
    }
    let linker = Linker::new(&artists, &[]);
    let config = TermModelConfig { min_df: Some(1), max_df_share: 1.0, ..TermModelConfig::default() };
    let rows = std::fs::read_to_string(fixtures().join("attribution.tsv")).expect("attribution.tsv");
    let mut failures = Vec::new();
    let mut checked = 0;
    for line in rows.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 5, "{line}");
        let mut b = TermModelBuilder::new(config.clone(), &linker, Default::default());
        b.add(&Document { url: f[0].into(), text: f[1].into(), ..Default::default() });
        let model = b.finish();
        let id = artists.iter().find(|a| a.1 == f[2]).unwrap_or_else(|| panic!("unknown artist {}", f[2])).0;
        let terms: Vec<String> = model
            .describe(Entity::Artist(id), usize::MAX)
            .map(|d| d.terms.into_iter().map(|t| t.0).collect())
            .unwrap_or_default();
        let words = |s: &str| s.split(',').map(normalize_name).filter(|w| !w.is_empty()).collect::<Vec<_>>();
        let has = |w: &String| terms.iter().any(|t| t.split(' ').any(|x| x == w));
        let missing: Vec<String> = words(f[3]).into_iter().filter(|w| !has(w)).collect();
        let leaked: Vec<String> = words(f[4]).into_iter().filter(has).collect();
        if !missing.is_empty() || !leaked.is_empty() {
            failures.push(format!("{} / {}: missing {missing:?}, leaked {leaked:?}, terms {terms:?}", f[0], f[2]));
        }
        checked += 1;
    }
    assert!(checked >= 30, "{checked} rows");
    assert!(failures.is_empty(), "{} of {checked} rows fail:\n{}", failures.len(), failures.join("\n"));
}
