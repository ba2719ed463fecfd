//! Offline evaluation: splits of the interaction matrix and ranking metrics.
//!
//! A [`Scorer`] gives every item a score for a user; [`evaluate`] hides the
//! user's training items, ranks the rest and compares the top `k` with the
//! user's test items. Two families of metrics are reported side by side.
//!
//! **`implicit`'s definitions** (`implicit.evaluation.ranking_metrics_at_k`,
//! 0.7), so numbers can be compared with it:
//! - `precision`: hits in the top k, summed over users, divided by the sum of
//!   `min(k, |test|)` — i.e. recall capped at k, not textbook precision;
//! - `map`: per user Σ_{hits at rank i} (hits so far / i) ÷ `min(k, |test|)`,
//!   averaged;
//! - `ndcg`: DCG of the hits in the top k ÷ the ideal DCG of `min(k, |test|)`
//!   hits, averaged;
//! - `auc`: an AUC@k — misses in the top k are scored by the hits above them,
//!   and all items below the top k are assumed to rank positives and
//!   negatives half-and-half; divided by `|test| × (n_items − |test|)`.
//!
//! **Textbook**:
//! - `precision_at_k` = hits ÷ k, `recall_at_k` = hits ÷ |test|, averaged;
//! - `auc`: the full AUC over every item not in the user's training set —
//!   the share of (test item, other item) pairs the scores order correctly;
//! - `mpr`: mean percentile rank (Hu et al. 2008; Johnson 2014): each test
//!   item's position in the user's full ranking as a fraction (0 = top,
//!   1 = bottom), weighted by its test plays; 0.5 is random, lower is better.
//!
//! **Baselines** ([`Popular`], [`RandomOrder`]): what every model must beat.
//!
//! **Cold start** ([`hold_out_items`], [`evaluate_cold_start`]): songs held
//! out of training entirely are ranked among themselves for every user from
//! content-predicted vectors; per-user AUC and recall@k, averaged.
//!
//! **Beyond accuracy**: `coverage` = distinct items in any top k ÷ items;
//! `novelty` = mean of −log₂(share of training users who played the item)
//! over the recommended items; `diversity` (intra-list) = 1 − the mean
//! pairwise similarity of each user's top k, averaged ([`evaluate_with`]).
#![deny(missing_docs)]

mod baselines;
mod cold;
mod metrics;
mod split;

pub use baselines::{Popular, RandomOrder};
pub use cold::{evaluate_cold_start, hold_out_items, ColdStartMetrics, ItemSplit};
pub use metrics::{evaluate, evaluate_with, Metrics, Scorer, Similarity};
pub use split::{split, Split};

/// Errors of evaluation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A split parameter is out of range.
    #[error("invalid split: {0}")]
    InvalidSplit(String),
    /// The split left nothing to test.
    #[error("the split left no test interactions")]
    EmptyTest,
}

/// Result of evaluation.
pub type Result<T> = std::result::Result<T, Error>;
