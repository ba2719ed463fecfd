//! Audio synthesis of a song's clip from its ground truth.
//!
//! One chord per bar (I–V–vi–IV in major, i–VI–III–VII in minor), a bass on
//! the chord root, an arpeggio of the chord on eighth notes, and, for genres
//! with drums, a kick on the beat (every beat or 1 and 3), a snare on 2 and 4
//! and hi-hats on eighths. The chord voice's brightness is the genre's; the
//! clip is scaled to the song's RMS level.

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

/// Band-limited-ish voice: a sum of harmonics whose weight falls off more
/// slowly for a brighter timbre.
fn voice(phase: f32, brightness: f32) -> f32 {
    let mut s = 0.0;
    let decay = 1.0 + 3.0 * (1.0 - brightness);
    for h in 1..=5 {
        let hf = h as f32;
        s += (phase * hf).sin() / hf.powf(decay);
    }
    s
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
            pad += voice(two_pi * midi_hz(m as f32) * t, g.brightness) * pad_env;
        }
        // Arpeggio on eighths, one octave up.
        let eighth = (beats * 2.0) as usize;
        let arp_note = chord[eighth % 3] + 12;
        let arp_t = (beats * 2.0).fract() * beat / 2.0;
        let arp = voice(two_pi * midi_hz(arp_note as f32) * t, g.brightness) * (-arp_t * 8.0).exp();
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
            let half = (beats * 2.0).fract() * beat / 2.0;
            hat_state += 0.7 * (noise - hat_state);
            x += 0.25 * (noise - hat_state) * (-half * 60.0).exp();
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
