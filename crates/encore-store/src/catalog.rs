//! In-memory index of the catalog, used while importing to resolve names and
//! external ids to store ids without a query per row.
//!
//! Matching rule, in order: MusicBrainz id; Spotify URI; the source's opaque
//! id (`ext_key`); the normalised (artist, title) pair. A name match adopts
//! the incoming ids when the matched song has none of that kind; a song that
//! already carries a *different* MusicBrainz id or Spotify URI is another
//! recording, so a new song is made. Artists follow the same rule with their
//! MusicBrainz id and normalised name. Memory is bounded by the catalog, not
//! by the input.

use std::collections::HashMap;

use encore_types::{normalize_name, song_key, ArtistRef, TrackRef};
use rusqlite::{params, Connection, OptionalExtension};

use crate::Result;

#[derive(Debug, Clone, Copy)]
struct NameEntry {
    id: i64,
    has_mbid: bool,
    has_spotify: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Catalog {
    users: HashMap<String, i64>,
    artist_mbid: HashMap<String, i64>,
    artist_norm: HashMap<String, NameEntry>,
    song_mbid: HashMap<String, i64>,
    song_spotify: HashMap<String, i64>,
    song_ext: HashMap<String, i64>,
    song_norm: HashMap<String, NameEntry>,
}

impl Catalog {
    pub(crate) fn load(conn: &Connection) -> Result<Catalog> {
        let mut c = Catalog::default();
        let mut st = conn.prepare("SELECT id, name FROM users")?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            c.users.insert(r.get(1)?, r.get(0)?);
        }
        let mut st = conn.prepare("SELECT id, norm_name, mbid FROM artists ORDER BY id")?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let mbid: Option<String> = r.get(2)?;
            let e = NameEntry { id, has_mbid: mbid.is_some(), has_spotify: false };
            c.artist_norm.entry(r.get(1)?).or_insert(e);
            if let Some(m) = mbid {
                c.artist_mbid.insert(m, id);
            }
        }
        let mut st = conn.prepare("SELECT id, norm_key, mbid, spotify_uri, ext_key FROM songs ORDER BY id")?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let key: String = r.get(1)?;
            let mbid: Option<String> = r.get(2)?;
            let spotify: Option<String> = r.get(3)?;
            let ext: Option<String> = r.get(4)?;
            if !key.is_empty() {
                let e = NameEntry { id, has_mbid: mbid.is_some(), has_spotify: spotify.is_some() };
                c.song_norm.entry(key).or_insert(e);
            }
            if let Some(m) = mbid {
                c.song_mbid.insert(m, id);
            }
            if let Some(s) = spotify {
                c.song_spotify.insert(s, id);
            }
            if let Some(x) = ext {
                c.song_ext.insert(x, id);
            }
        }
        Ok(c)
    }

    pub(crate) fn user(&mut self, conn: &Connection, name: &str) -> Result<i64> {
        if let Some(&id) = self.users.get(name) {
            return Ok(id);
        }
        conn.prepare_cached("INSERT INTO users (name) VALUES (?1)")?.execute([name])?;
        let id = conn.last_insert_rowid();
        self.users.insert(name.to_string(), id);
        Ok(id)
    }

    /// Resolves an artist, creating it if it is new. `None` for an artist
    /// with neither a name nor an id.
    pub(crate) fn artist(&mut self, conn: &Connection, a: &ArtistRef) -> Result<Option<i64>> {
        if let Some(m) = &a.mbid {
            if let Some(&id) = self.artist_mbid.get(m) {
                return Ok(Some(id));
            }
        }
        let norm = normalize_name(&a.name);
        if norm.is_empty() && a.mbid.is_none() {
            return Ok(None);
        }
        if !norm.is_empty() {
            if let Some(e) = self.artist_norm.get_mut(&norm) {
                if a.mbid.is_none() || !e.has_mbid {
                    if let Some(m) = &a.mbid {
                        conn.prepare_cached("UPDATE artists SET mbid = ?1 WHERE id = ?2")?.execute(params![m, e.id])?;
                        e.has_mbid = true;
                        self.artist_mbid.insert(m.clone(), e.id);
                    }
                    return Ok(Some(e.id));
                }
            }
        }
        let name =
            if a.name.trim().is_empty() { a.mbid.clone().unwrap_or_default() } else { a.name.trim().to_string() };
        conn.prepare_cached("INSERT INTO artists (name, norm_name, mbid) VALUES (?1, ?2, ?3)")?
            .execute(params![name, norm, a.mbid])?;
        let id = conn.last_insert_rowid();
        if let Some(m) = &a.mbid {
            self.artist_mbid.insert(m.clone(), id);
        }
        if !norm.is_empty() {
            self.artist_norm.entry(norm).or_insert(NameEntry { id, has_mbid: a.mbid.is_some(), has_spotify: false });
        }
        Ok(Some(id))
    }

    /// Resolves a song, creating it (and its artist) if it is new. Returns
    /// the id and whether it was created.
    pub(crate) fn song(&mut self, conn: &Connection, t: &TrackRef) -> Result<(i64, bool)> {
        if let Some(id) = t.mbid.as_ref().and_then(|m| self.song_mbid.get(m)) {
            return Ok((*id, false));
        }
        if let Some(id) = t.spotify_uri.as_ref().and_then(|s| self.song_spotify.get(s)) {
            return Ok((*id, false));
        }
        if let Some(id) = t.ext_key.as_ref().and_then(|x| self.song_ext.get(x)) {
            return Ok((*id, false));
        }
        let key = if t.title.trim().is_empty() { String::new() } else { song_key(&t.artist.name, &t.title) };
        if !key.is_empty() {
            if let Some(e) = self.song_norm.get_mut(&key) {
                let mbid_ok = t.mbid.is_none() || !e.has_mbid;
                let spotify_ok = t.spotify_uri.is_none() || !e.has_spotify;
                if mbid_ok && spotify_ok {
                    if let Some(m) = &t.mbid {
                        conn.prepare_cached("UPDATE songs SET mbid = ?1 WHERE id = ?2")?.execute(params![m, e.id])?;
                        e.has_mbid = true;
                        self.song_mbid.insert(m.clone(), e.id);
                    }
                    if let Some(s) = &t.spotify_uri {
                        conn.prepare_cached("UPDATE songs SET spotify_uri = ?1 WHERE id = ?2")?
                            .execute(params![s, e.id])?;
                        e.has_spotify = true;
                        self.song_spotify.insert(s.clone(), e.id);
                    }
                    return Ok((e.id, false));
                }
            }
        }
        let artist_id = self.artist(conn, &t.artist)?;
        let title = match (t.title.trim(), &t.ext_key) {
            ("", Some(x)) => x.split_once(':').map_or(x.as_str(), |(_, v)| v).to_string(),
            (title, _) => title.to_string(),
        };
        conn.prepare_cached(
            "INSERT INTO songs (artist_id, title, norm_key, mbid, spotify_uri, ext_key, release)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![artist_id, title, key, t.mbid, t.spotify_uri, t.ext_key, t.release])?;
        let id = conn.last_insert_rowid();
        if let Some(m) = &t.mbid {
            self.song_mbid.insert(m.clone(), id);
        }
        if let Some(s) = &t.spotify_uri {
            self.song_spotify.insert(s.clone(), id);
        }
        if let Some(x) = &t.ext_key {
            self.song_ext.insert(x.clone(), id);
        }
        if !key.is_empty() {
            let e = NameEntry { id, has_mbid: t.mbid.is_some(), has_spotify: t.spotify_uri.is_some() };
            self.song_norm.entry(key).or_insert(e);
        }
        Ok((id, true))
    }
}

/// Looks up a song's artist id.
pub(crate) fn song_artist(conn: &Connection, song: i64) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT artist_id FROM songs WHERE id = ?1")?
        .query_row([song], |r| r.get::<_, Option<i64>>(0))
        .optional()?
        .flatten())
}
