//! The compact descriptor vector used for "sounds like" similarity.
//!
//! [`Descriptors::raw_vector`] lays the descriptors out in fixed groups
//! (rhythm, tonality, loudness, spectral shape, mel means, mel spreads,
//! MFCC means, MFCC variances). [`DescriptorScaler`] standardises each
//! dimension over a collection (z-scores), weights every group by
//! 1/√(its length) so that the 64-band groups do not drown the one-number
//! ones, and L2-normalises, so a dot product is a cosine similarity.

use serde::{Deserialize, Serialize};

use crate::Descriptors;

/// Group lengths of [`Descriptors::raw_vector`], in order.
const GROUPS: [(&str, usize); 8] = [
    ("rhythm", 3),
    ("tonality", 3),
    ("loudness", 2),
    ("spectral", 4),
    ("mel_mean", 64),
    ("mel_std", 64),
    ("mfcc_mean", 13),
    ("mfcc_var", 13),
];

/// Length of [`Descriptors::raw_vector`].
pub const RAW_DIM: usize = 3 + 3 + 2 + 4 + 64 + 64 + 13 + 13;

impl Descriptors {
    /// The descriptors as one fixed-length vector of [`RAW_DIM`] numbers,
    /// before normalisation: log₂(tempo/120), tempo confidence, onset rate;
    /// key on the circle of fifths (cos, sin) and mode (+1 major, −1 minor);
    /// LUFS and loudness range; log centroid, log roll-off, flatness, ZCR;
    /// mel means and spreads; MFCC means and variances.
    pub fn raw_vector(&self) -> Vec<f32> {
        let mut v = Vec::with_capacity(RAW_DIM);
        v.push((self.tempo_bpm.max(1.0) / 120.0).log2());
        v.push(self.tempo_confidence);
        v.push(self.onset_rate);
        let pc = crate::KEYS.iter().position(|k| *k == self.key).unwrap_or(0);
        let fifths = (pc * 7 % 12) as f32 * std::f32::consts::TAU / 12.0;
        v.push(fifths.cos());
        v.push(fifths.sin());
        v.push(if self.mode == "major" { 1.0 } else { -1.0 });
        v.push(self.lufs.max(-70.0) as f32);
        v.push(self.loudness_range as f32);
        v.push(self.centroid_hz.max(1.0).ln());
        v.push(self.rolloff_hz.max(1.0).ln());
        v.push(self.flatness);
        v.push(self.zcr);
        let fit = |v: &mut Vec<f32>, xs: &[f32], n: usize| {
            v.extend((0..n).map(|i| xs.get(i).copied().unwrap_or(0.0)));
        };
        fit(&mut v, &self.mel_mean, 64);
        fit(&mut v, &self.mel_std, 64);
        fit(&mut v, &self.mfcc_mean, 13);
        let n = self.mfcc_mean.len();
        let var: Vec<f32> =
            (0..n).map(|i| self.mfcc_cov.get(i * n + i).copied().unwrap_or(0.0).max(0.0).sqrt()).collect();
        fit(&mut v, &var, 13);
        debug_assert_eq!(v.len(), RAW_DIM);
        v.iter_mut().filter(|x| !x.is_finite()).for_each(|x| *x = 0.0);
        v
    }
}

/// Per-dimension standardisation fitted on a collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DescriptorScaler {
    /// Mean of each raw dimension.
    pub mean: Vec<f32>,
    /// Standard deviation of each raw dimension (1 where it is 0).
    pub std: Vec<f32>,
}

impl DescriptorScaler {
    /// Fits the scaler on `items`.
    pub fn fit<'a>(items: impl IntoIterator<Item = &'a Descriptors>) -> DescriptorScaler {
        let mut sum = vec![0f64; RAW_DIM];
        let mut sq = vec![0f64; RAW_DIM];
        let mut n = 0f64;
        for d in items {
            for (i, x) in d.raw_vector().into_iter().enumerate() {
                sum[i] += x as f64;
                sq[i] += (x as f64) * (x as f64);
            }
            n += 1.0;
        }
        let n = n.max(1.0);
        let mean: Vec<f32> = sum.iter().map(|s| (s / n) as f32).collect();
        let std = sum
            .iter()
            .zip(&sq)
            .map(|(s, q)| {
                let var = (q / n - (s / n).powi(2)).max(0.0);
                if var > 1e-12 {
                    var.sqrt() as f32
                } else {
                    1.0
                }
            })
            .collect();
        DescriptorScaler { mean, std }
    }

    /// The normalised, L2-unit vector of `d`.
    pub fn embed(&self, d: &Descriptors) -> Vec<f32> {
        let mut v = d.raw_vector();
        let mut i = 0;
        for (_, len) in GROUPS {
            let w = 1.0 / (len as f32).sqrt();
            for x in &mut v[i..i + len] {
                *x = (*x - self.mean[i]) / self.std[i] * w;
                i += 1;
            }
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|x| *x /= norm);
        }
        v
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Descriptors of a made-up song (also the network's tests' fixture).
    pub(crate) fn d(tempo: f32, centroid: f32, key: &str) -> Descriptors {
        Descriptors {
            feature_version: crate::FEATURE_VERSION,
            duration_s: 10.0,
            lufs: -14.0,
            loudness_range: 5.0,
            tempo_bpm: tempo,
            tempo_confidence: 0.5,
            key: key.into(),
            mode: "major".into(),
            key_confidence: 0.2,
            centroid_hz: centroid,
            rolloff_hz: 2.0 * centroid,
            flatness: 0.1,
            zcr: 0.05,
            onset_rate: 2.0,
            mel_mean: (0..64).map(|i| -(i as f32) * centroid / 1000.0).collect(),
            mel_std: vec![3.0; 64],
            mfcc_mean: vec![1.0; 13],
            mfcc_cov: vec![0.5; 169],
            chroma: vec![0.5; 12],
        }
    }

    #[test]
    fn vectors_are_unit_and_near_for_similar_sounds() {
        let items = [d(120.0, 1000.0, "C"), d(122.0, 1050.0, "G"), d(70.0, 3000.0, "F#"), d(72.0, 3100.0, "C#")];
        let s = DescriptorScaler::fit(&items);
        let v: Vec<Vec<f32>> = items.iter().map(|x| s.embed(x)).collect();
        for x in &v {
            assert_eq!(x.len(), RAW_DIM);
            assert!((x.iter().map(|a| a * a).sum::<f32>() - 1.0).abs() < 1e-4);
        }
        let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
        assert!(dot(&v[0], &v[1]) > dot(&v[0], &v[2]));
        assert!(dot(&v[2], &v[3]) > dot(&v[2], &v[1]));
        // Constant dimensions do not produce NaN.
        assert!(v.iter().flatten().all(|x| x.is_finite()));
    }
}
