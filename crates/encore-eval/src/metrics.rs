//! Ranking metrics at k.

use encore_types::Interactions;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Anything that scores every item for a user (higher is better).
pub trait Scorer: Sync {
    /// Scores of all items for user row `u`, whose training row is `train`
    /// (item indices ascending).
    fn scores(&self, u: usize, train: &[u32]) -> Vec<f32>;
}

/// Every metric of one evaluation (definitions in the crate docs).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// The cut-off.
    pub k: usize,
    /// Users with test items (the ones evaluated).
    pub users: usize,
    /// `implicit`'s precision (hits ÷ Σ min(k, |test|)).
    pub precision: f64,
    /// `implicit`'s MAP@k.
    pub map: f64,
    /// nDCG@k.
    pub ndcg: f64,
    /// `implicit`'s AUC@k.
    pub auc: f64,
    /// Textbook precision@k (hits ÷ k).
    pub precision_at_k: f64,
    /// Textbook recall@k (hits ÷ |test|).
    pub recall_at_k: f64,
    /// Full AUC over all non-training items.
    pub full_auc: f64,
    /// Mean percentile rank of test items, weighted by test plays (0.5 =
    /// random, lower is better).
    pub mpr: f64,
    /// Share of the catalog recommended to anyone.
    pub coverage: f64,
    /// Mean self-information of recommended items, bits.
    pub novelty: f64,
    /// Intra-list diversity: per user, 1 − the mean pairwise similarity of
    /// the top k, averaged (only with a similarity, [`evaluate_with`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diversity: Option<f64>,
}

#[derive(Default, Clone)]
struct Acc {
    users: usize,
    relevant: f64,
    pr_div: f64,
    map: f64,
    ndcg: f64,
    auc: f64,
    p_at_k: f64,
    r_at_k: f64,
    full_auc: f64,
    mpr_num: f64,
    mpr_den: f64,
    novelty: f64,
    recs: usize,
    diversity: f64,
}

impl Acc {
    fn add(mut self, o: Acc) -> Acc {
        self.users += o.users;
        self.relevant += o.relevant;
        self.pr_div += o.pr_div;
        self.map += o.map;
        self.ndcg += o.ndcg;
        self.auc += o.auc;
        self.p_at_k += o.p_at_k;
        self.r_at_k += o.r_at_k;
        self.full_auc += o.full_auc;
        self.mpr_num += o.mpr_num;
        self.mpr_den += o.mpr_den;
        self.novelty += o.novelty;
        self.recs += o.recs;
        self.diversity += o.diversity;
        self
    }
}

/// Evaluates `model` at cut-off `k`: train items are hidden, the rest ranked.
pub fn evaluate(model: &dyn Scorer, train: &Interactions, test: &Interactions, k: usize) -> Metrics {
    evaluate_with(model, train, test, k, None)
}

/// A similarity of two items (columns), for intra-list diversity.
pub type Similarity<'a> = &'a (dyn Fn(u32, u32) -> f32 + Sync);

