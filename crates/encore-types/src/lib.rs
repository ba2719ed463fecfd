//! Shared vocabulary of Encore: ids, the records that ingestion produces, the
//! user × song interaction matrix the models train on, and the header every
//! saved artifact carries.
//!
//! This crate is the bottom of the dependency graph: it depends on serde and
//! thiserror only, so every other crate can use it.
//!
//! ```
//! use encore_types::{Interactions, InteractionsBuilder};
//!
//! let mut b = InteractionsBuilder::new(vec![10, 11], vec![100, 101, 102]);
//! b.push_row(&[(0, 3.0, 0, 1_600_000_000), (2, 1.0, 1, 1_600_000_100)]);
//! b.push_row(&[(1, 2.0, 0, 0)]);
//! let m: Interactions = b.finish();
//! assert_eq!(m.nnz(), 3);
//! assert_eq!(m.row(0).indices, &[0, 2]);
//! ```
#![deny(missing_docs)]

mod artifact;
mod interactions;
mod normalize;
mod records;
pub mod vector;

pub use artifact::{ArtifactHeader, HeaderError, ARTIFACT_MAGIC};
pub use interactions::{Interactions, InteractionsBuilder, Row};
pub use normalize::{normalize_name, song_key};
pub use records::{
    check_listen_time, is_mbid, ArtistRef, CatalogSong, Document, Record, TrackRef, LISTEN_CLOCK_SLACK, SHORT_PLAY_MS,
};
