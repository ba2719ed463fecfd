//! `encore audio analyze`: descriptors of audio files.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use encore_audio::cnn::HeadReport;
use encore_audio::{AudioCnn, CnnConfig, DescriptorScaler, Descriptors, Spectrogram};
use encore_store::Store;
use encore_types::ArtifactHeader;
use rayon::prelude::*;
use serde::Serialize;

use crate::ui;

/// The raw-audio model.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: Cmd,
}

#[derive(Debug, clap::Subcommand)]
enum Cmd {
    /// Duration, loudness, tempo, key and timbre of audio files (folders are walked).
    Analyze {
        /// Files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print JSON (one record per file, timbre statistics included).
        #[arg(long)]
        json: bool,
    },
    /// Train the audio network to predict the current CF model's song vectors.
    Train(TrainArgs),
    /// Predicted CF vectors and audio embeddings for every song with audio.
    Embed {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Songs that sound like a song.
    Similar {
        /// Store id of the song.
        #[arg(long)]
        song: i64,
        /// How many.
        #[arg(short, default_value_t = 10)]
        n: usize,
        /// cnn (the network's learned embedding; needs `encore audio embed`)
        /// or descriptors (the normalised descriptor vector).
        #[arg(long, default_value = "cnn", value_parser = ["cnn", "descriptors"])]
        by: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The cold-start evaluation: hold songs out of CF training, predict
    /// their vectors from audio, rank them for every user.
    ColdStart(ColdStartArgs),
}

/// Settings of the audio network's training.
#[derive(Debug, Clone, clap::Args)]
pub struct TrainArgs {
    /// Passes over the training songs.
    #[arg(long, default_value_t = 20)]
    pub epochs: usize,
    /// Songs need this many listeners to be a training target.
    #[arg(long, default_value_t = 5)]
    pub min_listeners: usize,
    /// Seconds of each song's audio used (from its start).
    #[arg(long, default_value_t = 30.0)]
    pub max_seconds: f32,
    /// Convolution filters.
    #[arg(long, default_value_t = 64)]
    pub filters: usize,
    /// Random windows per song per epoch.
    #[arg(long, default_value_t = 4)]
    pub windows_per_song: usize,
    /// AdamW learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub learning_rate: f64,
    /// Seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

impl TrainArgs {
    /// Every default, as the command line would give them.
    pub fn parse_defaults() -> TrainArgs {
        crate::ui::defaults()
    }

    /// The default of `--max-seconds`.
    pub fn default_max_seconds() -> f32 {
        30.0
    }

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

/// Settings of the cold-start evaluation.
#[derive(Debug, Clone, clap::Args)]
pub struct ColdStartArgs {
    /// Share of the songs with audio held out of CF training.
    #[arg(long, default_value_t = 0.2)]
    pub share: f64,
    /// Cut-off of recall.
    #[arg(long, default_value_t = 50)]
    pub k: usize,
    /// Neighbours of the descriptor nearest-neighbour baseline.
    #[arg(long, default_value_t = 10)]
    pub neighbours: usize,
    /// The network's training.
    #[command(flatten)]
    pub train: TrainArgs,
}

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

#[derive(Debug, Serialize)]
pub struct Record {
    pub path: String,
    /// Taken from the store: the file has not changed since it was analysed.
    pub cached: bool,
    #[serde(flatten)]
    pub descriptors: encore_audio::Descriptors,
}

#[derive(Debug, Serialize)]
pub struct Failure {
    pub path: String,
    pub reason: String,
}

/// Analyses `paths` (folders walked), storing each result; files unchanged
/// since their stored analysis are not decoded again.
pub fn analyze_paths(store: &mut Store, paths: &[PathBuf]) -> anyhow::Result<(Vec<Record>, Vec<Failure>)> {
    analyze_paths_with(store, paths, None)
}

/// [`analyze_paths`], advancing `bar` (by as many files as it decodes)
/// instead of a bar of its own.
pub fn analyze_paths_with(
    store: &mut Store,
    paths: &[PathBuf],
    bar: Option<&indicatif::ProgressBar>,
) -> anyhow::Result<(Vec<Record>, Vec<Failure>)> {
    let mut files = Vec::new();
    for p in paths {
        walk(p, &mut files);
    }
    let version = encore_audio::FEATURE_VERSION;
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
    let bar = match bar {
        Some(b) => {
            b.inc_length(todo.len() as u64);
            b.set_message("analysing audio");
            b.clone()
        }
        None => ui::count_bar(todo.len() as u64, "analysing audio"),
    };
    let done = AtomicU64::new(bar.position());
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
            bar.set_position(done.fetch_add(1, Ordering::Relaxed) + 1);
            (*size, *mtime, r)
        })
        .collect();
    bar.finish_and_clear();
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

pub fn run(data_dir: &Path, a: Args) -> anyhow::Result<ExitCode> {
    match a.what {
        Cmd::Analyze { paths, json } => {
            let mut store = crate::ui::open_store(data_dir)?;
            let (ok, failed) = analyze_paths(&mut store, &paths)?;
            if json {
                ui::print_json(&serde_json::json!({ "analyzed": ok, "failed": failed }))?;
            } else {
                for r in &ok {
                    let d = &r.descriptors;
                    println!(
                        "{}: {:.1} s, {:.1} LUFS (LRA {:.1}), {:.1} BPM ({:.2}), {} {} ({:.2})",
                        r.path,
                        d.duration_s,
                        d.lufs,
                        d.loudness_range,
                        d.tempo_bpm,
                        d.tempo_confidence,
                        d.key,
                        d.mode,
                        d.key_confidence
                    );
                }
                for f in &failed {
                    eprintln!("{}: {}", f.path, f.reason);
                }
            }
            Ok(if failed.is_empty() || !ok.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Cmd::Train(t) => train(data_dir, &t).map(|_| ExitCode::SUCCESS),
        Cmd::Embed { json } => embed(data_dir, json, TrainArgs::default_max_seconds()).map(|_| ExitCode::SUCCESS),
        Cmd::Similar { song, n, by, json } => similar(data_dir, song, n, &by, json).map(|_| ExitCode::SUCCESS),
        Cmd::ColdStart(c) => {
            let store = ui::open_store(data_dir)?;
            let r = cold_start(&store, &c)?;
            if c.train.json {
                ui::print_json(&r)?;
            } else {
                print_cold_start(&r);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub use encore_engine::audio::{
    catalog_audio, stamp, store_key, AudioEmbeddings, SongAudio, CNN_KIND, EMBED_KIND, FORMAT_VERSION,
};

/// Log-mel spectrograms of the given files, decoded in parallel; files that
/// cannot be decoded are `None` (and reported by `encore audio analyze`).
pub fn spectrograms(paths: &[&str], max_seconds: f32) -> Vec<Option<Spectrogram>> {
    let bar = ui::count_bar(paths.len() as u64, "spectrograms");
    let done = AtomicU64::new(0);
    let out = paths
        .par_iter()
        .map(|p| {
            let s = encore_audio::decode(Path::new(p)).ok().map(|d| Spectrogram::of(&d.samples, max_seconds));
            bar.set_position(done.fetch_add(1, Ordering::Relaxed) + 1);
            s
        })
        .collect();
    bar.finish_and_clear();
    out
}

fn normalized(v: &[f32]) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter().map(|x| x / n).collect()
    } else {
        v.to_vec()
    }
}

/// Trains the network on `songs` whose CF vectors are known, then its head
/// on those of them that have descriptors (none when fewer than five do).
fn fit_cnn(
    specs: &[&Spectrogram],
    descriptors: &[Option<&Descriptors>],
    targets: &[Vec<f32>],
    a: &TrainArgs,
) -> anyhow::Result<(AudioCnn, encore_audio::cnn::TrainReport, Option<HeadReport>)> {
    let cfg = a.config();
    let bar = ui::count_bar(cfg.epochs as u64, "audio network epochs");
    let (mut model, report) = AudioCnn::train(specs, targets, &cfg, &|e| {
        bar.set_position(e.epoch as u64);
        bar.set_message(format!("loss {:.4}", e.validation.unwrap_or(e.train)));
    })?;
    bar.finish_and_clear();
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

fn loss_plot(path: &Path, report: &encore_audio::cnn::TrainReport) -> anyhow::Result<()> {
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

#[derive(Debug, Serialize)]
struct TrainOutput {
    version_dir: String,
    cf_model: String,
    songs_with_audio: usize,
    targets: usize,
    loss_plot: String,
    report: encore_audio::cnn::TrainReport,
    /// The ridge head over embedding and descriptors (absent when fewer
    /// than five training songs are analysed).
    head: Option<HeadReport>,
}

/// `encore audio train`: the network against the current CF model; the
/// network, its report and its loss curve are published as one version.
pub fn train(data_dir: &Path, a: &TrainArgs) -> anyhow::Result<String> {
    train_with(data_dir, a, false)
}

/// [`train`], printing nothing when `quiet`.
pub fn train_with(data_dir: &Path, a: &TrainArgs, quiet: bool) -> anyhow::Result<String> {
    let (store, cf, cf_path) = crate::cmd_query::open(data_dir)?;
    let songs = catalog_audio(&store)?;
    anyhow::ensure!(
        !songs.is_empty(),
        "no songs with audio files: import a catalog with audio paths or run `encore demo`"
    );
    let m = store.interactions()?;
    let listeners = encore_engine::listeners(&m);
    let chosen: Vec<(&SongAudio, usize)> = songs
        .iter()
        .filter_map(|s| {
            let col = m.item_ids.binary_search(&s.id).ok()?;
            let i = cf.item_index(s.id)?;
            (listeners[col] >= a.min_listeners).then_some((s, i))
        })
        .collect();
    anyhow::ensure!(
        chosen.len() >= 2,
        "only {} songs with audio have {} or more listeners in the CF model; lower --min-listeners",
        chosen.len(),
        a.min_listeners
    );
    let paths: Vec<&str> = chosen.iter().map(|(s, _)| s.path.as_str()).collect();
    let specs = spectrograms(&paths, a.max_seconds);
    let mut x = Vec::new();
    let mut d = Vec::new();
    let mut y = Vec::new();
    for (s, (song, i)) in specs.iter().zip(&chosen) {
        if let Some(s) = s {
            x.push(s);
            d.push(song.descriptors.as_ref());
            y.push(cf.item_vector(*i).to_vec());
        }
    }
    let (model, report, head) = fit_cnn(&x, &d, &y, a)?;
    let dir = store.artifacts(CNN_KIND)?;
    let writer = dir.writer(ArtifactHeader::new(CNN_KIND, FORMAT_VERSION))?;
    model.save(writer.path())?;
    std::fs::write(writer.path().join("report.json"), serde_json::to_vec_pretty(&report)?)?;
    loss_plot(&writer.path().join("loss.svg"), &report)?;
    let version = writer.commit()?;
    let out = TrainOutput {
        version_dir: version.display().to_string(),
        cf_model: cf_path,
        songs_with_audio: songs.len(),
        targets: x.len(),
        loss_plot: version.join("loss.svg").display().to_string(),
        report,
        head,
    };
    if quiet {
    } else if a.json {
        ui::print_json(&out)?;
    } else {
        let last = out.report.losses.last();
        println!(
            "trained the audio network on {} songs ({} for validation) in {:.1}s on {}: validation loss {:.4} (predicting the mean: {:.4})",
            out.report.train_songs,
            out.report.validation_songs,
            out.report.seconds,
            out.report.device,
            last.and_then(|e| e.validation).unwrap_or(f32::NAN),
            out.report.baseline_validation.unwrap_or(f32::NAN)
        );
        match &out.head {
            Some(h) => println!(
                "head: ridge over embedding and descriptors on {} songs, penalty {} (chosen on {} of them)",
                h.songs, h.penalty, h.choice.validation_songs
            ),
            None => println!("no head: fewer than five training songs have descriptors (run `encore audio analyze`)"),
        }
        println!("loss curve {}", out.loss_plot);
        println!("published {}", out.version_dir);
    }
    Ok(out.version_dir)
}

/// `encore audio embed`: runs the current network over every song with
/// audio and publishes the predictions.
pub fn embed(data_dir: &Path, json: bool, max_seconds: f32) -> anyhow::Result<usize> {
    embed_with(data_dir, json, max_seconds, false).map(|r| r.0)
}

/// [`embed`], printing nothing when `quiet`; returns (songs, version).
pub fn embed_with(data_dir: &Path, json: bool, max_seconds: f32, quiet: bool) -> anyhow::Result<(usize, String)> {
    let store = ui::open_store(data_dir)?;
    let (cnn_path, header) =
        store.artifacts(CNN_KIND)?.current()?.context("no audio network yet: run `encore audio train` first")?;
    header.check(CNN_KIND, FORMAT_VERSION)?;
    let model = AudioCnn::load(&cnn_path)?;
    let songs = catalog_audio(&store)?;
    let paths: Vec<&str> = songs.iter().map(|s| s.path.as_str()).collect();
    let specs = spectrograms(&paths, max_seconds);
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
        ids: ids.clone(),
    };
    let dir = store.artifacts(EMBED_KIND)?;
    let writer = dir.writer(ArtifactHeader::new(EMBED_KIND, FORMAT_VERSION))?;
    emb.save(writer.path(), &cnn_path.display().to_string())?;
    let version = writer.commit()?;
    let failed = songs.len() - ids.len();
    if quiet {
    } else if json {
        ui::print_json(&serde_json::json!({
            "version_dir": version.display().to_string(),
            "songs": ids.len(),
            "failed": failed,
            "dim": emb.dim,
            "embedding_dim": emb.embedding_dim,
        }))?;
    } else {
        println!("embedded {} songs ({} could not be decoded); published {}", ids.len(), failed, version.display());
    }
    Ok((ids.len(), version.display().to_string()))
}

#[derive(Debug, Serialize)]
struct Neighbour {
    song_id: i64,
    title: String,
    artist: Option<String>,
    genre: Option<String>,
    similarity: f32,
}

fn top_n(query: &[f32], rows: impl Iterator<Item = (i64, Vec<f32>)>, skip: i64, n: usize) -> Vec<(i64, f32)> {
    let mut all: Vec<(i64, f32)> =
        rows.filter(|r| r.0 != skip).map(|(id, v)| (id, v.iter().zip(query).map(|(a, b)| a * b).sum())).collect();
    all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    all.truncate(n);
    all
}

/// Songs that sound like `song`, by the network's embedding or by the
/// descriptor vector.
pub fn similar_songs(store: &Store, song: i64, n: usize, by: &str) -> anyhow::Result<Vec<(i64, f32)>> {
    if by == "cnn" {
        let e = AudioEmbeddings::open(store)?.context(
            "no audio embeddings yet: run `encore audio train` and `encore audio embed` (or use --by descriptors)",
        )?;
        let i = e.index(song).with_context(|| format!("song {song} has no audio embedding"))?;
        let q = e.embedding(i).to_vec();
        Ok(top_n(&q, (0..e.ids.len()).map(|j| (e.ids[j], e.embedding(j).to_vec())), song, n))
    } else {
        let songs = catalog_audio(store)?;
        let with: Vec<(i64, &Descriptors)> =
            songs.iter().filter_map(|s| s.descriptors.as_ref().map(|d| (s.id, d))).collect();
        let scaler = DescriptorScaler::fit(with.iter().map(|w| w.1));
        let q =
            with.iter().find(|w| w.0 == song).map(|w| scaler.embed(w.1)).with_context(|| {
                format!("song {song} has no analysed audio: run `encore audio analyze` on its file")
            })?;
        Ok(top_n(&q, with.iter().map(|w| (w.0, scaler.embed(w.1))), song, n))
    }
}

fn similar(data_dir: &Path, song: i64, n: usize, by: &str, json: bool) -> anyhow::Result<()> {
    let store = ui::open_store(data_dir)?;
    anyhow::ensure!(!store.songs(&[song])?.is_empty(), "unknown song id {song}");
    let hits = similar_songs(&store, song, n, by)?;
    let info = store.songs(&hits.iter().map(|h| h.0).collect::<Vec<_>>())?;
    let out: Vec<Neighbour> = hits
        .iter()
        .zip(info)
        .map(|(h, s)| Neighbour { song_id: h.0, title: s.title, artist: s.artist, genre: s.genre, similarity: h.1 })
        .collect();
    if json {
        ui::print_json(&serde_json::json!({ "song_id": song, "by": by, "similar": out }))?;
    } else {
        for o in &out {
            println!(
                "{:.3}  {} – {} [{}] {}",
                o.similarity,
                o.artist.as_deref().unwrap_or("?"),
                o.title,
                o.song_id,
                o.genre.as_deref().unwrap_or("")
            );
        }
    }
    Ok(())
}

impl ColdStartArgs {
    /// Every default, as the command line would give them.
    pub fn defaults() -> ColdStartArgs {
        crate::ui::defaults()
    }
}

/// One row of the cold-start table.
#[derive(Debug, Clone, Serialize)]
pub struct ColdStartRow {
    pub method: String,
    #[serde(flatten)]
    pub metrics: encore_eval::ColdStartMetrics,
}

/// The cold-start evaluation's result.
#[derive(Debug, Clone, Serialize)]
pub struct ColdStartReport {
    pub held_out_songs: usize,
    pub train_songs: usize,
    pub network_targets: usize,
    pub rows: Vec<ColdStartRow>,
    pub seconds: f64,
}

/// The van den Oord protocol on the store's data: hold out `share` of the
/// songs with audio, train ALS without them, train the network on the rest,
/// and rank the held-out songs for every user by each method.
pub fn cold_start(store: &Store, a: &ColdStartArgs) -> anyhow::Result<ColdStartReport> {
    use rand::{Rng, SeedableRng};
    let started = std::time::Instant::now();
    let m = store.interactions()?;
    anyhow::ensure!(m.nnz() > 0, "the store has no listening data: run `encore import` or `encore demo` first");
    let songs = catalog_audio(store)?;
    let paths: Vec<&str> = songs.iter().map(|s| s.path.as_str()).collect();
    let specs = spectrograms(&paths, a.train.max_seconds);
    // Columns with decodable, analysed audio.
    let mut by_col: std::collections::HashMap<u32, usize> = std::collections::HashMap::new();
    for (k, s) in songs.iter().enumerate() {
        if let (Ok(col), Some(_), Some(_)) = (m.item_ids.binary_search(&s.id), &specs[k], &s.descriptors) {
            by_col.insert(col as u32, k);
        }
    }
    let eligible: Vec<u32> = by_col.keys().copied().collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(a.train.seed);
    let split = encore_eval::hold_out_items(&m, &eligible, a.share, &mut rng)?;
    let held: std::collections::HashSet<u32> = split.held_out.iter().copied().collect();

    let cfg = encore_cf::AlsConfig::default();
    let bar = ui::count_bar(cfg.iterations as u64, "ALS without the held-out songs");
    let cf = cfg.fit(&split.train, &mut rand_chacha::ChaCha8Rng::seed_from_u64(a.train.seed), &mut |s| {
        bar.set_position(s.iteration as u64)
    })?;
    bar.finish_and_clear();

    // Network targets: training songs with audio and enough listeners.
    let listeners = encore_engine::listeners(&split.train);
    let mut x = Vec::new();
    let mut xd = Vec::new();
    let mut y = Vec::new();
    let mut train_cols = Vec::new();
    for (&col, &k) in &by_col {
        if !held.contains(&col) && listeners[col as usize] >= a.train.min_listeners {
            train_cols.push((col, k));
        }
    }
    train_cols.sort_unstable();
    for &(col, k) in &train_cols {
        x.push(specs[k].as_ref().expect("eligible songs decode"));
        xd.push(songs[k].descriptors.as_ref());
        y.push(cf.item_vector(col as usize).to_vec());
    }
    let (cnn, _, _) = fit_cnn(&x, &xd, &y, &a.train)?;
    let held_specs: Vec<&Spectrogram> =
        split.held_out.iter().map(|c| specs[by_col[c]].as_ref().expect("eligible songs decode")).collect();
    // One pass of the network over the held-out songs: its own vectors, and
    // the head's from the same embeddings.
    let held_pred = cnn.predict(&held_specs)?;
    let train_emb: Vec<Vec<f32>> = cnn.predict(&x)?.into_iter().map(|p| p.embedding).collect();
    let net_vectors: Vec<Vec<f32>> = held_pred.iter().map(|p| p.vector.clone()).collect();
    let cnn_vectors: Vec<Vec<f32>> = held_pred
        .iter()
        .zip(&split.held_out)
        .map(|(p, c)| {
            songs[by_col[c]]
                .descriptors
                .as_ref()
                .and_then(|d| cnn.head_vector(p, d))
                .unwrap_or_else(|| p.vector.clone())
        })
        .collect();

    // Nearest neighbours: the mean normalised CF vector of the training
    // songs most similar to a held-out song by some audio vector.
    let train_col: Vec<u32> = train_cols.iter().map(|&(c, _)| c).collect();
    let neighbours = |q: &[f32], train: &[Vec<f32>]| -> Vec<f32> {
        let mut sims: Vec<(f32, u32)> =
            train.iter().zip(&train_col).map(|(v, &tc)| (v.iter().zip(q).map(|(a, b)| a * b).sum(), tc)).collect();
        sims.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut mean = vec![0f32; cf.factors()];
        for &(_, tc) in sims.iter().take(a.neighbours) {
            mean.iter_mut().zip(normalized(cf.item_vector(tc as usize))).for_each(|(m, v)| *m += v);
        }
        mean
    };
    // By descriptor vector, and by the network's learned embedding.
    let scaler = DescriptorScaler::fit(by_col.values().filter_map(|&k| songs[k].descriptors.as_ref()));
    let desc = |col: u32| scaler.embed(songs[by_col[&col]].descriptors.as_ref().expect("eligible songs are analysed"));
    let train_desc: Vec<Vec<f32>> = train_col.iter().map(|&c| desc(c)).collect();
    let desc_vectors: Vec<Vec<f32>> = split.held_out.iter().map(|&c| neighbours(&desc(c), &train_desc)).collect();
    // The head's regression on the descriptors alone: what the network's
    // embedding adds to it.
    let train_targets: Vec<Vec<f32>> = train_col.iter().map(|&c| normalized(cf.item_vector(c as usize))).collect();
    let (desc_ridge, _) = encore_audio::ridge::Ridge::fit_chosen(
        &train_desc,
        &train_targets,
        a.train.seed ^ encore_audio::cnn::HEAD_SEED,
    )
    .context("the descriptor regression could not be solved")?;
    let desc_ridge_vectors: Vec<Vec<f32>> = split.held_out.iter().map(|&c| desc_ridge.apply(&desc(c))).collect();
    let emb_vectors: Vec<Vec<f32>> = held_pred.iter().map(|p| neighbours(&p.embedding, &train_emb)).collect();
    // A diagnostic, not a method: the mean normalised CF vector of the
    // training songs of the held-out song's genre (metadata a cold-start
    // system may not have). It bounds what audio can add in a world whose
    // listeners choose by genre.
    let genre_of: std::collections::HashMap<i64, Option<String>> =
        store.catalog_rows()?.into_iter().map(|(id, _, genre, _)| (id, genre)).collect();
    let col_genre = |c: u32| genre_of.get(&m.item_ids[c as usize]).cloned().flatten();
    let mut by_genre: std::collections::HashMap<Option<String>, Vec<f32>> = std::collections::HashMap::new();
    for &c in &train_col {
        let e = by_genre.entry(col_genre(c)).or_insert_with(|| vec![0f32; cf.factors()]);
        e.iter_mut().zip(normalized(cf.item_vector(c as usize))).for_each(|(m, v)| *m += v);
    }
    let genre_vectors: Vec<Vec<f32>> = split
        .held_out
        .iter()
        .map(|&c| by_genre.get(&col_genre(c)).cloned().unwrap_or_else(|| vec![0f32; cf.factors()]))
        .collect();

    // Popularity: the training plays of the song's artist (what is known
    // about a new song before anyone plays it).
    let mut artist_plays: std::collections::HashMap<i64, f64> = std::collections::HashMap::new();
    let col_artist = |col: u32| by_col.get(&col).and_then(|&k| songs[k].artist);
    let artist_of: std::collections::HashMap<i64, Option<i64>> = songs.iter().map(|s| (s.id, s.artist)).collect();
    for u in 0..split.train.n_users() {
        let r = split.train.row(u);
        for k in 0..r.indices.len() {
            if let Some(Some(ar)) = artist_of.get(&split.train.item_ids[r.indices[k] as usize]) {
                *artist_plays.entry(*ar).or_default() += r.plays[k] as f64;
            }
        }
    }
    let pop: Vec<f32> = split
        .held_out
        .iter()
        .map(|&c| col_artist(c).and_then(|ar| artist_plays.get(&ar)).copied().unwrap_or(0.0) as f32)
        .collect();
    let random: Vec<f32> = split.held_out.iter().map(|_| rng.random::<f32>()).collect();

    // The hybrid: every source, fused with weights fitted on the training
    // part, the held-out songs entering through their predicted vectors.
    let held_ids: Vec<i64> = split.held_out.iter().map(|&c| m.item_ids[c as usize]).collect();
    let emb = encore_engine::AudioEmbeddings {
        ids: held_ids.clone(),
        dim: cf.factors(),
        embedding_dim: 0,
        vectors: cnn_vectors.iter().flatten().copied().collect(),
        embeddings: Vec::new(),
    };
    let text = match store.artifacts(encore_text::KIND)?.current()? {
        Some((p, _)) => Some(encore_text::TermModel::load(&p)?),
        None => None,
    };
    let catalog = encore_engine::build_catalog(
        store,
        &split.train,
        &cf,
        text.as_ref(),
        Some(&emb),
        encore_engine::AudioVectors::Descriptors,
    )?;
    let fusion = encore_engine::fit_fusion(
        store,
        &split.train,
        &cfg,
        text.as_ref(),
        Some(&emb),
        &encore_engine::FusionConfig { seed: a.train.seed + 1, ..Default::default() },
    )?;
    let hybrid = encore_rank::Hybrid::new(&catalog, &cf, &fusion)?;
    let col_to_song: Vec<Option<usize>> = split.train.item_ids.iter().map(|&id| catalog.index(id)).collect();
    let held_songs: Vec<usize> = held_ids.iter().map(|&id| catalog.index(id).expect("catalog song")).collect();
    let hybrid_scores = |u: usize| -> Vec<f32> {
        let history = encore_engine::row_history(&split.train, u, &col_to_song);
        hybrid.score_songs(&hybrid.profile(&history, &[], &[]), &held_songs)
    };

    let dot_scores = |vectors: &Vec<Vec<f32>>, u: usize| -> Vec<f32> {
        let uv = cf.user_vector(u);
        vectors.iter().map(|v| v.iter().zip(uv).map(|(a, b)| a * b).sum()).collect()
    };
    let eval = |name: &str, f: &(dyn Fn(usize) -> Vec<f32> + Sync)| ColdStartRow {
        method: name.to_string(),
        metrics: encore_eval::evaluate_cold_start(&m, &split.held_out, a.k, f),
    };
    // The ceiling: ALS trained with the held-out songs' plays, scoring them
    // with their real CF vectors (what no cold-start method can know).
    let full = cfg.fit(&m, &mut rand_chacha::ChaCha8Rng::seed_from_u64(a.train.seed), &mut |_| {})?;
    let oracle = |u: usize| -> Vec<f32> {
        let uv = full.user_vector(u);
        split.held_out.iter().map(|&c| full.item_vector(c as usize).iter().zip(uv).map(|(a, b)| a * b).sum()).collect()
    };
    let rows = vec![
        eval("CF with their plays (ceiling)", &oracle),
        eval("random", &|_| random.clone()),
        eval("popularity (artist plays)", &|_| pop.clone()),
        eval("descriptor nearest neighbours", &|u| dot_scores(&desc_vectors, u)),
        eval("audio CNN (network + head)", &|u| dot_scores(&cnn_vectors, u)),
        eval("audio CNN, network alone", &|u| dot_scores(&net_vectors, u)),
        eval("descriptors through the head alone", &|u| dot_scores(&desc_ridge_vectors, u)),
        eval("audio CNN embedding neighbours", &|u| dot_scores(&emb_vectors, u)),
        eval("genre mean (diagnostic: metadata, not audio)", &|u| dot_scores(&genre_vectors, u)),
        eval("hybrid (CNN, audio, text, popularity)", &hybrid_scores),
    ];
    Ok(ColdStartReport {
        held_out_songs: split.held_out.len(),
        train_songs: eligible.len() - split.held_out.len(),
        network_targets: x.len(),
        rows,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Prints a cold-start report.
pub fn print_cold_start(r: &ColdStartReport) {
    println!(
        "cold start: {} songs held out of CF training, network trained on {} songs ({:.1}s)",
        r.held_out_songs, r.network_targets, r.seconds
    );
    let w = r.rows.iter().map(|row| row.method.chars().count()).max().unwrap_or(0).max(6);
    println!("{:<w$} {:>6} {:>8} {:>10}", "method", "users", "AUC", "recall@k");
    for row in &r.rows {
        println!("{:<w$} {:>6} {:>8.4} {:>10.4}", row.method, row.metrics.users, row.metrics.auc, row.metrics.recall);
    }
}
