//! Resumable, idempotent imports.
//!
//! Every input gets a row in `imports`, keyed by a caller-chosen key (the
//! content hash of the file plus the format). Records are written inside a
//! transaction that also advances the row's resume point (`lines_done`) and
//! its counts, so a crash loses at most the uncommitted tail: running the same
//! import again skips the committed lines and ends with the store a clean run
//! would have made. A finished key is a no-op.

use encore_types::Record;
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::catalog::{song_artist, Catalog};
use crate::{Result, Store};

/// At most this many row issues are stored per import (all are counted).
pub const MAX_STORED_ISSUES: usize = 100;

/// Counters of one import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
    /// Rows read from the input (records, malformed rows and ignored rows).
    pub rows_read: u64,
    /// Rows that added something to the store.
    pub imported: u64,
    /// Valid rows the store already held (an overlapping or repeated input).
    pub duplicates: u64,
    /// Malformed rows, reported and skipped.
    pub skipped: u64,
    /// Valid rows that are not music listens (podcast episodes, for example).
    pub ignored: u64,
}

/// A malformed row: where it is and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowIssue {
    /// The input file.
    pub file: String,
    /// 1-based line number.
    pub line: u64,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for RowIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.reason)
    }
}

/// The log entry of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRecord {
    /// Import id.
    pub id: i64,
    /// The input path as given.
    pub path: String,
    /// The format name.
    pub format: String,
    /// `"partial"`, `"done"`, or `"cut"` (done, but the input ended
    /// abruptly: a truncated or corrupt compressed stream).
    pub status: String,
    /// Lines committed so far.
    pub lines_done: u64,
    /// Counts so far.
    pub counts: ImportCounts,
    /// The first stored issues.
    pub issues: Vec<RowIssue>,
}

/// What [`Store::begin_import`] found.
#[derive(Debug)]
pub enum ImportStart<'s> {
    /// This input was imported completely before: nothing to do.
    Done(ImportRecord),
    /// First time: import from the start.
    Fresh(ImportSession<'s>),
    /// An earlier run stopped part-way: skip the first
    /// [`ImportSession::lines_done`] lines, then go on.
    Resume(ImportSession<'s>),
}

/// An import in progress. Dropping it without [`ImportSession::finish`]
/// rolls back what was written since the last checkpoint.
pub struct ImportSession<'s> {
    store: &'s mut Store,
    id: i64,
    file: String,
    catalog: Catalog,
    counts: ImportCounts,
    issues_stored: usize,
    lines_done: u64,
    in_tx: bool,
}

impl std::fmt::Debug for ImportSession<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportSession").field("id", &self.id).field("counts", &self.counts).finish()
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

impl Store {
    /// Starts (or resumes) the import identified by `key`.
    pub fn begin_import(&mut self, key: &str, path: &str, format: &str) -> Result<ImportStart<'_>> {
        let existing: Option<(i64, String)> = self
            .conn
            .query_row("SELECT id, status FROM imports WHERE key = ?1", [key], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((id, status)) = &existing {
            if status == "done" || status == "cut" {
                return Ok(ImportStart::Done(self.import_record(*id)?));
            }
        }
        // The log row is written inside the import's first transaction, so
        // an import that is refused or dies before its first checkpoint
        // leaves no trace.
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        let (id, resume) = match existing {
            Some((id, _)) => (id, true),
            None => {
                let inserted = self.conn.execute(
                    "INSERT INTO imports (key, path, format, status, started_at) VALUES (?1, ?2, ?3, 'partial', ?4)",
                    params![key, path, format, now()],
                );
                if let Err(e) = inserted {
                    let _ = self.conn.execute_batch("ROLLBACK");
                    return Err(e.into());
                }
                (self.conn.last_insert_rowid(), false)
            }
        };
        let loaded = self.import_record(id).and_then(|rec| Ok((rec, Catalog::load(&self.conn)?)));
        let (rec, catalog) = match loaded {
            Ok(x) => x,
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                return Err(e);
            }
        };
        let session = ImportSession {
            store: self,
            id,
            file: path.to_string(),
            catalog,
            counts: rec.counts,
            issues_stored: rec.issues.len(),
            lines_done: rec.lines_done,
            in_tx: true,
        };
        Ok(if resume { ImportStart::Resume(session) } else { ImportStart::Fresh(session) })
    }

    /// The log entry of import `id`.
    pub fn import_record(&self, id: i64) -> Result<ImportRecord> {
        let mut rec = self.conn.query_row(
            "SELECT id, path, format, status, lines_done, rows_read, imported, duplicates, skipped, ignored
             FROM imports WHERE id = ?1",
            [id],
            |r| {
                Ok(ImportRecord {
                    id: r.get(0)?,
                    path: r.get(1)?,
                    format: r.get(2)?,
                    status: r.get(3)?,
                    lines_done: r.get::<_, i64>(4)? as u64,
                    counts: ImportCounts {
                        rows_read: r.get::<_, i64>(5)? as u64,
                        imported: r.get::<_, i64>(6)? as u64,
                        duplicates: r.get::<_, i64>(7)? as u64,
                        skipped: r.get::<_, i64>(8)? as u64,
                        ignored: r.get::<_, i64>(9)? as u64,
                    },
                    issues: Vec::new(),
                })
            },
        )?;
        let mut st =
            self.conn.prepare("SELECT file, line, reason FROM import_errors WHERE import_id = ?1 ORDER BY line")?;
        rec.issues = st
            .query_map([id], |r| Ok(RowIssue { file: r.get(0)?, line: r.get::<_, i64>(1)? as u64, reason: r.get(2)? }))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rec)
    }
}

