//! Ridge regression from song-level audio features to CF vectors, fitted in
//! closed form with faer's Cholesky, its penalty picked on a held-aside
//! share of the songs.

use faer::linalg::solvers::Solve;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Penalties tried, on features of unit length.
pub const PENALTIES: [f64; 6] = [0.1, 0.3, 1.0, 3.0, 10.0, 30.0];

/// A linear map with an intercept: `x ↦ [x, 1] · W`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ridge {
    /// Input dimension.
    pub dim_in: usize,
    /// Output dimension.
    pub dim_out: usize,
    /// The penalty it was fitted with.
    pub penalty: f64,
    /// (dim_in + 1) × dim_out, row-major; the last row is the intercept.
    pub weights: Vec<f32>,
}

/// How the penalty was chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RidgeChoice {
    /// Songs the penalty was chosen on (held aside from the fit).
    pub validation_songs: usize,
    /// Mean squared error on them for each of [`PENALTIES`].
    pub validation_mse: Vec<(f64, f64)>,
}

impl Ridge {
    /// The least-squares map with penalty `penalty` on every weight but the
    /// intercept. `None` when the inputs are empty or ragged.
    pub fn fit(x: &[Vec<f32>], y: &[Vec<f32>], penalty: f64) -> Option<Ridge> {
        let dim_in = x.first()?.len();
        let dim_out = y.first()?.len();
        if x.len() != y.len() || x.iter().any(|r| r.len() != dim_in) || y.iter().any(|r| r.len() != dim_out) {
            return None;
        }
        let d = dim_in + 1;
        let row = |r: &[f32], i: usize| if i < dim_in { r[i] as f64 } else { 1.0 };
        let mut a = faer::Mat::<f64>::zeros(d, d);
        let mut b = faer::Mat::<f64>::zeros(d, dim_out);
        for (xr, yr) in x.iter().zip(y) {
            for i in 0..d {
                let xi = row(xr, i);
                for j in 0..=i {
                    a[(i, j)] += xi * row(xr, j);
                }
                for (j, &yj) in yr.iter().enumerate() {
                    b[(i, j)] += xi * yj as f64;
                }
            }
        }
        for i in 0..d {
            for j in 0..i {
                a[(j, i)] = a[(i, j)];
            }
            // A tiny ridge on the intercept keeps the system definite.
            a[(i, i)] += if i < dim_in { penalty } else { 1e-9 };
        }
        let w = a.llt(faer::Side::Lower).ok()?.solve(&b);
        let weights = (0..d).flat_map(|i| (0..dim_out).map(move |j| (i, j))).map(|(i, j)| w[(i, j)] as f32).collect();
        Some(Ridge { dim_in, dim_out, penalty, weights })
    }

    /// Picks the penalty from [`PENALTIES`] by the error on a seeded fifth
    /// of the songs, then fits on all of them.
    pub fn fit_chosen(x: &[Vec<f32>], y: &[Vec<f32>], seed: u64) -> Option<(Ridge, RidgeChoice)> {
        let mut order: Vec<usize> = (0..x.len()).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        let n_val = x.len() / 5;
        let (val, fit) = order.split_at(n_val);
        let pick = |ix: &[usize], v: &[Vec<f32>]| -> Vec<Vec<f32>> { ix.iter().map(|&i| v[i].clone()).collect() };
        let mut validation_mse = Vec::new();
        if n_val > 0 && fit.len() > 1 {
            let (fx, fy, vx, vy) = (pick(fit, x), pick(fit, y), pick(val, x), pick(val, y));
            for p in PENALTIES {
                let r = Ridge::fit(&fx, &fy, p)?;
                validation_mse.push((p, mse(&vx.iter().map(|v| r.apply(v)).collect::<Vec<_>>(), &vy)));
            }
        }
        let best = validation_mse.iter().min_by(|a, b| a.1.total_cmp(&b.1)).map_or(1.0, |b| b.0);
        let ridge = Ridge::fit(x, y, best)?;
        Some((ridge, RidgeChoice { validation_songs: n_val, validation_mse }))
    }

    /// The map applied to `x`.
    pub fn apply(&self, x: &[f32]) -> Vec<f32> {
        let mut out = self.weights[self.dim_in * self.dim_out..].to_vec();
        for (i, &xi) in x.iter().enumerate().take(self.dim_in) {
            let w = &self.weights[i * self.dim_out..(i + 1) * self.dim_out];
            out.iter_mut().zip(w).for_each(|(o, w)| *o += xi * w);
        }
        out
    }
}

/// Mean over rows of the squared distance.
pub fn mse(a: &[Vec<f32>], b: &[Vec<f32>]) -> f64 {
    let n = a.len().max(1) as f64;
    a.iter().zip(b).map(|(p, q)| p.iter().zip(q).map(|(x, y)| ((x - y) as f64).powi(2)).sum::<f64>()).sum::<f64>() / n
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn recovers_a_linear_map_and_picks_a_small_penalty_without_noise() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let x: Vec<Vec<f32>> = (0..200).map(|_| (0..4).map(|_| rng.random_range(-1.0..1.0)).collect()).collect();
        let y: Vec<Vec<f32>> = x.iter().map(|v| vec![2.0 * v[0] - v[3] + 0.5, v[1]]).collect();
        let (r, choice) = Ridge::fit_chosen(&x, &y, 1).unwrap();
        assert_eq!(choice.validation_songs, 40);
        assert_eq!(r.penalty, PENALTIES[0], "{choice:?}");
        let p = r.apply(&[0.5, 0.2, 0.0, -0.5]);
        assert!((p[0] - 2.0).abs() < 0.02 && (p[1] - 0.2).abs() < 0.02, "{p:?}");
    }

    #[test]
    fn noise_calls_for_a_larger_penalty() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        // 30 songs, 40 features of pure noise: any fit is overfitting.
        let x: Vec<Vec<f32>> = (0..30).map(|_| (0..40).map(|_| rng.random_range(-1.0..1.0)).collect()).collect();
        let y: Vec<Vec<f32>> = (0..30).map(|_| vec![rng.random_range(-1.0..1.0)]).collect();
        let (r, _) = Ridge::fit_chosen(&x, &y, 1).unwrap();
        assert!(r.penalty >= 10.0, "{}", r.penalty);
    }

    #[test]
    fn refuses_ragged_input() {
        assert!(Ridge::fit(&[vec![1.0], vec![1.0, 2.0]], &[vec![1.0], vec![2.0]], 1.0).is_none());
        assert!(Ridge::fit(&[], &[], 1.0).is_none());
    }
}
