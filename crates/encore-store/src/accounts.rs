//! Listener accounts: per-user API tokens (kept only as hashes), loved and
//! hated songs, and the listen log read back in time order (what the
//! ListenBrainz-compatible API answers with).

use rusqlite::OptionalExtension;
use serde::Serialize;

use crate::{Result, Store};

/// Plays a loved song counts as in a listener's history, on top of its real
/// plays: enough to make it one of their strongest songs.
pub const LOVE_PLAYS: f32 = 10.0;

/// Skips a hated song counts as: enough that no number of plays makes it
/// liked again, and it stays in the history, so it is never recommended.
pub const HATE_SKIPS: u32 = 1_000;

/// One listen event read back, with its song named.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListenRow {
    /// When it started, Unix seconds.
    pub ts: i64,
    /// Song store id.
    pub song_id: i64,
    /// Title.
    pub title: String,
    /// Artist name, if known.
    pub artist: Option<String>,
    /// Release (album), if known.
    pub release: Option<String>,
    /// MusicBrainz recording id, if known.
    pub mbid: Option<String>,
    /// How long it played, if known.
    pub ms_played: Option<i64>,
    /// Whether it was skipped, if known.
    pub skipped: Option<bool>,
}

impl Store {
    /// Creates the user `name` if there is none; returns its id and whether
    /// it was created.
    pub fn ensure_user(&mut self, name: &str) -> Result<(i64, bool)> {
        if let Some(id) = self.user_id(name)? {
            return Ok((id, false));
        }
        self.conn.execute("INSERT INTO users (name) VALUES (?1)", [name])?;
        Ok((self.conn.last_insert_rowid(), true))
    }

