use std::path::PathBuf;

/// Errors of ingestion (a malformed row is not an error: it is counted and
/// skipped; these stop an import).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The input.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file names no listener and none was given.
    #[error("{path}: this {format} file names no listener: pass --user NAME (nothing was imported)")]
    NeedsUser {
        /// The input.
        path: PathBuf,
        /// Its format.
        format: &'static str,
    },
    /// The format name is not one Encore reads.
    #[error("unknown format {0:?} (expected one of: {list})", list = crate::Format::names().join(", "))]
    UnknownFormat(String),
    /// The input does not look like the format it was imported as.
    #[error(
        "{path}: does not look like {format}: the first {rows} rows are all malformed (line {line}: {reason}){hint}"
    )]
    WrongFormat {
        /// The input.
        path: PathBuf,
        /// The format asked for.
        format: &'static str,
        /// How many rows were tried.
        rows: u64,
        /// First malformed line.
        line: u64,
        /// Why it is malformed.
        reason: String,
        /// `"; it looks like X"`, when another format fits.
        hint: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] encore_store::Error),
}

/// Result of ingestion.
pub type Result<T> = std::result::Result<T, Error>;
