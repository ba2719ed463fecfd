//! A ground-truth set for tempo and key: Standard MIDI files with a known
//! tempo, key and mode, to be rendered to audio by a real synthesiser
//! (fluidsynth with a General MIDI soundfont) — unlike the demo world's
//! clips, none of it comes from Encore's own synthesiser.
//!
//! Each piece: a diatonic chord progression (one chord per bar; minor keys
//! use the harmonic-minor dominant), a bass line, a melody from the scale
//! with chord tones on strong beats, General MIDI instruments drawn from
//! several families, and — in about 60 % of pieces — a drum kit.
//! Accompaniment patterns vary (held chords, block chords on the beat,
//! eighth-note arpeggios), so some pieces carry the beat only in the bass
//! and melody.

use std::path::Path;

use midly::num::{u15, u24, u28, u4, u7};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::KEY_NAMES;

const TICKS: u32 = 480;

/// The truth of one piece (one line of `truth.jsonl`).
#[derive(Debug, Clone, Serialize)]
pub struct MidiPiece {
    /// The MIDI file.
    pub midi: String,
    /// Where the rendered audio is expected (`NNN.wav` beside it).
    pub audio: String,
    /// Tempo, BPM (exactly what the file's tempo event encodes).
    pub tempo_bpm: f64,
    /// Tonic, e.g. "A".
    pub key: String,
    /// "major" or "minor".
    pub mode: String,
    /// Whether a drum kit plays.
    pub drums: bool,
    /// General MIDI programs of the chord, bass and melody parts.
    pub programs: [u8; 3],
    /// Accompaniment pattern: "held", "block" or "arpeggio".
    pub pattern: &'static str,
}

/// (absolute tick, order, event) before the deltas are known.
type Timed = (u32, u8, TrackEventKind<'static>);

fn note(ch: u8, key: i32, vel: u8, on: bool) -> TrackEventKind<'static> {
    let key = u7::new(key.clamp(0, 127) as u8);
    let message =
        if on { MidiMessage::NoteOn { key, vel: u7::new(vel) } } else { MidiMessage::NoteOff { key, vel: u7::new(0) } };
    TrackEventKind::Midi { channel: u4::new(ch), message }
}

fn play(ev: &mut Vec<Timed>, ch: u8, key: i32, vel: u8, start: u32, len: u32) {
    ev.push((start, 1, note(ch, key, vel, true)));
    ev.push((start + len.max(1), 0, note(ch, key, vel, false)));
}

fn track(mut ev: Vec<Timed>) -> Vec<TrackEvent<'static>> {
    ev.sort_by_key(|e| (e.0, e.1));
    let mut out = Vec::with_capacity(ev.len() + 1);
    let mut now = 0;
    for (t, _, kind) in ev {
        out.push(TrackEvent { delta: u28::new(t - now), kind });
        now = t;
    }
    out.push(TrackEvent { delta: u28::new(0), kind: TrackEventKind::Meta(MetaMessage::EndOfTrack) });
    out
}

/// Scale degrees (semitones above the tonic).
fn scale(major: bool) -> [i32; 7] {
    if major {
        [0, 2, 4, 5, 7, 9, 11]
    } else {
        [0, 2, 3, 5, 7, 8, 10]
    }
}

/// The triad on scale degree `d` (0-based) as semitones above the tonic;
/// in minor the dominant (degree 4) is major (harmonic minor).
fn triad(major: bool, d: usize) -> [i32; 3] {
    let s = scale(major);
    let at = |i: usize| s[i % 7] + 12 * (i / 7) as i32;
    let mut t = [at(d), at(d + 2), at(d + 4)];
    if !major && d == 4 {
        t[1] += 1;
    }
    t
}

