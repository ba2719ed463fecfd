//! Train/test splits of an interaction matrix.

use encore_types::{Interactions, InteractionsBuilder};
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// How to hold interactions out.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Split {
    /// Each (user, song) pair goes to the test set with this probability; a
    /// user always keeps at least one pair in training.
    Random {
        /// Share of pairs to hold out, in (0, 1).
        test_fraction: f32,
    },
    /// Per user, the pairs last played within `days` of the user's latest
    /// listen go to the test set ("predict what they play next"). Pairs
    /// without timestamps stay in training; a user keeps at least one pair.
    Time {
        /// Length of the test window.
        days: u32,
    },
}

/// Splits `m` into (train, test) with the same rows and columns. Test
/// entries count only full plays; pairs the user only skipped stay in
/// training as the negative signal they are.
pub fn split(m: &Interactions, how: Split, rng: &mut impl Rng) -> Result<(Interactions, Interactions)> {
    if let Split::Random { test_fraction } = how {
        if !(test_fraction > 0.0 && test_fraction < 1.0) {
            return Err(Error::InvalidSplit(format!("test fraction {test_fraction} not in (0, 1)")));
        }
    }
    if let Split::Time { days: 0 } = how {
        return Err(Error::InvalidSplit("days must be at least 1".into()));
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(rng.random());
    let mut train = InteractionsBuilder::new(m.user_ids.clone(), m.item_ids.clone());
    let mut test = InteractionsBuilder::new(m.user_ids.clone(), m.item_ids.clone());
    let mut n_test = 0;
    for u in 0..m.n_users() {
        let row = m.row(u);
        let n = row.indices.len();
        let latest = row.last_played.iter().copied().max().unwrap_or(0);
        let mut hold: Vec<bool> = (0..n)
            .map(|k| {
                row.plays[k] > 0.0
                    && match how {
                        Split::Random { test_fraction } => rng.random::<f32>() < test_fraction,
                        Split::Time { days } => {
                            row.last_played[k] > 0 && row.last_played[k] >= latest - days as i64 * 86_400
                        }
                    }
            })
            .collect();
        if n > 0 && hold.iter().all(|&h| h) {
            // Keep the earliest (time) or a random (random split) pair to train on.
            let keep = match how {
                Split::Time { .. } => (0..n).min_by_key(|&k| row.last_played[k]).unwrap_or(0),
                Split::Random { .. } => rng.random_range(0..n),
            };
            hold[keep] = false;
        }
        let mut tr = Vec::new();
        let mut te = Vec::new();
        for (k, &held) in hold.iter().enumerate() {
            let e = (row.indices[k], row.plays[k], row.skips[k], row.last_played[k]);
            if held {
                te.push(e);
            } else {
                tr.push(e);
            }
        }
        n_test += te.len();
        train.push_row(&tr);
        test.push_row(&te);
    }
    if n_test == 0 {
        return Err(Error::EmptyTest);
    }
    Ok((train.finish(), test.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix() -> Interactions {
        let mut b = InteractionsBuilder::new(vec![1, 2, 3], (0..10).collect());
        b.push_row(&(0..10).map(|i| (i, 1.0, 0, 1_000_000 + i as i64 * 86_400)).collect::<Vec<_>>());
        b.push_row(&[(3, 2.0, 0, 5)]);
        b.push_row(&[(1, 0.0, 3, 9), (2, 4.0, 0, 0)]);
        b.finish()
    }

    #[test]
    fn random_split_partitions_and_keeps_a_training_pair() {
        let m = matrix();
        let (tr, te) =
            split(&m, Split::Random { test_fraction: 0.5 }, &mut rand_chacha::ChaCha8Rng::seed_from_u64(1)).unwrap();
        tr.validate().unwrap();
        te.validate().unwrap();
        assert_eq!(tr.nnz() + te.nnz(), m.nnz());
        for u in 0..3 {
            assert!(!tr.row(u).indices.is_empty(), "user {u} lost all training data");
            for i in te.row(u).indices {
                assert!(tr.row(u).indices.binary_search(i).is_err());
            }
        }
        // A skip-only pair never goes to the test set.
        assert!(!te.row(2).indices.contains(&1));
    }

    #[test]
    fn time_split_holds_out_the_last_days() {
        let (tr, te) =
            split(&matrix(), Split::Time { days: 3 }, &mut rand_chacha::ChaCha8Rng::seed_from_u64(1)).unwrap();
        assert_eq!(te.row(0).indices, &[6, 7, 8, 9]);
        assert_eq!(tr.row(0).indices.len(), 6);
        // Users with one pair, or no timestamps, keep it for training.
        assert!(te.row(1).indices.is_empty());
        assert_eq!(te.row(2).indices, &[] as &[u32]);
        assert!(split(&matrix(), Split::Random { test_fraction: 1.5 }, &mut rand::rng()).is_err());
    }
}
