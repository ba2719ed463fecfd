//! Item-item nearest neighbours (the `implicit` ItemItem, Cosine, TF-IDF and
//! BM25 recommenders).
//!
//! The item × user matrix of full plays is weighted, every item's `k` most
//! similar items by dot product of the weighted rows are kept, and a user's
//! score for item `i` is `Σ_j plays(u, j) · sim(j, i)` over the user's songs.
//!
//! Weightings (N = number of items, df(u) = songs user u played):
//! - `Cosine`: each item row scaled to unit length, so similarity is cosine;
//! - `TfIdf`: `sqrt(plays) · idf(u)`, `idf(u) = ln N − ln(1 + df(u))`, each
//!   item row then scaled to unit length (cosine of TF-IDF vectors);
//! - `Bm25 { k1, b }`: `plays (k1 + 1) / (k1 · norm(i) + plays) · idf(u)` with
//!   `norm(i) = 1 − b + b · len(i) / mean len`, len = an item's total plays.

use encore_types::Interactions;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::Scored;
use crate::{Error, Result};

/// How the item × user matrix is weighted before similarities are taken.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Weighting {
    /// Unit-length item rows: cosine similarity.
    Cosine,
    /// sqrt(plays) × inverse user frequency, rows at unit length.
    TfIdf,
    /// Okapi BM25 over items as documents and users as terms.
    Bm25 {
        /// Saturation (100 in `implicit`).
        k1: f32,
        /// Length normalisation (0.8 in `implicit`).
        b: f32,
    },
}

/// Hyperparameters of item-kNN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemKnnConfig {
    /// Neighbours kept per item.
    pub neighbours: usize,
    /// Weighting.
    pub weighting: Weighting,
}

impl Default for ItemKnnConfig {
    fn default() -> Self {
        ItemKnnConfig { neighbours: 20, weighting: Weighting::Cosine }
    }
}

/// Each item's neighbours and similarities.
#[derive(Debug, Clone)]
pub struct ItemKnnModel {
    /// `neighbours[i]`: (item, similarity), most similar first.
    neighbours: Vec<Vec<(u32, f32)>>,
    item_ids: Vec<i64>,
}

impl ItemKnnConfig {
    /// Computes the neighbour lists of `m`'s items.
    pub fn fit(&self, m: &Interactions) -> Result<ItemKnnModel> {
        if self.neighbours == 0 {
            return Err(Error::InvalidParameter {
                name: "neighbours",
                value: "0".into(),
                reason: "must be at least 1",
            });
        }
        if let Weighting::Bm25 { k1, b } = self.weighting {
            if !(k1 >= 0.0 && (0.0..=1.0).contains(&b)) {
                return Err(Error::InvalidParameter {
                    name: "bm25",
                    value: format!("k1 = {k1}, b = {b}"),
                    reason: "k1 must be ≥ 0 and b in [0, 1]",
                });
            }
        }
        m.validate().map_err(Error::Shape)?;
        let (n_users, n_items) = (m.n_users(), m.n_items());
        // Item-major rows of (user, weighted value).
        let mut rows: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n_items];
        let mut df = vec![0u32; n_users];
        for (u, df_u) in df.iter_mut().enumerate() {
            let r = m.row(u);
            for (k, &i) in r.indices.iter().enumerate() {
                if r.plays[k] > 0.0 {
                    rows[i as usize].push((u as u32, r.plays[k]));
                    *df_u += 1;
                }
            }
        }
        let idf: Vec<f32> = df.iter().map(|&d| (n_items as f32).ln() - (d as f32).ln_1p()).collect();
        let lens: Vec<f32> = rows.iter().map(|r| r.iter().map(|e| e.1).sum()).collect();
        let mean_len = lens.iter().sum::<f32>() / lens.iter().filter(|&&l| l > 0.0).count().max(1) as f32;
        for (i, row) in rows.iter_mut().enumerate() {
            match self.weighting {
                Weighting::Cosine => {
                    let n = row.iter().map(|e| e.1 * e.1).sum::<f32>().sqrt();
                    row.iter_mut().for_each(|e| e.1 /= n.max(1e-12));
                }
                Weighting::TfIdf => {
                    row.iter_mut().for_each(|e| e.1 = e.1.sqrt() * idf[e.0 as usize]);
                    let n = row.iter().map(|e| e.1 * e.1).sum::<f32>().sqrt();
                    row.iter_mut().for_each(|e| e.1 /= n.max(1e-12));
                }
                Weighting::Bm25 { k1, b } => {
                    let norm = 1.0 - b + b * lens[i] / mean_len.max(1e-12);
                    row.iter_mut().for_each(|e| e.1 = e.1 * (k1 + 1.0) / (k1 * norm + e.1) * idf[e.0 as usize]);
                }
            }
        }
        // User-major view of the weighted values, to walk co-occurrences.
        let mut by_user: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n_users];
        for (i, row) in rows.iter().enumerate() {
            for &(u, w) in row {
                by_user[u as usize].push((i as u32, w));
            }
        }
        let k = self.neighbours;
        let neighbours = (0..n_items)
            .into_par_iter()
            .map_init(
                || (vec![0f32; n_items], vec![false; n_items], Vec::<u32>::new()),
                |(acc, seen, touched), i| {
                    for &(u, wi) in &rows[i] {
                        for &(j, wj) in &by_user[u as usize] {
                            if !seen[j as usize] {
                                seen[j as usize] = true;
                                touched.push(j);
                            }
                            acc[j as usize] += wi * wj;
                        }
                    }
                    let mut cand: Vec<(u32, f32)> = touched.iter().map(|&j| (j, acc[j as usize])).collect();
                    for &j in touched.iter() {
                        acc[j as usize] = 0.0;
                        seen[j as usize] = false;
                    }
                    touched.clear();
                    cand.retain(|&(j, s)| j as usize != i && s > 0.0);
                    let cmp = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
                    if cand.len() > k {
                        cand.select_nth_unstable_by(k - 1, cmp);
                        cand.truncate(k);
                    }
                    cand.sort_unstable_by(cmp);
                    cand
                },
            )
            .collect();
        Ok(ItemKnnModel { neighbours, item_ids: m.item_ids.clone() })
    }
}

