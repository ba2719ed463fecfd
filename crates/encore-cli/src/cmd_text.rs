//! `encore text …`: ingest articles, train the term model, describe, search,
//! and measure quality on the demo world.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use encore_train::text::{expected, ingest, names, open_model, quality, train, Entity, TermModelConfig};

use crate::ui;

/// The text model: what the web writes about songs and artists.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: Cmd,
}

#[derive(Debug, clap::Subcommand)]
enum Cmd {
    /// Read documents (folders of .html/.htm/.txt/.md, .jsonl, .warc/.wet, gzip too) into the store.
    Ingest {
        /// Files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Link the stored documents to the catalog and build the term model.
    Train {
        /// Keep a term only if at least this many artists use it (or two
        /// sentences about one). Default: 1 below 10,000 documents, 2 above.
        #[arg(long)]
        min_df: Option<usize>,
        /// Drop a term used for more than this share of artists (and by more than three).
        #[arg(long, default_value_t = TermModelConfig::default().max_df_share)]
        max_df_share: f32,
        /// Weight of an adjective or a genre name against other words.
        #[arg(long, default_value_t = TermModelConfig::default().adjective_weight)]
        adjective_weight: f32,
        /// Attribute words to every artist of a sentence instead of the artist of their clause.
        #[arg(long)]
        no_clauses: bool,
        /// Keep blocks repeated across documents (navigation, footers) instead of skipping them.
        #[arg(long)]
        keep_boilerplate: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Top descriptive terms and co-mentioned artists of an artist or a song.
    Describe {
        /// Artist name.
        #[arg(long, conflicts_with = "song", required_unless_present = "song")]
        artist: Option<String>,
        /// Song store id.
        #[arg(long)]
        song: Option<i64>,
        /// How many terms.
        #[arg(short, default_value_t = 10)]
        n: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Artists and songs for a description, e.g. "summery nostalgic guitar".
    Search {
        /// The description.
        query: String,
        /// How many results.
        #[arg(short, default_value_t = 10)]
        n: usize,
        /// Exit with status 1 when no word of the query is known to the model.
        #[arg(long)]
        strict: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Quality on the demo world against its ground truth, or against an
    /// expected-terms file (fixtures/text/realistic/expected.tsv).
    Quality {
        /// The demo world's truth folder (default: DATA_DIR/demo/truth).
        #[arg(long, conflicts_with = "expected")]
        truth: Option<PathBuf>,
        /// A TSV of artist, split, query, expected terms, forbidden terms.
        #[arg(long)]
        expected: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn label(e: Entity, artists: &HashMap<i64, String>, songs: &HashMap<i64, String>) -> (String, i64, String) {
    match e {
        Entity::Artist(a) => ("artist".into(), a, artists.get(&a).cloned().unwrap_or_default()),
        Entity::Song(s) => ("song".into(), s, songs.get(&s).cloned().unwrap_or_default()),
    }
}

pub fn run(data_dir: &Path, a: Args) -> anyhow::Result<ExitCode> {
    let mut store = crate::ui::open_store(data_dir)?;
    match a.what {
        Cmd::Ingest { paths, json } => {
            let r = ingest(&mut store, &paths)?;
            if json {
                ui::print_json(&r)?;
            } else {
                println!("{} documents read: {} added, {} already stored", r.documents_read, r.added, r.duplicates);
                for p in &r.problems {
                    println!("  {}:{}: {}", p.file, p.at, p.reason);
                }
            }
        }
        Cmd::Train { min_df, max_df_share, adjective_weight, no_clauses, keep_boilerplate, json } => {
            let d = TermModelConfig::default();
            let cfg = TermModelConfig {
                min_df,
                max_df_share,
                adjective_weight,
                clauses: !no_clauses,
                boilerplate_docs: if keep_boilerplate { 0 } else { d.boilerplate_docs },
                ..d
            };
            let (m, version) = train(&store, cfg)?;
            let (artists, _) = names(&store)?;
            for s in &m.stats.silent {
                let name = artists.get(&s.artist).map_or("?", |n| n.as_str());
                eprintln!(
                    "note: {name} (artist {}) is mentioned {} times but has no terms: {}",
                    s.artist, s.mentions, s.reason
                );
            }
            if json {
                ui::print_json(&serde_json::json!({ "version_dir": version.display().to_string(), "stats": m.stats }))?;
            } else {
                let s = &m.stats;
                println!(
                    "text model: {} documents, {} mentions, {} terms, {} artists, {} songs; published {}",
                    s.documents,
                    s.mentions,
                    s.terms,
                    s.artists,
                    s.songs,
                    version.display()
                );
            }
        }
        Cmd::Describe { artist, song, n, json } => {
            let model = open_model(&store)?;
            let (artists, songs) = names(&store)?;
            let e = match (artist, song) {
                (Some(name), _) => {
                    let norm = encore_types::normalize_name(&name);
                    let id = artists
                        .iter()
                        .filter(|(_, n)| encore_types::normalize_name(n) == norm)
                        .map(|(id, _)| *id)
                        .min()
                        .with_context(|| format!("no artist called {name:?}"))?;
                    Entity::Artist(id)
                }
                (None, Some(id)) => Entity::Song(id),
                (None, None) => anyhow::bail!("give --artist or --song"),
            };
            let d = model.describe(e, n).context("nothing has been written about it")?;
            let (kind, id, name) = label(e, &artists, &songs);
            let co: Vec<_> = d
                .comentioned
                .iter()
                .map(|(a, pmi, c)| serde_json::json!({ "artist_id": a, "artist": artists.get(a), "pmi": pmi, "documents": c }))
                .collect();
            if json {
                ui::print_json(
                    &serde_json::json!({ "kind": kind, "id": id, "name": name, "terms": d.terms, "comentioned": co }),
                )?;
            } else {
                println!("{name} ({kind} {id})");
                let terms: Vec<String> = d.terms.iter().map(|(t, w)| format!("{t} ({w:.2})")).collect();
                println!("  described as: {}", terms.join(", "));
                if !co.is_empty() {
                    let c: Vec<String> = d
                        .comentioned
                        .iter()
                        .map(|(a, _, n)| format!("{} ({n})", artists.get(a).cloned().unwrap_or_default()))
                        .collect();
                    println!("  mentioned with: {}", c.join(", "));
                }
            }
        }
        Cmd::Search { query, n, strict, json } => {
            let model = open_model(&store)?;
            let (artists, songs) = names(&store)?;
            let found = model.search_explained(&query, n);
            if !found.unknown_terms.is_empty() {
                let none = found.known_terms.is_empty();
                eprintln!(
                    "{}: {}",
                    if none {
                        "no word of the query is known to the text model"
                    } else {
                        "not known to the text model"
                    },
                    found.unknown_terms.join(", ")
                );
            }
            let failed = strict && found.known_terms.is_empty();
            let hits: Vec<_> = found
                .hits
                .into_iter()
                .map(|(e, s)| {
                    let (kind, id, name) = label(e, &artists, &songs);
                    serde_json::json!({ "kind": kind, "id": id, "name": name, "score": s })
                })
                .collect();
            if json {
                ui::print_json(&serde_json::json!({
                    "query": query,
                    "results": hits,
                    "known_terms": found.known_terms,
                    "unknown_terms": found.unknown_terms,
                }))?;
            } else {
                for (k, h) in hits.iter().enumerate() {
                    println!(
                        "{:>3}. {:<7} {:<60} {:.3}",
                        k + 1,
                        h["kind"].as_str().unwrap_or(""),
                        h["name"].as_str().unwrap_or(""),
                        h["score"].as_f64().unwrap_or(0.0)
                    );
                }
            }
            if failed {
                return Ok(ExitCode::FAILURE);
            }
        }
        Cmd::Quality { expected: Some(file), json, .. } => {
            let model = open_model(&store)?;
            let expected = expected::read_expected(&file)?;
            let (artists, _) = names(&store)?;
            let ids = artists.into_iter().map(|(id, n)| (encore_types::normalize_name(&n), id)).collect();
            let q = expected::score(&model, &expected, &ids);
            if json {
                ui::print_json(&q)?;
            } else {
                for a in &q.artists {
                    println!(
                        "{:<20} {:<7} p@10 {:.1}  search rank {:<4} {}{}",
                        a.artist,
                        a.split,
                        a.precision_at_10,
                        a.search_rank.map_or("-".into(), |r| r.to_string()),
                        a.top.join(", "),
                        if a.leaks.is_empty() { String::new() } else { format!("  LEAKS: {}", a.leaks.join(", ")) }
                    );
                }
                println!("split    artists  precision@10  contrast leaks  silent artists  search first");
                for s in &q.splits {
                    println!(
                        "{:<8} {:>7}  {:>12.3}  {:>14}  {:>14}  {:>12.3}",
                        s.split, s.artists, s.precision_at_10, s.contrast_leaks, s.silent_artists, s.search_first
                    );
                }
            }
        }
        Cmd::Quality { truth, json, expected: None } => {
            let truth = truth.unwrap_or_else(|| data_dir.join("demo").join("truth"));
            let q = quality(&store, &truth)?;
            if json {
                ui::print_json(&q)?;
            } else {
                println!(
                    "artists: {}; precision@10 of top terms vs genre+mood vocabulary: {:.3}; same-genre share of top-10 text-similar artists: {:.3}; of top-10 co-mentioned: {:.3}",
                    q.artists, q.term_precision_at_10, q.similar_same_genre_at_10, q.comentioned_same_genre_at_10
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
