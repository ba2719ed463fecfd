//! `encore text …`: ingest articles, train the term model, describe, search,
//! and measure quality on the demo world.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use encore_store::Store;
use encore_text::{Entity, Linker, Problem, TermModel, TermModelBuilder, TermModelConfig};
use encore_types::ArtifactHeader;
use serde::Serialize;

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

#[derive(Debug, Default, Serialize)]
pub struct IngestReport {
    pub documents_read: u64,
    pub added: u64,
    pub duplicates: u64,
    pub problems: Vec<Problem>,
}

/// Reads `paths` into the store.
///
/// Reading and reducing HTML runs on a thread of its own and the store
/// writes on this one, with a short queue between them: under perf on
/// `bench/text_ingest.sh` the two halves take about as long, so on two cores
/// the pipeline is faster than reading and writing in turn (figures in
/// `bench/results/2026-12-02-text-realistic.md`). Documents arrive in the
/// same order as before, so duplicates resolve the same way.
pub fn ingest(store: &mut Store, paths: &[PathBuf]) -> anyhow::Result<IngestReport> {
    let mut r = IngestReport::default();
    let (tx, rx) = std::sync::mpsc::sync_channel::<encore_types::Document>(64);
    let stop = AtomicBool::new(false);
    let (stored, problems) = std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut problems = Vec::new();
            for p in paths {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                if !p.exists() {
                    problems.push(Problem {
                        file: p.display().to_string(),
                        at: 0,
                        reason: "no such file or folder".into(),
                    });
                    continue;
                }
                encore_text::read_path(
                    p,
                    &mut |d| {
                        // The writer stopped (a store error): read no further.
                        if tx.send(d).is_err() {
                            stop.store(true, Ordering::Relaxed);
                        }
                    },
                    &mut problems,
                );
            }
            drop(tx);
            problems
        });
        let stored = store.in_transaction(|store| {
            for d in rx.iter() {
                r.documents_read += 1;
                match store.add_document(&d) {
                    Ok(true) => r.added += 1,
                    Ok(false) => r.duplicates += 1,
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        });
        drop(rx);
        (stored, reader.join())
    });
    stored?;
    r.problems = problems.map_err(|_| anyhow::anyhow!("the text reader thread panicked"))?;
    Ok(r)
}

/// Builds the term model from the store and publishes it.
pub fn train(store: &Store, config: TermModelConfig) -> anyhow::Result<(TermModel, PathBuf)> {
    let artists = store.artists()?;
    let songs = store.song_titles()?;
    let linker = Linker::new(&artists.iter().map(|(id, n, _)| (*id, n.clone())).collect::<Vec<_>>(), &songs);
    let song_artist: HashMap<i64, i64> = songs.iter().filter_map(|(s, a, _)| a.map(|a| (*s, a))).collect();
    let mut b = TermModelBuilder::new(config, &linker, song_artist);
    // Two passes: count the blocks repeated across pages, then read.
    store.for_each_document(|d| b.observe(&d))?;
    store.for_each_document(|d| b.add(&d))?;
    let model = b.finish();
    let dir = store.artifacts(encore_text::KIND)?;
    let w = dir.writer(ArtifactHeader::new(encore_text::KIND, encore_text::FORMAT_VERSION))?;
    model.save(w.path())?;
    let version = w.commit()?;
    Ok((model, version))
}

pub(crate) fn open_model(store: &Store) -> anyhow::Result<TermModel> {
    let (path, header) = store
        .artifacts(encore_text::KIND)?
        .current()?
        .context("no text model yet: run `encore text ingest` and `encore text train` first")?;
    header.check(encore_text::KIND, encore_text::FORMAT_VERSION)?;
    Ok(TermModel::load(&path)?)
}

