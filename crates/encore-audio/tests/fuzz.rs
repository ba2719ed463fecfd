//! Fuzzing the decoder front end on stable Rust (proptest): WAV files with
//! hostile headers (any sample rate, channel count, sample width, chunk
//! size), flipped and cut bytes, and noise under every audio extension.
//! Each analysis must end — a result with finite descriptors or an error
//! with a reason — and never panic out of the call.
//!
//! `ENCORE_FUZZ_CASES` sets the cases per target (default 64; more from
//! `bench/fuzz.sh`).

use std::io::Cursor;

use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("ENCORE_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).map_or(64, |n: u32| (n / 4).max(1))
}

/// A valid 16-bit mono WAV of `seconds` of a tone at `rate`.
fn wav(rate: u32, seconds: f32) -> Vec<u8> {
    let spec =
        hound::WavSpec { channels: 1, sample_rate: rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut out = Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut out, spec).unwrap();
    for i in 0..(rate as f32 * seconds) as usize {
        let t = i as f32 / rate as f32;
        w.write_sample(((t * 440.0 * std::f32::consts::TAU).sin() * 12_000.0) as i16).unwrap();
    }
    w.finalize().unwrap();
    out.into_inner()
}

fn analyse(bytes: &[u8], ext: &str) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("clip.{ext}"));
    std::fs::write(&path, bytes).unwrap();
    match std::panic::catch_unwind(|| encore_audio::analyze_file(&path)) {
        Err(_) => prop_assert!(false, "the analysis panicked"),
        Ok(Ok(d)) => {
            let json = serde_json::to_value(&d).unwrap();
            prop_assert!(!json.to_string().contains("null"), "a descriptor is not finite: {json}");
        }
        Ok(Err(e)) => prop_assert!(!e.to_string().is_empty()),
    }
    let _ = encore_audio::decode_head(&path, 1.0);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn hostile_wav_headers(
        rate in prop_oneof![Just(0u32), Just(1), Just(3_999), Just(8_000), Just(44_100), Just(768_001), any::<u32>()],
        channels in prop_oneof![Just(0u16), Just(1), Just(2), Just(9), any::<u16>()],
        bits in prop_oneof![Just(0u16), Just(8), Just(16), Just(24), Just(32), Just(33), any::<u16>()],
        data_len in prop_oneof![Just(None), Just(Some(0u32)), Just(Some(u32::MAX)), any::<u32>().prop_map(Some)],
        seconds in 0.0f32..1.2,
    ) {
        let mut b = wav(8_000, seconds);
        // Canonical 44-byte header: channels @22, rate @24, byte rate @28,
        // block align @32, bits @34, data size @40.
        b[22..24].copy_from_slice(&channels.to_le_bytes());
        b[24..28].copy_from_slice(&rate.to_le_bytes());
        let block = (channels as u32).saturating_mul(bits as u32 / 8);
        b[28..32].copy_from_slice(&rate.saturating_mul(block).to_le_bytes());
        b[32..34].copy_from_slice(&(block as u16).to_le_bytes());
        b[34..36].copy_from_slice(&bits.to_le_bytes());
        if let Some(n) = data_len {
            b[40..44].copy_from_slice(&n.to_le_bytes());
        }
        analyse(&b, "wav")?;
    }

    #[test]
    fn flipped_and_cut_bytes(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..12),
        cut in 0.0f64..1.0,
        ext in prop_oneof![Just("wav"), Just("flac"), Just("mp3"), Just("ogg"), Just("m4a")],
    ) {
        let mut b = wav(16_000, 0.8);
        for (pos, x) in edits {
            let n = b.len();
            b[pos % n] ^= x;
        }
        b.truncate(((b.len() as f64) * cut).max(1.0) as usize);
        analyse(&b, ext)?;
    }

    #[test]
    fn noise_under_every_extension(
        bytes in proptest::collection::vec(any::<u8>(), 0..8192),
        ext in prop_oneof![Just("wav"), Just("flac"), Just("mp3"), Just("ogg"), Just("m4a"), Just("aiff"), Just("opus")],
    ) {
        analyse(&bytes, ext)?;
    }
}
