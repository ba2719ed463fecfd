use std::path::{Path, PathBuf};

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database file could not be opened.
    #[error("cannot open store {path}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// Why.
        #[source]
        source: rusqlite::Error,
    },
    /// The database was written by a newer Encore.
    #[error("store schema version {got} is newer than this build understands ({max})")]
    SchemaTooNew {
        /// Version found.
        got: i64,
        /// Highest version this build reads.
        max: i64,
    },
    /// A query failed.
    #[error("store query failed")]
    Sql(#[from] rusqlite::Error),
    /// A file or directory operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// An artifact directory is not in the expected shape.
    #[error("artifact {path}: {reason}")]
    Artifact {
        /// The artifact's directory.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A record could not be stored because it lacks what identifies it.
    #[error("record rejected: {0}")]
    Rejected(String),
}

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io { path: path.to_path_buf(), source }
    }
}

/// Result of the store.
pub type Result<T> = std::result::Result<T, Error>;
