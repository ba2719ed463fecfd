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
pub use decode::{decode, decode_head, Decoded, ANALYSIS_RATE, LUFS_FLOOR, MIN_SECONDS, SOURCE_RATES};
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

/// Decodes and analyses one file; a file whose descriptors would not all
/// be finite numbers is refused with the name of the first bad one.
pub fn analyze_file(path: &Path) -> Result<Descriptors> {
    let d = decode(path)?;
    checked(path, analyze(&d.samples, d.lufs, d.loudness_range))
}

/// `descriptors` if every one is a finite number, else an error naming the
/// first that is not.
pub fn checked(path: &Path, descriptors: Descriptors) -> Result<Descriptors> {
    match descriptors.non_finite() {
        None => Ok(descriptors),
        Some(name) => Err(Error::Unreadable {
            path: path.to_path_buf(),
            reason: format!("the analysis gave {name} that is not a number"),
        }),
    }
}
