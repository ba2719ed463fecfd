//! The text model on the hand-written corpus of `fixtures/text/realistic`
//! (reviews, interviews, forum threads, a listicle, a setlist page and a
//! press release about 15 invented artists), scored against its
//! expected-terms file. The parameters were chosen on the `tune` artists;
//! the `heldout` ones are only reported, and must meet the same bar.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use encore_text::expected::{read_expected, score, ExpectedQuality};
use encore_text::{read_path, Linker, TermModel, TermModelBuilder, TermModelConfig};
use encore_types::{normalize_name, Document};

fn corpus() -> PathBuf {
    Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it")).join("../../fixtures/text/realistic")
}

/// Artists (id, name) and songs (id, artist id, title).
type Catalog = (Vec<(i64, String)>, Vec<(i64, Option<i64>, String)>);

/// The catalog's artists and songs, numbered in file order.
fn catalog() -> Catalog {
    let mut artists: Vec<(i64, String)> = Vec::new();
    let mut songs = Vec::new();
    let text = std::fs::read_to_string(corpus().join("catalog.jsonl")).expect("catalog");
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("catalog line");
        let name = v["artist"].as_str().expect("artist").to_string();
        let id = match artists.iter().find(|a| a.1 == name) {
            Some(a) => a.0,
            None => {
                artists.push((artists.len() as i64 + 1, name));
                artists.len() as i64
            }
        };
        songs.push((100 + songs.len() as i64, Some(id), v["title"].as_str().expect("title").to_string()));
    }
    (artists, songs)
}

fn documents() -> Vec<Document> {
    let mut docs = Vec::new();
    let mut problems = Vec::new();
    for p in ["pages", "blog", "forum", "interviews.jsonl"] {
        read_path(&corpus().join(p), &mut |d| docs.push(d), &mut problems);
    }
    assert!(problems.is_empty(), "{problems:?}");
    docs
}

fn train(config: TermModelConfig) -> (TermModel, HashMap<String, i64>) {
    let (artists, songs) = catalog();
    let linker = Linker::new(&artists, &songs);
    let song_artist = songs.iter().filter_map(|(s, a, _)| a.map(|a| (*s, a))).collect();
    let mut b = TermModelBuilder::new(config, &linker, song_artist);
    let docs = documents();
    docs.iter().for_each(|d| b.observe(d));
    docs.iter().for_each(|d| b.add(d));
    (b.finish(), artists.into_iter().map(|(id, n)| (normalize_name(&n), id)).collect())
}

fn quality(config: TermModelConfig) -> ExpectedQuality {
    let (model, ids) = train(config);
    score(&model, &read_expected(&corpus().join("expected.tsv")).expect("expected.tsv"), &ids)
}

fn show(q: &ExpectedQuality) {
    for a in &q.artists {
        println!(
            "{:<20} {:<7} p@10 {:.1} rank {:?} {:?} wrong {:?} leaks {:?}",
            a.artist, a.split, a.precision_at_10, a.search_rank, a.top, a.wrong, a.leaks
        );
    }
    for s in &q.splits {
        println!("{s:?}");
    }
}

#[test]
fn describes_real_prose_on_both_halves() {
    let docs = documents();
    assert!(docs.len() >= 40, "{} documents", docs.len());
    let q = quality(TermModelConfig::default());
    show(&q);
    // Page menus and footers that repeat on 5+ pages are skipped (22 blocks
    // when this was written); nobody mentioned is left without terms.
    let (model, _) = train(TermModelConfig::default());
    assert!(model.stats.boilerplate_blocks >= 10, "{:?}", model.stats);
    assert!(model.stats.silent.is_empty(), "{:?}", model.stats);
    for s in &q.splits {
        assert_eq!(s.contrast_leaks, 0, "{s:?}");
        assert_eq!(s.silent_artists, 0, "{s:?}");
        assert_eq!(s.search_first, 1.0, "{s:?}");
    }
    // Measured when the defaults were chosen: tune 0.913, held-out 0.829,
    // all 0.873; the bar is 0.8 on each.
    let p = |split: &str| q.splits.iter().find(|s| s.split == split).expect("split").precision_at_10;
    for split in ["tune", "heldout", "all"] {
        assert!(p(split) >= 0.8, "{split}: {}", p(split));
    }
}

/// The grid the defaults were chosen from, on the `tune` artists only:
/// `cargo test -p encore-text --test realistic -- --ignored --nocapture`.
#[test]
#[ignore]
fn tuning_grid() {
    println!("adjective_weight carry subject bigrams boilerplate_docs | tune precision@10 leaks search_first");
    for adjective_weight in [1.0, 2.0, 3.0] {
        for carry_weight in [0.25, 0.5, 1.0] {
            for subject_weight in [0.0, 0.5] {
                for bigrams in [true, false] {
                    for boilerplate_docs in [0, 2, 3, 5] {
                        let q = quality(TermModelConfig {
                            adjective_weight,
                            carry_weight,
                            subject_weight,
                            bigrams,
                            boilerplate_docs,
                            ..TermModelConfig::default()
                        });
                        let t = q.splits.iter().find(|s| s.split == "tune").expect("tune split");
                        println!(
                            "{adjective_weight} {carry_weight} {subject_weight} {bigrams} {boilerplate_docs} | {:.3} {} {:.3}",
                            t.precision_at_10, t.contrast_leaks, t.search_first
                        );
                    }
                }
            }
        }
    }
}

/// What each rule adds, on both halves (reported, not used for choosing):
/// `cargo test -p encore-text --test realistic ablations -- --ignored --nocapture`.
#[test]
#[ignore]
fn ablations() {
    let d = TermModelConfig::default;
    let runs: Vec<(&str, TermModelConfig)> = vec![
        ("defaults", d()),
        ("words to every artist of the sentence (no clauses)", TermModelConfig { clauses: false, ..d() }),
        ("no repeated blocks skipped", TermModelConfig { boilerplate_docs: 0, ..d() }),
        ("blocks repeated in 2+ documents skipped", TermModelConfig { boilerplate_docs: 2, ..d() }),
        ("capitalised words kept", TermModelConfig { skip_names: false, ..d() }),
        ("min_df 2 (the old default)", TermModelConfig { min_df: Some(2), ..d() }),
        ("no bigrams", TermModelConfig { bigrams: false, ..d() }),
        ("no page-subject fallback", TermModelConfig { subject_weight: 0.0, ..d() }),
    ];
    println!("| configuration | split | precision@10 | contrast leaks | silent artists | search first |");
    println!("|---|---|---|---|---|---|");
    for (name, config) in runs {
        for s in quality(config).splits {
            println!(
                "| {name} | {} | {:.3} | {} | {} | {:.3} |",
                s.split, s.precision_at_10, s.contrast_leaks, s.silent_artists, s.search_first
            );
        }
    }
}
