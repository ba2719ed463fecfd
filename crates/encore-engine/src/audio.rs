//! The audio model's artifacts as the engine reads them: stored descriptors
//! per song and the network's predictions.

use std::path::Path;

use encore_audio::Descriptors;
use encore_store::Store;

use crate::error::{io, json, EngineError, Result};

/// Artifact kind of the audio network.
pub const CNN_KIND: &str = "audio-cnn";
/// Artifact kind of the network's predictions for every song.
pub const EMBED_KIND: &str = "audio-embed";
/// Format version of both.
pub const FORMAT_VERSION: u32 = 1;

/// A catalog song with an audio file.
#[derive(Debug, Clone)]
pub struct SongAudio {
    /// Store id.
    pub id: i64,
    /// Artist id.
    pub artist: Option<i64>,
    /// The file, as the catalog names it.
    pub path: String,
    /// Stored descriptors (current feature version), if it was analysed.
    pub descriptors: Option<Descriptors>,
}

/// The key a file's descriptors are stored under: its canonical path, so
/// that the same file named two ways is one file.
pub fn store_key(p: &Path) -> String {
    std::fs::canonicalize(p).map_or_else(|_| p.display().to_string(), |c| c.display().to_string())
}

/// A file's (size, modification time in ns), -1 where unknown: what decides
/// whether stored descriptors are still the file's.
pub fn stamp(p: &Path) -> (i64, i64) {
    let m = std::fs::metadata(p).ok();
    let size = m.as_ref().map_or(-1, |m| m.len() as i64);
    let mtime = m
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(-1, |d| d.as_nanos() as i64);
    (size, mtime)
}

/// Stored descriptors of the file at `path` (as given, or canonical).
pub fn descriptors_of(store: &Store, path: &str) -> Result<Option<Descriptors>> {
    let version = encore_audio::FEATURE_VERSION;
    let json = match store.audio_features_of(path, version)? {
        Some(j) => Some(j),
        None => store.audio_features_of(&store_key(Path::new(path)), version)?,
    };
    // A record that no longer reads (one written with `null` loudness
    // before issue 20) counts as not analysed, so one bad file cannot fail
    // every page, request and training run that reads the catalog.
    Ok(json.and_then(|j| match serde_json::from_str(&j) {
        Ok(d) => Some(d),
        Err(e) => {
            tracing::warn!("{path}: stored audio descriptors unreadable ({e}); treated as not analysed");
            None
        }
    }))
}

/// The catalog's songs with audio files and their stored descriptors.
pub fn catalog_audio(store: &Store) -> Result<Vec<SongAudio>> {
    let mut out = Vec::new();
    for (id, artist, path) in store.songs_with_audio()? {
        let descriptors = descriptors_of(store, &path)?;
        out.push(SongAudio { id, artist, path, descriptors });
    }
    Ok(out)
}

