//! Fusion of the per-source scores: logistic regression fitted on a
//! validation split (which candidates did the user go on to play?).
#![allow(clippy::needless_range_loop)] // matrix index arithmetic reads better with indices

use serde::{Deserialize, Serialize};

use crate::{FEATURES, N_FEATURES};

/// Weights of the fused score `bias + Σ wₛ·xₛ` (a logit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fusion {
    /// Feature names, in order (so a stored model says what it weighs).
    pub features: Vec<String>,
    /// One weight per feature.
    pub weights: [f32; N_FEATURES],
    /// Intercept.
    pub bias: f32,
    /// Examples it was fitted on.
    pub examples: usize,
    /// Of which positives.
    pub positives: usize,
    /// Mean log-loss on the fitting examples.
    pub log_loss: f32,
}

impl Default for Fusion {
    /// Equal weights: what is used before a fit (and by tests).
    fn default() -> Self {
        Fusion {
            features: FEATURES.iter().map(|s| s.to_string()).collect(),
            weights: [1.0; N_FEATURES],
            bias: 0.0,
            examples: 0,
            positives: 0,
            log_loss: f32::NAN,
        }
    }
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl Fusion {
    /// Fits L2-regularised logistic regression with non-negative weights:
    /// every source may only add to a song's score, so contributions read as
    /// reasons and correlated sources cannot cancel each other out (which,
    /// unconstrained, turned the ranking of cold songs upside down). An
    /// active set: fit, drop the most negative weight, refit.
    pub fn fit(x: &[[f32; N_FEATURES]], y: &[bool], l2: f64) -> Fusion {
        let mut free = [true; N_FEATURES];
        loop {
            let f = Fusion::fit_free(x, y, l2, &free);
            let worst = (0..N_FEATURES)
                .filter(|&k| free[k] && f.weights[k] < 0.0)
                .min_by(|&a, &b| f.weights[a].total_cmp(&f.weights[b]));
            match worst {
                Some(k) => free[k] = false,
                None => return f,
            }
        }
    }

    /// Newton's method on the features in `free` (at most seven unknowns: a
    /// 7 × 7 solve per step, written out here rather than pulling a
    /// linear-algebra crate into the ranker); the others get weight 0.
    /// Positives are re-weighted to balance the classes.
    fn fit_free(x: &[[f32; N_FEATURES]], y: &[bool], l2: f64, free: &[bool; N_FEATURES]) -> Fusion {
        const D: usize = N_FEATURES + 1;
        let pos = y.iter().filter(|&&b| b).count();
        let neg = y.len() - pos;
        let mut fusion = Fusion { examples: y.len(), positives: pos, ..Fusion::default() };
        if pos == 0 || neg == 0 {
            return fusion;
        }
        let w_pos = neg as f64 / pos as f64;
        let mut beta = [0f64; D];
        let row = |xi: &[f32; N_FEATURES]| -> [f64; D] {
            let mut r = [1f64; D];
            for k in 0..N_FEATURES {
                r[k + 1] = if free[k] { xi[k] as f64 } else { 0.0 };
            }
            r
        };
        for _ in 0..25 {
            let mut g = [0f64; D];
            let mut h = [[0f64; D]; D];
            for (xi, &yi) in x.iter().zip(y) {
                let r = row(xi);
                let z: f64 = r.iter().zip(&beta).map(|(a, b)| a * b).sum();
                let p = sigmoid(z);
                let w = if yi { w_pos } else { 1.0 };
                let err = p - if yi { 1.0 } else { 0.0 };
                for a in 0..D {
                    g[a] += w * err * r[a];
                    for b in 0..D {
                        h[a][b] += w * p * (1.0 - p) * r[a] * r[b];
                    }
                }
            }
            for a in 1..D {
                g[a] += l2 * beta[a];
                h[a][a] += if free[a - 1] { l2 } else { 1.0 };
            }
            for a in 0..D {
                h[a][a] += 1e-9;
            }
            let Some(step) = solve(h, g) else { break };
            let mut change = 0f64;
            for a in 0..D {
                beta[a] -= step[a];
                change = change.max(step[a].abs());
            }
            if change < 1e-7 {
                break;
            }
        }
        fusion.bias = beta[0] as f32;
        for k in 0..N_FEATURES {
            fusion.weights[k] = beta[k + 1] as f32;
        }
        let mut loss = 0f64;
        for (xi, &yi) in x.iter().zip(y) {
            let p = sigmoid(fusion.logit(xi) as f64).clamp(1e-12, 1.0 - 1e-12);
            loss -= if yi { p.ln() } else { (1.0 - p).ln() };
        }
        fusion.log_loss = (loss / y.len() as f64) as f32;
        fusion
    }

    /// The fused score (a logit).
    pub fn logit(&self, x: &[f32; N_FEATURES]) -> f32 {
        self.bias + self.weights.iter().zip(x).map(|(w, v)| w * v).sum::<f32>()
    }

    /// Each feature's part of [`Fusion::logit`] (the bias left out).
    pub fn contributions(&self, x: &[f32; N_FEATURES]) -> [f32; N_FEATURES] {
        let mut c = [0f32; N_FEATURES];
        for k in 0..N_FEATURES {
            c[k] = self.weights[k] * x[k];
        }
        c
    }
}

/// Gaussian elimination with partial pivoting.
fn solve<const D: usize>(mut a: [[f64; D]; D], mut b: [f64; D]) -> Option<[f64; D]> {
    for c in 0..D {
        let p = (c..D).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        if a[p][c].abs() < 1e-300 {
            return None;
        }
        a.swap(c, p);
        b.swap(c, p);
        for r in c + 1..D {
            let f = a[r][c] / a[c][c];
            for k in c..D {
                a[r][k] -= f * a[c][k];
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = [0f64; D];
    for r in (0..D).rev() {
        let s: f64 = (r + 1..D).map(|k| a[r][k] * x[k]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn recovers_which_feature_predicts_the_label() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut x = Vec::new();
        let mut y = Vec::new();
        for _ in 0..4000 {
            let mut f = [0f32; N_FEATURES];
            for v in &mut f {
                *v = rng.random_range(-1.0..1.0);
            }
            // Only feature 1 matters (strongly), feature 4 a little.
            let z = 3.0 * f[1] as f64 + 1.0 * f[4] as f64 - 1.0;
            y.push(rng.random::<f64>() < sigmoid(z));
            x.push(f);
        }
        let fit = Fusion::fit(&x, &y, 1e-3);
        assert!(fit.weights[1] > 2.0, "{fit:?}");
        assert!(fit.weights[4] > 0.5 && fit.weights[4] < fit.weights[1], "{fit:?}");
        for k in [0, 2, 3, 5] {
            assert!(fit.weights[k].abs() < 0.35, "feature {k}: {fit:?}");
        }
        let c = fit.contributions(&x[0]);
        assert!((c.iter().sum::<f32>() + fit.bias - fit.logit(&x[0])).abs() < 1e-5);
    }

    #[test]
    fn weights_are_never_negative() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let mut x = Vec::new();
        let mut y = Vec::new();
        for _ in 0..3000 {
            let mut f = [0f32; N_FEATURES];
            for v in &mut f {
                *v = rng.random_range(-1.0..1.0);
            }
            let z = 2.0 * f[0] as f64 - 2.0 * f[2] as f64;
            y.push(rng.random::<f64>() < sigmoid(z));
            x.push(f);
        }
        let fit = Fusion::fit(&x, &y, 1e-3);
        assert!(fit.weights.iter().all(|&w| w >= 0.0), "{fit:?}");
        assert_eq!(fit.weights[2], 0.0);
        assert!(fit.weights[0] > 1.5, "{fit:?}");
    }

    #[test]
    fn one_class_keeps_the_default() {
        let f = Fusion::fit(&[[0.0; N_FEATURES]; 3], &[true, true, true], 1.0);
        assert_eq!(f.weights, [1.0; N_FEATURES]);
    }
}
