//! `encore audio analyze`: descriptors of audio files.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use encore_store::Store;
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

fn stamp(p: &Path) -> (i64, i64) {
    let m = std::fs::metadata(p).ok();
    let size = m.as_ref().map_or(-1, |m| m.len() as i64);
    let mtime = m
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(-1, |d| d.as_nanos() as i64);
    (size, mtime)
}

/// Analyses `paths` (folders walked), storing each result; files unchanged
/// since their stored analysis are not decoded again.
pub fn analyze_paths(store: &mut Store, paths: &[PathBuf]) -> anyhow::Result<(Vec<Record>, Vec<Failure>)> {
    let mut files = Vec::new();
    for p in paths {
        walk(p, &mut files);
    }
    let version = encore_audio::FEATURE_VERSION;
    let mut todo = Vec::new();
    let mut ok = Vec::new();
    for f in files {
        let (size, mtime) = stamp(&f);
        let key = f.display().to_string();
        match store.audio_features(&key, size, mtime, version)? {
            Some(json) => {
                let descriptors = serde_json::from_str(&json).context("stored audio descriptors")?;
                ok.push(Record { path: key, cached: true, descriptors });
            }
            None => todo.push((f, size, mtime)),
        }
    }
    let bar = ui::count_bar(todo.len() as u64, "analysing audio");
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
                    store.put_audio_features(&rec.path, size, mtime, version, &json)?;
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
    }
}
