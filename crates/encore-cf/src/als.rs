//! Implicit-feedback alternating least squares (Hu, Koren & Volinsky 2008).
//!
//! Each half-iteration fixes one side's factors `Y` and solves, for every row
//! `u` of the other side, `(YᵀY + Yᵀ(Cᵤ − I)Y + λI) xᵤ = YᵀCᵤp(u)` — only the
//! row's stored entries enter the correction to the shared `YᵀY + λI`. Two
//! solvers:
//!
//! - [`Solver::Cholesky`]: form the k×k matrix (the correction as one small
//!   Gram product by faer) and solve it exactly by Cholesky;
//! - [`Solver::Cg`]: a few conjugate-gradient steps warm-started from the
//!   previous `xᵤ` (Takács et al. 2011), touching `Y` only through
//!   matrix-vector products, as `implicit` does.

use std::time::Instant;

use encore_types::Interactions;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::check;
use crate::linalg::{
    add_gram, cholesky_scratch, cholesky_solve, dot, gram, matvec, simd_axpy, simd_dot, simd_dot2, simd_matvec,
};
use crate::model::{CfModel, TrainMetrics};
use crate::weights::{Confidence, Weighted};
use crate::{Error, Result};

/// How each row's system is solved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Solver {
    /// Conjugate gradient, `steps` per row per half-iteration.
    Cg {
        /// CG steps (3 in `implicit`).
        steps: usize,
    },
    /// Exact Cholesky solve.
    Cholesky,
}

/// Hyperparameters of implicit ALS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlsConfig {
    /// Latent factors per vector.
    pub factors: usize,
    /// L2 regularisation λ.
    pub regularization: f32,
    /// Confidence scale α.
    pub alpha: f32,
    /// Confidence shape.
    pub confidence: Confidence,
    /// Weight of a skip against a play (see [`crate::weights`]).
    pub skip_weight: f32,
    /// Full iterations (users, then items).
    pub iterations: usize,
    /// Row solver.
    pub solver: Solver,
    /// Compute the training loss after every iteration (costs about one CG
    /// step); the final loss is always computed.
    pub track_loss: bool,
}

impl Default for AlsConfig {
    fn default() -> Self {
        AlsConfig {
            factors: 64,
            regularization: 0.01,
            alpha: 1.0,
            confidence: Confidence::Linear,
            skip_weight: 0.5,
            iterations: 15,
            solver: Solver::Cg { steps: 3 },
            track_loss: false,
        }
    }
}

/// What the progress callback sees after each iteration.
#[derive(Debug, Clone, Serialize)]
pub struct IterationStats {
    /// 1-based iteration.
    pub iteration: usize,
    /// Of how many.
    pub of: usize,
    /// Seconds this iteration took.
    pub seconds: f64,
    /// Training loss, when tracked.
    pub loss: Option<f64>,
}

impl AlsConfig {
    /// Checks the hyperparameters.
    pub fn validate(&self) -> Result<()> {
        check::factors(self.factors)?;
        check::non_negative("regularization", self.regularization)?;
        check::positive("alpha", self.alpha)?;
        if let Confidence::Log { epsilon } = self.confidence {
            check::positive("epsilon", epsilon)?;
        }
        check::non_negative("skip_weight", self.skip_weight)?;
        check::at_least_one("iterations", self.iterations)?;
        if let Solver::Cg { steps } = self.solver {
            check::at_least_one("cg_steps", steps)?;
        }
        Ok(())
    }

