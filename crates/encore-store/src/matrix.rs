//! Building the interaction matrices the models train on, and summary
//! statistics.

use encore_types::{Interactions, InteractionsBuilder, SHORT_PLAY_MS};
use serde::{Deserialize, Serialize};

use crate::{Result, Store};

/// A histogram with power-of-two buckets: `1`, `2`, `3–4`, `5–8`, …
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// Bucket labels, e.g. `"5-8"`.
    pub buckets: Vec<String>,
    /// Entries per bucket.
    pub counts: Vec<u64>,
}

impl Histogram {
    fn from_values(values: impl Iterator<Item = u64>) -> Histogram {
        let mut counts: Vec<u64> = Vec::new();
        for v in values.filter(|&v| v > 0) {
            let b = (64 - (v - 1).leading_zeros()) as usize; // 1→0, 2→1, 3..4→2, 5..8→3
            if counts.len() <= b {
                counts.resize(b + 1, 0);
            }
            counts[b] += 1;
        }
        let buckets = (0..counts.len())
            .map(|b| match b {
                0 => "1".to_string(),
                1 => "2".to_string(),
                _ => format!("{}-{}", (1u64 << (b - 1)) + 1, 1u64 << b),
            })
            .collect();
        Histogram { buckets, counts }
    }
}

/// Statistics of one interaction matrix.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MatrixStats {
    /// Rows.
    pub users: usize,
    /// Columns.
    pub items: usize,
    /// Stored (user, item) pairs.
    pub nnz: usize,
    /// `nnz / (users × items)`.
    pub density: f64,
    /// Sum of full plays.
    pub plays: f64,
    /// Sum of skips and short plays.
    pub skips: u64,
    /// Distribution of full plays per (user, item) pair.
    pub plays_per_pair: Histogram,
    /// Distribution of distinct items per user.
    pub items_per_user: Histogram,
    /// Distribution of distinct users per item.
    pub users_per_item: Histogram,
}

impl MatrixStats {
    /// Computes the statistics of `m`.
    pub fn of(m: &Interactions) -> MatrixStats {
        let mut per_item = vec![0u64; m.n_items()];
        for &i in &m.indices {
            per_item[i as usize] += 1;
        }
        MatrixStats {
            users: m.n_users(),
            items: m.n_items(),
            nnz: m.nnz(),
            density: m.density(),
            plays: m.plays.iter().map(|&p| p as f64).sum(),
            skips: m.skips.iter().map(|&s| s as u64).sum(),
            plays_per_pair: Histogram::from_values(m.plays.iter().map(|&p| p.round() as u64)),
            items_per_user: Histogram::from_values(m.indptr.windows(2).map(|w| (w[1] - w[0]) as u64)),
            users_per_item: Histogram::from_values(per_item.into_iter()),
        }
    }
}

/// What `encore stats` reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoreStats {
    /// Users in the store.
    pub users: u64,
    /// Songs in the catalog.
    pub songs: u64,
    /// Artists in the catalog.
    pub artists: u64,
    /// Listen events.
    pub listens: u64,
    /// Listen events that were skips or short plays.
    pub skipped_listens: u64,
    /// Aggregate (user, song) play-count rows.
    pub song_count_rows: u64,
    /// Aggregate (user, artist) play-count rows.
    pub artist_count_rows: u64,
    /// Finished imports.
    pub imports: u64,
    /// The users × songs matrix.
    pub songs_matrix: MatrixStats,
    /// The users × artists matrix.
    pub artists_matrix: MatrixStats,
}

fn count(store: &Store, sql: &str) -> Result<u64> {
    Ok(store.conn.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64)
}

/// Dense index of store ids `1..=max`; ids from SQLite's rowid are dense
/// unless rows were deleted, and gaps only cost unused slots.
struct IdIndex {
    ids: Vec<i64>,
    pos: Vec<u32>,
}

impl IdIndex {
    fn load(store: &Store, table: &str) -> Result<IdIndex> {
        let mut st = store.conn.prepare(&format!("SELECT id FROM {table} ORDER BY id"))?;
        let ids: Vec<i64> = st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        let max = ids.last().copied().unwrap_or(0).max(0) as usize;
        let mut pos = vec![u32::MAX; max + 1];
        for (k, &id) in ids.iter().enumerate() {
            pos[id as usize] = k as u32;
        }
        Ok(IdIndex { ids, pos })
    }

