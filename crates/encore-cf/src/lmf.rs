//! Logistic matrix factorisation (Johnson 2014, Spotify).
//!
//! The probability that user u likes item i is `σ(zᵤᵢ)`, `zᵤᵢ = xᵤ·yᵢ + bᵤ +
//! bᵢ`. A played pair is evidence for, weighted `c = α·plays`; an unplayed
//! pair is evidence against. The log-likelihood gradient of a user's vector
//! is `Σ_played c (1 − σ(zᵤᵢ)) yᵢ − Σ_unplayed σ(zᵤᵢ) yᵢ − λxᵤ`. (Johnson's
//! paper also counts every played pair once against, `(1 + c) σ`; with small
//! `c` that caps a played pair at p = ½, so the played pair's own "against"
//! term is dropped, as `implicit` does.)
//!
//! The sum over the many unplayed items is *estimated*: `negatives × |plays|`
//! of them (at most all) are drawn uniformly, and each stands for
//! `unplayed / draws` of them, so the estimate is unbiased and a popular item,
//! with fewer unplayed pairs, rightly gets less pressure against it. Sampling a
//! fixed number per play without that weight gives every item the same
//! for/against ratio, erases popularity, and (measured on MovieLens-100K)
//! ranks held-out songs *below* chance. `implicit` draws its negatives from
//! the play log (by popularity, played items included) and caps them at the
//! catalogue size. Steps use AdaGrad; users and items alternate, each side in
//! parallel by rows.
//!
//! Biases ride along as two extra factors: users carry `[x, bᵤ, 1]`, items
//! `[y, 1, bᵢ]`, so the trained model is a plain dot-product model.

use encore_types::Interactions;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::als::AlsConfig;
use crate::error::check;
use crate::model::{CfModel, TrainMetrics};
use crate::{Error, Result};

/// Hyperparameters of logistic MF.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LmfConfig {
    /// Latent factors (plus two for the biases).
    pub factors: usize,
    /// AdaGrad step size.
    pub learning_rate: f32,
    /// L2 regularisation.
    pub regularization: f32,
    /// Weight of a play, α.
    pub alpha: f32,
    /// Unplayed items drawn per played item.
    pub negatives: usize,
    /// Alternating passes.
    pub iterations: usize,
}

