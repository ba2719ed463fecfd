//! The two baselines every recommender is measured against: the most
//! played songs, and a random order.

use encore_types::Interactions;
use rand::{Rng, SeedableRng};

use crate::Scorer;

/// Most-played songs first: each song scores the number of training users
/// who played it, the same list for everyone.
#[derive(Debug, Clone)]
pub struct Popular(Vec<f32>);

impl Popular {
    /// Counts the users of every column of `train`.
    pub fn fit(train: &Interactions) -> Popular {
        let mut c = vec![0f32; train.n_items()];
        for &i in &train.indices {
            c[i as usize] += 1.0;
        }
        Popular(c)
    }
}

impl Scorer for Popular {
    fn scores(&self, _u: usize, _train: &[u32]) -> Vec<f32> {
        self.0.clone()
    }
}

/// A uniformly random order over `items` columns, seeded per user (the
/// same seed and user give the same order).
#[derive(Debug, Clone, Copy)]
pub struct RandomOrder {
    /// Seed of the whole run.
    pub seed: u64,
    /// Columns to score.
    pub items: usize,
}

impl Scorer for RandomOrder {
    fn scores(&self, u: usize, _train: &[u32]) -> Vec<f32> {
        let mut rng =
            rand_chacha::ChaCha8Rng::seed_from_u64(self.seed ^ (u as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        (0..self.items).map(|_| rng.random::<f32>()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix() -> Interactions {
        // Three users; column 2 is played by all of them, column 0 by one.
        let mut b = encore_types::InteractionsBuilder::new(vec![1, 2, 3], vec![10, 11, 12]);
        b.push_row(&[(0, 1.0, 0, 0), (2, 1.0, 0, 0)]);
        b.push_row(&[(2, 5.0, 0, 0)]);
        b.push_row(&[(1, 1.0, 0, 0), (2, 1.0, 0, 0)]);
        b.finish()
    }

    #[test]
    fn popular_counts_users_not_plays() {
        let m = matrix();
        assert_eq!(Popular::fit(&m).scores(0, &[]), vec![1.0, 1.0, 3.0]);
    }

    #[test]
    fn random_order_is_seeded_per_user() {
        let r = RandomOrder { seed: 7, items: 50 };
        assert_eq!(r.scores(3, &[]), r.scores(3, &[]));
        assert_ne!(r.scores(3, &[]), r.scores(4, &[]));
        assert_ne!(r.scores(3, &[]), RandomOrder { seed: 8, items: 50 }.scores(3, &[]));
    }
}
