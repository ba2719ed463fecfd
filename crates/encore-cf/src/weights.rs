//! From plays and skips to confidence and preference.
//!
//! The rule (Hu, Koren & Volinsky 2008, with Spotify-style skips):
//!
//! - `effective = plays − skip_weight × skips`, where *skips* are skips and
//!   plays shorter than 30 s ([`encore_types::SHORT_PLAY_MS`]);
//! - `effective > 0`: preference p = 1, confidence c = 1 + α·f(effective);
//! - `effective ≤ 0` with some skip: p = 0, c = 1 + α·f(−effective) — the
//!   listener turned the song down, so we are *more* sure they do not want it
//!   than for a song they never met (c = 1);
//! - f is linear, f(x) = x, or logarithmic, f(x) = ln(1 + x/ε).
//!
//! A skip therefore lowers confidence in a played song, and a song that is
//! mostly skipped becomes a confident negative, instead of counting as plays.
//!
//! Stored as signed confidence: `+c` for p = 1, `−c` for p = 0 (the
//! convention of `implicit`).

use encore_types::Interactions;
use serde::{Deserialize, Serialize};

/// How plays become confidence.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Confidence {
    /// f(x) = x.
    Linear,
    /// f(x) = ln(1 + x/ε).
    Log {
        /// ε > 0.
        epsilon: f32,
    },
}

impl Confidence {
    pub(crate) fn f(self, x: f32) -> f32 {
        match self {
            Confidence::Linear => x,
            Confidence::Log { epsilon } => (x / epsilon).ln_1p(),
        }
    }
}

/// A CSR matrix of signed confidences.
#[derive(Debug, Clone, Default)]
pub(crate) struct Weighted {
    pub indptr: Vec<usize>,
    pub indices: Vec<u32>,
    pub conf: Vec<f32>,
    pub n_cols: usize,
}

impl Weighted {
    pub(crate) fn n_rows(&self) -> usize {
        self.indptr.len() - 1
    }

    pub(crate) fn row(&self, r: usize) -> (&[u32], &[f32]) {
        let (a, b) = (self.indptr[r], self.indptr[r + 1]);
        (&self.indices[a..b], &self.conf[a..b])
    }

    /// Signed confidence of one entry, or `None` for an entry without signal.
    pub(crate) fn entry(plays: f32, skips: u32, alpha: f32, conf: Confidence, skip_weight: f32) -> Option<f32> {
        let eff = plays - skip_weight * skips as f32;
        if eff > 0.0 {
            Some(1.0 + alpha * conf.f(eff))
        } else if skips > 0 && eff < 0.0 {
            Some(-(1.0 + alpha * conf.f(-eff)))
        } else {
            None
        }
    }

    pub(crate) fn from_interactions(m: &Interactions, alpha: f32, conf: Confidence, skip_weight: f32) -> Weighted {
        let mut w = Weighted { indptr: Vec::with_capacity(m.n_users() + 1), n_cols: m.n_items(), ..Default::default() };
        w.indptr.push(0);
        for u in 0..m.n_users() {
            let row = m.row(u);
            for k in 0..row.indices.len() {
                if let Some(c) = Self::entry(row.plays[k], row.skips[k], alpha, conf, skip_weight) {
                    w.indices.push(row.indices[k]);
                    w.conf.push(c);
                }
            }
            w.indptr.push(w.indices.len());
        }
        w
    }

    /// The transpose (items × users).
    pub(crate) fn transpose(&self) -> Weighted {
        let mut counts = vec![0usize; self.n_cols + 1];
        for &i in &self.indices {
            counts[i as usize + 1] += 1;
        }
        for i in 0..self.n_cols {
            counts[i + 1] += counts[i];
        }
        let indptr = counts.clone();
        let mut next = counts;
        let mut indices = vec![0u32; self.indices.len()];
        let mut conf = vec![0f32; self.indices.len()];
        for r in 0..self.n_rows() {
            let (cols, cs) = self.row(r);
            for (&c, &v) in cols.iter().zip(cs) {
                let p = next[c as usize];
                indices[p] = r as u32;
                conf[p] = v;
                next[c as usize] += 1;
            }
        }
        Weighted { indptr, indices, conf, n_cols: self.n_rows() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_lower_confidence_and_mostly_skipped_is_negative() {
        let lin = Confidence::Linear;
        assert_eq!(Weighted::entry(4.0, 0, 1.0, lin, 0.5), Some(5.0));
        assert_eq!(Weighted::entry(4.0, 2, 1.0, lin, 0.5), Some(4.0));
        assert_eq!(Weighted::entry(0.0, 3, 2.0, lin, 0.5), Some(-4.0));
        assert_eq!(Weighted::entry(1.0, 2, 1.0, lin, 0.5), None);
        assert_eq!(Weighted::entry(0.0, 0, 1.0, lin, 0.5), None);
        let log = Confidence::Log { epsilon: 1.0 };
        assert!((Weighted::entry(1.0, 0, 1.0, log, 0.5).unwrap() - (1.0 + 2f32.ln())).abs() < 1e-6);
    }
}
