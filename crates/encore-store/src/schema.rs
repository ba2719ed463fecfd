//! The SQLite schema and its version.

use rusqlite::Connection;

use crate::{Error, Result};

/// Version of the schema this build writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 6;

const SCHEMA: &str = r#"
-- Per-user API tokens, kept only as their SHA-256 (v6); one per user.
CREATE TABLE IF NOT EXISTS user_tokens (
    hash    TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL UNIQUE,
    created INTEGER NOT NULL
) WITHOUT ROWID;
-- Audio files of scanned library folders (v6): size and modification time
-- tell an unchanged file, the content hash a moved one.
CREATE TABLE IF NOT EXISTS library_files (
    path    TEXT PRIMARY KEY,
    root    TEXT NOT NULL,
    size    INTEGER NOT NULL,
    mtime   INTEGER NOT NULL,
    hash    TEXT NOT NULL,
    song_id INTEGER,
    note    TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS library_files_hash ON library_files(hash);
-- Loved (1) and hated (-1) songs (v6).
CREATE TABLE IF NOT EXISTS feedback (
    user_id INTEGER NOT NULL,
    song_id INTEGER NOT NULL,
    score   INTEGER NOT NULL,
    ts      INTEGER NOT NULL,
    PRIMARY KEY (user_id, song_id)
) WITHOUT ROWID;
-- Other lists served by day (rediscovery), so a song is not served again
-- on another day.
CREATE TABLE IF NOT EXISTS served_lists (
    user_id  INTEGER NOT NULL,
    list     TEXT NOT NULL,
    day      TEXT NOT NULL,
    position INTEGER NOT NULL,
    song_id  INTEGER NOT NULL,
    PRIMARY KEY (user_id, list, day, position)
) WITHOUT ROWID;
-- Discovery playlists served, so a song is never served twice (v4).
CREATE TABLE IF NOT EXISTS served (
    user_id  INTEGER NOT NULL,
    day      TEXT NOT NULL,
    position INTEGER NOT NULL,
    song_id  INTEGER NOT NULL,
    PRIMARY KEY (user_id, day, position)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS artists (
    id        INTEGER PRIMARY KEY,
    name      TEXT NOT NULL,
    norm_name TEXT NOT NULL,
    mbid      TEXT UNIQUE,
    genre     TEXT
);
CREATE INDEX IF NOT EXISTS artists_norm ON artists(norm_name);

CREATE TABLE IF NOT EXISTS songs (
    id          INTEGER PRIMARY KEY,
    artist_id   INTEGER REFERENCES artists(id),
    title       TEXT NOT NULL,
    norm_key    TEXT NOT NULL,
    mbid        TEXT UNIQUE,
    spotify_uri TEXT UNIQUE,
    ext_key     TEXT UNIQUE,
    release     TEXT,
    genre       TEXT,
    duration_ms INTEGER,
    audio_path  TEXT,
    released    TEXT
);
CREATE INDEX IF NOT EXISTS songs_norm ON songs(norm_key);
CREATE INDEX IF NOT EXISTS songs_artist ON songs(artist_id);

CREATE TABLE IF NOT EXISTS users (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

-- One row per listen event. The key is the event's identity: the same user
-- cannot start the same song twice in one second, so a second copy of the
-- event (a re-import, an overlapping export) is recognised and ignored.
CREATE TABLE IF NOT EXISTS listens (
    user_id   INTEGER NOT NULL,
    ts        INTEGER NOT NULL,
    song_id   INTEGER NOT NULL,
    ms_played INTEGER,
    skipped   INTEGER,
    PRIMARY KEY (user_id, ts, song_id)
) WITHOUT ROWID;

-- Aggregate play counts without timestamps (MSD taste profile, CSV without a
-- time column). Within one import rows of the same pair are summed; a later
-- import of another file replaces the count.
CREATE TABLE IF NOT EXISTS song_counts (
    user_id   INTEGER NOT NULL,
    song_id   INTEGER NOT NULL,
    plays     INTEGER NOT NULL,
    import_id INTEGER NOT NULL,
    last_ts   INTEGER,               -- the last play, when the source says (v5)
    PRIMARY KEY (user_id, song_id)
) WITHOUT ROWID;

-- Artist-level play counts (Last.fm 360K), same rules as song_counts.
CREATE TABLE IF NOT EXISTS artist_counts (
    user_id   INTEGER NOT NULL,
    artist_id INTEGER NOT NULL,
    plays     INTEGER NOT NULL,
    import_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, artist_id)
) WITHOUT ROWID;

-- One row per imported input: its content hash, how far it got (the resume
-- point), and its counts. Rows and this row are committed together.
CREATE TABLE IF NOT EXISTS imports (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    path        TEXT NOT NULL,
    format      TEXT NOT NULL,
    status      TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    lines_done  INTEGER NOT NULL DEFAULT 0,
    rows_read   INTEGER NOT NULL DEFAULT 0,
    imported    INTEGER NOT NULL DEFAULT 0,
    duplicates  INTEGER NOT NULL DEFAULT 0,
    skipped     INTEGER NOT NULL DEFAULT 0,
    ignored     INTEGER NOT NULL DEFAULT 0
);

-- Text about music (schema 2). A document is identified by its URL and by
-- the hash of its text: the same page twice, or the same text under two URLs,
-- is stored once.
CREATE TABLE IF NOT EXISTS documents (
    id        INTEGER PRIMARY KEY,
    url       TEXT NOT NULL UNIQUE,
    hash      TEXT NOT NULL UNIQUE,
    title     TEXT,
    text      TEXT NOT NULL,
    published TEXT
);

-- Audio descriptors (schema 3), keyed by file path; size, modification time
-- and feature version tell whether a stored record is still current.
CREATE TABLE IF NOT EXISTS audio_features (
    path            TEXT PRIMARY KEY,
    size            INTEGER NOT NULL,
    mtime           INTEGER NOT NULL,
    feature_version INTEGER NOT NULL,
    descriptors     TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS import_errors (
    import_id INTEGER NOT NULL,
    file      TEXT NOT NULL,
    line      INTEGER NOT NULL,
    reason    TEXT NOT NULL
);
"#;

pub(crate) fn prepare(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA cache_size = -65536;
         PRAGMA temp_store = MEMORY;
         PRAGMA busy_timeout = 5000;",
    )?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(Error::SchemaTooNew { got: version, max: SCHEMA_VERSION });
    }
    conn.execute_batch(SCHEMA)?;
    // v5: song_counts.last_ts (a v4 store gains the column, NULL: unknown).
    let has_last: bool =
        conn.prepare("SELECT 1 FROM pragma_table_info('song_counts') WHERE name = 'last_ts'")?.exists([])?;
    if !has_last {
        conn.execute_batch("ALTER TABLE song_counts ADD COLUMN last_ts INTEGER;")?;
    }
    conn.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION};"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("encore.db")).unwrap();
        prepare(&conn).unwrap();
        prepare(&conn).unwrap(); // reopening the same version is fine
        conn.execute_batch(&format!("PRAGMA user_version = {};", SCHEMA_VERSION + 1)).unwrap();
        assert!(matches!(prepare(&conn), Err(Error::SchemaTooNew { .. })));
    }

    #[test]
    fn a_v4_store_gains_the_last_play_of_counts() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("encore.db")).unwrap();
        conn.execute_batch(
            "CREATE TABLE song_counts (user_id INTEGER NOT NULL, song_id INTEGER NOT NULL, plays INTEGER NOT NULL,
                import_id INTEGER NOT NULL, PRIMARY KEY (user_id, song_id)) WITHOUT ROWID;
             INSERT INTO song_counts VALUES (1, 2, 3, 4);
             PRAGMA user_version = 4;",
        )
        .unwrap();
        prepare(&conn).unwrap();
        let (plays, last): (i64, Option<i64>) =
            conn.query_row("SELECT plays, last_ts FROM song_counts", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        assert_eq!((plays, last), (3, None));
        prepare(&conn).unwrap(); // once only
    }
}
