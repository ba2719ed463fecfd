//! The cold-start protocol (van den Oord, Dieleman & Schrauwen 2013): hold
//! a share of the songs out of training entirely, predict their vectors
//! from content, rank only the held-out songs for every user, and compare
//! with the users who really played them.

use encore_types::{Interactions, InteractionsBuilder};
use rand::seq::SliceRandom;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// A matrix with some songs held out entirely.
#[derive(Debug, Clone)]
pub struct ItemSplit {
    /// The matrix without the held-out songs' entries (same rows and
    /// columns; the held-out columns are empty).
    pub train: Interactions,
    /// Column indices of the held-out songs, ascending.
    pub held_out: Vec<u32>,
}

/// Holds out `share` of the `eligible` columns of `m` (e.g. the songs with
/// audio), chosen at random.
pub fn hold_out_items(m: &Interactions, eligible: &[u32], share: f64, rng: &mut impl rand::Rng) -> Result<ItemSplit> {
    if !(share > 0.0 && share < 1.0) {
        return Err(Error::InvalidSplit(format!("held-out share {share} not in (0, 1)")));
    }
    let mut pool = eligible.to_vec();
    pool.sort_unstable();
    pool.dedup();
    pool.shuffle(rng);
    let n = ((pool.len() as f64) * share).round() as usize;
    let mut held_out = pool[..n].to_vec();
    held_out.sort_unstable();
    if held_out.is_empty() {
        return Err(Error::EmptyTest);
    }
    let mut is_held = vec![false; m.n_items()];
    for &i in &held_out {
        is_held[i as usize] = true;
    }
    let mut b = InteractionsBuilder::new(m.user_ids.clone(), m.item_ids.clone());
    let mut entries = Vec::new();
    for u in 0..m.n_users() {
        let r = m.row(u);
        entries.clear();
        for k in 0..r.indices.len() {
            if !is_held[r.indices[k] as usize] {
                entries.push((r.indices[k], r.plays[k], r.skips[k], r.last_played[k]));
            }
        }
        b.push_row(&entries);
    }
    Ok(ItemSplit { train: b.finish(), held_out })
}

/// Cold-start scores of one method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColdStartMetrics {
    /// Users who played at least one held-out song (the ones evaluated).
    pub users: usize,
    /// Held-out songs ranked.
    pub songs: usize,
    /// Mean per-user AUC over (played, not played) pairs of held-out songs.
    pub auc: f64,
    /// Mean per-user recall at `k`: played held-out songs in the top `k` ÷
    /// played held-out songs.
    pub recall: f64,
    /// The cut-off of `recall`.
    pub k: usize,
}

/// Evaluates cold-start scores: `score(u)` gives user row `u`'s scores of
/// the held-out songs, in the order of `held_out`. A held-out song counts
/// as played by `u` in `m` when its full plays outweigh half its skips
/// (the skip rule of `encore-cf`).
pub fn evaluate_cold_start(
    m: &Interactions,
    held_out: &[u32],
    k: usize,
    score: impl Fn(usize) -> Vec<f32> + Sync,
) -> ColdStartMetrics {
    let pos_of: std::collections::HashMap<u32, usize> = held_out.iter().enumerate().map(|(p, &i)| (i, p)).collect();
    let per_user: Vec<(f64, f64)> = (0..m.n_users())
        .into_par_iter()
        .filter_map(|u| {
            let r = m.row(u);
            let mut played = vec![false; held_out.len()];
            let mut n_pos = 0usize;
            for j in 0..r.indices.len() {
                if let Some(&p) = pos_of.get(&r.indices[j]) {
                    if r.plays[j] - 0.5 * r.skips[j] as f32 > 0.0 {
                        played[p] = true;
                        n_pos += 1;
                    }
                }
            }
            let n_neg = held_out.len() - n_pos;
            if n_pos == 0 || n_neg == 0 {
                return None;
            }
            let s = score(u);
            let mut order: Vec<usize> = (0..held_out.len()).collect();
            order.sort_by(|&a, &b| s[b].total_cmp(&s[a]).then(a.cmp(&b)));
            let hits = order.iter().take(k).filter(|&&i| played[i]).count();
            // AUC from ranks: count negatives ranked below each positive.
            let (mut below, mut neg_seen) = (0f64, 0usize);
            for &i in order.iter().rev() {
                if played[i] {
                    below += neg_seen as f64;
                } else {
                    neg_seen += 1;
                }
            }
            Some((below / (n_pos * n_neg) as f64, hits as f64 / n_pos as f64))
        })
        .collect();
    let n = per_user.len().max(1) as f64;
    ColdStartMetrics {
        users: per_user.len(),
        songs: held_out.len(),
        auc: per_user.iter().map(|p| p.0).sum::<f64>() / n,
        recall: per_user.iter().map(|p| p.1).sum::<f64>() / n,
        k,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn matrix() -> Interactions {
        let mut b = InteractionsBuilder::new((0..4).collect(), (0..10).collect());
        for u in 0..4u32 {
            let row: Vec<(u32, f32, u32, i64)> =
                (0..10).filter(|i| (i + u).is_multiple_of(3)).map(|i| (i, 2.0, 0, 0)).collect();
            b.push_row(&row);
        }
        b.finish()
    }

    #[test]
    fn held_out_columns_are_gone_from_training_only() {
        let m = matrix();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let s = hold_out_items(&m, &(0..10).collect::<Vec<_>>(), 0.3, &mut rng).unwrap();
        assert_eq!(s.held_out.len(), 3);
        for u in 0..4 {
            assert!(s.train.row(u).indices.iter().all(|i| !s.held_out.contains(i)));
        }
        let kept: usize = (0..10u32)
            .filter(|i| !s.held_out.contains(i))
            .map(|i| (0..4).filter(|u| (i + u).is_multiple_of(3)).count())
            .sum();
        assert_eq!(s.train.nnz(), kept);
        assert!(hold_out_items(&m, &[1, 2], 1.5, &mut rng).is_err());
    }

    #[test]
    fn perfect_scores_give_auc_one_and_reversed_give_zero() {
        let m = matrix();
        let held: Vec<u32> = (0..10).collect();
        let truth = |u: usize| -> Vec<f32> {
            (0..10u32).map(|i| if (i + u as u32).is_multiple_of(3) { 1.0 } else { 0.0 }).collect()
        };
        let good = evaluate_cold_start(&m, &held, 3, truth);
        assert_eq!(good.users, 4);
        assert!((good.auc - 1.0).abs() < 1e-12);
        assert!(good.recall > 0.74);
        let bad = evaluate_cold_start(&m, &held, 3, |u| truth(u).iter().map(|x| -x).collect());
        assert!(bad.auc.abs() < 1e-12);
        assert_eq!(bad.recall, 0.0);
    }
}
