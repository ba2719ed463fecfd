//! Decoding any supported file to mono at the analysis rate, in one pass.
//!
//! Packets are decoded with symphonia, down-mixed to mono and resampled with
//! rubato as they come, so only the analysis-rate signal is kept (an hour of
//! 22.05 kHz mono is 300 MB of f32; the source's own rate and channels are
//! never held whole). EBU R128 loudness is measured on the way, on the
//! original channels and rate, as the standard asks.

use std::fs::File;
use std::path::Path;

use rubato::{FftFixedIn, Resampler};

use crate::loudness::LoudnessMeter;
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use crate::{Error, Result};

/// The analysis sample rate.
pub const ANALYSIS_RATE: u32 = 22_050;

/// Source sample rates outside this range are refused: a header that claims
/// 1 Hz made the resampler plan a 22,050× upsampling (3.6 GB for a 16 KB
/// file, issue 20), and no real recording is below telephone rate or above
/// DXD's 768 kHz.
pub const SOURCE_RATES: std::ops::RangeInclusive<u32> = 4_000..=768_000;

/// The shortest file analysed, in seconds: loudness needs one 400 ms block
/// and the descriptors a few frames.
pub const MIN_SECONDS: f64 = 0.5;

/// Integrated loudness reported when no 400 ms block reaches EBU R128's
/// absolute gate (a very quiet file): the gate itself, a finite number.
pub const LUFS_FLOOR: f64 = -70.0;

/// A decoded file: mono samples at [`ANALYSIS_RATE`] and the loudness of
/// the original.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// Mono samples at the analysis rate.
    pub samples: Vec<f32>,
    /// Source sample rate.
    pub source_rate: u32,
    /// Source channels.
    pub channels: usize,
    /// Integrated loudness, LUFS (EBU R128), of the original;
    /// [`LUFS_FLOOR`] when no block reaches the absolute gate.
    pub lufs: f64,
    /// Loudness range, LU.
    pub loudness_range: f64,
    /// Packets that failed to decode and were skipped.
    pub bad_packets: usize,
}

fn fail(path: &Path, reason: impl Into<String>) -> Error {
    Error::Unreadable { path: path.to_path_buf(), reason: reason.into() }
}

const CHUNK: usize = 4096;

/// Decodes `path` (WAV, FLAC, MP3, Ogg/Vorbis, AAC/M4A, ALAC).
pub fn decode(path: &Path) -> Result<Decoded> {
    decode_limited(path, None)
}

/// Decodes only the first `seconds` of `path` (loudness is then that of
/// the head): what a picture or a preview needs, in bounded memory.
pub fn decode_head(path: &Path, seconds: f64) -> Result<Decoded> {
    decode_limited(path, Some(seconds.max(0.0)))
}

fn decode_limited(path: &Path, seconds: Option<f64>) -> Result<Decoded> {
    // A decoder that panics on a hostile file (issue 20: a WAV header with
    // sample rate 0) fails this file only, with a reason, not the batch.
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| decode_unguarded(path, seconds))) {
        Ok(r) => r,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into());
            Err(fail(path, format!("the decoder failed on this file ({what})")))
        }
    }
}

