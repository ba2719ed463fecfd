//! The text model: what the web says about songs and artists.
//!
//! [`read_path`] reduces HTML pages, JSON lines and WARC/WET archives to
//! [`encore_types::Document`]s. [`Linker`] finds mentions of the catalog's
//! artists and songs in them; [`TermModelBuilder`] attributes the
//! descriptive words of each clause to the entities it mentions and weighs
//! them into sparse TF-IDF vectors; the resulting [`TermModel`] finds similar
//! artists and songs, co-mentioned artists, and ranks entities for a
//! free-text description. [`expected`] scores a model against a
//! hand-written expected-terms file.
//!
//! ```
//! use encore_text::{Entity, Linker, TermModelBuilder, TermModelConfig};
//! use encore_types::Document;
//!
//! let linker = Linker::new(&[(1, "Harbor Lights".into()), (2, "Ash Cathedral".into())], &[]);
//! let mut b = TermModelBuilder::new(TermModelConfig::default(), &linker, Default::default());
//! let doc = Document {
//!     url: "https://example.org/a".into(),
//!     text: "Where Harbor Lights are sunny and jangly, Ash Cathedral are grim doom metal.".into(),
//!     ..Default::default()
//! };
//! b.observe(&doc); // first pass: page furniture repeated across documents
//! b.add(&doc);
//! let model = b.finish();
//! let terms = model.describe(Entity::Artist(2), 5).unwrap().terms;
//! assert!(terms.iter().any(|t| t.0 == "doom metal") && !terms.iter().any(|t| t.0 == "sunny"));
//! ```
#![deny(missing_docs)]

mod builder;
mod clause;
pub mod expected;
mod html;
mod lexicon;
mod link;
mod model;
mod read;
mod terms;
mod tokens;

pub use builder::{TermModelBuilder, TermModelConfig};
pub use html::readable_text;
pub use lexicon::{is_adjective, is_nondescriptive};
pub use link::{Entity, Linker, Mention};
pub use model::{BuildStats, Described, SearchResult, Silent, TermModel, FORMAT_VERSION, KIND};
pub use read::{read_path, Problem, MAX_DOC_BYTES};
pub use tokens::{sentences, STOP_WORDS};

/// Errors of the text model.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a model file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A saved model is malformed.
    #[error("{path}: {reason}")]
    Artifact {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// Result of the text model.
pub type Result<T> = std::result::Result<T, Error>;
