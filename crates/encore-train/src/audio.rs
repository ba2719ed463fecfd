//! Audio: descriptors of audio files (kept in the store by content
//! stamp), the audio network trained against the CF model's song vectors,
//! its predictions for every song, and songs that sound alike.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use encore_audio::cnn::{HeadReport, TrainReport};
use encore_audio::{AudioCnn, CnnConfig, DescriptorScaler, Spectrogram};
use encore_store::Store;
use encore_types::ArtifactHeader;
use rayon::prelude::*;
use serde::Serialize;

pub use encore_audio::{Descriptors, FEATURE_VERSION};
pub use encore_engine::audio::{
    catalog_audio, stamp, store_key, AudioEmbeddings, SongAudio, CNN_KIND, EMBED_KIND, FORMAT_VERSION,
};

use crate::error::{io, json};
use crate::{Error, Progress, Step};

const AUDIO: &[&str] =
    &["wav", "flac", "mp3", "ogg", "oga", "m4a", "mp4", "aac", "opus", "aif", "aiff", "caf", "mka", "webm"];

/// Audio files under `p`. Inside folders only regular files count (a named
/// pipe would block the decoder); a path named on the command line is kept
/// whatever it is, so that the report says why it was not analysed.
fn walk(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(p).map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
        entries.sort();
        for e in entries {
            if e.is_dir() {
                walk(&e, out);
            } else if e.is_file() && has_audio_extension(&e) {
                out.push(e);
            }
        }
    } else if !p.exists() || has_audio_extension(p) || !p.is_file() {
        out.push(p.to_path_buf());
    }
}

fn has_audio_extension(p: &Path) -> bool {
    p.extension().and_then(|e| e.to_str()).is_some_and(|e| AUDIO.contains(&e.to_ascii_lowercase().as_str()))
}

/// One analysed file.
#[derive(Debug, Serialize)]
pub struct Record {
    /// The file.
    pub path: String,
    /// Taken from the store: the file has not changed since it was analysed.
    pub cached: bool,
    /// What the analysis found.
    #[serde(flatten)]
    pub descriptors: Descriptors,
}

/// A file that could not be analysed.
#[derive(Debug, Serialize)]
pub struct Failure {
    /// The file.
    pub path: String,
    /// Why.
    pub reason: String,
}

/// Analyses `paths` (folders walked), storing each result; files unchanged
/// since their stored analysis are not decoded again. Progress counts the
/// files decoded (stage "analysing audio").
pub fn analyze_paths(
    store: &mut Store,
    paths: &[PathBuf],
    progress: Progress<'_>,
) -> crate::Result<(Vec<Record>, Vec<Failure>)> {
    let mut files = Vec::new();
    for p in paths {
        walk(p, &mut files);
    }
    let version = FEATURE_VERSION;
    let mut todo = Vec::new();
    let mut ok = Vec::new();
    for f in files {
        let (size, mtime) = stamp(&f);
        let key = store_key(&f);
        // A stored record that no longer reads (one written with `null`
        // loudness before issue 20) is analysed again, not an error.
        let stored = store.audio_features(&key, size, mtime, version)?;
        match stored.and_then(|json| serde_json::from_str::<Descriptors>(&json).ok()) {
            Some(descriptors) => ok.push(Record { path: f.display().to_string(), cached: true, descriptors }),
            None => todo.push((f, size, mtime)),
        }
    }
    let stage = "analysing audio";
    let total = todo.len() as u64;
    crate::report(progress, stage, 0, total);
    let done = AtomicU64::new(0);
    let results: Vec<(i64, i64, Result<Record, Failure>)> = todo
        .par_iter()
        .map(|(p, size, mtime)| {
            let r = encore_audio::analyze_file(p)
                .map(|d| Record { path: p.display().to_string(), cached: false, descriptors: d })
                .map_err(|e| Failure {
                    path: p.display().to_string(),
                    reason: match e {
                        encore_audio::Error::Unreadable { reason, .. } => reason,
                    },
                });
            crate::report(progress, stage, done.fetch_add(1, Ordering::Relaxed) + 1, total);
            (*size, *mtime, r)
        })
        .collect();
    let mut failed = Vec::new();
    store.in_transaction(|store| {
        for (size, mtime, r) in results {
            match r {
                Ok(rec) => {
                    let json = serde_json::to_string(&rec.descriptors).expect("serialisable");
                    store.put_audio_features(&store_key(Path::new(&rec.path)), size, mtime, version, &json)?;
                    ok.push(rec);
                }
                Err(f) => failed.push(f),
            }
        }
        Ok(())
    })?;
    ok.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((ok, failed))
}