    fn get(&self, id: i64) -> u32 {
        self.pos.get(id as usize).copied().unwrap_or(u32::MAX)
    }
}

type Entry = (u32, f32, u32, i64);

/// The skip rule, in SQL over `listens`: a listen is a skip (not a full
/// play) when it was skipped or played shorter than [`SHORT_PLAY_MS`]. The
/// one place the rule is written; every query below uses it.
fn skip_sql() -> String {
    format!("(coalesce(skipped, 0) = 1 OR coalesce(ms_played, {SHORT_PLAY_MS}) < {SHORT_PLAY_MS})")
}

/// `(user, (column, full play, skip, time))` of a listen row selected as
/// `user, column, ts, is_skip`.
fn listen_entry(r: &rusqlite::Row<'_>, index: &IdIndex) -> rusqlite::Result<(i64, Entry)> {
    let skip: bool = r.get(3)?;
    Ok((r.get::<_, i64>(0)?, (index.get(r.get(1)?), (!skip) as u8 as f32, skip as u32, r.get(2)?)))
}

/// A stream of `(user id, entry)` rows ordered by user id.
type Source<'a> = Box<dyn Iterator<Item = Result<(i64, Entry)>> + 'a>;

/// Streams `(user_id, entry)` rows of several queries ordered by user id and
/// merges them into CSR rows.
fn build(users: &IdIndex, items: Vec<i64>, sources: &mut [Source<'_>]) -> Result<Interactions> {
    let mut b = InteractionsBuilder::new(users.ids.clone(), items);
    let mut heads: Vec<Option<(i64, Entry)>> = Vec::with_capacity(sources.len());
    for s in sources.iter_mut() {
        heads.push(s.next().transpose()?);
    }
    let mut row: Vec<Entry> = Vec::new();
    let mut next_row = 0usize;
    while let Some(user) = heads.iter().flatten().map(|h| h.0).min() {
        row.clear();
        for (k, s) in sources.iter_mut().enumerate() {
            while let Some((u, e)) = heads[k] {
                if u != user {
                    break;
                }
                if e.0 != u32::MAX {
                    row.push(e);
                }
                heads[k] = s.next().transpose()?;
            }
        }
        let r = users.get(user) as usize;
        if r == u32::MAX as usize {
            continue;
        }
        while next_row < r {
            b.push_row(&[]);
            next_row += 1;
        }
        b.push_row(&row);
        next_row += 1;
    }
    Ok(b.finish())
}

/// What the users × songs matrix was read from, in four numbers read
/// without reading the matrix: two equal stamps mean [`Store::interactions`]
/// would read the same matrix. Listens are only ever inserted (a duplicate
/// is ignored, nothing updates or deletes one), so their count changes with
/// every change; a song count is inserted or updated by an import, which
/// either adds to its plays (the same import) or stamps it with a newer
/// import id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListensStamp {
    /// Listen events.
    pub listens: i64,
    /// Aggregate song counts.
    pub song_counts: i64,
    /// Their plays, summed.
    pub song_count_plays: i64,
    /// The newest import that wrote one.
    pub song_count_import: i64,
}

impl Store {
    /// The [`ListensStamp`] of the matrix now (one count over the listens:
    /// ~20–70 ms for 2.5M of them, against ~1–1.6 s to read them).
    pub fn listens_stamp(&self) -> Result<ListensStamp> {
        Ok(self.conn.query_row(
            "SELECT (SELECT count(*) FROM listens), count(*), coalesce(sum(plays), 0), coalesce(max(import_id), 0)
             FROM song_counts",
            [],
            |r| {
                Ok(ListensStamp {
                    listens: r.get(0)?,
                    song_counts: r.get(1)?,
                    song_count_plays: r.get(2)?,
                    song_count_import: r.get(3)?,
                })
            },
        )?)
    }