    /// Trains on `m`. `progress` is called after every iteration.
    pub fn fit(
        &self,
        m: &Interactions,
        rng: &mut impl Rng,
        progress: &mut dyn FnMut(&IterationStats),
    ) -> Result<CfModel> {
        self.validate()?;
        m.validate().map_err(Error::Shape)?;
        let k = self.factors;
        let cui = Weighted::from_interactions(m, self.alpha, self.confidence, self.skip_weight);
        let ciu = cui.transpose();
        let mut init = rand_chacha::ChaCha8Rng::seed_from_u64(rng.random());
        let mut x: Vec<f32> = (0..m.n_users() * k).map(|_| init.random::<f32>() * 0.01).collect();
        let mut y: Vec<f32> = (0..m.n_items() * k).map(|_| init.random::<f32>() * 0.01).collect();
        let mut metrics = TrainMetrics::default();
        let started = Instant::now();
        for it in 0..self.iterations {
            let t = Instant::now();
            solve_side(self.solver, &cui, &y, k, self.regularization, &mut x);
            solve_side(self.solver, &ciu, &x, k, self.regularization, &mut y);
            let seconds = t.elapsed().as_secs_f64();
            let loss = self.track_loss.then(|| loss(&cui, &x, &y, k, self.regularization));
            metrics.seconds_per_iteration.push(seconds);
            if let Some(l) = loss {
                metrics.loss_per_iteration.push(l);
            }
            let stats = IterationStats { iteration: it + 1, of: self.iterations, seconds, loss };
            tracing::debug!(?stats, "ALS iteration");
            progress(&stats);
        }
        metrics.train_seconds = started.elapsed().as_secs_f64();
        metrics.final_loss = loss(&cui, &x, &y, k, self.regularization);
        metrics.nnz = cui.indices.len();
        Ok(CfModel::new(self.clone(), k, x, y, m.user_ids.clone(), m.item_ids.clone(), metrics))
    }
}

/// Per-thread scratch of the row solvers.
pub(crate) struct Scratch {
    a: Vec<f32>,
    b: Vec<f32>,
    g: Vec<f32>,
    r: Vec<f32>,
    p: Vec<f32>,
    ap: Vec<f32>,
    stack: faer::dyn_stack::MemBuffer,
}

impl Scratch {
    pub(crate) fn new(k: usize) -> Scratch {
        Scratch {
            a: vec![0.0; k * k],
            b: vec![0.0; k],
            g: Vec::new(),
            r: vec![0.0; k],
            p: vec![0.0; k],
            ap: vec![0.0; k],
            stack: cholesky_scratch(k),
        }
    }
}

/// `YᵀY + λI`.
pub(crate) fn regularized_gram(y: &[f32], k: usize, reg: f32) -> Vec<f32> {
    let mut yty = gram(y, k);
    for i in 0..k {
        yty[i * k + i] += reg;
    }
    yty
}

fn solve_side(solver: Solver, rows: &Weighted, fixed: &[f32], k: usize, reg: f32, target: &mut [f32]) {
    let yty = regularized_gram(fixed, k, reg);
    let arch = pulp::Arch::new();
    target.par_chunks_mut(k).enumerate().for_each_init(
        || Scratch::new(k),
        |s, (u, x)| {
            let (cols, conf) = rows.row(u);
            match solver {
                Solver::Cholesky => arch.dispatch(RowSolve { cols, conf, y: fixed, yty: &yty, k, x, steps: None, s }),
                Solver::Cg { steps } => {
                    arch.dispatch(RowSolve { cols, conf, y: fixed, yty: &yty, k, x, steps: Some(steps), s })
                }
            }
        },
    );
}

/// One row's solve, run by [`pulp::Arch::dispatch`] so that the inlined
/// kernels are compiled for the CPU's widest SIMD instructions.
pub(crate) struct RowSolve<'a> {
    pub cols: &'a [u32],
    pub conf: &'a [f32],
    pub y: &'a [f32],
    pub yty: &'a [f32],
    pub k: usize,
    pub x: &'a mut [f32],
    /// `None`: Cholesky; `Some(n)`: n CG steps.
    pub steps: Option<usize>,
    pub s: &'a mut Scratch,
}

impl pulp::WithSimd for RowSolve<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) {
        match self.steps {
            None => cholesky_row(simd, self.cols, self.conf, self.y, self.yty, self.k, self.x, self.s),
            Some(steps) => cg_row(simd, self.cols, self.conf, self.y, self.yty, self.k, self.x, steps, self.s),
        }
    }
}

