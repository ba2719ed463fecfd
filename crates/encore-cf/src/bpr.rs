//! Bayesian personalised ranking (Rendle et al. 2009), trained by sampled
//! SGD with Hogwild-style parallel updates.
//!
//! Each step draws a (user, played song) pair uniformly from the plays and a
//! song the user has *not* played uniformly from the catalogue, and moves
//! the factors so the played song scores above the other. Threads update the
//! shared factors without locks (Hogwild: Niu et al. 2011); the factors are
//! atomics read and written with relaxed ordering, so races lose an update
//! now and then, as Hogwild allows, but never tear a value.
//!
//! `implicit`'s BPR draws the negative from the play log, i.e. in
//! proportion to popularity; that punishes popular songs a user has not
//! played yet far more than the uniform sampling of the paper, and ranks
//! worse on long-tail catalogues. Encore samples uniformly, as Rendle et al.
//! do, and verifies the negative is unplayed.
//!
//! Item biases are the last factor of each item vector (the user's last
//! factor is fixed at 1), so the result is a plain dot-product model.

use std::sync::atomic::{AtomicU32, Ordering};

use encore_types::Interactions;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::als::AlsConfig;
use crate::error::check;
use crate::model::{CfModel, TrainMetrics};
use crate::{Error, Result};

/// Hyperparameters of BPR.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BprConfig {
    /// Latent factors (plus one for the item bias).
    pub factors: usize,
    /// SGD step size.
    pub learning_rate: f32,
    /// L2 regularisation.
    pub regularization: f32,
    /// Epochs; one epoch draws as many samples as there are plays.
    pub iterations: usize,
}

impl Default for BprConfig {
    fn default() -> Self {
        BprConfig { factors: 64, learning_rate: 0.01, regularization: 0.01, iterations: 100 }
    }
}

fn load(v: &AtomicU32) -> f32 {
    f32::from_bits(v.load(Ordering::Relaxed))
}

fn store(v: &AtomicU32, x: f32) {
    v.store(x.to_bits(), Ordering::Relaxed)
}

impl BprConfig {
    /// Checks the hyperparameters.
    pub fn validate(&self) -> Result<()> {
        check::factors(self.factors)?;
        check::positive("learning_rate", self.learning_rate)?;
        check::non_negative("regularization", self.regularization)?;
        check::at_least_one("iterations", self.iterations)
    }

    /// Trains on the full plays of `m`. `progress(epoch, of)` after each
    /// epoch.
    pub fn fit(&self, m: &Interactions, rng: &mut impl Rng, progress: &mut dyn FnMut(usize, usize)) -> Result<CfModel> {
        self.validate()?;
        m.validate().map_err(Error::Shape)?;
        let k = self.factors + 1;
        let (n_users, n_items) = (m.n_users(), m.n_items());
        // Positives: (user, item) of every pair with full plays.
        let mut pos_user = Vec::new();
        let mut pos_item = Vec::new();
        let mut liked: Vec<Vec<u32>> = vec![Vec::new(); n_users];
        for (u, liked_u) in liked.iter_mut().enumerate() {
            let r = m.row(u);
            for (j, &i) in r.indices.iter().enumerate() {
                if r.plays[j] > 0.0 {
                    pos_user.push(u as u32);
                    pos_item.push(i);
                    liked_u.push(i);
                }
            }
        }
        if pos_user.is_empty() || n_items < 2 {
            return Err(Error::Shape("BPR needs plays and at least two songs".into()));
        }
        let mut init = rand_chacha::ChaCha8Rng::seed_from_u64(rng.random());
        let scale = 1.0 / (self.factors as f32).sqrt();
        let x: Vec<AtomicU32> = (0..n_users * k)
            .map(|c| {
                AtomicU32::new(if c % k == k - 1 { 1.0f32 } else { (init.random::<f32>() - 0.5) * scale }.to_bits())
            })
            .collect();
        let y: Vec<AtomicU32> = (0..n_items * k)
            .map(|c| {
                AtomicU32::new(if c % k == k - 1 { 0.0f32 } else { (init.random::<f32>() - 0.5) * scale }.to_bits())
            })
            .collect();
        let (lr, reg) = (self.learning_rate, self.regularization);
        let chunks = rayon::current_num_threads().max(1) * 4;
        let per_chunk = pos_user.len().div_ceil(chunks);
        let mut metrics = TrainMetrics::default();
        let started = std::time::Instant::now();
        for epoch in 0..self.iterations {
            let t = std::time::Instant::now();
            let seed: u64 = init.random();
            (0..chunks).into_par_iter().for_each(|c| {
                let mut rng =
                    rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ (c as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                let mut xu = vec![0f32; k];
                let mut yi = vec![0f32; k];
                let mut yj = vec![0f32; k];
                for _ in 0..per_chunk {
                    let e = rng.random_range(0..pos_user.len());
                    let (u, i) = (pos_user[e] as usize, pos_item[e] as usize);
                    let mut j = rng.random_range(0..n_items);
                    let mut tries = 0;
                    while liked[u].binary_search(&(j as u32)).is_ok() && tries < 20 {
                        j = rng.random_range(0..n_items);
                        tries += 1;
                    }
                    if tries == 20 {
                        continue; // the user has played nearly everything
                    }
                    for f in 0..k {
                        xu[f] = load(&x[u * k + f]);
                        yi[f] = load(&y[i * k + f]);
                        yj[f] = load(&y[j * k + f]);
                    }
                    let diff: f32 = (0..k).map(|f| xu[f] * (yi[f] - yj[f])).sum();
                    let z = 1.0 / (1.0 + diff.exp());
                    for f in 0..k {
                        if f < k - 1 {
                            store(&x[u * k + f], xu[f] + lr * (z * (yi[f] - yj[f]) - reg * xu[f]));
                        }
                        store(&y[i * k + f], yi[f] + lr * (z * xu[f] - reg * yi[f]));
                        store(&y[j * k + f], yj[f] + lr * (-z * xu[f] - reg * yj[f]));
                    }
                }
            });
            metrics.seconds_per_iteration.push(t.elapsed().as_secs_f64());
            progress(epoch + 1, self.iterations);
        }
        metrics.train_seconds = started.elapsed().as_secs_f64();
        metrics.nnz = pos_user.len();
        let x: Vec<f32> = x.iter().map(load).collect();
        let y: Vec<f32> = y.iter().map(load).collect();
        let als = AlsConfig { factors: k, regularization: self.regularization.max(0.01), ..AlsConfig::default() };
        Ok(CfModel::new(als, k, x, y, m.user_ids.clone(), m.item_ids.clone(), metrics).with_algorithm("bpr"))
    }
}