impl ItemKnnModel {
    /// The neighbours of item `i`, most similar first.
    pub fn neighbours(&self, i: usize) -> &[(u32, f32)] {
        &self.neighbours[i]
    }

    /// Scores of every item for a history of (item index, plays).
    pub fn scores(&self, history: &[(usize, f32)]) -> Vec<f32> {
        let mut s = vec![0f32; self.neighbours.len()];
        for &(j, plays) in history {
            if let Some(ns) = self.neighbours.get(j) {
                for &(i, sim) in ns {
                    s[i as usize] += plays * sim;
                }
            }
        }
        s
    }

    /// Items most similar to item `i`.
    pub fn similar_items(&self, i: usize, n: usize) -> Result<Vec<Scored>> {
        let ns = self.neighbours.get(i).ok_or(Error::UnknownRow { what: "item", index: i })?;
        Ok(ns
            .iter()
            .take(n)
            .map(|&(j, s)| Scored { index: j as usize, id: self.item_ids[j as usize], score: s })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use encore_types::InteractionsBuilder;
    use proptest::prelude::{prop_assert, proptest, ProptestConfig};

    fn matrix(rows: &[Vec<(u32, u8)>], n_items: usize) -> Interactions {
        let mut b = InteractionsBuilder::new((0..rows.len() as i64).collect(), (0..n_items as i64).collect());
        for r in rows {
            b.push_row(&r.iter().map(|&(i, p)| (i, p as f32, 0, 0)).collect::<Vec<_>>());
        }
        b.finish()
    }

    /// Dense, obvious similarities of the weighted item rows.
    #[allow(clippy::needless_range_loop)]
    fn brute(m: &Interactions, w: Weighting) -> Vec<Vec<f32>> {
        let (nu, ni) = (m.n_users(), m.n_items());
        let mut x = vec![vec![0f32; nu]; ni];
        for u in 0..nu {
            let r = m.row(u);
            for (k, &i) in r.indices.iter().enumerate() {
                x[i as usize][u] = r.plays[k];
            }
        }
        let df: Vec<f32> = (0..nu).map(|u| (0..ni).filter(|&i| x[i][u] > 0.0).count() as f32).collect();
        let idf: Vec<f32> = df.iter().map(|d| (ni as f32).ln() - d.ln_1p()).collect();
        let lens: Vec<f32> = x.iter().map(|r| r.iter().sum()).collect();
        let mean = lens.iter().sum::<f32>() / lens.iter().filter(|&&l| l > 0.0).count().max(1) as f32;
        for (i, row) in x.iter_mut().enumerate() {
            let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
            for (u, v) in row.iter_mut().enumerate() {
                if *v > 0.0 {
                    *v = match w {
                        Weighting::Cosine => *v / norm,
                        Weighting::TfIdf => v.sqrt() * idf[u],
                        Weighting::Bm25 { k1, b } => {
                            *v * (k1 + 1.0) / (k1 * (1.0 - b + b * lens[i] / mean) + *v) * idf[u]
                        }
                    };
                }
            }
            if w == Weighting::TfIdf {
                let n = row.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
                row.iter_mut().for_each(|v| *v /= n);
            }
        }
        (0..ni).map(|i| (0..ni).map(|j| (0..nu).map(|u| x[i][u] * x[j][u]).sum()).collect()).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The sparse co-occurrence walk keeps exactly the top-k of the dense
        /// similarity matrix.
        #[test]
        fn knn_matches_brute_force(
            rows in proptest::collection::vec(proptest::collection::btree_map(0u32..12, 1u8..6, 0..6), 1..10),
            k in 1usize..6,
            which in 0usize..3,
        ) {
            let rows: Vec<Vec<(u32, u8)>> = rows.into_iter().map(|r| r.into_iter().collect()).collect();
            let m = matrix(&rows, 12);
            let w = [Weighting::Cosine, Weighting::TfIdf, Weighting::Bm25 { k1: 1.2, b: 0.75 }][which];
            let model = ItemKnnConfig { neighbours: k, weighting: w }.fit(&m).unwrap();
            let dense = brute(&m, w);
            for (i, dense_i) in dense.iter().enumerate() {
                let mut want: Vec<(u32, f32)> =
                    (0..12).filter(|&j| j != i && dense_i[j] > 0.0).map(|j| (j as u32, dense_i[j])).collect();
                want.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                let got = model.neighbours(i);
                prop_assert!(got.len() == want.len().min(k), "item {}: {:?} vs {:?}", i, got, want);
                for (g, w) in got.iter().zip(&want) {
                    // Same similarity values in the same order (ties may swap ids).
                    prop_assert!((g.1 - w.1).abs() <= 1e-4 * w.1.abs().max(1.0), "item {}: {:?} vs {:?}", i, got, want);
                }
            }
        }
    }
}
