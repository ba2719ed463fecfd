//! A trained factor model and the questions it answers.

use std::fs;
use std::io::{BufWriter, Read, Write};
use std::path::Path;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::als::{regularized_gram, AlsConfig, RowSolve, Scratch};
use crate::linalg::{cholesky_scratch, cholesky_solve, dot};
use crate::weights::Weighted;
use crate::{Error, Result};

/// Artifact kind of a CF model.
pub const KIND: &str = "cf-als";
/// Layout version of the artifact this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Training measurements, saved with the model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainMetrics {
    /// Wall seconds of each iteration.
    pub seconds_per_iteration: Vec<f64>,
    /// Loss after each iteration, when tracked.
    pub loss_per_iteration: Vec<f64>,
    /// Loss of the final factors.
    pub final_loss: f64,
    /// Total training seconds.
    pub train_seconds: f64,
    /// Entries with signal.
    pub nnz: usize,
}

/// Metadata file of the artifact (`model.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Meta {
    #[serde(default = "als")]
    algorithm: String,
    config: AlsConfig,
    factors: usize,
    n_users: usize,
    n_items: usize,
    user_ids: Vec<i64>,
    item_ids: Vec<i64>,
    metrics: TrainMetrics,
}

fn als() -> String {
    "als".to_string()
}

/// A user (or item) vector per row, and the ids they belong to.
///
/// Trained by ALS, BPR or logistic MF; fold-in and explanations use the ALS user step
/// (with the model's `config`) whichever trained it.
#[derive(Debug, Clone)]
pub struct CfModel {
    algorithm: String,
    config: AlsConfig,
    k: usize,
    user_factors: Vec<f32>,
    item_factors: Vec<f32>,
    user_ids: Vec<i64>,
    item_ids: Vec<i64>,
    item_norms: Vec<f32>,
    user_norms: Vec<f32>,
    yty: Vec<f32>,
    metrics: TrainMetrics,
}

/// One scored item.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    /// Row or column index in the model.
    pub index: usize,
    /// Store id.
    pub id: i64,
    /// Score (a dot product, or a cosine for similarity).
    pub score: f32,
}

/// How much one of the user's items contributed to a recommendation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// The user's item (index and store id).
    pub item: Scored,
    /// Its share of the score; the shares add up to the score.
    pub contribution: f32,
}

fn norms(f: &[f32], k: usize) -> Vec<f32> {
    f.par_chunks(k).map(|v| dot(v, v).sqrt()).collect()
}

