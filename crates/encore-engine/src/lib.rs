//! The engine: the one place that opens the current versioned models and
//! answers recommend, discover, similar and explain — for the CLI and the
//! server alike.
//!
//! **Versions.** Each model is an artifact with its own versions (CF, text,
//! audio embeddings, fusion). `encore train all` publishes a *release*: a
//! manifest (artifact kind [`RELEASE_KIND`]) naming one version of each,
//! committed atomically like every artifact. [`Engine::open`] loads the
//! current release (or, before the first release, the current version of
//! each model); [`Engine::reload`] loads the newest release into a new
//! [`Models`] and swaps an `Arc` — requests already running finish on the
//! models they started with, and a half-written version is never visible
//! because it has no `CURRENT` pointer yet.
#![deny(missing_docs)]

pub mod accounts;
pub mod audio;
mod error;
mod gc;
mod listeners;
mod media;
pub mod mixes;
pub mod playlist;
mod release;
mod render;
pub mod views;
mod writes;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use encore_store::Store;

pub use audio::AudioEmbeddings;
pub use error::{EngineError, Result};

/// Bounds and targets on song attributes, as a request gives them.
pub use encore_rank::Tunables;

/// A song or an artist, as the text model knows them.
pub use encore_text::Entity;

pub use gc::{collect_garbage, GcReport, DEFAULT_KEEP};
pub use listeners::{listeners, Listeners, LISTENERS_CACHE};
pub use release::{
    build_catalog, fit_fusion, played, publish_release, row_history, save_fusion, AudioVectors, Candidates,
    FusionConfig, Manifest, Models, FUSION_KIND, RELEASE_KIND,
};
pub use render::{Query, Recommendation, Recommendations, SimilarBy};
pub use writes::{ListenEvent, ListensStored, NewSong, SongAdded};

use release::artifact_tail;
use writes::{now, write_listens};

/// The engine: the store and the current models.
pub struct Engine {
    data_dir: PathBuf,
    candidates: Candidates,
    store: Mutex<Store>,
    models: RwLock<Arc<Models>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("data_dir", &self.data_dir).finish()
    }
}

impl Engine {
    /// Opens the data directory's store and current models.
    pub fn open(data_dir: &Path) -> Result<Engine> {
        Engine::open_with(data_dir, Candidates::default())
    }

    /// [`Engine::open`] with a choice of candidate retrieval (kept across
    /// reloads).
    pub fn open_with(data_dir: &Path, candidates: Candidates) -> Result<Engine> {
        let store = Store::open(data_dir)?;
        let models = Models::load_with(&store, candidates)?;
        Ok(Engine {
            data_dir: data_dir.to_path_buf(),
            candidates,
            store: Mutex::new(store),
            models: RwLock::new(Arc::new(models)),
        })
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The models in use now (callers keep them for a whole request).
    pub fn models(&self) -> Arc<Models> {
        self.models.read().expect("models lock").clone()
    }

    /// Runs `f` with the store (for the engine's own views and writes; a
    /// caller asks the engine's methods instead).
    pub(crate) fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        let mut s = self
            .store
            .lock()
            .map_err(|_| EngineError::Inconsistent("the store lock was poisoned by a panicking request".into()))?;
        f(&mut s)
    }

    /// Loads the newest release and swaps it in; returns its version.
    pub fn reload(&self) -> Result<String> {
        let models = self.with_store(|s| Models::load_with(s, self.candidates))?;
        let v = models.version();
        *self.models.write().expect("models lock") = Arc::new(models);
        Ok(v)
    }
}

/// Parses YYYY-MM-DD.
fn chrono_day(day: &str) -> Option<(i32, u32, u32)> {
    let b = day.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i32 = day[..4].parse().ok()?;
    let m: u32 = day[5..7].parse().ok()?;
    let d: u32 = day[8..].parse().ok()?;
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    ((1..=12).contains(&m) && d >= 1 && d <= days[(m - 1) as usize]).then_some((y, m, d))
}

/// Today's date (UTC) as YYYY-MM-DD.
pub fn today() -> String {
    let days = now() / 86_400;
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    format!("{:04}-{:02}-{:02}", if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert!(chrono_day("2026-02-28").is_some());
        assert!(chrono_day("2026-02-29").is_none());
        assert!(chrono_day("2024-02-29").is_some());
        assert!(chrono_day("2026-13-01").is_none());
        assert!(chrono_day("26-1-1").is_none());
        assert!(chrono_day(&today()).is_some());
    }
}
