//! Encore's demo world: a deterministic, seeded simulation of a small music
//! service that exercises all three models with known ground truth.
//!
//! - **Genres** with characteristic tempo ranges, modes, loudness, timbre,
//!   and descriptive vocabularies.
//! - **Artists** in genres, with power-law popularity, a mood, an
//!   instrument and a groove; **songs** per artist with a tempo, key, mode,
//!   loudness, energy and valence (from the mood), some of them *new
//!   releases* that nobody has played yet.
//! - **Audio**: a short WAV clip per song, synthesised from its tempo, key,
//!   mode, instrument, groove, energy and valence (drums on the beat, bass
//!   and chords in the key).
//! - **Text**: articles about artists and songs from genre and mood
//!   vocabularies with noise, mentioning related artists together, as JSON
//!   lines and HTML pages.
//! - **Users** with latent tastes over genres and over sound (moods,
//!   instruments, grooves), listening in sessions over
//!   weeks with repeats and skips, written as ListenBrainz JSON lines (plus a
//!   Spotify extended-history export, with skips, for some users).
//!
//! ```
//! use encore_sim::WorldConfig;
//!
//! let cfg = WorldConfig { users: 20, songs: 30, ..WorldConfig::default() };
//! let a = encore_sim::World::generate(&cfg);
//! let b = encore_sim::World::generate(&cfg);
//! assert_eq!(a.songs.len(), 30);
//! assert_eq!(serde_json::to_string(&a.songs).unwrap(), serde_json::to_string(&b.songs).unwrap());
//! ```
#![deny(missing_docs)]

mod audio;
mod bench_files;
mod midi;
mod names;
mod text;
mod world;
mod write;

pub use audio::{render_clip, KEY_NAMES};
pub use bench_files::{write_lastfm_1k, GeneratedFile};
pub use midi::{write_midi_set, MidiPiece};
pub use world::{Artist, Genre, Listen, Song, SoundTaste, User, World, WorldConfig, GENRES, GROOVES, INSTRUMENTS};
pub use write::{write_world, WorldFiles};

/// Errors of the simulator.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Writing a WAV file failed.
    #[error("{path}: {source}")]
    Wav {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: hound::Error,
    },
    /// The configuration cannot make a world.
    #[error("invalid demo-world configuration: {0}")]
    Config(String),
}

/// Result of the simulator.
pub type Result<T> = std::result::Result<T, Error>;