/// Log-mel spectrograms of the given files, decoded in parallel; files that
/// cannot be decoded are `None` (and reported by [`analyze_paths`]).
pub fn spectrograms(paths: &[&str], max_seconds: f32, progress: Progress<'_>) -> Vec<Option<Spectrogram>> {
    let stage = "spectrograms";
    let total = paths.len() as u64;
    crate::report(progress, stage, 0, total);
    let done = AtomicU64::new(0);
    paths
        .par_iter()
        .map(|p| {
            let s = encore_audio::decode(Path::new(p)).ok().map(|d| Spectrogram::of(&d.samples, max_seconds));
            crate::report(progress, stage, done.fetch_add(1, Ordering::Relaxed) + 1, total);
            s
        })
        .collect()
}

/// Settings of the audio network's training.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkSettings {
    /// Passes over the training songs.
    pub epochs: usize,
    /// Songs need this many listeners to be a training target.
    pub min_listeners: usize,
    /// Seconds of each song's audio used (from its start).
    pub max_seconds: f32,
    /// Convolution filters.
    pub filters: usize,
    /// Random windows per song per epoch.
    pub windows_per_song: usize,
    /// AdamW learning rate.
    pub learning_rate: f64,
    /// Seed.
    pub seed: u64,
}

impl Default for NetworkSettings {
    fn default() -> Self {
        let c = CnnConfig::default();
        NetworkSettings {
            epochs: c.epochs,
            min_listeners: 5,
            max_seconds: 30.0,
            filters: c.filters,
            windows_per_song: c.windows_per_song,
            learning_rate: c.learning_rate,
            seed: c.seed,
        }
    }
}

impl NetworkSettings {
    fn config(&self) -> CnnConfig {
        CnnConfig {
            epochs: self.epochs,
            filters: self.filters,
            windows_per_song: self.windows_per_song,
            learning_rate: self.learning_rate,
            seed: self.seed,
            ..CnnConfig::default()
        }
    }
}

/// Trains the network on `songs` whose CF vectors are known, then its head
/// on those of them that have descriptors (none when fewer than five do).
pub(crate) fn fit_cnn(
    specs: &[&Spectrogram],
    descriptors: &[Option<&Descriptors>],
    targets: &[Vec<f32>],
    s: &NetworkSettings,
    progress: Progress<'_>,
) -> crate::Result<(AudioCnn, TrainReport, Option<HeadReport>)> {
    let cfg = s.config();
    let stage = "audio network epochs";
    let total = cfg.epochs as u64;
    crate::report(progress, stage, 0, total);
    let (mut model, report) = AudioCnn::train(specs, targets, &cfg, &|e| {
        let note = format!("loss {:.4}", e.validation.unwrap_or(e.train));
        progress(Step { stage, done: e.epoch as u64, total, note: Some(&note) });
    })?;
    crate::report(progress, stage, total, total);
    let mut hs = Vec::new();
    let mut hd = Vec::new();
    let mut ht = Vec::new();
    for ((s, d), t) in specs.iter().zip(descriptors).zip(targets) {
        if let Some(d) = d {
            hs.push(*s);
            hd.push(*d);
            ht.push(t.clone());
        }
    }
    let head = if hs.len() >= 5 { Some(model.fit_head(&hs, &hd, &ht)?) } else { None };
    Ok((model, report, head))
}

