//! What the page and the API show of one song: its page (names, audio
//! descriptors, text terms, listeners) and its spectrogram, so that the
//! server reads them from the engine instead of the store and the models.

use encore_text::Entity;
use serde::Serialize;

use crate::{Engine, EngineError, Result};

/// The names of the twelve pitch classes, C first (what a `key` parameter
/// may name).
pub use encore_audio::KEYS;
/// A song as the store names it.
pub use encore_store::SongInfo;

/// One song's page.
#[derive(Debug, Clone, Serialize)]
pub struct SongPage {
    /// Names and ids.
    pub song: SongInfo,
    /// Audio descriptors, if its file was analysed.
    pub descriptors: Option<encore_audio::Descriptors>,
    /// The text model's most telling terms for it, with weights.
    pub terms: Vec<(String, f32)>,
    /// Listeners in the trained matrix.
    pub listeners: f32,
    /// Whether it has a CF vector (trained or predicted from audio).
    pub has_cf_vector: bool,
}

impl Engine {
    /// The page of song `song`.
    pub fn song_page(&self, song: i64) -> Result<SongPage> {
        let m = self.models();
        self.with_store(|store| {
            let info =
                store.songs(&[song])?.pop().ok_or_else(|| EngineError::NotFound(format!("no song with id {song}")))?;
            let descriptors = match store.song_audio_path(song)? {
                Some(p) => crate::audio::descriptors_of(store, &p)?,
                None => None,
            };
            let terms =
                m.text.as_ref().and_then(|t| t.describe(Entity::Song(song), 8)).map(|d| d.terms).unwrap_or_default();
            let k = m.catalog.index(song);
            Ok(SongPage {
                song: info,
                descriptors,
                terms,
                listeners: k.map_or(0.0, |k| m.catalog.listeners[k]),
                has_cf_vector: k.is_some_and(|k| m.hybrid().ok().and_then(|h| h.song_vector(k).map(|_| ())).is_some()),
            })
        })
    }

    /// The first 30 s of song `song`'s audio as a log-mel spectrogram PNG
    /// (64 bands, at most 1300 frames wide). An unreadable file is logged
    /// with its path and answered as `NotFound` without one.
    pub fn spectrogram_png(&self, song: i64) -> Result<Vec<u8>> {
        let path = self.with_store(|store| {
            store.songs(&[song])?.pop().ok_or_else(|| EngineError::NotFound(format!("no song with id {song}")))?;
            store.song_audio_path(song)?.ok_or_else(|| EngineError::NotFound(format!("song {song} has no audio file")))
        })?;
        let path = self.data_dir().join(path);
        let d = encore_audio::decode_head(&path, 30.0).map_err(|err| {
            tracing::warn!("song {song}: {err}");
            EngineError::NotFound(format!("song {song}: its audio file cannot be read"))
        })?;
        Ok(encore_audio::spectrogram_png(&d.samples, 64, 1300))
    }
}

/// One song of a listener's history as the page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryItem {
    /// The song.
    pub song: SongInfo,
    /// Full plays (a loved song's count includes its bonus).
    pub plays: f32,
    /// Skips.
    pub skips: u32,
    /// Latest play, Unix seconds (0: unknown).
    pub last_played: i64,
    /// 1 loved, −1 hated, none.
    pub feedback: Option<i8>,
}

/// A listener's recent history.
#[derive(Debug, Clone, Serialize)]
pub struct History {
    /// Store id.
    pub user_id: i64,
    /// Name.
    pub name: String,
    /// Songs, latest play first.
    pub history: Vec<HistoryItem>,
}

/// A listener as a picker lists them.
#[derive(Debug, Clone, Serialize)]
pub struct UserEntry {
    /// Store id.
    pub user_id: i64,
    /// Name.
    pub name: Option<String>,
}

impl Engine {
    /// The `n` songs `user` played last, with plays, skips and feedback.
    pub fn history(&self, user: i64, n: usize) -> Result<History> {
        self.with_store(|st| {
            let name = st.user_name(user)?.ok_or_else(|| EngineError::NotFound(format!("no user with id {user}")))?;
            let mut h = st.user_history(user)?;
            h.sort_by_key(|x| std::cmp::Reverse(x.last_played));
            h.truncate(n);
            let feedback: std::collections::HashMap<i64, i8> =
                st.feedback(user)?.into_iter().map(|(s, f, _)| (s, f)).collect();
            let mut history = Vec::with_capacity(h.len());
            for x in h {
                // A song gone from the catalog is left out, not misnamed.
                if let Some(song) = st.songs(&[x.song_id])?.pop() {
                    history.push(HistoryItem {
                        song,
                        plays: x.plays,
                        skips: x.skips,
                        last_played: x.last_played,
                        feedback: feedback.get(&x.song_id).copied(),
                    });
                }
            }
            Ok(History { user_id: user, name, history })
        })
    }

    /// Up to `n` listeners: those whose name contains `q` (any case), or
    /// without `q` the first of the trained model's users.
    pub fn users(&self, q: Option<&str>, n: usize) -> Result<Vec<UserEntry>> {
        if let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) {
            let q: String = q.chars().take(256).collect();
            let found = self.with_store(|st| Ok(st.users_matching(&q, n)?))?;
            return Ok(found.into_iter().map(|(user_id, name)| UserEntry { user_id, name: Some(name) }).collect());
        }
        let ids: Vec<i64> = self.models().cf.user_ids().iter().take(n).copied().collect();
        self.with_store(|st| {
            ids.iter().map(|&user_id| Ok(UserEntry { user_id, name: st.user_name(user_id)? })).collect()
        })
    }
}
