//! Text documents for the text model, and stored audio descriptors.

use encore_types::Document;
use rusqlite::params;

use crate::{Result, Store};

impl Store {
    /// Stores `doc` unless a document with the same URL or the same text is
    /// already there. Returns whether it was added.
    pub fn add_document(&mut self, doc: &Document) -> Result<bool> {
        let hash = format!("{:032x}", xxhash_rust::xxh3::xxh3_128(doc.text.as_bytes()));
        let n = self
            .conn
            .prepare_cached(
                "INSERT OR IGNORE INTO documents (url, hash, title, text, published) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![doc.url, hash, doc.title, doc.text, doc.published])?;
        Ok(n == 1)
    }

    /// Runs `f` inside one transaction (for batches of writes).
    pub fn in_transaction<T>(&mut self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        match f(self) {
            Ok(v) => {
                self.conn.execute_batch("COMMIT")?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Calls `f` for every stored document, in id order, without loading
    /// them all.
    pub fn for_each_document(&self, mut f: impl FnMut(Document)) -> Result<()> {
        let mut st = self.conn.prepare("SELECT url, title, text, published FROM documents ORDER BY id")?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            f(Document { url: r.get(0)?, title: r.get(1)?, text: r.get(2)?, published: r.get(3)? });
        }
        Ok(())
    }

    /// Artists as (id, name, genre).
    pub fn artists(&self) -> Result<Vec<(i64, String, Option<String>)>> {
        let mut st = self.conn.prepare("SELECT id, name, genre FROM artists ORDER BY id")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The name of artist `id`.
    pub fn artist_name(&self, id: i64) -> Result<Option<String>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .prepare_cached("SELECT name FROM artists WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?)
    }

    /// The audio file of song `id`, if it has one.
    pub fn song_audio_path(&self, id: i64) -> Result<Option<String>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .prepare_cached("SELECT audio_path FROM songs WHERE id = ?1")?
            .query_row([id], |r| r.get::<_, Option<String>>(0))
            .optional()?
            .flatten())
    }

    /// Songs as (id, artist id, title).
    pub fn song_titles(&self) -> Result<Vec<(i64, Option<i64>, String)>> {
        let mut st = self.conn.prepare("SELECT id, artist_id, title FROM songs ORDER BY id")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

impl Store {
    /// The stored descriptors (JSON) of `path`, if they were computed from a
    /// file of this size and modification time by this feature version.
    pub fn audio_features(&self, path: &str, size: i64, mtime: i64, version: u32) -> Result<Option<String>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .prepare_cached(
                "SELECT descriptors FROM audio_features WHERE path = ?1 AND size = ?2 AND mtime = ?3 AND feature_version = ?4",
            )?
            .query_row(params![path, size, mtime, version], |r| r.get(0))
            .optional()?)
    }

    /// The descriptors (JSON) stored for `path` by this feature version,
    /// whatever the file's state now.
    pub fn audio_features_of(&self, path: &str, version: u32) -> Result<Option<String>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .prepare_cached("SELECT descriptors FROM audio_features WHERE path = ?1 AND feature_version = ?2")?
            .query_row(params![path, version], |r| r.get(0))
            .optional()?)
    }