fn loss_plot(path: &Path, report: &TrainReport) -> crate::Result<()> {
    let train: Vec<(f64, f64)> = report.losses.iter().map(|e| (e.epoch as f64, e.train as f64)).collect();
    let val: Vec<(f64, f64)> =
        report.losses.iter().filter_map(|e| e.validation.map(|v| (e.epoch as f64, v as f64))).collect();
    let mut series = vec![("training", train), ("validation", val)];
    if let Some(b) = report.baseline_validation {
        let n = report.losses.len().max(1) as f64;
        series.push(("validation, predicting the mean", vec![(1.0, b as f64), (n, b as f64)]));
    }
    crate::plot::line_chart(path, "Audio network: loss per epoch", "epoch", "mean squared error", &series)
}

/// What [`train_network`] published.
#[derive(Debug, Serialize)]
pub struct NetworkTrained {
    /// The published version's directory.
    pub version_dir: String,
    /// The CF model whose vectors were the targets.
    pub cf_model: String,
    /// Songs of the catalog with an audio file.
    pub songs_with_audio: usize,
    /// Songs trained on.
    pub targets: usize,
    /// The loss curve (SVG) inside the version.
    pub loss_plot: String,
    /// Losses per epoch, device, time.
    pub report: TrainReport,
    /// The ridge head over embedding and descriptors (absent when fewer
    /// than five training songs are analysed).
    pub head: Option<HeadReport>,
}

/// Trains the network to predict the current CF model's song vectors from
/// audio; the network, its report and its loss curve are published as one
/// version.
pub fn train_network(store: &Store, s: &NetworkSettings, progress: Progress<'_>) -> crate::Result<NetworkTrained> {
    let (cf, cf_path) = crate::cf::current(store)?;
    let songs = catalog_audio(store)?;
    if songs.is_empty() {
        return Err(Error::Missing(
            "no songs with audio files: import a catalog with audio paths or run `encore demo`".into(),
        ));
    }
    let m = store.interactions()?;
    let listeners = encore_engine::listeners(&m);
    let chosen: Vec<(&SongAudio, usize)> = songs
        .iter()
        .filter_map(|song| {
            let col = m.item_ids.binary_search(&song.id).ok()?;
            let i = cf.item_index(song.id)?;
            (listeners[col] >= s.min_listeners).then_some((song, i))
        })
        .collect();
    if chosen.len() < 2 {
        return Err(Error::Settings(format!(
            "only {} songs with audio have {} or more listeners in the CF model; lower --min-listeners",
            chosen.len(),
            s.min_listeners
        )));
    }
    let paths: Vec<&str> = chosen.iter().map(|(song, _)| song.path.as_str()).collect();
    let specs = spectrograms(&paths, s.max_seconds, progress);
    let mut x = Vec::new();
    let mut d = Vec::new();
    let mut y = Vec::new();
    for (spec, (song, i)) in specs.iter().zip(&chosen) {
        if let Some(spec) = spec {
            x.push(spec);
            d.push(song.descriptors.as_ref());
            y.push(cf.item_vector(*i).to_vec());
        }
    }
    let (model, report, head) = fit_cnn(&x, &d, &y, s, progress)?;
    let dir = store.artifacts(CNN_KIND)?;
    let writer = dir.writer(ArtifactHeader::new(CNN_KIND, FORMAT_VERSION))?;
    model.save(writer.path())?;
    let report_path = writer.path().join("report.json");
    std::fs::write(&report_path, serde_json::to_vec_pretty(&report).map_err(json(&report_path))?)
        .map_err(io(&report_path))?;
    loss_plot(&writer.path().join("loss.svg"), &report)?;
    let version = writer.commit()?;
    Ok(NetworkTrained {
        version_dir: version.display().to_string(),
        cf_model: cf_path,
        songs_with_audio: songs.len(),
        targets: x.len(),
        loss_plot: version.join("loss.svg").display().to_string(),
        report,
        head,
    })
}

/// What [`embed`] published.
#[derive(Debug, Clone, Serialize)]
pub struct Embedded {
    /// The published version's directory.
    pub version_dir: String,
    /// Songs embedded.
    pub songs: usize,
    /// Songs whose audio could not be decoded.
    pub failed: usize,
    /// Length of the predicted CF vectors.
    pub dim: usize,
    /// Length of the learned embeddings.
    pub embedding_dim: usize,
}