/// Exact solve of one row. Also the fold-in step.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn cholesky_row<S: pulp::Simd>(
    simd: S,
    cols: &[u32],
    conf: &[f32],
    y: &[f32],
    yty: &[f32],
    k: usize,
    x: &mut [f32],
    s: &mut Scratch,
) {
    s.a.copy_from_slice(yty);
    s.b.fill(0.0);
    s.g.clear();
    for (&j, &c) in cols.iter().zip(conf) {
        let yj = &y[j as usize * k..(j as usize + 1) * k];
        let w = c.abs() - 1.0;
        if w > 0.0 {
            let sw = w.sqrt();
            s.g.extend(yj.iter().map(|v| v * sw));
        }
        if c > 0.0 {
            simd_axpy(simd, c, yj, &mut s.b);
        }
    }
    add_gram(&mut s.a, &s.g, k);
    if cholesky_solve(&mut s.a, &mut s.b, faer::dyn_stack::MemStack::new(&mut s.stack)) {
        x.copy_from_slice(&s.b);
    }
}

/// `steps` conjugate-gradient steps on one row, from the current `x`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn cg_row<S: pulp::Simd>(
    simd: S,
    cols: &[u32],
    conf: &[f32],
    y: &[f32],
    yty: &[f32],
    k: usize,
    x: &mut [f32],
    steps: usize,
    s: &mut Scratch,
) {
    // r = b − A x
    simd_matvec(simd, yty, x, &mut s.r);
    s.r.iter_mut().for_each(|v| *v = -*v);
    // The weight of yⱼ in b − A x: c·p − (c − 1)·(yⱼ·x).
    let coef = |c: f32, score: f32| if c > 0.0 { c - (c - 1.0) * score } else { (c + 1.0) * score };
    let mut pairs = cols.chunks_exact(2).zip(conf.chunks_exact(2));
    for (j2, c2) in &mut pairs {
        let ya = &y[j2[0] as usize * k..(j2[0] as usize + 1) * k];
        let yb = &y[j2[1] as usize * k..(j2[1] as usize + 1) * k];
        let (da, db) = simd_dot2(simd, ya, yb, x);
        simd_axpy(simd, coef(c2[0], da), ya, &mut s.r);
        simd_axpy(simd, coef(c2[1], db), yb, &mut s.r);
    }
    if cols.len() % 2 == 1 {
        let j = cols[cols.len() - 1];
        let yj = &y[j as usize * k..(j as usize + 1) * k];
        simd_axpy(simd, coef(conf[conf.len() - 1], simd_dot(simd, yj, x)), yj, &mut s.r);
    }
    s.p.copy_from_slice(&s.r);
    let mut rs_old = simd_dot(simd, &s.r, &s.r);
    if rs_old < 1e-20 {
        return;
    }
    for _ in 0..steps {
        simd_matvec(simd, yty, &s.p, &mut s.ap);
        // Two entries at a time: their dot products are independent, so the
        // CPU overlaps them.
        let mut pairs = cols.chunks_exact(2).zip(conf.chunks_exact(2));
        for (j2, c2) in &mut pairs {
            let ya = &y[j2[0] as usize * k..(j2[0] as usize + 1) * k];
            let yb = &y[j2[1] as usize * k..(j2[1] as usize + 1) * k];
            let (da, db) = simd_dot2(simd, ya, yb, &s.p);
            simd_axpy(simd, (c2[0].abs() - 1.0) * da, ya, &mut s.ap);
            simd_axpy(simd, (c2[1].abs() - 1.0) * db, yb, &mut s.ap);
        }
        if cols.len() % 2 == 1 {
            let j = cols[cols.len() - 1];
            let yj = &y[j as usize * k..(j as usize + 1) * k];
            let w = conf[conf.len() - 1].abs() - 1.0;
            simd_axpy(simd, w * simd_dot(simd, yj, &s.p), yj, &mut s.ap);
        }
        let pap = simd_dot(simd, &s.p, &s.ap);
        if pap <= 0.0 {
            break;
        }
        let a = rs_old / pap;
        simd_axpy(simd, a, &s.p, x);
        simd_axpy(simd, -a, &s.ap, &mut s.r);
        let rs_new = simd_dot(simd, &s.r, &s.r);
        if rs_new < 1e-20 {
            break;
        }
        let beta = rs_new / rs_old;
        for (pi, ri) in s.p.iter_mut().zip(&s.r) {
            *pi = ri + beta * *pi;
        }
        rs_old = rs_new;
    }
}

