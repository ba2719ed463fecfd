//! How many people listen to each song: the one thing a model load needs
//! from the whole users × songs matrix. Reading the matrix is most of a
//! load (1.0–1.6 s of 2.5M listens), so the counts are kept in the data
//! directory under the [`ListensStamp`] they were counted at, and a load
//! whose stamp matches reads them instead (a few ms). Any change to the
//! listening data changes the stamp, and the next load counts again.

use std::path::Path;

use encore_store::{ListensStamp, Store};
use encore_types::Interactions;

use crate::Result;

/// Where the counts are kept, under the data directory.
pub const LISTENERS_CACHE: &str = "cache/listeners.bin";

const MAGIC: &[u8; 8] = b"ENCLIS01";

/// Distinct listeners (positive preference) per song id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listeners {
    /// Song store ids, ascending.
    pub song_ids: Vec<i64>,
    /// Listeners of each.
    pub counts: Vec<u32>,
}

/// Distinct listeners (positive preference) of each column of `m`.
pub fn listeners(m: &Interactions) -> Vec<usize> {
    let mut n = vec![0usize; m.n_items()];
    for u in 0..m.n_users() {
        let r = m.row(u);
        for k in 0..r.indices.len() {
            if r.plays[k] - 0.5 * r.skips[k] as f32 > 0.0 {
                n[r.indices[k] as usize] += 1;
            }
        }
    }
    n
}

impl Listeners {
    /// Counts the listeners of every column of `m`.
    pub fn of(m: &Interactions) -> Listeners {
        let counts = listeners(m).into_iter().map(|c| c as u32).collect();
        Listeners { song_ids: m.item_ids.clone(), counts }
    }

    /// Listeners of the store's matrix now: the kept counts when they were
    /// counted at the store's current stamp, else counted from the matrix
    /// (and kept for the next load; a failure to keep them is logged, not
    /// an error).
    pub fn of_store(store: &Store) -> Result<Listeners> {
        let stamp = store.listens_stamp()?;
        let path = store.dir().join(LISTENERS_CACHE);
        if let Some(l) = read(&path, &stamp) {
            return Ok(l);
        }
        let l = Listeners::of(&store.interactions()?);
        if let Err(e) = write(&path, &stamp, &l) {
            tracing::warn!("{}: listener counts not kept ({e})", path.display());
        }
        Ok(l)
    }

    /// Iterates `(song id, listeners)`.
    pub fn iter(&self) -> impl Iterator<Item = (i64, u32)> + '_ {
        self.song_ids.iter().copied().zip(self.counts.iter().copied())
    }
}

fn stamp_bytes(s: &ListensStamp) -> [u8; 32] {
    let mut b = [0u8; 32];
    for (k, v) in [s.listens, s.song_counts, s.song_count_plays, s.song_count_import].into_iter().enumerate() {
        b[k * 8..k * 8 + 8].copy_from_slice(&v.to_le_bytes());
    }
    b
}

/// The kept counts if they were counted at `stamp` and read whole.
fn read(path: &Path, stamp: &ListensStamp) -> Option<Listeners> {
    let b = std::fs::read(path).ok()?;
    let head = 8 + 32 + 8;
    if b.len() < head || &b[..8] != MAGIC || b[8..40] != stamp_bytes(stamp) {
        return None;
    }
    let n = u64::from_le_bytes(b[40..48].try_into().ok()?) as usize;
    if b.len() != head + n.checked_mul(12)? {
        tracing::warn!("{}: kept listener counts are cut off; counting again", path.display());
        return None;
    }
    let mut l = Listeners { song_ids: Vec::with_capacity(n), counts: Vec::with_capacity(n) };
    for row in b[head..].chunks_exact(12) {
        l.song_ids.push(i64::from_le_bytes(row[..8].try_into().ok()?));
        l.counts.push(u32::from_le_bytes(row[8..].try_into().ok()?));
    }
    Some(l)
}

/// Writes the counts beside `path` and renames them into place, so a
/// reader sees the old file or the new one, never half of one.
fn write(path: &Path, stamp: &ListensStamp, l: &Listeners) -> std::io::Result<()> {
    let mut b = Vec::with_capacity(48 + 12 * l.song_ids.len());
    b.extend_from_slice(MAGIC);
    b.extend_from_slice(&stamp_bytes(stamp));
    b.extend_from_slice(&(l.song_ids.len() as u64).to_le_bytes());
    for (id, c) in l.iter() {
        b.extend_from_slice(&id.to_le_bytes());
        b.extend_from_slice(&c.to_le_bytes());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, &b)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use encore_types::{ArtistRef, Record, TrackRef};

    fn listen(user: &str, song: &str, ts: i64) -> Record {
        Record::Listen {
            user: user.into(),
            ts,
            track: TrackRef {
                artist: ArtistRef { name: "A".into(), mbid: None },
                title: song.into(),
                ..Default::default()
            },
            ms_played: None,
            skipped: None,
        }
    }

    fn import(store: &mut Store, key: &str, records: &[Record]) {
        let encore_store::ImportStart::Fresh(mut s) = store.begin_import(key, "mem", "test").unwrap() else {
            panic!("import {key} ran before")
        };
        for r in records {
            s.write(r).unwrap();
        }
        s.finish(records.len() as u64).unwrap();
    }

    /// Kept counts are used while the listening data stands, counted
    /// again when it changes, and a damaged file is counted again.
    #[test]
    fn kept_counts_follow_the_listening_data() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        import(&mut store, "a", &[listen("u1", "S", 1), listen("u2", "S", 2), listen("u1", "T", 3)]);
        let first = Listeners::of_store(&store).unwrap();
        assert_eq!(first, Listeners::of(&store.interactions().unwrap()));
        let by_song = |l: &Listeners| l.iter().map(|(_, c)| c).collect::<Vec<_>>();
        assert_eq!(by_song(&first), [2, 1]);
        let path = dir.path().join(LISTENERS_CACHE);
        assert!(path.is_file());
        // The kept file is what the next load reads: prove it by planting
        // other counts under the same stamp.
        let planted = Listeners { song_ids: first.song_ids.clone(), counts: vec![7, 9] };
        write(&path, &store.listens_stamp().unwrap(), &planted).unwrap();
        assert_eq!(Listeners::of_store(&store).unwrap(), planted);
        // New listens: a new stamp, counted again.
        import(&mut store, "b", &[listen("u3", "T", 4)]);
        assert_eq!(by_song(&Listeners::of_store(&store).unwrap()), [2, 2]);
        // A cut-off file: counted again, not misread.
        let len = std::fs::metadata(&path).unwrap().len();
        std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(len - 5).unwrap();
        assert_eq!(by_song(&Listeners::of_store(&store).unwrap()), [2, 2]);
    }
}
