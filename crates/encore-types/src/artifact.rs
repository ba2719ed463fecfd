//! The header every saved model artifact carries.

use serde::{Deserialize, Serialize};

/// Written in every header; a file without it is not an Encore artifact.
pub const ARTIFACT_MAGIC: &str = "encore-artifact";

/// Versioned header of a saved artifact (a model, an index, a feature file).
///
/// `kind` names what it is (`"cf-als"`, `"text-terms"`); `format_version` is
/// the version of that kind's on-disk layout, bumped on every incompatible
/// change so a reader can refuse, or upgrade, an old file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactHeader {
    /// Always [`ARTIFACT_MAGIC`].
    pub magic: String,
    /// What the artifact is.
    pub kind: String,
    /// Layout version of that kind.
    pub format_version: u32,
    /// Version of Encore that wrote it.
    pub encore_version: String,
    /// When it was written, Unix seconds.
    pub created_unix: i64,
}

impl ArtifactHeader {
    /// A header for `kind` at `format_version`, stamped now.
    pub fn new(kind: &str, format_version: u32) -> Self {
        let created_unix =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        Self {
            magic: ARTIFACT_MAGIC.to_string(),
            kind: kind.to_string(),
            format_version,
            encore_version: env!("CARGO_PKG_VERSION").to_string(),
            created_unix,
        }
    }

    /// Checks that this header is an Encore artifact of `kind` whose layout
    /// this reader understands (`format_version <= max_version`).
    pub fn check(&self, kind: &str, max_version: u32) -> Result<(), HeaderError> {
        if self.magic != ARTIFACT_MAGIC {
            return Err(HeaderError::NotAnArtifact { got: self.magic.clone() });
        }
        if self.kind != kind {
            return Err(HeaderError::WrongKind { expected: kind.to_string(), got: self.kind.clone() });
        }
        if self.format_version > max_version {
            return Err(HeaderError::TooNew { got: self.format_version, max: max_version });
        }
        Ok(())
    }
}

/// Why a header was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HeaderError {
    /// The magic string is wrong.
    #[error("not an Encore artifact (magic {got:?})")]
    NotAnArtifact {
        /// What was found.
        got: String,
    },
    /// Another kind of artifact.
    #[error("artifact is a {got:?}, expected {expected:?}")]
    WrongKind {
        /// What the reader wanted.
        expected: String,
        /// What was found.
        got: String,
    },
    /// Written by a newer Encore.
    #[error("artifact format version {got} is newer than this build understands ({max})")]
    TooNew {
        /// Version found.
        got: u32,
        /// Highest version this build reads.
        max: u32,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_magic_kind_and_version() {
        let h = ArtifactHeader::new("cf-als", 2);
        assert!(h.check("cf-als", 2).is_ok());
        assert!(matches!(h.check("cf-als", 1), Err(HeaderError::TooNew { got: 2, max: 1 })));
        assert!(matches!(h.check("text", 2), Err(HeaderError::WrongKind { .. })));
        let json = serde_json::to_string(&h).unwrap();
        let back: ArtifactHeader = serde_json::from_str(&json).unwrap();
        assert_eq!(back, h);
    }
}
