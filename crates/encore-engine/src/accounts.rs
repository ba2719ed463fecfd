//! Listeners as a listen API sees them: accounts with their own tokens
//! (stored as SHA-256 hashes, shown once), listens that arrive as tracks
//! with MusicBrainz ids, loved and hated songs, the listen log read back,
//! and recommendations named by recording MBID.

use encore_store::Store;
use encore_types::{Record, TrackRef};
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use encore_store::ListenRow;

use crate::{now, write_listens, Engine, EngineError, ListensStored, Query, Result};

/// One listen of a track, as a scrobbling client sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackListen {
    /// When the play started, Unix seconds.
    pub ts: i64,
    /// The track (artist, title, release, MusicBrainz ids).
    pub track: TrackRef,
    /// How long it played, if the client says.
    pub ms_played: Option<u32>,
}

/// One recommended recording.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordingPick {
    /// Store id.
    pub song_id: i64,
    /// MusicBrainz recording id, where known.
    pub recording_mbid: Option<String>,
    /// Fused score.
    pub score: f32,
    /// Artist name.
    pub artist: Option<String>,
    /// Title.
    pub title: String,
}

/// The SHA-256 of a token, as stored.
fn token_hash(token: &str) -> String {
    Sha256::digest(token.trim().as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// A fresh random token shaped like a UUID (4), as ListenBrainz's are.
fn new_token() -> Result<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| EngineError::Randomness(e.to_string()))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..]))
}

/// Creates the listener `name` (if new) and gives them a new token, which
/// replaces any token they had. The token is returned once; only its hash
/// is stored. With `must_exist`, an unknown name is an error.
pub fn issue_token(store: &mut Store, name: &str, must_exist: bool) -> Result<(i64, String)> {
    let name = name.trim();
    if name.is_empty() || name.len() > 256 {
        return Err(EngineError::BadRequest("a user name is 1 to 256 bytes".into()));
    }
    let token = new_token()?;
    let id = match store.user_id(name)? {
        Some(id) => id,
        None if must_exist => return Err(EngineError::NotFound(format!("no user called {name:?}"))),
        None => store.ensure_user(name)?.0,
    };
    store.set_token(id, &token_hash(&token), now())?;
    Ok((id, token))
}

impl Engine {
    /// [`issue_token`] on the engine's store.
    pub fn issue_token(&self, name: &str, must_exist: bool) -> Result<(i64, String)> {
        self.with_store(|s| issue_token(s, name, must_exist))
    }

    /// The listener (id, name) a token belongs to.
    pub fn token_user(&self, token: &str) -> Result<Option<(i64, String)>> {
        let h = token_hash(token);
        self.with_store(|s| Ok(s.user_by_token(&h)?))
    }

    /// Stores `user`'s listens (matched and created like an import) in one
    /// durable write; the next recommendation folds them in.
    pub fn add_track_listens(&self, user: &str, listens: &[TrackListen], source: &str) -> Result<ListensStored> {
        let now = now();
        for (k, l) in listens.iter().enumerate() {
            encore_types::check_listen_time(l.ts, now)
                .map_err(|m| EngineError::BadRequest(format!("listen {k}: {m}")))?;
        }
        let records: Vec<Record> = listens
            .iter()
            .map(|l| Record::Listen {
                user: user.to_string(),
                ts: l.ts,
                track: l.track.clone(),
                ms_played: l.ms_played,
                skipped: None,
            })
            .collect();
        self.with_store(|s| write_listens(s, &records, source))
    }

    /// Records `user`'s feedback on song `song`: 1 love, −1 hate, 0 take
    /// back. Loved songs weigh like many plays in the user's profile; hated
    /// ones are never recommended.
    pub fn set_feedback(&self, user: i64, song: i64, score: i8) -> Result<()> {
        if !(-1..=1).contains(&score) {
            return Err(EngineError::BadRequest(format!("score must be 1, 0 or -1, got {score}")));
        }
        self.with_store(|s| {
            if s.songs(&[song])?.is_empty() {
                return Err(EngineError::NotFound(format!("no song with id {song}")));
            }
            s.user_name(user)?.ok_or_else(|| EngineError::NotFound(format!("no user with id {user}")))?;
            Ok(s.set_feedback(user, song, score, now())?)
        })
    }

    /// `user`'s loved (1) and hated (−1) songs as (song id, score, time),
    /// newest first.
    pub fn feedback(&self, user: i64) -> Result<Vec<(i64, i8, i64)>> {
        self.with_store(|s| Ok(s.feedback(user)?))
    }

    /// The song with MusicBrainz recording id `mbid`.
    pub fn song_by_mbid(&self, mbid: &str) -> Result<Option<i64>> {
        self.with_store(|s| Ok(s.song_by_mbid(mbid)?))
    }

    /// The MusicBrainz recording ids of `ids`, in order (`None` where
    /// unknown).
    pub fn song_mbids(&self, ids: &[i64]) -> Result<Vec<Option<String>>> {
        self.with_store(|s| Ok(s.song_mbids(ids)?))
    }

    /// How many listens `user` has.
    pub fn listen_count(&self, user: i64) -> Result<u64> {
        self.with_store(|s| Ok(s.listen_count(user)?))
    }

    /// Up to `count` of `user`'s listens between the bounds, newest first.
    pub fn user_listens(
        &self,
        user: i64,
        max_ts: Option<i64>,
        min_ts: Option<i64>,
        count: usize,
    ) -> Result<Vec<ListenRow>> {
        self.with_store(|s| Ok(s.user_listens(user, max_ts, min_ts, count)?))
    }

    /// `count` recommendations for `user` after the first `offset`, with
    /// their recording MBIDs where known.
    pub fn recommend_recordings(&self, user: i64, count: usize, offset: usize) -> Result<Vec<RecordingPick>> {
        let q = Query { n: Some(count + offset), ..Query::default() };
        let r = self.recommend(user, &q)?;
        let items: Vec<_> = r.items.into_iter().skip(offset).collect();
        let ids: Vec<i64> = items.iter().map(|it| it.song_id).collect();
        let mbids = self.with_store(|s| Ok(s.song_mbids(&ids)?))?;
        Ok(items
            .into_iter()
            .zip(mbids)
            .map(|(it, recording_mbid)| RecordingPick {
                song_id: it.song_id,
                recording_mbid,
                score: it.score,
                artist: it.artist,
                title: it.title,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_look_like_uuids_and_hash_stably() {
        let t = new_token().unwrap();
        assert_eq!(t.len(), 36);
        assert_eq!(t.as_bytes()[14], b'4');
        assert_ne!(t, new_token().unwrap());
        assert_eq!(token_hash(&t), token_hash(&format!(" {t} ")));
        assert_eq!(token_hash("abc").len(), 64);
    }
}
