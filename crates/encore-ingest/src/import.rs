//! The import driver: parse on one thread, write on another, checkpoint
//! every few hundred thousand rows, resume where an earlier run stopped.

use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Instant;

use encore_store::{ImportSession, ImportStart, RowIssue, Store};
use serde::{Deserialize, Serialize};

use crate::formats::{Format, Item, ParseOptions, Parsed};
use crate::input::{file_key, open_input};
use crate::{Error, Result};

/// How the first rows decide that a file is in the wrong format: when this
/// many rows (or all rows of a shorter file) are all malformed.
const SNIFF_ROWS: u64 = 20;
const BATCH: usize = 4096;

/// Options of one import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Parse options (the user override).
    pub parse: ParseOptions,
    /// Rows per committed transaction.
    pub commit_rows: u64,
    /// How many issues the summary lists (all are counted).
    pub max_issues: usize,
    /// Test hook: abort the process (as a crash would) once this many rows
    /// have been written, mid-transaction.
    pub crash_after_rows: Option<u64>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions { parse: ParseOptions::default(), commit_rows: 200_000, max_issues: 20, crash_after_rows: None }
    }
}

/// What happened to one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImportStatus {
    /// Imported from the start.
    Imported,
    /// An earlier, interrupted import was completed.
    Resumed,
    /// The same content was imported before: nothing was done.
    AlreadyImported,
}

/// The summary of one input, as `encore import --json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportSummary {
    /// The input.
    pub file: String,
    /// Its format.
    pub format: String,
    /// What happened.
    pub status: ImportStatus,
    /// Rows read (over all runs of this import).
    pub rows_read: u64,
    /// Rows that added to the store.
    pub imported: u64,
    /// Valid rows the store already held.
    pub duplicates: u64,
    /// Malformed rows, skipped.
    pub skipped: u64,
    /// Valid rows without a music listen.
    pub ignored: u64,
    /// The first malformed rows, with file and line.
    pub errors: Vec<RowIssue>,
    /// The input ended abruptly (a truncated or corrupt compressed
    /// stream): the rows before the break were imported, the rest of the
    /// file is missing. Reported on every later run too.
    pub cut: bool,
    /// Wall time of this run.
    pub seconds: f64,
}

/// Progress callback: `(file bytes consumed, file size)`.
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64);

/// Imports one file into `store`. Idempotent: content already imported is a
/// no-op, and an interrupted import resumes after its last checkpoint.
pub fn import_file(
    store: &mut Store,
    format: Format,
    path: &Path,
    opts: &ImportOptions,
    progress: Progress<'_>,
) -> Result<ImportSummary> {
    let started = Instant::now();
    let file = path.display().to_string();
    let how = match &opts.parse.user {
        Some(u) => format!("{format}:user={u}"),
        None => format.to_string(),
    };
    let nameless = match format {
        Format::ScrobblerLog => true,
        Format::SpotifyHistory => !names_a_user(path)?,
        _ => false,
    };
    if nameless && opts.parse.user.is_none() {
        return Err(Error::NeedsUser { path: path.to_path_buf(), format: format.name() });
    }
    let key = file_key(path, &how)?;
    let (mut session, status) = match store.begin_import(&key, &file, format.name())? {
        ImportStart::Done(rec) => {
            let mut s = summary(&file, format, ImportStatus::AlreadyImported, rec, opts);
            s.seconds = started.elapsed().as_secs_f64();
            return Ok(s);
        }
        ImportStart::Fresh(s) => (s, ImportStatus::Imported),
        ImportStart::Resume(s) => (s, ImportStatus::Resumed),
    };
    let skip = session.lines_done();
    tracing::info!(file = %file, format = %format, resume_after = skip, "import started");
    let total = std::fs::metadata(path).map_err(|e| Error::Io { path: path.to_path_buf(), source: e })?.len();
    let counter = Arc::new(AtomicU64::new(0));
    let input = open_input(path, counter.clone())?;

    let (tx, rx) = mpsc::sync_channel::<Vec<Item>>(8);
    let parse_opts = opts.parse.clone();
    let parser = std::thread::spawn(move || {
        let mut batch = Vec::with_capacity(BATCH);
        let res = format.parse(input, &parse_opts, skip, &mut |item| {
            batch.push(item);
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                return tx.send(full).is_ok();
            }
            true
        });
        if !batch.is_empty() {
            let _ = tx.send(batch);
        }
        res
    });

    // A resumed import passed the wrong-format check in its first run.
    let sniff = if skip > 0 { Sniff { seen: SNIFF_ROWS, ..Default::default() } } else { Sniff::default() };
    let mut w = Writer { session: &mut session, opts, since_commit: 0, written: 0, last: skip, sniff };
    let mut result = Ok(());
    for batch in rx.iter() {
        if let Err(e) = w.batch(batch, format, path) {
            result = Err(e);
            break;
        }
        progress(counter.load(Ordering::Relaxed), total);
    }
    drop(rx);
    let parse_result = parser.join().expect("parser thread panicked");
    result?;
    let last = w.last;
    let cut = parse_result.is_err();
    if let Err(e) = parse_result {
        // A read error mid-file (a truncated or corrupt gzip stream): what
        // came before is kept, the break is reported as an issue at the line
        // after the last row read, and the import is recorded as cut.
        tracing::warn!(file = %file, "input ends abruptly: {e}");
        session.skip(last + 1, &format!("input ends abruptly: {e}"))?;
    } else if let Some(e) = w.sniff.verdict(format, path) {
        return Err(e);
    }
    progress(total, total);
    let rec = if cut { session.finish_cut(last)? } else { session.finish(last)? };
    let mut s = summary(&file, format, status, rec, opts);
    s.seconds = started.elapsed().as_secs_f64();
    tracing::info!(file = %file, rows = s.rows_read, imported = s.imported, skipped = s.skipped, seconds = s.seconds, "import finished");
    Ok(s)
}

