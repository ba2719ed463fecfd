use std::path::PathBuf;

/// Errors of collaborative filtering.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A hyperparameter is out of range.
    #[error("invalid {name} = {value}: {reason}")]
    InvalidParameter {
        /// Which.
        name: &'static str,
        /// Its value.
        value: String,
        /// The rule.
        reason: &'static str,
    },
    /// Input of the wrong shape.
    #[error("bad input: {0}")]
    Shape(String),
    /// A row or column index out of range.
    #[error("no {what} at index {index}")]
    UnknownRow {
        /// "user" or "item".
        what: &'static str,
        /// The index.
        index: usize,
    },
    /// Reading or writing a model failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A saved model is malformed.
    #[error("{path}: {reason}")]
    Artifact {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// Result of collaborative filtering.
pub type Result<T> = std::result::Result<T, Error>;
