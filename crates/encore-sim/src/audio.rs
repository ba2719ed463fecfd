//! Audio synthesis of a song's clip from its ground truth.
//!
//! One chord per bar (I–V–vi–IV in major, i–VI–III–VII in minor), a bass on
//! the chord root, an arpeggio of the chord, and, for genres with drums, a
//! kick on the beat (every beat or 1 and 3), a snare on 2 and 4 and hi-hats.
//! Chords and arpeggio play on the song's instrument (synth, pluck, organ,
//! bell, strings); the arpeggio and hats follow its groove (straight
//! eighths, swung eighths, or off-beat eighths); its energy sets
//! how short and hard the notes and hats are; the voice's brightness is the
//! genre's, leaned by the song's valence; the clip is scaled to the song's
//! RMS level.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::world::{Song, GENRES};

/// Pitch-class names, C = 0.
pub const KEY_NAMES: [&str; 12] = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];

const MAJOR: [i32; 7] = [0, 2, 4, 5, 7, 9, 11];
const MINOR: [i32; 7] = [0, 2, 3, 5, 7, 8, 10];

fn midi_hz(m: f32) -> f32 {
    440.0 * 2f32.powf((m - 69.0) / 12.0)
}

/// A triad on scale degree `deg` (0-based) of the scale, as MIDI notes.
fn triad(tonic: i32, scale: &[i32; 7], deg: usize) -> [i32; 3] {
    let n = |d: usize| tonic + scale[d % 7] + 12 * (d / 7) as i32;
    [n(deg), n(deg + 2), n(deg + 4)]
}

/// One note of `instrument` (an index in [`crate::world::INSTRUMENTS`]) at
/// `phase` radians, `nt` seconds after its onset; a brighter timbre keeps
/// more of its upper harmonics.
fn voice(instrument: usize, phase: f32, nt: f32, brightness: f32) -> f32 {
    let decay = 1.0 + 3.0 * (1.0 - brightness);
    match instrument {
        // Pluck: every harmonic dies away, the upper ones first.
        1 => (1..=6)
            .map(|h| {
                let hf = h as f32;
                (phase * hf).sin() / hf.powf(decay * 0.7) * (-nt * (1.5 + 2.5 * hf)).exp()
            })
            .sum::<f32>(),
        // Organ: drawbars on the 1st, 2nd, 3rd, 4th, 6th and 8th
        // harmonics, steady.
        2 => [(1.0, 1.0), (2.0, 0.6), (3.0, 0.5), (4.0, 0.3), (6.0, 0.25), (8.0, 0.2)]
            .iter()
            .map(|&(h, w)| w * (1.0 - 0.5 * (1.0 - brightness)).powf(h - 1.0) * (phase * h).sin())
            .sum::<f32>(),
        // Bell: frequency modulation at an inharmonic ratio whose index
        // decays after the strike.
        3 => (phase + (1.0 + 2.0 * brightness) * (-nt * 3.0).exp() * (3.5 * phase).sin()).sin() * (-nt * 1.2).exp(),
        // Strings: a slow bow attack on a saw-like spectrum.
        4 => {
            (1.0 - (-nt * 7.0).exp())
                * (1..=7).map(|h| (phase * h as f32).sin() / (h as f32).powf(decay * 0.8)).sum::<f32>()
        }
        // Synth: a sum of harmonics falling off by brightness.
        _ => (1..=5).map(|h| (phase * h as f32).sin() / (h as f32).powf(decay)).sum::<f32>(),
    }
}

/// The arpeggio step sounding `beats` into the clip and the seconds since it
/// began, for `groove` (an index in [`crate::world::GROOVES`]).
fn groove_step(groove: usize, beats: f32, beat: f32) -> (usize, f32) {
    match groove {
        // Swung eighths: the off-beat eighth lands two thirds into the beat.
        1 => {
            let (whole, f) = (beats.floor(), beats.fract());
            if f < 2.0 / 3.0 {
                (2 * whole as usize, f * beat)
            } else {
                (2 * whole as usize + 1, (f - 2.0 / 3.0) * beat)
            }
        }
        // Off-beat: one note per beat, on its second eighth (the skank of
        // reggae and ska, the open hat of house).
        2 => {
            let f = beats.fract();
            if f >= 0.5 {
                (beats as usize, (f - 0.5) * beat)
            } else {
                ((beats as usize).saturating_sub(1), (f + 0.5) * beat)
            }
        }
        // Straight eighths.
        _ => ((beats * 2.0) as usize, (beats * 2.0).fract() * beat / 2.0),
    }
}