pub(crate) fn names(store: &Store) -> anyhow::Result<(HashMap<i64, String>, HashMap<i64, String>)> {
    let artists: HashMap<i64, String> = store.artists()?.into_iter().map(|(id, n, _)| (id, n)).collect();
    let songs = store.song_titles()?.into_iter().map(|(id, a, t)| {
        let who = a.and_then(|a| artists.get(&a).cloned()).unwrap_or_else(|| "?".into());
        (id, format!("{who} – {t}"))
    });
    let songs = songs.collect();
    Ok((artists, songs))
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
            let expected = encore_text::expected::read_expected(&file)?;
            let (artists, _) = names(&store)?;
            let ids = artists.into_iter().map(|(id, n)| (encore_types::normalize_name(&n), id)).collect();
            let q = encore_text::expected::score(&model, &expected, &ids);
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

#[derive(Debug, Serialize)]
pub struct Quality {
    pub artists: usize,
    pub term_precision_at_10: f64,
    pub similar_same_genre_at_10: f64,
    pub comentioned_same_genre_at_10: f64,
}

/// Quality against the demo world's truth: an artist's top-10 terms should
/// come from its genre's and mood's vocabularies; its text-similar and
/// co-mentioned artists should share its genre.
pub fn quality(store: &Store, truth: &Path) -> anyhow::Result<Quality> {
    let model = open_model(store)?;
    let world: serde_json::Value = serde_json::from_slice(
        &std::fs::read(truth.join("world.json"))
            .with_context(|| format!("reading {}", truth.join("world.json").display()))?,
    )?;
    let vocab = |key: &str, name: &str| -> Vec<String> {
        world[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|g| g["name"] == name)
            .flat_map(|g| g["vocab"].as_array().cloned().unwrap_or_default())
            .filter_map(|v| v.as_str().map(encore_types::normalize_name))
            .collect()
    };
    let mut truth_artist: HashMap<String, (String, String)> = HashMap::new();
    for line in std::fs::read_to_string(truth.join("artists.jsonl"))?.lines() {
        let v: serde_json::Value = serde_json::from_str(line)?;
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        truth_artist.insert(s("name"), (s("genre"), s("mood")));
    }
    let by_id: HashMap<i64, (String, String)> = store
        .artists()?
        .into_iter()
        .filter_map(|(id, name, _)| truth_artist.get(&name).map(|t| (id, t.clone())))
        .collect();
    let (mut prec, mut sim, mut co, mut n) = (0.0, 0.0, 0.0, 0usize);
    let mut co_n = 0usize;
    for id in model.artist_ids() {
        let Some((genre, mood)) = by_id.get(&id) else { continue };
        let Some(d) = model.describe(Entity::Artist(id), 10) else { continue };
        let words: Vec<String> = vocab("genres", genre).into_iter().chain(vocab("moods", mood)).collect();
        // A term is right when every word of it belongs to the vocabularies
        // ("guitar driven" for "guitar-driven", "dreamy hazy" as a bigram).
        let good = d
            .terms
            .iter()
            .filter(|(t, _)| t.split(' ').all(|w| words.iter().any(|v| v.split(' ').any(|x| x == w))))
            .count();
        prec += good as f64 / d.terms.len().max(1) as f64;
        let s = model.similar(Entity::Artist(id), 10);
        let same = |e: &i64| by_id.get(e).is_some_and(|(g, _)| g == genre);
        sim +=
            s.iter().filter(|(e, _)| matches!(e, Entity::Artist(a) if same(a))).count() as f64 / s.len().max(1) as f64;
        if !d.comentioned.is_empty() {
            co += d.comentioned.iter().filter(|(a, _, _)| same(a)).count() as f64 / d.comentioned.len() as f64;
            co_n += 1;
        }
        n += 1;
    }
    anyhow::ensure!(n > 0, "no artist of the truth files has a text vector");
    Ok(Quality {
        artists: n,
        term_precision_at_10: prec / n as f64,
        similar_same_genre_at_10: sim / n as f64,
        comentioned_same_genre_at_10: co / co_n.max(1) as f64,
    })
}