/// The weighted squared loss, normalised as `implicit` does:
/// `[Σ_observed c (p − xᵀy)² + Σ_unobserved (xᵀy)² + λ(‖X‖² + ‖Y‖²)] /
/// (Σ_observed c + #unobserved)`.
pub(crate) fn loss(cui: &Weighted, x: &[f32], y: &[f32], k: usize, reg: f32) -> f64 {
    let yty = gram(y, k);
    let (sum, conf, xnorm) = x
        .par_chunks(k)
        .enumerate()
        .map_init(
            || vec![0f32; k],
            |r, (u, xu)| {
                matvec(&yty, xu, r);
                let mut l = dot(xu, r) as f64;
                let mut total_c = 0f64;
                let (cols, cs) = cui.row(u);
                for (&j, &c) in cols.iter().zip(cs) {
                    let yj = &y[j as usize * k..(j as usize + 1) * k];
                    let (p, c) = if c > 0.0 { (1.0, c) } else { (0.0, -c) };
                    let s = dot(xu, yj) as f64;
                    l += c as f64 * (p - s) * (p - s) - s * s;
                    total_c += c as f64;
                }
                (l, total_c, dot(xu, xu) as f64)
            },
        )
        .reduce(|| (0.0, 0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2));
    let ynorm: f64 = y.par_chunks(k).map(|v| dot(v, v) as f64).sum();
    let n_users = x.len() / k;
    let n_items = y.len() / k;
    let nnz = cui.indices.len() as f64;
    (sum + reg as f64 * (xnorm + ynorm)) / (conf + n_users as f64 * n_items as f64 - nnz)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::{any, prop_assert, proptest, ProptestConfig};

    fn system(seed: u64, n_items: usize, k: usize, nnz: usize) -> (Vec<f32>, Vec<u32>, Vec<f32>) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let y: Vec<f32> = (0..n_items * k).map(|_| rng.random::<f32>() - 0.5).collect();
        let mut cols: Vec<u32> = (0..n_items as u32).collect();
        for i in (1..cols.len()).rev() {
            cols.swap(i, rng.random_range(0..=i));
        }
        cols.truncate(nnz);
        cols.sort_unstable();
        let conf = cols
            .iter()
            .map(|_| {
                let c = 1.0 + rng.random::<f32>() * 20.0;
                if rng.random::<f32>() < 0.2 {
                    -c
                } else {
                    c
                }
            })
            .collect();
        (y, cols, conf)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Conjugate gradient, run long enough, reaches the Cholesky solution.
        #[test]
        fn cg_converges_to_cholesky(seed in any::<u64>(), k in 2usize..24, nnz in 0usize..40, reg in 0.01f32..1.0) {
            let n_items = 60;
            let (y, cols, conf) = system(seed, n_items, k, nnz);
            let yty = regularized_gram(&y, k, reg);
            let mut s = Scratch::new(k);
            let mut exact = vec![0f32; k];
            let arch = pulp::Arch::new();
            arch.dispatch(RowSolve { cols: &cols, conf: &conf, y: &y, yty: &yty, k, x: &mut exact, steps: None, s: &mut s });
            let mut cg = vec![0f32; k];
            // Warm start from zero, then restart twice, like successive
            // iterations of training.
            for _ in 0..3 {
                arch.dispatch(RowSolve { cols: &cols, conf: &conf, y: &y, yty: &yty, k, x: &mut cg, steps: Some(2 * k), s: &mut s });
            }
            let scale = exact.iter().map(|v| v.abs()).fold(1e-3f32, f32::max);
            for (a, b) in cg.iter().zip(&exact) {
                prop_assert!((a - b).abs() <= 2e-3 * scale, "cg {cg:?} vs exact {exact:?}");
            }
        }
    }

    #[test]
    fn hyperparameters_are_checked() {
        let bad = [
            AlsConfig { factors: 0, ..Default::default() },
            AlsConfig { regularization: -1.0, ..Default::default() },
            AlsConfig { alpha: f32::NAN, ..Default::default() },
            AlsConfig { iterations: 0, ..Default::default() },
            AlsConfig { solver: Solver::Cg { steps: 0 }, ..Default::default() },
            AlsConfig { confidence: Confidence::Log { epsilon: 0.0 }, ..Default::default() },
        ];
        for c in bad {
            assert!(matches!(c.validate(), Err(Error::InvalidParameter { .. })), "{c:?}");
        }
        assert!(AlsConfig::default().validate().is_ok());
    }
}