impl Default for LmfConfig {
    fn default() -> Self {
        LmfConfig { factors: 30, learning_rate: 1.0, regularization: 0.6, alpha: 1.0, negatives: 30, iterations: 30 }
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// CSR rows of (column, α·plays).
struct Rows {
    indptr: Vec<usize>,
    cols: Vec<u32>,
    conf: Vec<f32>,
}

impl Rows {
    fn row(&self, r: usize) -> (&[u32], &[f32]) {
        (&self.cols[self.indptr[r]..self.indptr[r + 1]], &self.conf[self.indptr[r]..self.indptr[r + 1]])
    }
}

/// One AdaGrad step on every row of `target` against the fixed `other`.
/// `fixed_slot` is the component of `target`'s rows held at 1.
#[allow(clippy::too_many_arguments)]
fn pass(
    cfg: &LmfConfig,
    rows: &Rows,
    target: &mut [f32],
    grad_sq: &mut [f32],
    other: &[f32],
    n_other: usize,
    k: usize,
    fixed_slot: usize,
    seed: u64,
) {
    target.par_chunks_mut(k).zip(grad_sq.par_chunks_mut(k)).enumerate().for_each_init(
        || vec![0f32; k],
        |g, (r, (x, gs))| {
            let (cols, conf) = rows.row(r);
            if cols.is_empty() {
                return;
            }
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ (r as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            g.iter_mut().zip(x.iter()).for_each(|(gi, xi)| *gi = -cfg.regularization * xi);
            let dot = |y: &[f32]| x.iter().zip(y).map(|(a, b)| a * b).sum::<f32>();
            for (&c, &w) in cols.iter().zip(conf) {
                let y = &other[c as usize * k..(c as usize + 1) * k];
                let coef = w * (1.0 - sigmoid(dot(y)));
                g.iter_mut().zip(y).for_each(|(gi, yi)| *gi += coef * yi);
            }
            // Estimate the sum over all unplayed columns from a uniform sample,
            // each draw standing for `unplayed / draws` of them.
            let unplayed = n_other.saturating_sub(cols.len());
            let draws = (cfg.negatives * cols.len()).min(unplayed);
            let weight = if draws > 0 { unplayed as f32 / draws as f32 } else { 0.0 };
            let mut tries = 0;
            let mut drawn = 0;
            while drawn < draws && tries < 8 * draws {
                tries += 1;
                let j = rng.random_range(0..n_other) as u32;
                if cols.binary_search(&j).is_ok() {
                    continue;
                }
                drawn += 1;
                let y = &other[j as usize * k..(j as usize + 1) * k];
                let coef = -weight * sigmoid(dot(y));
                g.iter_mut().zip(y).for_each(|(gi, yi)| *gi += coef * yi);
            }
            for f in 0..k {
                if f == fixed_slot {
                    continue;
                }
                gs[f] += g[f] * g[f];
                x[f] += cfg.learning_rate * g[f] / gs[f].sqrt().max(1e-8);
            }
        },
    );
}

impl LmfConfig {
    /// Checks the hyperparameters.
    pub fn validate(&self) -> Result<()> {
        check::factors(self.factors)?;
        check::positive("learning_rate", self.learning_rate)?;
        check::non_negative("regularization", self.regularization)?;
        check::positive("alpha", self.alpha)?;
        check::at_least_one("iterations", self.iterations)
    }

    /// Trains on the full plays of `m`.
    pub fn fit(&self, m: &Interactions, rng: &mut impl Rng, progress: &mut dyn FnMut(usize, usize)) -> Result<CfModel> {
        self.validate()?;
        m.validate().map_err(Error::Shape)?;
        let k = self.factors + 2;
        let (nu, ni) = (m.n_users(), m.n_items());
        let mut ui = Rows { indptr: vec![0], cols: Vec::new(), conf: Vec::new() };
        let mut item_rows: Vec<Vec<(u32, f32)>> = vec![Vec::new(); ni];
        for u in 0..nu {
            let r = m.row(u);
            for (j, &i) in r.indices.iter().enumerate() {
                if r.plays[j] > 0.0 {
                    let w = self.alpha * r.plays[j];
                    ui.cols.push(i);
                    ui.conf.push(w);
                    item_rows[i as usize].push((u as u32, w));
                }
            }
            ui.indptr.push(ui.cols.len());
        }
        let mut iu = Rows { indptr: vec![0], cols: Vec::new(), conf: Vec::new() };
        for row in &item_rows {
            for &(u, w) in row {
                iu.cols.push(u);
                iu.conf.push(w);
            }
            iu.indptr.push(iu.cols.len());
        }
        let mut init = rand_chacha::ChaCha8Rng::seed_from_u64(rng.random());
        // Unit-variance start: AdaGrad's first steps are ±learning_rate per
        // component, so small initial factors would be swamped by the sign of
        // the first gradient.
        let scale = 1.0 / (self.factors as f32).sqrt();
        // users: [x, b_u, 1]; items: [y, 1, b_i]
        let mut x: Vec<f32> = (0..nu * k)
            .map(|c| match c % k {
                f if f == k - 1 => 1.0,
                f if f == k - 2 => 0.0,
                _ => (init.random::<f32>() - 0.5) * scale,
            })
            .collect();
        let mut y: Vec<f32> = (0..ni * k)
            .map(|c| match c % k {
                f if f == k - 2 => 1.0,
                f if f == k - 1 => 0.0,
                _ => (init.random::<f32>() - 0.5) * scale,
            })
            .collect();
        let mut gx = vec![0f32; nu * k];
        let mut gy = vec![0f32; ni * k];
        let mut metrics = TrainMetrics::default();
        let started = std::time::Instant::now();
        for it in 0..self.iterations {
            let t = std::time::Instant::now();
            pass(self, &ui, &mut x, &mut gx, &y, ni, k, k - 1, init.random());
            pass(self, &iu, &mut y, &mut gy, &x, nu, k, k - 2, init.random());
            metrics.seconds_per_iteration.push(t.elapsed().as_secs_f64());
            progress(it + 1, self.iterations);
        }
        metrics.train_seconds = started.elapsed().as_secs_f64();
        metrics.nnz = ui.cols.len();
        let als = AlsConfig { factors: k, ..AlsConfig::default() };
        Ok(CfModel::new(als, k, x, y, m.user_ids.clone(), m.item_ids.clone(), metrics).with_algorithm("lmf"))
    }
}