/// [`evaluate`], also measuring intra-list diversity with `similarity`.
pub fn evaluate_with(
    model: &dyn Scorer,
    train: &Interactions,
    test: &Interactions,
    k: usize,
    similarity: Option<Similarity<'_>>,
) -> Metrics {
    let n_items = train.n_items();
    let k = k.max(1);
    // Item popularity among training users, for novelty.
    let mut users_of = vec![0u32; n_items];
    for &i in &train.indices {
        users_of[i as usize] += 1;
    }
    let n_users = train.n_users().max(1) as f64;
    let info: Vec<f64> = users_of.iter().map(|&c| -((c.max(1) as f64) / n_users).log2()).collect();
    let cg: Vec<f64> = (0..k).map(|i| 1.0 / ((i + 2) as f64).log2()).collect();
    let cg_sum: Vec<f64> = cg
        .iter()
        .scan(0.0, |s, c| {
            *s += c;
            Some(*s)
        })
        .collect();

    let per_user: Vec<(Acc, Vec<u32>)> = (0..test.n_users())
        .into_par_iter()
        .filter(|&u| !test.row(u).indices.is_empty())
        .map(|u| {
            let trow = train.row(u);
            let test_row = test.row(u);
            let likes = test_row.indices;
            let mut scores = model.scores(u, trow.indices);
            for &i in trow.indices {
                scores[i as usize] = f32::NEG_INFINITY;
            }
            // Full ranking of the candidates (everything not trained on).
            let mut order: Vec<u32> = (0..n_items as u32).filter(|i| trow.indices.binary_search(i).is_err()).collect();
            order.sort_unstable_by(|&a, &b| scores[b as usize].total_cmp(&scores[a as usize]).then(a.cmp(&b)));
            let n_cand = order.len();
            let top = &order[..k.min(n_cand)];
            let is_pos = |i: u32| likes.binary_search(&i).is_ok();

            let mut a = Acc { users: 1, ..Default::default() };
            let num_pos = likes.len();
            let capped = k.min(num_pos);
            a.pr_div = capped as f64;
            let idcg = cg_sum[capped - 1];
            let num_neg = n_items - num_pos;
            let (mut hit, mut miss, mut ap, mut auc) = (0usize, 0usize, 0.0, 0.0);
            for (r, &i) in top.iter().enumerate() {
                if is_pos(i) {
                    hit += 1;
                    ap += hit as f64 / (r + 1) as f64;
                    a.ndcg += cg[r] / idcg;
                } else {
                    miss += 1;
                    auc += hit as f64;
                }
                a.novelty += info[i as usize];
            }
            a.recs = top.len();
            auc += ((hit + num_pos) as f64 / 2.0) * (num_neg.saturating_sub(miss)) as f64;
            a.relevant = hit as f64;
            a.map = ap / capped as f64;
            a.auc = if num_neg > 0 { auc / (num_pos * num_neg) as f64 } else { 1.0 };
            a.p_at_k = hit as f64 / k as f64;
            a.r_at_k = hit as f64 / num_pos as f64;

            // Full AUC and percentile ranks from the complete ranking.
            let mut pos_seen = 0usize;
            let mut correct = 0f64;
            let neg_total = n_cand.saturating_sub(num_pos);
            for (r, &i) in order.iter().enumerate() {
                if is_pos(i) {
                    pos_seen += 1;
                    let pct = if n_cand > 1 { r as f64 / (n_cand - 1) as f64 } else { 0.0 };
                    let w = test_row.plays[likes.binary_search(&i).expect("positive")] as f64;
                    a.mpr_num += w * pct;
                    a.mpr_den += w;
                } else {
                    correct += pos_seen as f64;
                }
            }
            a.full_auc = if neg_total > 0 && pos_seen > 0 { correct / (pos_seen * neg_total) as f64 } else { 1.0 };
            if let Some(sim) = similarity {
                let (mut s, mut n) = (0f64, 0f64);
                for (x, &i) in top.iter().enumerate() {
                    for &j in &top[x + 1..] {
                        s += sim(i, j) as f64;
                        n += 1.0;
                    }
                }
                a.diversity = if n > 0.0 { 1.0 - s / n } else { 0.0 };
            }
            (a, top.to_vec())
        })
        .collect();

    let mut seen = vec![false; n_items];
    let mut acc = Acc::default();
    for (a, top) in per_user {
        for i in top {
            seen[i as usize] = true;
        }
        acc = acc.add(a);
    }
    let users = acc.users.max(1) as f64;
    Metrics {
        k,
        users: acc.users,
        precision: acc.relevant / acc.pr_div.max(1.0),
        map: acc.map / users,
        ndcg: acc.ndcg / users,
        auc: acc.auc / users,
        precision_at_k: acc.p_at_k / users,
        recall_at_k: acc.r_at_k / users,
        full_auc: acc.full_auc / users,
        mpr: if acc.mpr_den > 0.0 { acc.mpr_num / acc.mpr_den } else { 0.0 },
        coverage: seen.iter().filter(|&&s| s).count() as f64 / n_items.max(1) as f64,
        novelty: if acc.recs > 0 { acc.novelty / acc.recs as f64 } else { 0.0 },
        diversity: similarity.map(|_| acc.diversity / users),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use encore_types::InteractionsBuilder;

    /// Scores items by a fixed preference order: item 0 best.
    struct Fixed(Vec<f32>);
    impl Scorer for Fixed {
        fn scores(&self, _u: usize, _train: &[u32]) -> Vec<f32> {
            self.0.clone()
        }
    }

    fn one_user(train: &[u32], test: &[u32], n: usize) -> (Interactions, Interactions) {
        let mut tr = InteractionsBuilder::new(vec![1], (0..n as i64).collect());
        tr.push_row(&train.iter().map(|&i| (i, 1.0, 0, 0)).collect::<Vec<_>>());
        let mut te = InteractionsBuilder::new(vec![1], (0..n as i64).collect());
        te.push_row(&test.iter().map(|&i| (i, 1.0, 0, 0)).collect::<Vec<_>>());
        (tr.finish(), te.finish())
    }

    #[test]
    fn perfect_and_worst_rankings() {
        let n = 10;
        let desc: Vec<f32> = (0..n).map(|i| (n - i) as f32).collect();
        // Train on item 0; test items 1 and 2 are ranked first.
        let (tr, te) = one_user(&[0], &[1, 2], n);
        let m = evaluate(&Fixed(desc.clone()), &tr, &te, 3);
        assert_eq!(m.users, 1);
        assert!((m.precision - 1.0).abs() < 1e-12);
        assert!((m.ndcg - 1.0).abs() < 1e-12);
        assert!((m.map - 1.0).abs() < 1e-12);
        assert!((m.full_auc - 1.0).abs() < 1e-12);
        assert!((m.precision_at_k - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.recall_at_k - 1.0).abs() < 1e-12);
        assert!(m.mpr < 0.1);
        // Test items ranked last.
        let (tr, te) = one_user(&[0], &[8, 9], n);
        let m = evaluate(&Fixed(desc), &tr, &te, 3);
        assert_eq!(m.precision, 0.0);
        assert_eq!(m.ndcg, 0.0);
        assert!(m.full_auc < 1e-12);
        assert!(m.mpr > 0.9);
        assert!((m.coverage - 0.3).abs() < 1e-12);
    }

    #[test]
    fn ndcg_and_map_by_hand() {
        // Ranking 1,2,3,4,… after training item 0; test = {2, 4}; k = 3.
        let n = 8;
        let desc: Vec<f32> = (0..n).map(|i| (n - i) as f32).collect();
        let (tr, te) = one_user(&[0], &[2, 4], n);
        let m = evaluate(&Fixed(desc), &tr, &te, 3);
        // Hit at rank 2 only: DCG = 1/log2(3); IDCG = 1 + 1/log2(3).
        let want = (1.0 / 3f64.log2()) / (1.0 + 1.0 / 3f64.log2());
        assert!((m.ndcg - want).abs() < 1e-12);
        assert!((m.map - (1.0 / 2.0) / 2.0).abs() < 1e-12);
        assert!((m.precision - 0.5).abs() < 1e-12);
        // implicit's AUC@k: one miss above the hit (0), one miss below (1),
        // then (1 + 2)/2 × (6 − 2) for the rest, over 2 × 6 pairs.
        assert!((m.auc - (1.0 + 1.5 * 4.0) / 12.0).abs() < 1e-12);
        // Full AUC over candidates 1..7: positives at ranks 2 and 4 of 7.
        // Pairs correctly ordered: item 2 beats 3,5,6,7 (4); item 4 beats 5,6,7 (3); of 2×5.
        assert!((m.full_auc - 7.0 / 10.0).abs() < 1e-12);
    }
}
