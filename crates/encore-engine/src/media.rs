//! Which audio files may be served: a song's file, only when it lies inside
//! a scanned library folder, the data directory (the demo's clips), or a
//! root the caller names (the server's media root) — after links and `..`
//! are resolved, so a catalog path cannot point the server elsewhere.

use std::path::{Path, PathBuf};

use crate::{Engine, EngineError, Result};

impl Engine {
    /// The file of song `song`, if it has one inside an allowed root.
    pub fn audio_file(&self, song: i64, extra_roots: &[&Path]) -> Result<PathBuf> {
        let (path, roots) = self.with_store(|s| {
            if s.songs(&[song])?.is_empty() {
                return Err(EngineError::NotFound(format!("no song with id {song}")));
            }
            Ok((s.song_audio_path(song)?, s.library_roots()?))
        })?;
        let none = || EngineError::NotFound(format!("song {song} has no audio file that is served"));
        let real = path.and_then(|p| std::fs::canonicalize(p).ok()).filter(|p| p.is_file()).ok_or_else(none)?;
        let data = std::fs::canonicalize(self.data_dir()).ok();
        let allowed = roots
            .iter()
            .map(PathBuf::from)
            .chain(data)
            .chain(extra_roots.iter().filter_map(|r| std::fs::canonicalize(r).ok()))
            .any(|root| real.starts_with(root));
        if allowed {
            Ok(real)
        } else {
            Err(none())
        }
    }
}