/// Renders `song`'s clip: `seconds` of mono audio at `sr` Hz, seeded by
/// `seed` (noise for drums).
pub fn render_clip(song: &Song, seconds: f32, sr: u32, seed: u64) -> Vec<f32> {
    let g = &GENRES[song.genre];
    let n = (seconds * sr as f32) as usize;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (song.id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let scale = if song.major { &MAJOR } else { &MINOR };
    let progression: [usize; 4] = if song.major { [0, 4, 5, 3] } else { [0, 5, 2, 6] };
    let tonic = 48 + song.key as i32; // C3 + key
    let beat = 60.0 / song.tempo;
    let two_pi = std::f32::consts::TAU;
    let brightness = (g.brightness + 0.4 * (song.valence - 0.5)).clamp(0.0, 1.0);
    // Energy: shorter, harder arpeggio notes and louder hats.
    let arp_decay = 4.0 + 10.0 * song.energy;
    let hat_level = 0.12 + 0.26 * song.energy;
    let mut out = vec![0f32; n];
    let mut hat_state = 0f32;
    let mut snare_lp = 0f32;
    for (i, o) in out.iter_mut().enumerate() {
        let t = i as f32 / sr as f32;
        let beats = t / beat;
        let bar = (beats / 4.0) as usize;
        let in_beat = beats.fract() * beat; // seconds since the beat
        let beat_in_bar = (beats as usize) % 4;
        let chord = triad(tonic + 12, scale, progression[bar % 4]);
        // Chord pad, re-articulated every bar.
        let bar_t = (beats / 4.0).fract() * 4.0 * beat;
        let pad_env = (1.0 - (-bar_t * 30.0).exp()) * (0.6 + 0.4 * (-bar_t * 0.8).exp());
        let mut pad = 0.0;
        for &m in &chord {
            pad += voice(song.instrument, two_pi * midi_hz(m as f32) * t, bar_t, brightness) * pad_env;
        }
        // Arpeggio one octave up, on the groove's steps (the hats follow
        // the same steps).
        let (step, arp_t) = groove_step(song.groove, beats, beat);
        let arp_note = chord[step % 3] + 12;
        let arp = voice(song.instrument, two_pi * midi_hz(arp_note as f32) * t, arp_t, brightness)
            * (-arp_t * arp_decay).exp();
        // Bass on the root, every beat.
        let bass_env = (-in_beat * 4.0).exp();
        let bass = (two_pi * midi_hz((chord[0] - 12) as f32) * t).sin() * bass_env;
        let mut x = 0.25 * pad + 0.35 * arp + 0.6 * bass;
        if g.drums {
            let kick_on = g.four_on_floor || beat_in_bar == 0 || beat_in_bar == 2;
            if kick_on {
                let f = 50.0 + 90.0 * (-in_beat * 30.0).exp();
                x += 1.4 * (two_pi * f * in_beat).sin() * (-in_beat * 12.0).exp();
            }
            let noise: f32 = rng.random_range(-1.0..1.0);
            if beat_in_bar == 1 || beat_in_bar == 3 {
                snare_lp += 0.5 * (noise - snare_lp);
                x += 0.9 * snare_lp * (-in_beat * 25.0).exp();
            }
            hat_state += 0.7 * (noise - hat_state);
            x += hat_level * (noise - hat_state) * (-arp_t * 60.0).exp();
        }
        *o = x;
    }
    // Scale to the target RMS level, with a soft ceiling.
    let rms = (out.iter().map(|x| x * x).sum::<f32>() / n.max(1) as f32).sqrt().max(1e-9);
    let gain = 10f32.powf(song.level_db / 20.0) / rms;
    for x in &mut out {
        *x = (*x * gain).tanh();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::{World, WorldConfig};

    #[test]
    fn clip_has_the_level_and_beat_of_its_song() {
        let w = World::generate(&WorldConfig { users: 1, songs: 16, ..Default::default() });
        let s = w.songs.iter().find(|s| GENRES[s.genre].drums).expect("a song with drums");
        let sr = 22_050;
        let clip = render_clip(s, 8.0, sr, 1);
        assert_eq!(clip.len(), 8 * sr as usize);
        let rms = (clip.iter().map(|x| x * x).sum::<f32>() / clip.len() as f32).sqrt();
        let db = 20.0 * rms.log10();
        assert!((db - s.level_db).abs() < 1.5, "level {db} vs {}", s.level_db);
        assert!(clip.iter().all(|x| x.abs() <= 1.0));
        // Energy envelope autocorrelation peaks at the beat period (or a
        // multiple/fraction of it for four-on-the-floor vs backbeat).
        let hop = 256;
        let env: Vec<f32> = clip.chunks(hop).map(|c| c.iter().map(|x| x * x).sum::<f32>()).collect();
        let diff: Vec<f32> = env.windows(2).map(|w| (w[1] - w[0]).max(0.0)).collect();
        let period = 60.0 / s.tempo * sr as f32 / hop as f32;
        let ac = |lag: usize| diff.iter().zip(&diff[lag..]).map(|(a, b)| a * b).sum::<f32>();
        let lags = (period * 0.5) as usize..(period * 2.2) as usize;
        let best = lags.max_by(|&a, &b| ac(a).total_cmp(&ac(b))).unwrap() as f32;
        let ratio = best / period;
        assert!([0.5, 1.0, 2.0].iter().any(|r| (ratio - r).abs() < 0.08), "beat ratio {ratio}");
    }
}
