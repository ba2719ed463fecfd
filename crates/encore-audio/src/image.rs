//! Pictures of audio for people: a log-mel spectrogram as a PNG.

use crate::analysis::log_mel;

/// Colour stops of the spectrogram (dark to bright, perceptually ordered,
/// after matplotlib's "magma").
const STOPS: [[f32; 3]; 6] = [
    [0.0, 0.0, 4.0],
    [59.0, 15.0, 112.0],
    [140.0, 41.0, 129.0],
    [222.0, 73.0, 104.0],
    [254.0, 159.0, 109.0],
    [252.0, 253.0, 191.0],
];

fn colour(t: f32) -> [u8; 3] {
    let t = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f32;
    let i = (t.floor() as usize).min(STOPS.len() - 2);
    let f = t - i as f32;
    let mut c = [0u8; 3];
    for (k, out) in c.iter_mut().enumerate() {
        *out = (STOPS[i][k] + f * (STOPS[i + 1][k] - STOPS[i][k])).round() as u8;
    }
    c
}

/// A PNG of the log-mel spectrogram of `x` (mono, at the analysis rate):
/// one column per frame (hop 512, ≈ 23 ms) for at most `max_frames`
/// frames, one row per band with the lowest band at the bottom, coloured
/// over the loudest 80 dB.
pub fn spectrogram_png(x: &[f32], n_mels: usize, max_frames: usize) -> Vec<u8> {
    let n_mels = n_mels.max(1);
    let mel = log_mel(x, n_mels, max_frames.max(1));
    let frames = mel.len() / n_mels;
    let top = mel.iter().copied().fold(f32::MIN, f32::max);
    let floor = top - 80.0;
    let mut rgb = Vec::with_capacity(frames * n_mels * 3);
    for band in (0..n_mels).rev() {
        for f in 0..frames {
            rgb.extend_from_slice(&colour((mel[f * n_mels + band] - floor) / 80.0));
        }
    }
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, frames as u32, n_mels as u32);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    // Writing into a Vec with the dimensions given cannot fail.
    let mut w = enc.write_header().expect("PNG header into memory");
    w.write_image_data(&rgb).expect("PNG data of the declared size");
    w.finish().expect("PNG end");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tone_is_one_bright_row() {
        let sr = crate::ANALYSIS_RATE as f32;
        let x: Vec<f32> =
            (0..sr as usize * 2).map(|i| (2.0 * std::f32::consts::PI * 440.0 * i as f32 / sr).sin()).collect();
        let png = spectrogram_png(&x, 64, 1000);
        let d = png::Decoder::new(std::io::Cursor::new(png));
        let mut r = d.read_info().unwrap();
        let mut buf = vec![0; r.output_buffer_size().unwrap()];
        let info = r.next_frame(&mut buf).unwrap();
        assert_eq!(info.height, 64);
        assert!(info.width > 80, "{} frames for 2 s", info.width);
        // The brightest row (by red+green in the middle column) is the band
        // holding 440 Hz: low in the picture, not at the top.
        let w = info.width as usize;
        let col = w / 2;
        let bright = (0..64).max_by_key(|&row| {
            let p = (row * w + col) * 3;
            buf[p] as u32 + buf[p + 1] as u32
        });
        let row = bright.unwrap();
        assert!(row > 32 && row < 63, "440 Hz at row {row} of 64 (0 = top)");
    }
}
