//! Decoding and analysing real files: good ones, and the kinds of bad ones.

use std::path::Path;

use encore_audio::{analyze_file, decode, ANALYSIS_RATE};

fn write_wav(path: &Path, rate: u32, channels: u16, samples: &[f32]) {
    let spec =
        hound::WavSpec { channels, sample_rate: rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        w.write_sample((s * 32767.0) as i16).unwrap();
    }
    w.finalize().unwrap();
}

/// Clicks at `bpm` over a quiet A-minor chord, stereo, at `rate`.
fn clicks(rate: u32, seconds: f32, bpm: f32) -> Vec<f32> {
    let n = (rate as f32 * seconds) as usize;
    let period = (60.0 / bpm * rate as f32) as usize;
    let mut out = Vec::with_capacity(2 * n);
    for i in 0..n {
        let t = i as f32 / rate as f32;
        let chord: f32 =
            [220.0f32, 261.63, 329.63].iter().map(|f| (2.0 * std::f32::consts::PI * f * t).sin()).sum::<f32>() * 0.05;
        let since = (i % period) as f32 / rate as f32;
        let click = (2.0 * std::f32::consts::PI * 1000.0 * since).sin() * (-since * 60.0).exp() * 0.8;
        let s = chord + click;
        out.push(s);
        out.push(s);
    }
    out
}

#[test]
fn decodes_resamples_and_finds_the_beat() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("clicks.wav");
    write_wav(&p, 44_100, 2, &clicks(44_100, 12.0, 120.0));
    let d = decode(&p).unwrap();
    assert_eq!((d.source_rate, d.channels), (44_100, 2));
    let expected = 12.0 * ANALYSIS_RATE as f32;
    assert!((d.samples.len() as f32 - expected).abs() < 0.01 * expected, "{} samples", d.samples.len());
    let a = analyze_file(&p).unwrap();
    assert!((a.duration_s - 12.0).abs() < 0.1, "{}", a.duration_s);
    assert!((a.tempo_bpm - 120.0).abs() < 120.0 * 0.04, "tempo {}", a.tempo_bpm);
    assert!(a.lufs < -5.0 && a.lufs > -40.0, "lufs {}", a.lufs);
    assert!(a.onset_rate > 1.0 && a.onset_rate < 4.0, "onset rate {}", a.onset_rate);
    assert_eq!(a.mfcc_mean.len(), 13);
    assert_eq!(a.mfcc_cov.len(), 169);
}

#[test]
fn bad_files_are_reported_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.wav");
    std::fs::write(&empty, b"").unwrap();
    let garbage = dir.path().join("garbage.mp3");
    std::fs::write(&garbage, vec![0x42u8; 5000]).unwrap();
    let silent = dir.path().join("silent.wav");
    write_wav(&silent, 22_050, 1, &vec![0.0; 22_050]);
    let truncated = dir.path().join("truncated.wav");
    write_wav(&truncated, 22_050, 1, &clicks(22_050, 4.0, 100.0)[..4 * 22_050]);
    let bytes = std::fs::read(&truncated).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    for (p, want) in [
        (&empty, "empty file"),
        (&garbage, "format"),
        (&silent, "silent"),
        (&truncated, "truncated"),
        (&dir.path().join("missing.wav"), "No such file"),
    ] {
        let err = analyze_file(p).unwrap_err().to_string();
        assert!(err.contains(want), "{}: {err}", p.display());
        assert!(err.starts_with(&p.display().to_string()), "{err}");
    }
}

/// Hostile and odd files of issue 20: each is refused with a reason, none
/// panics, none allocates gigabytes, none yields a descriptor that is not a
/// number.
#[test]
fn hostile_headers_short_clips_and_nan_samples_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    // A valid WAV whose header is then made to claim another sample rate
    // (bytes 24..28; the byte rate at 28..32 follows it).
    let with_rate = |name: &str, rate: u32| {
        let p = dir.path().join(name);
        write_wav(&p, 22_050, 1, &clicks(22_050, 1.0, 120.0)[..22_050]);
        let mut b = std::fs::read(&p).unwrap();
        b[24..28].copy_from_slice(&rate.to_le_bytes());
        b[28..32].copy_from_slice(&(rate * 2).to_le_bytes());
        std::fs::write(&p, b).unwrap();
        p
    };
    let zero = with_rate("rate0.wav", 0);
    let one = with_rate("rate1.wav", 1);
    let short = dir.path().join("short.wav");
    write_wav(&short, 22_050, 1, &clicks(22_050, 0.3, 120.0)[..(0.3 * 22_050.0) as usize]);
    let nan = dir.path().join("nan.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 22_050,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(&nan, spec).unwrap();
    for (i, s) in clicks(22_050, 2.0, 120.0).into_iter().step_by(2).enumerate() {
        w.write_sample(if i % 1000 == 7 { f32::NAN } else { s }).unwrap();
    }
    w.finalize().unwrap();
    for (p, want) in [
        (&zero, "the decoder failed on this file"),
        (&one, "implausible sample rate 1 Hz"),
        (&short, "too short"),
        (&nan, "not numbers"),
    ] {
        let err = analyze_file(p).map(|_| ()).unwrap_err().to_string();
        assert!(err.contains(want), "{}: {err}", p.display());
    }

    // Very quiet but not silent: loudness below the absolute gate is the
    // gate, a number, not -inf (which JSON would store as null).
    let quiet = dir.path().join("quiet.wav");
    let q: Vec<f32> = clicks(22_050, 3.0, 120.0).iter().step_by(2).map(|s| s * 1e-4).collect();
    write_wav(&quiet, 22_050, 1, &q);
    let d = analyze_file(&quiet).unwrap();
    assert_eq!(d.lufs, encore_audio::LUFS_FLOOR);
    assert!(d.non_finite().is_none(), "{d:?}");
    assert!(!serde_json::to_string(&d).unwrap().contains("null"));
}
