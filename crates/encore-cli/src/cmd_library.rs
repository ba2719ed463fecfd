//! `encore library scan`: music folders into the catalog, by their tags.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Serialize;

use crate::ui;

/// The music folders you keep.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: LibraryCommand,
}

#[derive(Debug, clap::Subcommand)]
enum LibraryCommand {
    /// Read the tags of every audio file under the folders (MP3, Ogg Vorbis,
    /// Opus, FLAC, M4A, WAV, AIFF), link each to its song — creating the new
    /// ones — and analyse the audio of new and changed files. A re-scan
    /// reads only what changed and notices moved and deleted files.
    Scan(ScanArgs),
}

#[derive(Debug, clap::Args)]
struct ScanArgs {
    /// Folders to scan.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Do not analyse the audio (tags only).
    #[arg(long)]
    no_analyze: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Report {
    #[serde(flatten)]
    scan: encore_ingest::library::ScanReport,
    /// Files whose audio was analysed now.
    analysed: usize,
    /// Files whose audio could not be analysed, with the reason.
    not_analysed: Vec<encore_ingest::library::FileIssue>,
}

pub fn run(data_dir: &Path, a: Args) -> anyhow::Result<ExitCode> {
    let LibraryCommand::Scan(a) = a.command;
    let mut store = ui::open_store(data_dir)?;
    let bars = ui::Bars::new();
    let scan = encore_ingest::library::scan(&mut store, &a.dirs, &|done, total| {
        bars.step(encore_train::Step { stage: "reading tags", done, total, note: None })
    })?;
    let mut report = Report { scan, analysed: 0, not_analysed: Vec::new() };
    if !a.no_analyze {
        let mut paths = Vec::new();
        for p in &report.scan.to_analyze {
            match encore_ingest::tags::not_decoded(Path::new(p)) {
                Some(reason) => report.not_analysed.push(encore_ingest::library::FileIssue { path: p.clone(), reason }),
                None => paths.push(PathBuf::from(p)),
            }
        }
        let (ok, failed) = encore_train::audio::analyze_paths(&mut store, &paths, &|s| bars.step(s))?;
        report.analysed = ok.iter().filter(|r| !r.cached).count();
        report
            .not_analysed
            .extend(failed.into_iter().map(|f| encore_ingest::library::FileIssue { path: f.path, reason: f.reason }));
    }
    drop(bars);
    if a.json {
        ui::print_json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    let s = &report.scan;
    for i in s.unreadable.iter().chain(&s.unsupported).chain(&report.not_analysed) {
        eprintln!("{}: {}", i.path, i.reason);
    }
    println!(
        "{} audio files: {} unchanged, {} new, {} changed, {} moved, {} deleted",
        s.files_seen, s.unchanged, s.new_files, s.changed_files, s.moved, s.deleted
    );
    let formats: Vec<String> = s.tag_formats.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!(
        "songs: {} new, {} matched to the catalog; named by {}{}",
        s.new_songs,
        s.matched_songs,
        if formats.is_empty() { "nothing new".into() } else { formats.join(", ") },
        if s.named_by_path > 0 {
            format!(" ({} by their folders, for want of tags)", s.named_by_path)
        } else {
            String::new()
        }
    );
    println!(
        "{} unreadable ({} more unchanged since an earlier scan), {} unsupported; audio analysed {}, not analysed {}",
        s.unreadable.len(),
        s.still_unreadable,
        s.unsupported.len(),
        report.analysed,
        report.not_analysed.len()
    );
    Ok(ExitCode::SUCCESS)
}