impl ImportSession<'_> {
    /// Lines already committed by an earlier run; the caller skips them.
    pub fn lines_done(&self) -> u64 {
        self.lines_done
    }

    /// Counts so far, including an earlier run's.
    pub fn counts(&self) -> ImportCounts {
        self.counts
    }

    /// Writes a catalog song and returns its store id and whether it is
    /// new (matched like any record: MusicBrainz id, then artist + title).
    pub fn write_song(&mut self, song: &encore_types::CatalogSong) -> Result<(i64, bool)> {
        let written = self.write_record(&Record::Catalog(song.clone()))?;
        written.ok_or_else(|| crate::Error::Rejected("the song was not written".into()))
    }

    /// Writes one valid record.
    pub fn write(&mut self, rec: &Record) -> Result<()> {
        self.write_record(rec).map(|_| ())
    }

    /// [`ImportSession::write`]; for a catalog song, its store id and
    /// whether it is new.
    fn write_record(&mut self, rec: &Record) -> Result<Option<(i64, bool)>> {
        // A rejected record is not counted here: the caller counts it as
        // skipped (ImportSession::skip), once.
        if let Record::Listen { ts, .. } | Record::SongCount { last_played: Some(ts), .. } = rec {
            encore_types::check_listen_time(*ts, now()).map_err(crate::Error::Rejected)?;
        }
        if let Record::ArtistCount { artist, .. } = rec {
            if encore_types::normalize_name(&artist.name).is_empty() && artist.mbid.is_none() {
                return Err(crate::Error::Rejected("artist has neither name nor id".into()));
            }
        }
        self.counts.rows_read += 1;
        let conn = &self.store.conn;
        let cat = &mut self.catalog;
        let mut catalog_song = None;
        let added = match rec {
            Record::Listen { user, ts, track, ms_played, skipped } => {
                let u = cat.user(conn, user)?;
                let (s, _) = cat.song(conn, track)?;
                conn.prepare_cached(
                    "INSERT OR IGNORE INTO listens (user_id, ts, song_id, ms_played, skipped) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![u, ts, s, ms_played, skipped])?
                    == 1
            }
            Record::SongCount { user, track, plays, last_played } => {
                let u = cat.user(conn, user)?;
                let (s, _) = cat.song(conn, track)?;
                upsert_song_count(conn, u, s, *plays, *last_played, self.id)?
            }
            Record::ArtistCount { user, artist, plays } => {
                let u = cat.user(conn, user)?;
                let Some(a) = cat.artist(conn, artist)? else {
                    return Err(crate::Error::Rejected("artist has neither name nor id".into()));
                };
                upsert_count(conn, "artist_counts", "artist_id", u, a, *plays, self.id)?
            }
            Record::Catalog(song) => {
                let (s, created) = cat.song(conn, &song.track)?;
                catalog_song = Some((s, created));
                let changed = conn
                    .prepare_cached(
                        "UPDATE songs SET genre = coalesce(?2, genre), duration_ms = coalesce(?3, duration_ms),
                           audio_path = coalesce(?4, audio_path), released = coalesce(?5, released),
                           release = coalesce(?6, release)
                         WHERE id = ?1 AND (genre IS NOT ?2 OR duration_ms IS NOT ?3 OR audio_path IS NOT ?4
                           OR released IS NOT ?5 OR release IS NOT ?6)",
                    )?
                    .execute(params![
                        s,
                        song.genre,
                        song.duration_ms,
                        song.audio_path,
                        song.released,
                        song.track.release
                    ])?;
                if let (Some(g), Some(a)) = (&song.genre, song_artist(conn, s)?) {
                    conn.prepare_cached("UPDATE artists SET genre = ?1 WHERE id = ?2 AND genre IS NULL")?
                        .execute(params![g, a])?;
                }
                created || changed > 0
            }
        };
        if added {
            self.counts.imported += 1;
        } else {
            self.counts.duplicates += 1;
        }
        Ok(catalog_song)
    }

    /// Records a malformed row: counted, and stored while fewer than
    /// [`MAX_STORED_ISSUES`] are.
    pub fn skip(&mut self, line: u64, reason: &str) -> Result<()> {
        self.counts.rows_read += 1;
        self.counts.skipped += 1;
        if self.issues_stored < MAX_STORED_ISSUES {
            self.store
                .conn
                .prepare_cached("INSERT INTO import_errors (import_id, file, line, reason) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![self.id, self.file, line as i64, reason])?;
            self.issues_stored += 1;
        }
        Ok(())
    }

    /// Records a valid row that carries no music listen.
    pub fn ignore(&mut self) {
        self.counts.rows_read += 1;
        self.counts.ignored += 1;
    }

    /// Commits everything up to and including line `lines_done`.
    pub fn checkpoint(&mut self, lines_done: u64) -> Result<()> {
        self.save_progress(lines_done, "partial")?;
        self.store.conn.execute_batch("COMMIT; BEGIN IMMEDIATE")?;
        Ok(())
    }

    /// Commits the rest and marks the import done.
    pub fn finish(self, lines_done: u64) -> Result<ImportRecord> {
        self.end(lines_done, "done")
    }

    /// Like [`ImportSession::finish`] for an input that ended abruptly:
    /// what was read is kept and the import is not run again, but its
    /// record says `"cut"` so every later summary still reports it.
    pub fn finish_cut(self, lines_done: u64) -> Result<ImportRecord> {
        self.end(lines_done, "cut")
    }

    fn end(mut self, lines_done: u64, status: &str) -> Result<ImportRecord> {
        self.save_progress(lines_done, status)?;
        self.store.conn.execute_batch("COMMIT")?;
        self.in_tx = false;
        self.store.import_record(self.id)
    }

    fn save_progress(&mut self, lines_done: u64, status: &str) -> Result<()> {
        let c = self.counts;
        self.lines_done = lines_done;
        self.store
            .conn
            .prepare_cached(
                "UPDATE imports SET status = ?2, lines_done = ?3, rows_read = ?4, imported = ?5, duplicates = ?6,
               skipped = ?7, ignored = ?8, finished_at = CASE WHEN ?2 IN ('done', 'cut') THEN ?9 END WHERE id = ?1",
            )?
            .execute(params![
                self.id,
                status,
                lines_done as i64,
                c.rows_read as i64,
                c.imported as i64,
                c.duplicates as i64,
                c.skipped as i64,
                c.ignored as i64,
                now()
            ])?;
        Ok(())
    }
}

impl Drop for ImportSession<'_> {
    fn drop(&mut self) {
        if self.in_tx {
            let _ = self.store.conn.execute_batch("ROLLBACK");
        }
    }
}

