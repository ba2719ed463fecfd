//! `encore audio analyze`: descriptors of audio files.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

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
}

const AUDIO: &[&str] =
    &["wav", "flac", "mp3", "ogg", "oga", "m4a", "mp4", "aac", "opus", "aif", "aiff", "caf", "mka", "webm"];

fn walk(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(p).map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
        entries.sort();
        for e in entries {
            walk(&e, out);
        }
    } else if !p.exists()
        || p.extension().and_then(|e| e.to_str()).is_some_and(|e| AUDIO.contains(&e.to_ascii_lowercase().as_str()))
    {
        out.push(p.to_path_buf());
    }
}

#[derive(Debug, Serialize)]
struct Record {
    path: String,
    #[serde(flatten)]
    descriptors: encore_audio::Descriptors,
}

#[derive(Debug, Serialize)]
struct Failure {
    path: String,
    reason: String,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    match a.what {
        Cmd::Analyze { paths, json } => {
            let mut files = Vec::new();
            for p in &paths {
                walk(p, &mut files);
            }
            let bar = ui::count_bar(files.len() as u64, "analysing audio");
            let done = AtomicU64::new(0);
            let results: Vec<Result<Record, Failure>> = files
                .par_iter()
                .map(|p| {
                    let r = encore_audio::analyze_file(p)
                        .map(|d| Record { path: p.display().to_string(), descriptors: d })
                        .map_err(|e| Failure {
                            path: p.display().to_string(),
                            reason: match e {
                                encore_audio::Error::Unreadable { reason, .. } => reason,
                            },
                        });
                    bar.set_position(done.fetch_add(1, Ordering::Relaxed) + 1);
                    r
                })
                .collect();
            bar.finish_and_clear();
            let mut ok: Vec<Record> = Vec::new();
            let mut failed: Vec<Failure> = Vec::new();
            for r in results {
                match r {
                    Ok(rec) => ok.push(rec),
                    Err(f) => failed.push(f),
                }
            }
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
    }
}