    /// The users × songs matrix: listen events (full plays counted as plays,
    /// skips and plays shorter than [`SHORT_PLAY_MS`] as skips) plus
    /// aggregate song counts. Every user and every song of the catalog has a
    /// row or column, songs without plays included.
    pub fn interactions(&self) -> Result<Interactions> {
        let users = IdIndex::load(self, "users")?;
        let songs = IdIndex::load(self, "songs")?;
        let mut listens =
            self.conn.prepare(&format!("SELECT user_id, song_id, ts, {} FROM listens ORDER BY user_id", skip_sql()))?;
        let mut counts = self
            .conn
            .prepare("SELECT user_id, song_id, plays, coalesce(last_ts, 0) FROM song_counts ORDER BY user_id")?;
        let l = listens.query_map([], |r| listen_entry(r, &songs))?;
        let c = counts.query_map([], |r| {
            Ok((r.get::<_, i64>(0)?, (songs.get(r.get(1)?), r.get::<_, i64>(2)? as f32, 0, r.get::<_, i64>(3)?)))
        })?;
        let mut sources: Vec<Source<'_>> =
            vec![Box::new(l.map(|r| r.map_err(Into::into))), Box::new(c.map(|r| r.map_err(Into::into)))];
        build(&users, songs.ids.clone(), &mut sources)
    }

