//! The raw-audio model, part one: decoding and musical descriptors.
//!
//! [`decode`] turns WAV, FLAC, MP3, Ogg/Vorbis, AAC/M4A and ALAC files into
//! mono at 22,050 Hz (down-mixed and resampled on the fly) and measures EBU
//! R128 loudness on the original; [`analyze`] computes tempo, key, timbre and
//! onset descriptors. [`analyze_file`] does both and reports a truncated,
//! corrupt, empty, silent or unsupported file as an error with its path and
//! the reason.
#![deny(missing_docs)]

mod analysis;
pub mod cnn;
mod decode;
mod image;
mod loudness;
pub mod ridge;
mod vector;

pub use analysis::{analyze, log_mel, Descriptors, FEATURE_VERSION, FRAME_RATE, KEYS};
pub use cnn::{AudioCnn, CnnConfig, Spectrogram};
pub use decode::{decode, decode_head, Decoded, ANALYSIS_RATE};
pub use image::spectrogram_png;
pub use loudness::LoudnessMeter;
pub use vector::{DescriptorScaler, RAW_DIM};

use std::path::{Path, PathBuf};

/// Errors of the audio model.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file cannot be analysed.
    #[error("{path}: {reason}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// Result of the audio model.
pub type Result<T> = std::result::Result<T, Error>;

/// Decodes and analyses one file.
pub fn analyze_file(path: &Path) -> Result<Descriptors> {
    let d = decode(path)?;
    Ok(analyze(&d.samples, d.lufs, d.loudness_range))
}
