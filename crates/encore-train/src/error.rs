//! Errors of training and the offline experiments.

use std::path::PathBuf;

/// Errors of training and the offline experiments.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// What a step needs is not there yet; the message says what to run.
    #[error("{0}")]
    Missing(String),
    /// Settings that cannot work on this data (the message names the flag).
    #[error("{0}")]
    Settings(String),
    /// Spark factors that cannot be read.
    #[error("reading Spark ALS factors from {}", path.display())]
    SparkFactors {
        /// The folder given.
        path: PathBuf,
        /// Why.
        source: encore_cf::Error,
    },
    /// A file could not be read or written.
    #[error("{}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A JSON file does not parse or a report does not serialise.
    #[error("{}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        source: serde_json::Error,
    },
    /// A plot could not be drawn.
    #[error("{}: {reason}", path.display())]
    Plot {
        /// The image file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A worker thread panicked (named by what it was doing).
    #[error("the {0} thread panicked")]
    Panicked(&'static str),
    /// The engine (catalog, fusion, release) failed.
    #[error(transparent)]
    Engine(#[from] encore_engine::EngineError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] encore_store::Error),
    /// Collaborative filtering failed.
    #[error(transparent)]
    Cf(#[from] encore_cf::Error),
    /// The text model failed.
    #[error(transparent)]
    Text(#[from] encore_text::Error),
    /// The audio network failed.
    #[error(transparent)]
    Cnn(#[from] encore_audio::cnn::CnnError),
    /// The ranker refused or failed (a catalog it cannot rank).
    #[error(transparent)]
    Rank(#[from] encore_rank::Error),
    /// An evaluation failed.
    #[error(transparent)]
    Eval(#[from] encore_eval::Error),
}

/// Result of training and the experiments.
pub type Result<T> = std::result::Result<T, Error>;

/// `io::Error` → [`Error::Io`] with the file it was about.
pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { path, source }
}

/// `serde_json::Error` → [`Error::Json`] with the file it was about.
pub(crate) fn json(path: impl Into<PathBuf>) -> impl FnOnce(serde_json::Error) -> Error {
    let path = path.into();
    move |source| Error::Json { path, source }
}
