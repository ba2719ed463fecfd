//! Text: documents read into the store (HTML, JSONL, WARC/WET, text; gzip
//! too), the term model built from them, and its quality against the demo
//! world's truth.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use encore_store::Store;
use encore_text::{Linker, TermModelBuilder};
use encore_types::ArtifactHeader;
use serde::Serialize;

use crate::error::{io, json};
use crate::{Error, Result};

pub use encore_text::{expected, BuildStats, Entity, Problem, TermModel, TermModelConfig};

/// What [`ingest`] read.
#[derive(Debug, Default, Serialize)]
pub struct IngestReport {
    /// Documents read.
    pub documents_read: u64,
    /// Of them, new to the store.
    pub added: u64,
    /// Of them, stored already (same content).
    pub duplicates: u64,
    /// Files or records that could not be read, with where and why.
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
pub fn ingest(store: &mut Store, paths: &[PathBuf]) -> Result<IngestReport> {
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
    r.problems = problems.map_err(|_| Error::Panicked("text reader"))?;
    Ok(r)
}

/// Builds the term model from the store's documents and publishes it;
/// returns the model and its version directory.
pub fn train(store: &Store, config: TermModelConfig) -> Result<(TermModel, PathBuf)> {
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

/// The current text model.
pub fn open_model(store: &Store) -> Result<TermModel> {
    let path = store.artifacts(encore_text::KIND)?.current_checked(encore_text::FORMAT_VERSION)?.ok_or_else(|| {
        Error::Missing("no text model yet: run `encore text ingest` and `encore text train` first".into())
    })?;
    Ok(TermModel::load(&path)?)
}

/// Artist names by id, and "artist – title" by song id.
pub fn names(store: &Store) -> Result<(HashMap<i64, String>, HashMap<i64, String>)> {
    let artists: HashMap<i64, String> = store.artists()?.into_iter().map(|(id, n, _)| (id, n)).collect();
    let songs = store.song_titles()?.into_iter().map(|(id, a, t)| {
        let who = a.and_then(|a| artists.get(&a).cloned()).unwrap_or_else(|| "?".into());
        (id, format!("{who} – {t}"))
    });
    let songs = songs.collect();
    Ok((artists, songs))
}

/// The text model against the demo world's truth.
#[derive(Debug, Serialize)]
pub struct Quality {
    /// Artists of the truth files with a text vector.
    pub artists: usize,
    /// Share of an artist's top-10 terms from its genre's and mood's words.
    pub term_precision_at_10: f64,
    /// Share of its 10 most text-similar artists in its genre.
    pub similar_same_genre_at_10: f64,
    /// Share of its co-mentioned artists in its genre.
    pub comentioned_same_genre_at_10: f64,
}

/// Quality against the demo world's truth: an artist's top-10 terms should
/// come from its genre's and mood's vocabularies; its text-similar and
/// co-mentioned artists should share its genre.
pub fn quality(store: &Store, truth: &Path) -> Result<Quality> {
    let model = open_model(store)?;
    let world_path = truth.join("world.json");
    let world: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&world_path).map_err(io(&world_path))?).map_err(json(&world_path))?;
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
    let artists_path = truth.join("artists.jsonl");
    for line in std::fs::read_to_string(&artists_path).map_err(io(&artists_path))?.lines() {
        let v: serde_json::Value = serde_json::from_str(line).map_err(json(&artists_path))?;
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
    if n == 0 {
        return Err(Error::Missing("no artist of the truth files has a text vector".into()));
    }
    Ok(Quality {
        artists: n,
        term_precision_at_10: prec / n as f64,
        similar_same_genre_at_10: sim / n as f64,
        comentioned_same_genre_at_10: co / co_n.max(1) as f64,
    })
}