    /// The users × artists matrix: listen events rolled up to their songs'
    /// artists, aggregate song counts likewise, plus artist-level counts.
    pub fn artist_interactions(&self) -> Result<Interactions> {
        let users = IdIndex::load(self, "users")?;
        let artists = IdIndex::load(self, "artists")?;
        let mut listens = self.conn.prepare(&format!(
            "SELECT l.user_id, s.artist_id, l.ts, {} FROM listens l
             JOIN songs s ON s.id = l.song_id WHERE s.artist_id IS NOT NULL ORDER BY l.user_id",
            skip_sql()
        ))?;
        let mut song_counts = self.conn.prepare(
            "SELECT c.user_id, s.artist_id, c.plays FROM song_counts c JOIN songs s ON s.id = c.song_id
             WHERE s.artist_id IS NOT NULL ORDER BY c.user_id",
        )?;
        let mut artist_counts =
            self.conn.prepare("SELECT user_id, artist_id, plays FROM artist_counts ORDER BY user_id")?;
        let l = listens.query_map([], |r| listen_entry(r, &artists))?;
        let agg = |r: &rusqlite::Row<'_>| -> rusqlite::Result<(i64, Entry)> {
            Ok((r.get::<_, i64>(0)?, (artists.get(r.get(1)?), r.get::<_, i64>(2)? as f32, 0, 0)))
        };
        let sc = song_counts.query_map([], agg)?;
        let ac = artist_counts.query_map([], agg)?;
        let mut sources: Vec<Source<'_>> = vec![
            Box::new(l.map(|r| r.map_err(Into::into))),
            Box::new(sc.map(|r| r.map_err(Into::into))),
            Box::new(ac.map(|r| r.map_err(Into::into))),
        ];
        build(&users, artists.ids.clone(), &mut sources)
    }

    /// Counts and matrix statistics for `encore stats`.
    pub fn stats(&self) -> Result<StoreStats> {
        Ok(StoreStats {
            users: count(self, "SELECT count(*) FROM users")?,
            songs: count(self, "SELECT count(*) FROM songs")?,
            artists: count(self, "SELECT count(*) FROM artists")?,
            listens: count(self, "SELECT count(*) FROM listens")?,
            skipped_listens: count(self, &format!("SELECT count(*) FROM listens WHERE {}", skip_sql()))?,
            song_count_rows: count(self, "SELECT count(*) FROM song_counts")?,
            artist_count_rows: count(self, "SELECT count(*) FROM artist_counts")?,
            imports: count(self, "SELECT count(*) FROM imports WHERE status IN ('done', 'cut')")?,
            songs_matrix: MatrixStats::of(&self.interactions()?),
            artists_matrix: MatrixStats::of(&self.artist_interactions()?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_powers_of_two() {
        let h = Histogram::from_values([1, 1, 2, 3, 4, 5, 9, 0].into_iter());
        assert_eq!(h.buckets, vec!["1", "2", "3-4", "5-8", "9-16"]);
        assert_eq!(h.counts, vec![2, 1, 2, 1, 1]);
    }
}

/// A song with its artist, for display.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SongInfo {
    /// Store id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Artist name, if known.
    pub artist: Option<String>,
    /// Artist id, if known.
    pub artist_id: Option<i64>,
    /// Genre, if known.
    pub genre: Option<String>,
}

/// One song of a user's history: full plays, skips, latest play.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Song store id.
    pub song_id: i64,
    /// Full plays (including aggregate counts).
    pub plays: f32,
    /// Skips and short plays.
    pub skips: u32,
    /// Latest event time, Unix seconds, 0 if unknown.
    pub last_played: i64,
}

impl Store {
    /// The store id of the user called `name`.
    pub fn user_id(&self, name: &str) -> Result<Option<i64>> {
        use rusqlite::OptionalExtension;
        Ok(self.conn.query_row("SELECT id FROM users WHERE name = ?1", [name], |r| r.get(0)).optional()?)
    }

    /// Every user as (id, name), by id.
    pub fn user_names(&self) -> Result<Vec<(i64, String)>> {
        let mut st = self.conn.prepare("SELECT id, name FROM users ORDER BY id")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The name of user `id`.
    pub fn user_name(&self, id: i64) -> Result<Option<String>> {
        use rusqlite::OptionalExtension;
        Ok(self.conn.query_row("SELECT name FROM users WHERE id = ?1", [id], |r| r.get(0)).optional()?)
    }

    /// Display information of the given songs, in the given order; unknown
    /// ids are left out.
    pub fn songs(&self, ids: &[i64]) -> Result<Vec<SongInfo>> {
        self.rows_by_id(
            "SELECT s.id, s.title, a.name, s.artist_id, coalesce(s.genre, a.genre) FROM songs s
             LEFT JOIN artists a ON a.id = s.artist_id WHERE s.id = ?1",
            ids,
            |r| {
                Ok(SongInfo {
                    id: r.get(0)?,
                    title: r.get(1)?,
                    artist: r.get(2)?,
                    artist_id: r.get(3)?,
                    genre: r.get(4)?,
                })
            },
        )
    }

    /// Runs `sql` (one `?1`, the id) for each of `ids` in order and maps the
    /// row found with `row`; ids without a row are left out.
    pub(crate) fn rows_by_id<T>(
        &self,
        sql: &str,
        ids: &[i64],
        row: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        let mut st = self.conn.prepare_cached(sql)?;
        let mut out = Vec::with_capacity(ids.len());
        for &id in ids {
            let mut rows = st.query([id])?;
            if let Some(r) = rows.next()? {
                out.push(row(r)?);
            }
        }
        Ok(out)
    }

    /// User `id`'s songs with full plays, skips (the rule of
    /// [`Store::interactions`]) and latest play, by song id, with the
    /// user's feedback folded in ([`LOVE_PLAYS`](crate::LOVE_PLAYS), [`HATE_SKIPS`](crate::HATE_SKIPS)).
    pub fn user_history(&self, id: i64) -> Result<Vec<HistoryEntry>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT song_id,
                    sum(CASE WHEN {skip} THEN 0 ELSE 1 END),
                    sum(CASE WHEN {skip} THEN 1 ELSE 0 END),
                    max(ts)
             FROM listens WHERE user_id = ?1 GROUP BY song_id
             UNION ALL
             SELECT song_id, plays, 0, coalesce(last_ts, 0) FROM song_counts WHERE user_id = ?1",
            skip = skip_sql()
        ))?;
        let mut merged: std::collections::BTreeMap<i64, HistoryEntry> = Default::default();
        let mut rows = st.query([id])?;
        while let Some(r) = rows.next()? {
            let song_id: i64 = r.get(0)?;
            let e = merged.entry(song_id).or_insert(HistoryEntry { song_id, plays: 0.0, skips: 0, last_played: 0 });
            e.plays += r.get::<_, i64>(1)? as f32;
            e.skips += r.get::<_, i64>(2)? as u32;
            e.last_played = e.last_played.max(r.get(3)?);
        }
        // Feedback is the strongest signal there is: a loved song counts
        // as many more plays, a hated one as never liked.
        for (song_id, score, ts) in self.feedback(id)? {
            let e = merged.entry(song_id).or_insert(HistoryEntry { song_id, plays: 0.0, skips: 0, last_played: 0 });
            if score > 0 {
                e.plays += crate::accounts::LOVE_PLAYS;
                e.last_played = e.last_played.max(ts);
            } else {
                e.plays = 0.0;
                e.skips += crate::accounts::HATE_SKIPS;
            }
        }
        Ok(merged.into_values().collect())
    }
}
