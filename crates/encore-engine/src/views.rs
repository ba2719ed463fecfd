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
