//! Streaming readers for the listening-data formats users already have, and
//! the resumable, idempotent import of their records into the store.
//!
//! | format | input |
//! |---|---|
//! | `lastfm-1k` | `user \t timestamp \t artist-mbid \t artist \t track-mbid \t track` |
//! | `lastfm-360k` | `user \t artist-mbid \t artist \t plays` (artist level) |
//! | `msd-triplets` | `user \t song \t play_count` (Echo Nest Taste Profile) |
//! | `listenbrainz` | JSON lines (or a JSON array) of ListenBrainz listens |
//! | `spotify-history` | Spotify data exports, extended (`Streaming_History_Audio_*.json`) or old (`StreamingHistory*.json`) |
//! | `csv` | `user,item[,artist][,count][,timestamp]` with a header |
//! | `catalog` | JSON lines of songs: `artist`, `title`, ids, `genre`, `audio`, … |
//!
//! Every input may be gzip-compressed (recognised by its magic bytes). A
//! malformed row becomes a [`Parsed::Malformed`] with its line number and is
//! counted and skipped; a file in which the first rows are all malformed is
//! refused as a whole, with the format it looks like.
//!
//! ```
//! use encore_ingest::{Format, Parsed};
//!
//! let data = b"user_000001\t2009-05-04T23:08:57Z\t\tDeep Dish\t\tFlashdance\nbroken line\n";
//! let mut rows = Vec::new();
//! Format::Lastfm1k
//!     .parse(Box::new(&data[..]), &Default::default(), 0, &mut |item| { rows.push(item); true })
//!     .unwrap();
//! assert!(matches!(rows[0].parsed, Parsed::Record(_)));
//! assert_eq!(rows[1].line, 2);
//! assert!(matches!(&rows[1].parsed, Parsed::Malformed(r) if r.contains("6 tab-separated fields")));
//! ```
#![deny(missing_docs)]

mod error;
mod formats;
mod import;
mod input;
pub mod library;
pub mod tags;

pub use error::{Error, Result};
pub use formats::{Format, Item, ParseOptions, Parsed, MAX_ROW};
pub use import::{import_file, ImportOptions, ImportStatus, ImportSummary, Progress};
pub use input::{file_key, open_input};