    /// Up to `n` users whose name contains `q` (ASCII letters in any
    /// case), as (id, name), shortest names first.
    pub fn users_matching(&self, q: &str, n: usize) -> Result<Vec<(i64, String)>> {
        let pattern = format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        let mut st = self.conn.prepare_cached(
            "SELECT id, name FROM users WHERE name LIKE ?1 ESCAPE '\\' ORDER BY length(name), name LIMIT ?2",
        )?;
        let rows = st.query_map((pattern, n as i64), |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Gives user `user` the token whose hash is `hash`, replacing the one
    /// it had (a user has one token at a time).
    pub fn set_token(&mut self, user: i64, hash: &str, now: i64) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM user_tokens WHERE user_id = ?1", [user])?;
        tx.execute("INSERT INTO user_tokens (hash, user_id, created) VALUES (?1, ?2, ?3)", (hash, user, now))?;
        tx.commit()?;
        Ok(())
    }

    /// The user (id, name) whose token hashes to `hash`.
    pub fn user_by_token(&self, hash: &str) -> Result<Option<(i64, String)>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT u.id, u.name FROM user_tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ?1",
            )?
            .query_row([hash], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    /// Records `user`'s feedback on `song`: 1 loved, −1 hated, 0 takes the
    /// feedback back.
    pub fn set_feedback(&mut self, user: i64, song: i64, score: i8, now: i64) -> Result<()> {
        if score == 0 {
            self.conn.execute("DELETE FROM feedback WHERE user_id = ?1 AND song_id = ?2", [user, song])?;
        } else {
            self.conn.execute(
                "INSERT INTO feedback (user_id, song_id, score, ts) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (user_id, song_id) DO UPDATE SET score = excluded.score, ts = excluded.ts",
                (user, song, score.signum(), now),
            )?;
        }
        Ok(())
    }

    /// `user`'s feedback as (song id, score, time), newest first.
    pub fn feedback(&self, user: i64) -> Result<Vec<(i64, i8, i64)>> {
        let mut st =
            self.conn.prepare_cached("SELECT song_id, score, ts FROM feedback WHERE user_id = ?1 ORDER BY ts DESC")?;
        let rows = st.query_map([user], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The song with MusicBrainz recording id `mbid`.
    pub fn song_by_mbid(&self, mbid: &str) -> Result<Option<i64>> {
        Ok(self.conn.query_row("SELECT id FROM songs WHERE mbid = ?1", [mbid], |r| r.get(0)).optional()?)
    }

    /// The MusicBrainz recording ids of `ids`, in order (`None` where
    /// unknown or no such song).
    pub fn song_mbids(&self, ids: &[i64]) -> Result<Vec<Option<String>>> {
        let mut st = self.conn.prepare_cached("SELECT mbid FROM songs WHERE id = ?1")?;
        ids.iter().map(|&id| Ok(st.query_row([id], |r| r.get::<_, Option<String>>(0)).optional()?.flatten())).collect()
    }

    /// How many listen events `user` has, plus the plays of aggregate
    /// counts.
    pub fn listen_count(&self, user: i64) -> Result<u64> {
        let n: i64 = self.conn.query_row(
            "SELECT (SELECT count(*) FROM listens WHERE user_id = ?1)
                  + (SELECT coalesce(sum(plays), 0) FROM song_counts WHERE user_id = ?1)",
            [user],
            |r| r.get(0),
        )?;
        Ok(n.max(0) as u64)
    }

    /// Up to `count` of `user`'s listens with `min_ts < ts < max_ts`
    /// (either bound optional), newest first — or the oldest ones after
    /// `min_ts` when only `min_ts` is given, as ListenBrainz pages.
    pub fn user_listens(
        &self,
        user: i64,
        max_ts: Option<i64>,
        min_ts: Option<i64>,
        count: usize,
    ) -> Result<Vec<ListenRow>> {
        let order = if min_ts.is_some() && max_ts.is_none() { "ASC" } else { "DESC" };
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT l.ts, l.song_id, s.title, a.name, s.release, s.mbid, l.ms_played, l.skipped
             FROM listens l JOIN songs s ON s.id = l.song_id LEFT JOIN artists a ON a.id = s.artist_id
             WHERE l.user_id = ?1 AND l.ts < ?2 AND l.ts > ?3
             ORDER BY l.ts {order} LIMIT ?4"
        ))?;
        let rows = st.query_map((user, max_ts.unwrap_or(i64::MAX), min_ts.unwrap_or(i64::MIN), count as i64), |r| {
            Ok(ListenRow {
                ts: r.get(0)?,
                song_id: r.get(1)?,
                title: r.get(2)?,
                artist: r.get(3)?,
                release: r.get(4)?,
                mbid: r.get(5)?,
                ms_played: r.get(6)?,
                skipped: r.get::<_, Option<i64>>(7)?.map(|s| s != 0),
            })
        })?;
        let mut out: Vec<ListenRow> = rows.collect::<rusqlite::Result<_>>()?;
        if order == "ASC" {
            out.reverse();
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_replace_each_other_and_feedback_bends_the_history() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let (ana, created) = store.ensure_user("ana").unwrap();
        assert!(created);
        assert_eq!(store.ensure_user("ana").unwrap(), (ana, false));
        store.ensure_user("Anastasia").unwrap();
        store.ensure_user("100%_real").unwrap();
        let names = |q: &str| store.users_matching(q, 10).unwrap().into_iter().map(|u| u.1).collect::<Vec<_>>();
        assert_eq!(names("ANA"), ["ana", "Anastasia"]);
        assert_eq!(names("%_"), ["100%_real"]);
        assert!(names("_x").is_empty(), "wildcards are literal");
        store.set_token(ana, "h1", 1).unwrap();
        assert_eq!(store.user_by_token("h1").unwrap(), Some((ana, "ana".to_string())));
        store.set_token(ana, "h2", 2).unwrap();
        assert_eq!(store.user_by_token("h1").unwrap(), None, "a new token revokes the old one");
        assert!(store.user_by_token("h2").unwrap().is_some());

        store.conn.execute("INSERT INTO songs (id, title, norm_key) VALUES (7, 'x', 'x'), (8, 'y', 'y')", []).unwrap();
        store.conn.execute("INSERT INTO listens VALUES (?1, 100, 7, NULL, NULL)", [ana]).unwrap();
        store.set_feedback(ana, 7, 1, 200).unwrap();
        store.set_feedback(ana, 8, -1, 300).unwrap();
        let h = store.user_history(ana).unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!((h[0].song_id, h[0].plays, h[0].last_played), (7, 1.0 + LOVE_PLAYS, 200));
        assert_eq!((h[1].song_id, h[1].plays, h[1].skips), (8, 0.0, HATE_SKIPS));
        store.set_feedback(ana, 8, 0, 400).unwrap();
        assert_eq!(store.user_history(ana).unwrap().len(), 1, "score 0 takes the feedback back");
        assert_eq!(store.listen_count(ana).unwrap(), 1);
        assert_eq!(store.user_listens(ana, None, None, 10).unwrap()[0].title, "x");
        assert!(store.user_listens(ana, Some(100), None, 10).unwrap().is_empty());
    }
}
