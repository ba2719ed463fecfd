//! The users × songs interaction matrix in compressed sparse row form.

use serde::{Deserialize, Serialize};

/// Users × items matrix of implicit feedback, CSR.
///
/// Row `u` holds the items user `u` interacted with, sorted by item index.
/// `plays` are full plays, `skips` are skips and short plays (see
/// [`crate::SHORT_PLAY_MS`]), `last_played` is the Unix time of the latest
/// event (0 where the source had no timestamps). Rows and columns are dense
/// indices; `user_ids[u]` and `item_ids[i]` map them back to store ids.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Interactions {
    /// Store id of each row.
    pub user_ids: Vec<i64>,
    /// Store id of each column.
    pub item_ids: Vec<i64>,
    /// Row start offsets, `n_users + 1` long.
    pub indptr: Vec<usize>,
    /// Column index of each stored entry.
    pub indices: Vec<u32>,
    /// Full plays of each entry.
    pub plays: Vec<f32>,
    /// Skips and short plays of each entry.
    pub skips: Vec<u32>,
    /// Latest event time of each entry, Unix seconds, 0 if unknown.
    pub last_played: Vec<i64>,
}

/// A borrowed row of [`Interactions`].
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    /// Item indices, ascending.
    pub indices: &'a [u32],
    /// Full plays, parallel to `indices`.
    pub plays: &'a [f32],
    /// Skips, parallel to `indices`.
    pub skips: &'a [u32],
    /// Latest event time, parallel to `indices`.
    pub last_played: &'a [i64],
}

impl Interactions {
    /// Number of rows (users).
    pub fn n_users(&self) -> usize {
        self.user_ids.len()
    }

    /// Number of columns (items).
    pub fn n_items(&self) -> usize {
        self.item_ids.len()
    }

    /// Number of stored (user, item) entries.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Share of the matrix that is stored, `nnz / (users × items)`.
    pub fn density(&self) -> f64 {
        let cells = self.n_users() as f64 * self.n_items() as f64;
        if cells == 0.0 {
            0.0
        } else {
            self.nnz() as f64 / cells
        }
    }

    /// Row `u`.
    pub fn row(&self, u: usize) -> Row<'_> {
        let (a, b) = (self.indptr[u], self.indptr[u + 1]);
        Row {
            indices: &self.indices[a..b],
            plays: &self.plays[a..b],
            skips: &self.skips[a..b],
            last_played: &self.last_played[a..b],
        }
    }

    /// Checks the structural invariants; the models rely on them.
    pub fn validate(&self) -> Result<(), String> {
        let n = self.nnz();
        if self.indptr.len() != self.n_users() + 1 {
            return Err(format!("indptr has {} entries for {} users", self.indptr.len(), self.n_users()));
        }
        if self.indptr[0] != 0 || self.indptr[self.n_users()] != n {
            return Err("indptr does not span the entries".into());
        }
        if self.plays.len() != n || self.skips.len() != n || self.last_played.len() != n {
            return Err("value arrays differ in length from indices".into());
        }
        for u in 0..self.n_users() {
            let (a, b) = (self.indptr[u], self.indptr[u + 1]);
            if a > b {
                return Err(format!("row {u}: indptr decreases"));
            }
            let row = &self.indices[a..b];
            if row.windows(2).any(|w| w[0] >= w[1]) {
                return Err(format!("row {u}: indices not strictly ascending"));
            }
            if row.last().is_some_and(|&i| i as usize >= self.n_items()) {
                return Err(format!("row {u}: item index out of range"));
            }
        }
        Ok(())
    }
}

/// Builds [`Interactions`] one row at a time.
#[derive(Debug)]
pub struct InteractionsBuilder {
    m: Interactions,
    scratch: Vec<(u32, f32, u32, i64)>,
}

impl InteractionsBuilder {
    /// Starts an empty matrix with the given row and column ids.
    pub fn new(user_ids: Vec<i64>, item_ids: Vec<i64>) -> Self {
        let mut m = Interactions { user_ids, item_ids, ..Default::default() };
        m.indptr.reserve(m.user_ids.len() + 1);
        m.indptr.push(0);
        Self { m, scratch: Vec::new() }
    }

    /// Appends the next row as `(item, plays, skips, last_played)` entries in
    /// any order; entries of the same item are merged (plays and skips
    /// summed, the latest time kept).
    pub fn push_row(&mut self, entries: &[(u32, f32, u32, i64)]) {
        assert!(self.m.indptr.len() <= self.m.user_ids.len(), "more rows than users");
        self.scratch.clear();
        self.scratch.extend_from_slice(entries);
        self.scratch.sort_unstable_by_key(|e| e.0);
        let mut last: Option<u32> = None;
        for &(i, p, s, t) in &self.scratch {
            if last == Some(i) {
                let k = self.m.indices.len() - 1;
                self.m.plays[k] += p;
                self.m.skips[k] += s;
                self.m.last_played[k] = self.m.last_played[k].max(t);
            } else {
                self.m.indices.push(i);
                self.m.plays.push(p);
                self.m.skips.push(s);
                self.m.last_played.push(t);
                last = Some(i);
            }
        }
        self.m.indptr.push(self.m.indices.len());
    }

    /// Finishes the matrix; rows not pushed are empty.
    pub fn finish(mut self) -> Interactions {
        while self.m.indptr.len() < self.m.user_ids.len() + 1 {
            self.m.indptr.push(self.m.indices.len());
        }
        self.m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_duplicates_and_pads_rows() {
        let mut b = InteractionsBuilder::new(vec![1, 2, 3], vec![7, 8]);
        b.push_row(&[(1, 1.0, 0, 5), (0, 2.0, 1, 9), (1, 1.0, 2, 3)]);
        let m = b.finish();
        m.validate().unwrap();
        assert_eq!(m.indptr, vec![0, 2, 2, 2]);
        assert_eq!(m.indices, vec![0, 1]);
        assert_eq!(m.plays, vec![2.0, 2.0]);
        assert_eq!(m.skips, vec![1, 2]);
        assert_eq!(m.last_played, vec![9, 5]);
        assert!((m.density() - 2.0 / 6.0).abs() < 1e-12);
    }

    #[test]
    fn validate_catches_bad_indices() {
        let mut m = InteractionsBuilder::new(vec![1], vec![1]).finish();
        m.indices.push(3);
        m.plays.push(1.0);
        m.skips.push(0);
        m.last_played.push(0);
        m.indptr[1] = 1;
        assert!(m.validate().is_err());
    }
}