/// Inserts or updates an aggregate count: rows of the same import add up, a
/// later import replaces the count. Returns whether anything changed.
/// [`upsert_count`] for songs, keeping the latest last-played time of the
/// rows summed (or the new file's, when it replaces the count).
fn upsert_song_count(
    conn: &rusqlite::Connection,
    user: i64,
    song: i64,
    plays: u32,
    last: Option<i64>,
    import: i64,
) -> Result<bool> {
    let sql = "INSERT INTO song_counts (user_id, song_id, plays, import_id, last_ts) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (user_id, song_id) DO UPDATE SET
           plays = CASE WHEN import_id = excluded.import_id THEN plays + excluded.plays ELSE excluded.plays END,
           last_ts = CASE WHEN import_id = excluded.import_id THEN max(coalesce(last_ts, 0), coalesce(excluded.last_ts, 0))
                          ELSE excluded.last_ts END,
           import_id = excluded.import_id
         WHERE import_id = excluded.import_id OR plays <> excluded.plays
           OR coalesce(last_ts, -1) <> coalesce(excluded.last_ts, -1)";
    Ok(conn.prepare_cached(sql)?.execute(params![user, song, plays, import, last])? == 1)
}

fn upsert_count(
    conn: &rusqlite::Connection,
    table: &str,
    col: &str,
    user: i64,
    item: i64,
    plays: u32,
    import: i64,
) -> Result<bool> {
    let sql = format!(
        "INSERT INTO {table} (user_id, {col}, plays, import_id) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (user_id, {col}) DO UPDATE SET
           plays = CASE WHEN import_id = excluded.import_id THEN plays + excluded.plays ELSE excluded.plays END,
           import_id = excluded.import_id
         WHERE import_id = excluded.import_id OR plays <> excluded.plays"
    );
    Ok(conn.prepare_cached(&sql)?.execute(params![user, item, plays, import])? == 1)
}
