//! The engine's errors. The first three are the caller's to fix and map to
//! 4xx/503 in the server; the rest are failures inside (storage, a model
//! artifact, a file) and map to 500. Every variant names what failed; the
//! cause is its `source()` (print the chain to see both).

use std::path::PathBuf;

/// Errors the engine answers with; each maps to one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// An unknown user, song or artist.
    #[error("{0}")]
    NotFound(String),
    /// A parameter out of range.
    #[error("{0}")]
    BadRequest(String),
    /// No trained model yet, or a release this data directory cannot serve.
    #[error("{0}")]
    NotReady(String),
    /// A playlist file that cannot be read as one.
    #[error("playlist {}: {reason}", path.display())]
    Playlist {
        /// The file.
        path: PathBuf,
        /// Why it cannot be read.
        reason: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] encore_store::Error),
    /// A file of the data directory could not be read or written.
    #[error("{}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A JSON file of the data directory does not parse.
    #[error("{}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        source: serde_json::Error,
    },
    /// A model file holds a different amount than its metadata says.
    #[error("{}: {got} bytes, expected {expected}", path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Bytes expected from the metadata.
        expected: usize,
        /// Bytes found.
        got: usize,
    },
    /// The CF model failed to load or answer.
    #[error(transparent)]
    Cf(#[from] encore_cf::Error),
    /// The text model failed to load.
    #[error(transparent)]
    Text(#[from] encore_text::Error),
    /// Audio decoding or analysis failed.
    #[error(transparent)]
    Audio(#[from] encore_audio::Error),
    /// The audio network failed to load or predict.
    #[error(transparent)]
    Cnn(#[from] encore_audio::cnn::CnnError),
    /// An evaluation split failed (fusion fit).
    #[error(transparent)]
    Eval(#[from] encore_eval::Error),
    /// The vector index failed.
    #[error("vector index: {0}")]
    Index(String),
    /// The system gave no randomness (for a token).
    #[error("no randomness for a token: {0}")]
    Randomness(String),
    /// Something the engine keeps consistent was not (a song of a list
    /// vanished from the store between two reads, a lock was poisoned by a
    /// panicking request).
    #[error("{0}")]
    Inconsistent(String),
}

impl From<encore_rank::Error> for EngineError {
    fn from(e: encore_rank::Error) -> Self {
        match e {
            encore_rank::Error::BadRequest(m) => EngineError::BadRequest(m),
            encore_rank::Error::Index(m) => EngineError::Index(m),
        }
    }
}

/// Result of the engine.
pub type Result<T> = std::result::Result<T, EngineError>;

/// `io::Error` → [`EngineError::Io`] with the file it was about.
pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> EngineError {
    let path = path.into();
    move |source| EngineError::Io { path, source }
}

/// `serde_json::Error` → [`EngineError::Json`] with the file it was about.
pub(crate) fn json(path: impl Into<PathBuf>) -> impl FnOnce(serde_json::Error) -> EngineError {
    let path = path.into();
    move |source| EngineError::Json { path, source }
}

/// Reads and parses a JSON file.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &std::path::Path) -> Result<T> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    serde_json::from_slice(&bytes).map_err(json(path))
}

/// Writes `value` as pretty JSON.
pub(crate) fn write_json<T: serde::Serialize>(path: &std::path::Path, value: &T) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(value).map_err(json(path))?;
    std::fs::write(path, bytes).map_err(io(path))
}