    /// Every song as (song id, artist id, genre — the song's or else its
    /// artist's —, audio path), by id.
    #[allow(clippy::type_complexity)]
    pub fn catalog_rows(&self) -> Result<Vec<(i64, Option<i64>, Option<String>, Option<String>)>> {
        let mut st = self.conn.prepare(
            "SELECT s.id, s.artist_id, coalesce(s.genre, a.genre), s.audio_path FROM songs s
             LEFT JOIN artists a ON a.id = s.artist_id ORDER BY s.id",
        )?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every song's release (album) name, as (song id, release), by id.
    pub fn song_releases(&self) -> Result<Vec<(i64, Option<String>)>> {
        let mut st = self.conn.prepare("SELECT id, release FROM songs ORDER BY id")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Songs as (id, MusicBrainz id, audio path), for matching playlists.
    #[allow(clippy::type_complexity)]
    pub fn song_keys(&self) -> Result<Vec<(i64, Option<String>, Option<String>)>> {
        let mut st = self.conn.prepare("SELECT id, mbid, audio_path FROM songs ORDER BY id")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// What a playlist file names of each song, in the given order (unknown
    /// ids left out).
    pub fn playlist_rows(&self, ids: &[i64]) -> Result<Vec<PlaylistRow>> {
        self.rows_by_id(
            "SELECT s.id, s.title, a.name, s.release, s.duration_ms, s.audio_path, s.mbid FROM songs s
             LEFT JOIN artists a ON a.id = s.artist_id WHERE s.id = ?1",
            ids,
            |r| {
                Ok(PlaylistRow {
                    id: r.get(0)?,
                    title: r.get(1)?,
                    artist: r.get(2)?,
                    album: r.get(3)?,
                    duration_ms: r.get(4)?,
                    path: r.get(5)?,
                    mbid: r.get(6)?,
                })
            },
        )
    }

    /// Songs that have an audio file, as (song id, artist id, path).
    pub fn songs_with_audio(&self) -> Result<Vec<(i64, Option<i64>, String)>> {
        let mut st = self
            .conn
            .prepare("SELECT id, artist_id, audio_path FROM songs WHERE audio_path IS NOT NULL ORDER BY id")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Stores (or replaces) the descriptors of `path`.
    pub fn put_audio_features(&mut self, path: &str, size: i64, mtime: i64, version: u32, json: &str) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO audio_features (path, size, mtime, feature_version, descriptors) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![path, size, mtime, version, json])?;
        Ok(())
    }
}

impl Store {
    /// The discovery playlist served to `user` on `day`, if any.
    pub fn served_on(&self, user: i64, day: &str) -> Result<Option<Vec<i64>>> {
        let mut st =
            self.conn.prepare_cached("SELECT song_id FROM served WHERE user_id = ?1 AND day = ?2 ORDER BY position")?;
        let v: Vec<i64> = st.query_map(params![user, day], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        Ok((!v.is_empty()).then_some(v))
    }

    /// Every song served to `user` on days other than `day`.
    pub fn served_other_days(&self, user: i64, day: &str) -> Result<Vec<i64>> {
        let mut st =
            self.conn.prepare_cached("SELECT DISTINCT song_id FROM served WHERE user_id = ?1 AND day <> ?2")?;
        let v = st.query_map(params![user, day], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        Ok(v)
    }

    /// Records the playlist served to `user` on `day` (replacing one
    /// recorded before for that day), in one transaction.
    pub fn record_served(&mut self, user: i64, day: &str, songs: &[i64]) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM served WHERE user_id = ?1 AND day = ?2", params![user, day])?;
        for (k, s) in songs.iter().enumerate() {
            tx.execute(
                "INSERT INTO served (user_id, day, position, song_id) VALUES (?1, ?2, ?3, ?4)",
                params![user, day, k as i64, s],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

/// One song as a playlist file names it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlaylistRow {
    /// Store id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Artist name.
    pub artist: Option<String>,
    /// Release (album).
    pub album: Option<String>,
    /// Duration, milliseconds.
    pub duration_ms: Option<i64>,
    /// Audio file.
    pub path: Option<String>,
    /// MusicBrainz recording id.
    pub mbid: Option<String>,
}

impl Store {
    /// The list `list` served to `user` on `day`, if any.
    pub fn list_served_on(&self, user: i64, list: &str, day: &str) -> Result<Option<Vec<i64>>> {
        let mut st = self.conn.prepare_cached(
            "SELECT song_id FROM served_lists WHERE user_id = ?1 AND list = ?2 AND day = ?3 ORDER BY position",
        )?;
        let v: Vec<i64> = st.query_map(params![user, list, day], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        Ok((!v.is_empty()).then_some(v))
    }

    /// Every song served to `user` in list `list` on days other than `day`
    /// from `since` (YYYY-MM-DD, inclusive) on.
    pub fn list_served_other_days(&self, user: i64, list: &str, day: &str, since: &str) -> Result<Vec<i64>> {
        let mut st = self.conn.prepare_cached(
            "SELECT DISTINCT song_id FROM served_lists WHERE user_id = ?1 AND list = ?2 AND day <> ?3 AND day >= ?4",
        )?;
        let v = st.query_map(params![user, list, day, since], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        Ok(v)
    }

    /// Records list `list` served to `user` on `day` (replacing one recorded
    /// before for that day), in one transaction.
    pub fn record_list_served(&mut self, user: i64, list: &str, day: &str, songs: &[i64]) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM served_lists WHERE user_id = ?1 AND list = ?2 AND day = ?3", params![user, list, day])?;
        for (k, s) in songs.iter().enumerate() {
            tx.execute(
                "INSERT INTO served_lists (user_id, list, day, position, song_id) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![user, list, day, k as i64, s],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_deduplicated_by_url_and_text() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let d = Document { url: "u1".into(), text: "hello".into(), ..Default::default() };
        assert!(store.add_document(&d).unwrap());
        assert!(!store.add_document(&d).unwrap());
        assert!(!store.add_document(&Document { url: "u2".into(), ..d.clone() }).unwrap());
        assert!(!store.add_document(&Document { text: "other".into(), ..d.clone() }).unwrap());
        let mut n = 0;
        store.for_each_document(|_| n += 1).unwrap();
        assert_eq!(n, 1);
    }
}
