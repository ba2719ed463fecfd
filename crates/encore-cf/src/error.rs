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

/// Shared hyperparameter checks.
pub(crate) mod check {
    use super::{Error, Result};

    fn bad(name: &'static str, value: String, reason: &'static str) -> Result<()> {
        Err(Error::InvalidParameter { name, value, reason })
    }

    pub(crate) fn factors(n: usize) -> Result<()> {
        if n == 0 || n > 1024 {
            return bad("factors", n.to_string(), "must be between 1 and 1024");
        }
        Ok(())
    }

    pub(crate) fn positive(name: &'static str, v: f32) -> Result<()> {
        if !(v > 0.0 && v.is_finite()) {
            return bad(name, v.to_string(), "must be finite and > 0");
        }
        Ok(())
    }

    pub(crate) fn non_negative(name: &'static str, v: f32) -> Result<()> {
        if !(v >= 0.0 && v.is_finite()) {
            return bad(name, v.to_string(), "must be finite and ≥ 0");
        }
        Ok(())
    }

    pub(crate) fn at_least_one(name: &'static str, n: usize) -> Result<()> {
        if n == 0 {
            return bad(name, "0".into(), "must be at least 1");
        }
        Ok(())
    }
}
