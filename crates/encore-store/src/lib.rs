//! Encore's embedded store: one SQLite file (WAL mode) holding the catalog
//! (artists, songs and their external ids), users, listen events, aggregate
//! play counts and the import log, plus a directory of versioned model
//! artifacts beside it.
//!
//! ```
//! use encore_store::Store;
//! use encore_types::{Record, TrackRef, ArtistRef};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let mut store = Store::open(dir.path()).unwrap();
//! let mut session = match store.begin_import("key-1", "mem", "example").unwrap() {
//!     encore_store::ImportStart::Fresh(s) => s,
//!     _ => unreachable!(),
//! };
//! let track = TrackRef {
//!     artist: ArtistRef { name: "Björk".into(), mbid: None },
//!     title: "Jóga".into(),
//!     ..Default::default()
//! };
//! session.write(&Record::Listen { user: "ana".into(), ts: 1, track, ms_played: None, skipped: None }).unwrap();
//! session.finish(10).unwrap();
//! let m = store.interactions().unwrap();
//! assert_eq!((m.n_users(), m.n_items(), m.nnz()), (1, 1, 1));
//! ```
#![deny(missing_docs)]

mod accounts;
mod artifacts;
mod catalog;
mod documents;
mod error;
mod import;
mod library;
mod matrix;
mod schema;

pub use accounts::{ListenRow, HATE_SKIPS, LOVE_PLAYS};
pub use artifacts::{ArtifactDir, ArtifactWriter};
pub use documents::PlaylistRow;
pub use error::{Error, Result};
pub use import::{ImportCounts, ImportRecord, ImportSession, ImportStart, RowIssue, MAX_STORED_ISSUES};
pub use library::LibraryFile;
pub use matrix::{Histogram, HistoryEntry, ListensStamp, MatrixStats, SongInfo, StoreStats};

use std::path::{Path, PathBuf};

use rusqlite::Connection;

/// File name of the SQLite database inside a data directory.
pub const DB_FILE: &str = "encore.db";

/// An open data directory: the SQLite store and the artifact directory.
pub struct Store {
    conn: Connection,
    dir: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("dir", &self.dir).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the data directory `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Store> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let path = dir.join(DB_FILE);
        let conn = Connection::open(&path).map_err(|e| Error::Open { path: path.clone(), source: e })?;
        schema::prepare(&conn)?;
        tracing::debug!(path = %path.display(), "store opened");
        Ok(Store { conn, dir })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory of versioned model artifacts of kind `kind`.
    pub fn artifacts(&self, kind: &str) -> Result<ArtifactDir> {
        ArtifactDir::open(self.dir.join("models"), kind)
    }

    /// The underlying connection, for read-only queries by tools and tests.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }
}