fn decode_unguarded(path: &Path, seconds: Option<f64>) -> Result<Decoded> {
    // Opening a named pipe for reading waits for a writer, forever: look
    // before opening.
    let meta = std::fs::metadata(path).map_err(|e| fail(path, e.to_string()))?;
    if !meta.is_file() {
        return Err(fail(path, "not a regular file (a folder, named pipe, socket or device)"));
    }
    let file = File::open(path).map_err(|e| fail(path, e.to_string()))?;
    if file.metadata().map(|m| m.len()).unwrap_or(0) == 0 {
        return Err(fail(path, "empty file"));
    }
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let probed = symphonia::default::get_probe()
        .format(&hint, mss, &FormatOptions::default(), &MetadataOptions::default())
        .map_err(|e| match e {
            SymError::Unsupported(what) => fail(path, format!("unsupported or unrecognised format ({what})")),
            other => fail(path, format!("not a readable audio file ({other})")),
        })?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| fail(path, "no audio track"))?
        .clone();
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|e| fail(path, format!("unsupported codec ({e})")))?;
    let source_rate = track.codec_params.sample_rate.ok_or_else(|| fail(path, "unknown sample rate"))?;
    if !SOURCE_RATES.contains(&source_rate) {
        return Err(fail(
            path,
            format!(
                "implausible sample rate {source_rate} Hz (from {} to {} Hz are read)",
                SOURCE_RATES.start(),
                SOURCE_RATES.end()
            ),
        ));
    }
    let expected_frames = track.codec_params.n_frames;
    let limit = seconds.map(|s| (s * source_rate as f64).ceil() as u64);

    let mut resampler = if source_rate == ANALYSIS_RATE {
        None
    } else {
        Some(
            FftFixedIn::<f32>::new(source_rate as usize, ANALYSIS_RATE as usize, CHUNK, 2, 1)
                .map_err(|e| fail(path, format!("cannot resample from {source_rate} Hz: {e}")))?,
        )
    };
    let mut pending: Vec<f32> = Vec::with_capacity(CHUNK);
    let mut out: Vec<f32> = Vec::new();
    let mut meter: Option<LoudnessMeter> = None;
    let mut channels = 0usize;
    let mut frames = 0u64;
    let mut bad_packets = 0usize;
    let mut not_finite = 0u64;
    let mut sbuf: Option<SampleBuffer<f32>> = None;
    loop {
        if limit.is_some_and(|l| frames >= l) {
            break;
        }
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(SymError::ResetRequired) => break,
            Err(e) => return Err(fail(path, format!("corrupt stream ({e})"))),
        };
        if packet.track_id() != track.id {
            continue;
        }
        let buf = match decoder.decode(&packet) {
            Ok(b) => b,
            Err(SymError::DecodeError(_)) => {
                bad_packets += 1;
                continue;
            }
            Err(e) => return Err(fail(path, format!("decode failed ({e})"))),
        };
        let spec = *buf.spec();
        let ch = spec.channels.count().max(1);
        if sbuf.as_ref().is_none_or(|s| s.capacity() < buf.capacity() * ch) {
            sbuf = Some(SampleBuffer::new(buf.capacity() as u64, spec));
        }
        let sb = sbuf.as_mut().expect("just set");
        sb.copy_interleaved_ref(buf);
        let inter = sb.samples();
        let odd = inter.iter().filter(|x| !x.is_finite()).count();
        if odd > 0 {
            not_finite += odd as u64;
            continue;
        }
        let m = meter.get_or_insert_with(|| {
            channels = ch;
            LoudnessMeter::new(ch, source_rate)
        });
        m.add(inter);
        for frame in inter.chunks(ch) {
            pending.push(frame.iter().sum::<f32>() / ch as f32);
            frames += 1;
            if pending.len() == CHUNK {
                flush(&mut resampler, &mut pending, &mut out, false);
            }
        }
    }
    let delay = resampler.as_ref().map_or(0, |r| r.output_delay());
    flush(&mut resampler, &mut pending, &mut out, true);
    if delay > 0 {
        // Drop the resampler's latency and its flush padding.
        let want = (frames as f64 * ANALYSIS_RATE as f64 / source_rate as f64).round() as usize;
        out.drain(..delay.min(out.len()));
        out.truncate(want);
    }
    if not_finite > 0 {
        return Err(fail(path, format!("{not_finite} samples are not numbers (NaN or infinite)")));
    }
    if frames == 0 {
        return Err(fail(path, "no audio frames"));
    }
    if let (Some(n), None) = (expected_frames, limit) {
        if frames + (n / 100).max(1) < n {
            return Err(fail(path, format!("truncated: {frames} of {n} frames decoded")));
        }
    }
    if bad_packets > 0 && bad_packets * 10 > (frames as usize / 1024).max(1) {
        return Err(fail(path, format!("corrupt: {bad_packets} packets could not be decoded")));
    }
    if out.iter().all(|x| x.abs() < 1e-5) {
        return Err(fail(path, "silent"));
    }
    let length = frames as f64 / source_rate as f64;
    if limit.is_none() && length < MIN_SECONDS {
        return Err(fail(path, format!("too short: {length:.2} s (at least {MIN_SECONDS} s are analysed)")));
    }
    let meter = meter.expect("frames were decoded");
    let lufs = meter.integrated();
    Ok(Decoded {
        samples: out,
        source_rate,
        channels,
        lufs: if lufs.is_finite() { lufs } else { LUFS_FLOOR },
        loudness_range: meter.range(),
        bad_packets,
    })
}

fn flush(resampler: &mut Option<FftFixedIn<f32>>, pending: &mut Vec<f32>, out: &mut Vec<f32>, last: bool) {
    match resampler {
        None => out.append(pending),
        Some(r) => {
            if pending.len() == CHUNK {
                if let Ok(v) = r.process(&[&pending[..]], None) {
                    out.extend_from_slice(&v[0]);
                }
                pending.clear();
            }
            if last {
                let tail: Option<&[&[f32]]> = None;
                if !pending.is_empty() {
                    if let Ok(v) = r.process_partial(Some(&[&pending[..]]), None) {
                        out.extend_from_slice(&v[0]);
                    }
                    pending.clear();
                }
                if let Ok(v) = r.process_partial(tail, None) {
                    out.extend_from_slice(&v[0]);
                }
            }
        }
    }
}