/// The `n` best of `scores` (index, score), skipping `exclude` (sorted).
fn top_n(scores: Vec<f32>, n: usize, exclude: &[u32], ids: &[i64]) -> Vec<Scored> {
    let mut cand: Vec<(usize, f32)> = scores
        .into_iter()
        .enumerate()
        .filter(|(i, s)| s.is_finite() && exclude.binary_search(&(*i as u32)).is_err())
        .collect();
    let n = n.min(cand.len());
    if n == 0 {
        return Vec::new();
    }
    let cmp = |a: &(usize, f32), b: &(usize, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if n < cand.len() {
        cand.select_nth_unstable_by(n - 1, cmp);
        cand.truncate(n);
    }
    cand.sort_unstable_by(cmp);
    cand.into_iter().map(|(i, s)| Scored { index: i, id: ids[i], score: s }).collect()
}

/// The `n` rows of `factors` closest to row `q` by cosine, `q` left out.
fn most_similar(
    factors: &[f32],
    norms: &[f32],
    ids: &[i64],
    k: usize,
    q: usize,
    n: usize,
    what: &'static str,
) -> Result<Vec<Scored>> {
    if q >= ids.len() {
        return Err(Error::UnknownRow { what, index: q });
    }
    let v = &factors[q * k..(q + 1) * k];
    let vn = norms[q].max(1e-12);
    let scores = factors.par_chunks(k).zip(norms).map(|(y, &yn)| dot(v, y) / (vn * yn.max(1e-12))).collect();
    Ok(top_n(scores, n, &[q as u32], ids))
}

impl CfModel {
    pub(crate) fn new(
        config: AlsConfig,
        k: usize,
        user_factors: Vec<f32>,
        item_factors: Vec<f32>,
        user_ids: Vec<i64>,
        item_ids: Vec<i64>,
        metrics: TrainMetrics,
    ) -> CfModel {
        let yty = regularized_gram(&item_factors, k, config.regularization);
        CfModel {
            algorithm: als(),
            item_norms: norms(&item_factors, k),
            user_norms: norms(&user_factors, k),
            config,
            k,
            user_factors,
            item_factors,
            user_ids,
            item_ids,
            yty,
            metrics,
        }
    }

    pub(crate) fn with_algorithm(mut self, name: &str) -> CfModel {
        self.algorithm = name.to_string();
        self
    }

    /// The algorithm that trained it: `"als"`, `"bpr"` or `"lmf"`.
    pub fn algorithm(&self) -> &str {
        &self.algorithm
    }

    /// Number of latent factors.
    pub fn factors(&self) -> usize {
        self.k
    }

    /// The hyperparameters it was trained with.
    pub fn config(&self) -> &AlsConfig {
        &self.config
    }

    /// Training measurements.
    pub fn metrics(&self) -> &TrainMetrics {
        &self.metrics
    }

    /// Store ids of the rows.
    pub fn user_ids(&self) -> &[i64] {
        &self.user_ids
    }

    /// Store ids of the columns.
    pub fn item_ids(&self) -> &[i64] {
        &self.item_ids
    }

    /// Row-major user factors.
    pub fn user_factors(&self) -> &[f32] {
        &self.user_factors
    }

    /// Row-major item factors.
    pub fn item_factors(&self) -> &[f32] {
        &self.item_factors
    }

    /// The vector of user row `u`.
    pub fn user_vector(&self, u: usize) -> &[f32] {
        &self.user_factors[u * self.k..(u + 1) * self.k]
    }

    /// The vector of item column `i`.
    pub fn item_vector(&self, i: usize) -> &[f32] {
        &self.item_factors[i * self.k..(i + 1) * self.k]
    }

    /// Row index of the user with store id `id`.
    pub fn user_index(&self, id: i64) -> Option<usize> {
        self.user_ids.binary_search(&id).ok()
    }

    /// Column index of the item with store id `id`.
    pub fn item_index(&self, id: i64) -> Option<usize> {
        self.item_ids.binary_search(&id).ok()
    }

    fn n_items(&self) -> usize {
        self.item_ids.len()
    }

    fn check_vector(&self, v: &[f32]) -> Result<()> {
        if v.len() == self.k {
            Ok(())
        } else {
            Err(Error::Shape(format!("vector has {} factors, the model {}", v.len(), self.k)))
        }
    }

    /// Scores of every item for the user vector `x`.
    pub fn scores(&self, x: &[f32]) -> Result<Vec<f32>> {
        self.check_vector(x)?;
        Ok(self.item_factors.par_chunks(self.k).map(|y| dot(x, y)).collect())
    }

    /// The `n` items with the highest score for user vector `x`, leaving out
    /// the item indices in `exclude` (sorted ascending: the played items).
    pub fn recommend_vector(&self, x: &[f32], n: usize, exclude: &[u32]) -> Result<Vec<Scored>> {
        Ok(top_n(self.scores(x)?, n, exclude, &self.item_ids))
    }

    /// Recommendations for user row `u`, leaving out `exclude`.
    pub fn recommend(&self, u: usize, n: usize, exclude: &[u32]) -> Result<Vec<Scored>> {
        if u >= self.user_ids.len() {
            return Err(Error::UnknownRow { what: "user", index: u });
        }
        self.recommend_vector(self.user_vector(u), n, exclude)
    }

    /// Recommendations for every user, in parallel; `exclude(u)` gives the
    /// sorted item indices to leave out for user `u`.
    pub fn recommend_all<'a>(&self, n: usize, exclude: impl Fn(usize) -> &'a [u32] + Sync) -> Vec<Vec<Scored>> {
        (0..self.user_ids.len())
            .into_par_iter()
            .map(|u| {
                top_n(
                    self.item_factors.chunks(self.k).map(|y| dot(self.user_vector(u), y)).collect(),
                    n,
                    exclude(u),
                    &self.item_ids,
                )
            })
            .collect()
    }

    /// Items most similar to item `i` by cosine of their factors.
    pub fn similar_items(&self, i: usize, n: usize) -> Result<Vec<Scored>> {
        most_similar(&self.item_factors, &self.item_norms, &self.item_ids, self.k, i, n, "item")
    }

    /// Users most similar to user `u` by cosine of their factors.
    pub fn similar_users(&self, u: usize, n: usize) -> Result<Vec<Scored>> {
        most_similar(&self.user_factors, &self.user_norms, &self.user_ids, self.k, u, n, "user")
    }

    /// Signed confidences of a history of `(item index, plays, skips)`,
    /// sorted by item.
    fn weigh(&self, history: &[(usize, f32, u32)]) -> Result<(Vec<u32>, Vec<f32>)> {
        let mut h: Vec<(usize, f32, u32)> = history.to_vec();
        h.sort_by_key(|e| e.0);
        let mut cols = Vec::with_capacity(h.len());
        let mut conf = Vec::with_capacity(h.len());
        for (i, p, s) in h {
            if i >= self.n_items() {
                return Err(Error::UnknownRow { what: "item", index: i });
            }
            if cols.last() == Some(&(i as u32)) {
                return Err(Error::Shape(format!("item {i} appears twice in the history")));
            }
            let c = &self.config;
            if let Some(w) = Weighted::entry(p, s, c.alpha, c.confidence, c.skip_weight) {
                cols.push(i as u32);
                conf.push(w);
            }
        }
        Ok((cols, conf))
    }

    /// Folds in a user: the exact ALS user step for `history` (item index,
    /// full plays, skips) against the fixed item factors. A new or changed
    /// history gets its vector without retraining.
    pub fn fold_in(&self, history: &[(usize, f32, u32)]) -> Result<Vec<f32>> {
        let (cols, conf) = self.weigh(history)?;
        let mut x = vec![0f32; self.k];
        let mut s = Scratch::new(self.k);
        pulp::Arch::new().dispatch(RowSolve {
            cols: &cols,
            conf: &conf,
            y: &self.item_factors,
            yty: &self.yty,
            k: self.k,
            x: &mut x,
            steps: None,
            s: &mut s,
        });
        Ok(x)
    }

    /// Explains the score of item `i` for a user with `history` (Hu et al.
    /// 2008, §5): with `W = (YᵀCY + λI)⁻¹`, the score `yᵢᵀ W Yᵀ C p` splits
    /// into one term per item `j` of the history, `cⱼ pⱼ · yᵢᵀ W yⱼ`. Sorted
    /// by contribution, largest first; the contributions add up to the
    /// folded-in score.
    pub fn explain(&self, history: &[(usize, f32, u32)], i: usize) -> Result<Vec<Contribution>> {
        if i >= self.n_items() {
            return Err(Error::UnknownRow { what: "item", index: i });
        }
        let (cols, conf) = self.weigh(history)?;
        let k = self.k;
        // A = YᵀY + λI + Σ (c − 1) yⱼ yⱼᵀ, then solve A w = yᵢ.
        let mut a = self.yty.clone();
        let mut g = Vec::new();
        for (&j, &c) in cols.iter().zip(&conf) {
            let w = c.abs() - 1.0;
            if w > 0.0 {
                g.extend(self.item_vector(j as usize).iter().map(|v| v * w.sqrt()));
            }
        }
        crate::linalg::add_gram(&mut a, &g, k);
        let mut w = self.item_vector(i).to_vec();
        let mut buf = cholesky_scratch(k);
        if !cholesky_solve(&mut a, &mut w, faer::dyn_stack::MemStack::new(&mut buf)) {
            return Err(Error::Shape("the user's system is not positive definite".into()));
        }
        let mut out: Vec<Contribution> = cols
            .iter()
            .zip(&conf)
            .filter(|(_, &c)| c > 0.0)
            .map(|(&j, &c)| Contribution {
                item: Scored { index: j as usize, id: self.item_ids[j as usize], score: c },
                contribution: c * dot(&w, self.item_vector(j as usize)),
            })
            .collect();
        out.sort_by(|a, b| b.contribution.total_cmp(&a.contribution));
        Ok(out)
    }

    /// Writes the model into directory `dir`: `model.json` (hyperparameters,
    /// ids, metrics) and `users.f32`, `items.f32` (little-endian row-major).
    pub fn save(&self, dir: &Path) -> Result<()> {
        let meta = Meta {
            algorithm: self.algorithm.clone(),
            config: self.config.clone(),
            factors: self.k,
            n_users: self.user_ids.len(),
            n_items: self.item_ids.len(),
            user_ids: self.user_ids.clone(),
            item_ids: self.item_ids.clone(),
            metrics: self.metrics.clone(),
        };
        let io = |p: &Path, e: std::io::Error| Error::Io { path: p.to_path_buf(), source: e };
        let mp = dir.join("model.json");
        fs::write(&mp, serde_json::to_vec(&meta).expect("serialisable")).map_err(|e| io(&mp, e))?;
        for (name, data) in [("users.f32", &self.user_factors), ("items.f32", &self.item_factors)] {
            let p = dir.join(name);
            let mut w = BufWriter::new(fs::File::create(&p).map_err(|e| io(&p, e))?);
            for v in data.iter() {
                w.write_all(&v.to_le_bytes()).map_err(|e| io(&p, e))?;
            }
            w.flush().map_err(|e| io(&p, e))?;
        }
        Ok(())
    }

    /// Reads a model written by [`CfModel::save`].
    pub fn load(dir: &Path) -> Result<CfModel> {
        let io = |p: &Path, e: std::io::Error| Error::Io { path: p.to_path_buf(), source: e };
        let mp = dir.join("model.json");
        let meta: Meta = serde_json::from_slice(&fs::read(&mp).map_err(|e| io(&mp, e))?)
            .map_err(|e| Error::Artifact { path: mp.clone(), reason: e.to_string() })?;
        let read = |name: &str, rows: usize| -> Result<Vec<f32>> {
            let p = dir.join(name);
            let mut bytes = Vec::new();
            fs::File::open(&p).and_then(|mut f| f.read_to_end(&mut bytes)).map_err(|e| io(&p, e))?;
            if bytes.len() != rows * meta.factors * 4 {
                return Err(Error::Artifact {
                    path: p,
                    reason: format!("{} bytes, expected {}", bytes.len(), rows * meta.factors * 4),
                });
            }
            Ok(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
        };
        let x = read("users.f32", meta.n_users)?;
        let y = read("items.f32", meta.n_items)?;
        if meta.user_ids.len() != meta.n_users || meta.item_ids.len() != meta.n_items {
            return Err(Error::Artifact { path: mp, reason: "id maps do not match the factor shapes".into() });
        }
        Ok(CfModel::new(meta.config, meta.factors, x, y, meta.user_ids, meta.item_ids, meta.metrics)
            .with_algorithm(&meta.algorithm))
    }
}