/// Predicted CF vectors and embeddings of every song with audio.
#[derive(Debug, Clone)]
pub struct AudioEmbeddings {
    /// Song store ids, one per row.
    pub ids: Vec<i64>,
    /// Length of the predicted CF vectors.
    pub dim: usize,
    /// Length of the embeddings.
    pub embedding_dim: usize,
    /// `ids.len() × dim`.
    pub vectors: Vec<f32>,
    /// `ids.len() × embedding_dim`, L2-normalised.
    pub embeddings: Vec<f32>,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct EmbedMeta {
    ids: Vec<i64>,
    dim: usize,
    embedding_dim: usize,
    cnn_version: String,
}

fn write_f32(path: &Path, v: &[f32]) -> Result<()> {
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(path, bytes).map_err(io(path))
}

fn read_f32(path: &Path, n: usize) -> Result<Vec<f32>> {
    let b = std::fs::read(path).map_err(io(path))?;
    if b.len() != n * 4 {
        return Err(EngineError::Truncated { path: path.to_path_buf(), expected: n * 4, got: b.len() });
    }
    Ok(b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

impl AudioEmbeddings {
    /// Reads embeddings from a version directory.
    pub fn load(dir: &Path) -> Result<AudioEmbeddings> {
        let meta: EmbedMeta = crate::error::read_json(&dir.join("songs.json"))?;
        let n = meta.ids.len();
        Ok(AudioEmbeddings {
            vectors: read_f32(&dir.join("vectors.f32"), n * meta.dim)?,
            embeddings: read_f32(&dir.join("embeddings.f32"), n * meta.embedding_dim)?,
            ids: meta.ids,
            dim: meta.dim,
            embedding_dim: meta.embedding_dim,
        })
    }

    /// Writes the embeddings into a version directory.
    pub fn save(&self, dir: &Path, cnn_version: &str) -> Result<()> {
        let meta = EmbedMeta {
            ids: self.ids.clone(),
            dim: self.dim,
            embedding_dim: self.embedding_dim,
            cnn_version: cnn_version.to_string(),
        };
        let songs = dir.join("songs.json");
        std::fs::write(&songs, serde_json::to_vec(&meta).map_err(json(&songs))?).map_err(io(&songs))?;
        write_f32(&dir.join("vectors.f32"), &self.vectors)?;
        write_f32(&dir.join("embeddings.f32"), &self.embeddings)
    }

    /// Opens the current embeddings, if any.
    pub fn open(store: &Store) -> Result<Option<AudioEmbeddings>> {
        let Some(path) = store.artifacts(EMBED_KIND)?.current_checked(FORMAT_VERSION)? else {
            return Ok(None);
        };
        Ok(Some(AudioEmbeddings::load(&path)?))
    }

    /// Row of song `id`.
    pub fn index(&self, id: i64) -> Option<usize> {
        self.ids.iter().position(|&x| x == id)
    }

    /// Predicted CF vector of row `i`.
    pub fn vector(&self, i: usize) -> &[f32] {
        &self.vectors[i * self.dim..(i + 1) * self.dim]
    }

    /// Audio embedding of row `i`.
    pub fn embedding(&self, i: usize) -> &[f32] {
        &self.embeddings[i * self.embedding_dim..(i + 1) * self.embedding_dim]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 20: a record stored with `null` loudness (a short clip before
    /// the decoder refused them) made every later read fail.
    #[test]
    fn an_unreadable_stored_record_counts_as_not_analysed() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let version = encore_audio::FEATURE_VERSION;
        store.put_audio_features("/music/short.wav", 10, 1, version, r#"{"feature_version":4,"lufs":null}"#).unwrap();
        assert!(descriptors_of(&store, "/music/short.wav").unwrap().is_none());
    }

    /// A cut-off vector file is refused with its path and both sizes, and
    /// a missing one with its path: never a short, misaligned model.
    #[test]
    fn a_truncated_embedding_file_names_the_file_and_the_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let e = AudioEmbeddings {
            ids: vec![1, 2],
            dim: 2,
            embedding_dim: 3,
            vectors: vec![0.5; 4],
            embeddings: vec![0.25; 6],
        };
        e.save(dir.path(), "cnn/v1").unwrap();
        let back = AudioEmbeddings::load(dir.path()).unwrap();
        assert_eq!((back.ids, back.vectors, back.embeddings), (e.ids.clone(), e.vectors.clone(), e.embeddings.clone()));
        let vectors = dir.path().join("vectors.f32");
        std::fs::write(&vectors, [0u8; 12]).unwrap();
        match AudioEmbeddings::load(dir.path()) {
            Err(EngineError::Truncated { path, expected: 16, got: 12 }) => assert_eq!(path, vectors),
            other => panic!("expected a truncated file, got {other:?}"),
        }
        std::fs::remove_file(&vectors).unwrap();
        match AudioEmbeddings::load(dir.path()) {
            Err(EngineError::Io { path, .. }) => assert_eq!(path, vectors),
            other => panic!("expected a missing file, got {other:?}"),
        }
    }
}