fn summary(
    file: &str,
    format: Format,
    status: ImportStatus,
    rec: encore_store::ImportRecord,
    opts: &ImportOptions,
) -> ImportSummary {
    let c = rec.counts;
    let mut issues = rec.issues;
    issues.truncate(opts.max_issues);
    ImportSummary {
        file: file.to_string(),
        format: format.to_string(),
        status,
        rows_read: c.rows_read,
        imported: c.imported,
        duplicates: c.duplicates,
        skipped: c.skipped,
        ignored: c.ignored,
        errors: issues,
        cut: rec.status == "cut",
        seconds: 0.0,
    }
}

/// Watches the first rows of a fresh import for a file in the wrong format.
#[derive(Default)]
struct Sniff {
    seen: u64,
    malformed: u64,
    first: Option<(u64, String)>,
}

impl Sniff {
    fn see(&mut self, item: &Item) {
        if self.seen >= SNIFF_ROWS {
            return;
        }
        self.seen += 1;
        if let Parsed::Malformed(reason) = &item.parsed {
            self.malformed += 1;
            self.first.get_or_insert((item.line, reason.clone()));
        }
    }

    fn full(&self) -> bool {
        self.seen >= SNIFF_ROWS
    }

    fn verdict(&self, format: Format, path: &Path) -> Option<Error> {
        if self.seen == 0 || self.malformed < self.seen {
            return None;
        }
        let (line, reason) = self.first.clone()?;
        let hint = match guess(path) {
            Some(g) if g == format => String::new(),
            Some(g) => format!("; it looks like {g}"),
            None => "; no known format matches it".into(),
        };
        Some(Error::WrongFormat {
            path: path.to_path_buf(),
            format: format.name(),
            rows: self.seen,
            line,
            reason,
            hint,
        })
    }
}

/// Whether the start of a Spotify export names its listener: a
/// `"username"` with a non-empty string value (the old export format has
/// none at all).
fn names_a_user(path: &Path) -> Result<bool> {
    let mut buf = Vec::new();
    // A stream cut short still shows its start; the import reports the cut.
    let _ = open_input(path, Default::default())?.take(64 * 1024).read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    Ok(text.match_indices("\"username\"").any(|(i, k)| {
        let rest = text[i + k.len()..].trim_start();
        let Some(rest) = rest.strip_prefix(':') else { return false };
        let rest = rest.trim_start();
        rest.starts_with('"') && !rest[1..].starts_with('"')
    }))
}

fn guess(path: &Path) -> Option<Format> {
    let mut buf = Vec::new();
    open_input(path, Default::default()).ok()?.take(64 * 1024).read_to_end(&mut buf).ok()?;
    Format::detect(&buf)
}

struct Writer<'a, 's> {
    session: &'a mut ImportSession<'s>,
    opts: &'a ImportOptions,
    since_commit: u64,
    written: u64,
    last: u64,
    sniff: Sniff,
}

impl Writer<'_, '_> {
    fn batch(&mut self, batch: Vec<Item>, format: Format, path: &Path) -> Result<()> {
        for item in batch {
            if !self.sniff.full() {
                self.sniff.see(&item);
                if self.sniff.full() {
                    if let Some(e) = self.sniff.verdict(format, path) {
                        return Err(e);
                    }
                }
            }
            match item.parsed {
                Parsed::Record(rec) => match self.session.write(&rec) {
                    Ok(()) => {}
                    Err(encore_store::Error::Rejected(reason)) => self.session.skip(item.line, &reason)?,
                    Err(e) => return Err(e.into()),
                },
                Parsed::Malformed(reason) => self.session.skip(item.line, &reason)?,
                Parsed::Ignored(_) => self.session.ignore(),
            }
            self.last = item.ordinal;
            self.since_commit += 1;
            self.written += 1;
            if self.opts.crash_after_rows == Some(self.written) {
                std::process::abort();
            }
            // Never commit while the wrong-format check is still open, so a
            // refused file leaves nothing behind.
            if self.since_commit >= self.opts.commit_rows && self.sniff.full() {
                self.session.checkpoint(self.last)?;
                tracing::debug!(rows = self.last, "checkpoint committed");
                self.since_commit = 0;
            }
        }
        Ok(())
    }
}