/// Runs the current network over every song with audio (its first
/// `max_seconds`) and publishes the predicted CF vectors and embeddings.
pub fn embed(store: &Store, max_seconds: f32, progress: Progress<'_>) -> crate::Result<Embedded> {
    let cnn_path = store
        .artifacts(CNN_KIND)?
        .current_checked(FORMAT_VERSION)?
        .ok_or_else(|| Error::Missing("no audio network yet: run `encore audio train` first".into()))?;
    let model = AudioCnn::load(&cnn_path)?;
    let songs = catalog_audio(store)?;
    let paths: Vec<&str> = songs.iter().map(|s| s.path.as_str()).collect();
    let specs = spectrograms(&paths, max_seconds, progress);
    let mut ids = Vec::new();
    let mut refs = Vec::new();
    let mut descs = Vec::new();
    for (s, sp) in songs.iter().zip(&specs) {
        if let Some(sp) = sp {
            ids.push(s.id);
            refs.push(sp);
            descs.push(s.descriptors.as_ref());
        }
    }
    let pred = model.predict_with(&refs, &descs)?;
    let emb = AudioEmbeddings {
        dim: model.out_dim(),
        embedding_dim: model.embedding_dim(),
        vectors: pred.iter().flat_map(|p| p.vector.iter().copied()).collect(),
        embeddings: pred.iter().flat_map(|p| p.embedding.iter().copied()).collect(),
        ids,
    };
    let dir = store.artifacts(EMBED_KIND)?;
    let writer = dir.writer(ArtifactHeader::new(EMBED_KIND, FORMAT_VERSION))?;
    emb.save(writer.path(), &cnn_path.display().to_string())?;
    let version = writer.commit()?;
    Ok(Embedded {
        version_dir: version.display().to_string(),
        songs: emb.ids.len(),
        failed: songs.len() - emb.ids.len(),
        dim: emb.dim,
        embedding_dim: emb.embedding_dim,
    })
}

/// Which audio vector measures "sounds like".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum SoundsBy {
    /// The network's learned embedding (needs [`embed`]).
    Cnn,
    /// The normalised descriptor vector.
    Descriptors,
}

fn top_n(query: &[f32], rows: impl Iterator<Item = (i64, Vec<f32>)>, skip: i64, n: usize) -> Vec<(i64, f32)> {
    let mut all: Vec<(i64, f32)> =
        rows.filter(|r| r.0 != skip).map(|(id, v)| (id, v.iter().zip(query).map(|(a, b)| a * b).sum())).collect();
    all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    all.truncate(n);
    all
}

/// The `n` songs that sound most like `song` (song id, cosine), by the
/// network's embedding or by the descriptor vector.
pub fn similar_songs(store: &Store, song: i64, n: usize, by: SoundsBy) -> crate::Result<Vec<(i64, f32)>> {
    match by {
        SoundsBy::Cnn => {
            let e = AudioEmbeddings::open(store)?.ok_or_else(|| {
                Error::Missing(
                    "no audio embeddings yet: run `encore audio train` and `encore audio embed` (or use --by descriptors)"
                        .into(),
                )
            })?;
            let i = e.index(song).ok_or_else(|| Error::Missing(format!("song {song} has no audio embedding")))?;
            let q = e.embedding(i).to_vec();
            Ok(top_n(&q, (0..e.ids.len()).map(|j| (e.ids[j], e.embedding(j).to_vec())), song, n))
        }
        SoundsBy::Descriptors => {
            let songs = catalog_audio(store)?;
            let with: Vec<(i64, &Descriptors)> =
                songs.iter().filter_map(|s| s.descriptors.as_ref().map(|d| (s.id, d))).collect();
            let scaler = DescriptorScaler::fit(with.iter().map(|w| w.1));
            let q = with.iter().find(|w| w.0 == song).map(|w| scaler.embed(w.1)).ok_or_else(|| {
                Error::Missing(format!("song {song} has no analysed audio: run `encore audio analyze` on its file"))
            })?;
            Ok(top_n(&q, with.iter().map(|w| (w.0, scaler.embed(w.1))), song, n))
        }
    }
}
