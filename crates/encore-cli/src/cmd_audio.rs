//! `encore audio …`: descriptors of audio files, the audio network, songs
//! that sound alike, the cold-start protocol.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use encore_train::audio::{NetworkSettings, NetworkTrained, SoundsBy};
use encore_train::cold_start::{ColdStartReport, ColdStartSettings};
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
        #[arg(long, value_enum, default_value_t = SoundsBy::Cnn)]
        by: SoundsBy,
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
    #[arg(long, default_value_t = NetworkSettings::default().epochs)]
    pub epochs: usize,
    /// Songs need this many listeners to be a training target.
    #[arg(long, default_value_t = NetworkSettings::default().min_listeners)]
    pub min_listeners: usize,
    /// Seconds of each song's audio used (from its start).
    #[arg(long, default_value_t = NetworkSettings::default().max_seconds)]
    pub max_seconds: f32,
    /// Convolution filters.
    #[arg(long, default_value_t = NetworkSettings::default().filters)]
    pub filters: usize,
    /// Random windows per song per epoch.
    #[arg(long, default_value_t = NetworkSettings::default().windows_per_song)]
    pub windows_per_song: usize,
    /// AdamW learning rate.
    #[arg(long, default_value_t = NetworkSettings::default().learning_rate)]
    pub learning_rate: f64,
    /// Seed.
    #[arg(long, default_value_t = NetworkSettings::default().seed)]
    pub seed: u64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

impl TrainArgs {
    fn settings(&self) -> NetworkSettings {
        NetworkSettings {
            epochs: self.epochs,
            min_listeners: self.min_listeners,
            max_seconds: self.max_seconds,
            filters: self.filters,
            windows_per_song: self.windows_per_song,
            learning_rate: self.learning_rate,
            seed: self.seed,
        }
    }
}

/// Settings of the cold-start evaluation.
#[derive(Debug, Clone, clap::Args)]
pub struct ColdStartArgs {
    /// Share of the songs with audio held out of CF training.
    #[arg(long, default_value_t = ColdStartSettings::default().share)]
    pub share: f64,
    /// Cut-off of recall.
    #[arg(long, default_value_t = ColdStartSettings::default().k)]
    pub k: usize,
    /// Neighbours of the descriptor nearest-neighbour baseline.
    #[arg(long, default_value_t = ColdStartSettings::default().neighbours)]
    pub neighbours: usize,
    /// The network's training.
    #[command(flatten)]
    pub train: TrainArgs,
}

/// Analyses `paths` (folders walked), storing each result, under progress
/// bars; files unchanged since their stored analysis are not decoded again.
pub fn analyze_paths(
    store: &mut encore_store::Store,
    paths: &[PathBuf],
) -> anyhow::Result<(Vec<encore_train::audio::Record>, Vec<encore_train::audio::Failure>)> {
    let bars = ui::Bars::new();
    Ok(encore_train::audio::analyze_paths(store, paths, &|s| bars.step(s))?)
}

pub fn run(data_dir: &Path, a: Args) -> anyhow::Result<ExitCode> {
    let mut store = ui::open_store(data_dir)?;
    let bars = ui::Bars::new();
    let progress = |s: encore_train::Step<'_>| bars.step(s);
    match a.what {
        Cmd::Analyze { paths, json } => {
            let (ok, failed) = encore_train::audio::analyze_paths(&mut store, &paths, &progress)?;
            drop(bars);
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
        Cmd::Train(t) => {
            let out = encore_train::audio::train_network(&store, &t.settings(), &progress)?;
            drop(bars);
            if t.json {
                ui::print_json(&out)?;
            } else {
                print_network(&out);
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Embed { json } => {
            let max_seconds = NetworkSettings::default().max_seconds;
            let e = encore_train::audio::embed(&store, max_seconds, &progress)?;
            drop(bars);
            if json {
                ui::print_json(&e)?;
            } else {
                println!("embedded {} songs ({} could not be decoded); published {}", e.songs, e.failed, e.version_dir);
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Similar { song, n, by, json } => {
            drop(bars);
            similar(&store, song, n, by, json).map(|_| ExitCode::SUCCESS)
        }
        Cmd::ColdStart(c) => {
            let settings =
                ColdStartSettings { share: c.share, k: c.k, neighbours: c.neighbours, network: c.train.settings() };
            let r = encore_train::cold_start::cold_start(&store, &settings, &progress)?;
            drop(bars);
            if c.train.json {
                ui::print_json(&r)?;
            } else {
                print_cold_start(&r);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_network(out: &NetworkTrained) {
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

#[derive(Debug, Serialize)]
struct Neighbour {
    song_id: i64,
    title: String,
    artist: Option<String>,
    genre: Option<String>,
    similarity: f32,
}

fn similar(store: &encore_store::Store, song: i64, n: usize, by: SoundsBy, json: bool) -> anyhow::Result<()> {
    anyhow::ensure!(!store.songs(&[song])?.is_empty(), "unknown song id {song}");
    let hits = encore_train::audio::similar_songs(store, song, n, by)?;
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
