use std::path::{Path, PathBuf};
use std::process::ExitCode;

use encore_ingest::{import_file, Format, ImportOptions, ImportSummary, ParseOptions};
use serde::Serialize;

use crate::ui;

/// Import listening data into the store. Re-running an import adds nothing;
/// an interrupted import resumes where it stopped.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Input format: lastfm-1k, lastfm-360k, msd-triplets, listenbrainz,
    /// spotify-history, csv, catalog.
    #[arg(long, short)]
    format: String,
    /// Files to import (gzip-compressed files are read transparently).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The listener's name, for exports that carry none (Spotify); overrides
    /// the file's user names.
    #[arg(long)]
    user: Option<String>,
    /// How many malformed rows to list per file (all are counted).
    #[arg(long, default_value_t = 20)]
    max_errors: usize,
    /// Print a JSON summary.
    #[arg(long)]
    json: bool,
    /// Exit with status 1 when any row was skipped as malformed or any file
    /// ended abruptly (a truncated .gz), not only when a file failed.
    #[arg(long)]
    strict: bool,
}

#[derive(Debug, Serialize)]
struct Failure {
    file: String,
    error: String,
}

#[derive(Debug, Default, Serialize)]
struct Totals {
    files: usize,
    failed: usize,
    rows_read: u64,
    imported: u64,
    duplicates: u64,
    skipped: u64,
    ignored: u64,
    /// Files that ended abruptly.
    cut: usize,
}

#[derive(Debug, Serialize)]
struct Report {
    files: Vec<ImportSummary>,
    failed: Vec<Failure>,
    totals: Totals,
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

pub fn run(data_dir: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let format: Format = args.format.parse()?;
    let mut store = crate::ui::open_store(data_dir)?;
    let mut opts = ImportOptions {
        parse: ParseOptions { user: args.user.clone() },
        max_issues: args.max_errors,
        ..Default::default()
    };
    // Test hooks: small transactions, and a simulated crash mid-import.
    if let Some(n) = env_u64("ENCORE_IMPORT_COMMIT_ROWS") {
        opts.commit_rows = n.max(1);
    }
    opts.crash_after_rows = env_u64("ENCORE_TEST_CRASH_AFTER_ROWS");

    let mut report = Report { files: Vec::new(), failed: Vec::new(), totals: Totals::default() };
    for path in &args.paths {
        let bar = ui::bytes_bar(0, path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
        let result = import_file(&mut store, format, path, &opts, &mut |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        });
        bar.finish_and_clear();
        match result {
            Ok(s) => {
                if !args.json {
                    print_summary(&s);
                }
                report.files.push(s);
            }
            Err(e) => {
                let msg = anyhow::Error::from(e).chain().map(|c| c.to_string()).collect::<Vec<_>>().join(": ");
                eprintln!("error: {msg}");
                report.failed.push(Failure { file: path.display().to_string(), error: msg });
            }
        }
    }
    let t = &mut report.totals;
    t.files = report.files.len();
    t.failed = report.failed.len();
    for s in &report.files {
        t.rows_read += s.rows_read;
        t.imported += s.imported;
        t.duplicates += s.duplicates;
        t.skipped += s.skipped;
        t.ignored += s.ignored;
        t.cut += usize::from(s.cut);
    }
    if args.json {
        ui::print_json(&report)?;
    }
    let strict_failure = args.strict && (report.totals.skipped > 0 || report.totals.cut > 0);
    Ok(if report.failed.is_empty() && !strict_failure { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn print_summary(s: &ImportSummary) {
    let what = match s.status {
        encore_ingest::ImportStatus::AlreadyImported => "already imported, nothing to do;",
        encore_ingest::ImportStatus::Resumed => "resumed;",
        encore_ingest::ImportStatus::Imported => "imported;",
    };
    println!(
        "{}: {what} {} rows read, {} imported, {} duplicates, {} skipped, {} ignored ({:.1}s)",
        s.file, s.rows_read, s.imported, s.duplicates, s.skipped, s.ignored, s.seconds
    );
    for e in &s.errors {
        println!("  {e}");
    }
    if s.cut {
        eprintln!(
            "warning: {} ends abruptly (a truncated or corrupt compressed file): the rows before the break are \
             imported, the rest of the file is missing",
            s.file
        );
    }
    if (s.errors.len() as u64) < s.skipped {
        println!("  … and {} more malformed rows", s.skipped - s.errors.len() as u64);
    }
}