/// Writes `n` pieces of about `seconds` each into `dir` (`NNN.mid`) and
/// their truth as `truth.jsonl`; returns the truth.
pub fn write_midi_set(dir: &Path, n: usize, seconds: f64, seed: u64) -> std::io::Result<Vec<MidiPiece>> {
    std::fs::create_dir_all(dir)?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    const CHORDS: [u8; 8] = [0, 4, 5, 16, 19, 24, 48, 88]; // piano, e-piano, organs, guitar, strings, pad
    const BASSES: [u8; 4] = [32, 33, 34, 38];
    const LEADS: [u8; 6] = [73, 56, 40, 80, 0, 65]; // flute, trumpet, violin, square lead, piano, alto sax
    const MAJOR_PROGS: [[usize; 4]; 3] = [[0, 4, 5, 3], [0, 3, 4, 0], [0, 5, 3, 4]];
    const MINOR_PROGS: [[usize; 4]; 3] = [[0, 5, 2, 6], [0, 3, 4, 0], [0, 5, 3, 4]];
    let mut out = Vec::with_capacity(n);
    let mut jsonl = String::new();
    for i in 0..n {
        let bpm_wanted: f64 = rng.random_range(70.0..180.0);
        let us_per_beat = (60_000_000.0 / bpm_wanted).round() as u32;
        let tempo_bpm = 60_000_000.0 / us_per_beat as f64;
        let tonic: i32 = rng.random_range(0..12);
        let major = rng.random_bool(0.5);
        let drums = rng.random_bool(0.6);
        let programs = [
            CHORDS[rng.random_range(0..CHORDS.len())],
            BASSES[rng.random_range(0..BASSES.len())],
            LEADS[rng.random_range(0..LEADS.len())],
        ];
        let pattern = ["held", "block", "arpeggio"][rng.random_range(0..3)];
        let prog = if major { MAJOR_PROGS[rng.random_range(0..3)] } else { MINOR_PROGS[rng.random_range(0..3)] };
        let bars = ((seconds * tempo_bpm / 60.0 / 4.0).ceil() as u32).max(2);
        let beat = TICKS;
        let root = 48 + tonic; // C3 … B3
        let mut meta: Vec<Timed> = vec![
            (0, 0, TrackEventKind::Meta(MetaMessage::Tempo(u24::new(us_per_beat)))),
            (0, 0, TrackEventKind::Meta(MetaMessage::TimeSignature(4, 2, 24, 8))),
        ];
        meta.push((0, 0, TrackEventKind::Meta(MetaMessage::KeySignature(0, !major))));
        let mut chords: Vec<Timed> = Vec::new();
        let mut bass: Vec<Timed> = Vec::new();
        let mut lead: Vec<Timed> = Vec::new();
        let mut kit: Vec<Timed> = Vec::new();
        for (ch, p) in [(0u8, programs[0]), (1, programs[1]), (2, programs[2])] {
            let ev = TrackEventKind::Midi {
                channel: u4::new(ch),
                message: MidiMessage::ProgramChange { program: u7::new(p) },
            };
            match ch {
                0 => chords.push((0, 0, ev)),
                1 => bass.push((0, 0, ev)),
                _ => lead.push((0, 0, ev)),
            }
        }
        let sc = scale(major);
        let mut degree: i32 = 7; // melody position in scale steps above the tonic
        for bar in 0..bars {
            let t0 = bar * 4 * beat;
            let d = prog[bar as usize % 4];
            let tri = triad(major, d);
            let voiced: Vec<i32> = tri.iter().map(|x| root + 12 + x).collect();
            match pattern {
                "held" => voiced.iter().for_each(|&k| play(&mut chords, 0, k, 70, t0, 4 * beat - 20)),
                "block" => {
                    for b in 0..4 {
                        voiced.iter().for_each(|&k| {
                            play(&mut chords, 0, k, if b == 0 { 80 } else { 64 }, t0 + b * beat, beat / 2)
                        });
                    }
                }
                _ => {
                    for e in 0..8 {
                        let k = voiced[[0, 1, 2, 1][e % 4]] + if e % 4 == 2 { 12 } else { 0 };
                        play(
                            &mut chords,
                            0,
                            k,
                            if e % 2 == 0 { 76 } else { 60 },
                            t0 + e as u32 * beat / 2,
                            beat / 2 - 10,
                        );
                    }
                }
            }
            // Bass: the root on every beat (the fifth on beat 3 now and then).
            for b in 0..4u32 {
                let k = root - 12 + if b == 2 && rng.random_bool(0.3) { tri[2] } else { tri[0] };
                play(&mut bass, 1, k, if b == 0 { 96 } else { 84 }, t0 + b * beat, beat - 30);
            }
            // Melody: quarter and eighth notes, stepwise, chord tones on beats.
            let mut t = 0;
            while t < 4 * beat {
                let len = if rng.random_bool(0.35) { beat / 2 } else { beat };
                degree = (degree + rng.random_range(-2..=2)).clamp(3, 13);
                let mut k = root + 12 + sc[degree.rem_euclid(7) as usize] + 12 * (degree / 7);
                if t % beat == 0 {
                    // Snap to the nearest chord tone.
                    k = tri
                        .iter()
                        .flat_map(|x| [root + 12 + x, root + 24 + x, root + 36 + x])
                        .min_by_key(|c| (c - k).abs())
                        .unwrap_or(k);
                }
                play(&mut lead, 2, k, if t == 0 { 92 } else { 78 }, t0 + t, len - 15);
                t += len;
            }
            if drums {
                for e in 0..8u32 {
                    play(&mut kit, 9, 42, if e % 2 == 0 { 70 } else { 50 }, t0 + e * beat / 2, 60);
                }
                for b in 0..4u32 {
                    play(&mut kit, 9, if b % 2 == 0 { 36 } else { 38 }, 100, t0 + b * beat, 100);
                }
            }
        }
        let mut tracks = vec![track(meta), track(chords), track(bass), track(lead)];
        if drums {
            tracks.push(track(kit));
        }
        let smf = Smf { header: Header::new(Format::Parallel, Timing::Metrical(u15::new(TICKS as u16))), tracks };
        let midi = dir.join(format!("{i:03}.mid"));
        smf.save(&midi)?;
        let piece = MidiPiece {
            midi: midi.display().to_string(),
            audio: dir.join(format!("{i:03}.wav")).display().to_string(),
            tempo_bpm,
            key: KEY_NAMES[tonic as usize].to_string(),
            mode: if major { "major" } else { "minor" }.to_string(),
            drums,
            programs,
            pattern,
        };
        jsonl.push_str(&serde_json::to_string(&piece).expect("serialisable"));
        jsonl.push('\n');
        out.push(piece);
    }
    std::fs::write(dir.join("truth.jsonl"), jsonl)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_parse_back_with_the_tempo_and_notes_in_key() {
        let dir = tempfile::tempdir().unwrap();
        let set = write_midi_set(dir.path(), 6, 8.0, 3).unwrap();
        assert_eq!(set.len(), 6);
        for p in &set {
            let bytes = std::fs::read(&p.midi).unwrap();
            let smf = Smf::parse(&bytes).unwrap();
            let tempo = smf.tracks[0].iter().find_map(|e| match e.kind {
                TrackEventKind::Meta(MetaMessage::Tempo(us)) => Some(60_000_000.0 / us.as_int() as f64),
                _ => None,
            });
            assert!((tempo.unwrap() - p.tempo_bpm).abs() < 1e-9);
            let tonic = KEY_NAMES.iter().position(|k| *k == p.key).unwrap() as i32;
            let mut allowed: Vec<i32> = scale(p.mode == "major").iter().map(|x| (x + tonic) % 12).collect();
            if p.mode == "minor" {
                allowed.push((tonic + 11) % 12); // the leading tone of the dominant
            }
            for t in &smf.tracks[1..4] {
                for e in t {
                    if let TrackEventKind::Midi { message: MidiMessage::NoteOn { key, .. }, .. } = e.kind {
                        assert!(allowed.contains(&(key.as_int() as i32 % 12)), "{} outside {} {}", key, p.key, p.mode);
                    }
                }
            }
        }
        let lines = std::fs::read_to_string(dir.path().join("truth.jsonl")).unwrap();
        assert_eq!(lines.lines().count(), 6);
    }
}
