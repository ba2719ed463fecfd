//! The files of scanned library folders, so that a re-scan reads only new
//! and changed files and notices moved and deleted ones.

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use crate::{Result, Store};

/// One audio file of a library folder as last scanned.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LibraryFile {
    /// Absolute path.
    pub path: String,
    /// The scanned folder it lies under.
    pub root: String,
    /// Size in bytes.
    pub size: i64,
    /// Modification time, Unix seconds.
    pub mtime: i64,
    /// Content hash (xxh3-128, hex).
    pub hash: String,
    /// The song it is, if its tags named one.
    pub song_id: Option<i64>,
    /// Why it has no song or no audio analysis, if so.
    pub note: Option<String>,
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LibraryFile> {
    Ok(LibraryFile {
        path: r.get(0)?,
        root: r.get(1)?,
        size: r.get(2)?,
        mtime: r.get(3)?,
        hash: r.get(4)?,
        song_id: r.get(5)?,
        note: r.get(6)?,
    })
}

const COLUMNS: &str = "path, root, size, mtime, hash, song_id, note";

impl Store {
    /// The stored record of `path`.
    pub fn library_file(&self, path: &str) -> Result<Option<LibraryFile>> {
        Ok(self
            .conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM library_files WHERE path = ?1"))?
            .query_row([path], row)
            .optional()?)
    }

    /// Every stored file under `root`.
    pub fn library_files(&self, root: &str) -> Result<Vec<LibraryFile>> {
        let mut st = self.conn.prepare_cached(&format!("SELECT {COLUMNS} FROM library_files WHERE root = ?1"))?;
        let rows = st.query_map([root], row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every library root scanned so far.
    pub fn library_roots(&self) -> Result<Vec<String>> {
        let mut st = self.conn.prepare("SELECT DISTINCT root FROM library_files ORDER BY root")?;
        let rows = st.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Stores (or replaces) a file's record and points its song's audio at
    /// it.
    pub fn put_library_file(&mut self, f: &LibraryFile) -> Result<()> {
        self.conn
            .prepare_cached(&format!(
                "INSERT OR REPLACE INTO library_files ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            ))?
            .execute(params![f.path, f.root, f.size, f.mtime, f.hash, f.song_id, f.note])?;
        if let Some(s) = f.song_id {
            self.conn.prepare_cached("UPDATE songs SET audio_path = ?1 WHERE id = ?2")?.execute(params![f.path, s])?;
        }
        Ok(())
    }

    /// Forgets a file that is gone; its song keeps no audio path to it.
    pub fn remove_library_file(&mut self, path: &str) -> Result<()> {
        self.conn.prepare_cached("DELETE FROM library_files WHERE path = ?1")?.execute([path])?;
        self.conn.prepare_cached("UPDATE songs SET audio_path = NULL WHERE audio_path = ?1")?.execute([path])?;
        Ok(())
    }
}
