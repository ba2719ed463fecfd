//! First and second moments of a vector set: the catalog mean and spread
//! of `q·v` for any query `q` in O(dim²), without visiting the set (the
//! z-scores of candidate retrieval).

/// First and second moments of a set of vectors: the catalog mean and
/// standard deviation of `q·v` for any `q` without visiting the set.
#[derive(Debug, Clone)]
pub(crate) struct Moments {
    dim: usize,
    mean: Vec<f64>,
    /// E[v vᵀ], row-major.
    second: Vec<f64>,
    n: usize,
}

impl Moments {
    pub(crate) fn new<'a>(items: impl Iterator<Item = &'a [f32]>) -> Option<Moments> {
        let mut items = items.peekable();
        let dim = items.peek()?.len();
        let mut m = Moments { dim, mean: vec![0.0; dim], second: vec![0.0; dim * dim], n: 0 };
        // Hot at load (2 × 98,743 vectors of 64 on the load world): the
        // vector in f64 once, and only the upper triangle, which vectorises
        // (about 370 ms → 170 ms a set on the load world, and the sets in
        // parallel: bench/results/2026-12-03-load-ready.md); the sums
        // are the same products added in the same order, so bit for bit
        // what the plain double loop gave.
        let mut x = vec![0f64; dim];
        for v in items {
            if v.len() != dim {
                continue;
            }
            m.n += 1;
            for (a, &b) in x.iter_mut().zip(v) {
                *a = b as f64;
            }
            for i in 0..dim {
                let xi = x[i];
                m.mean[i] += xi;
                let row = &mut m.second[i * dim + i..(i + 1) * dim];
                for (r, &y) in row.iter_mut().zip(&x[i..]) {
                    *r += xi * y;
                }
            }
        }
        for i in 0..dim {
            for j in 0..i {
                m.second[i * dim + j] = m.second[j * dim + i];
            }
        }
        let n = m.n.max(1) as f64;
        m.mean.iter_mut().for_each(|x| *x /= n);
        m.second.iter_mut().for_each(|x| *x /= n);
        Some(m)
    }

    /// (mean, sd) of `q·v` over the set.
    pub(crate) fn of(&self, q: &[f32]) -> Option<(f64, f64)> {
        if q.len() != self.dim || self.n < 2 {
            return None;
        }
        let mean: f64 = q.iter().zip(&self.mean).map(|(&a, &b)| a as f64 * b).sum();
        let mut sq = 0f64;
        for (i, &a) in q.iter().enumerate() {
            let row = &self.second[i * self.dim..(i + 1) * self.dim];
            sq += a as f64 * row.iter().zip(q).map(|(&s, &b)| s * b as f64).sum::<f64>();
        }
        Some((mean, (sq - mean * mean).max(0.0).sqrt()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use encore_types::vector::dot;
    use rand::SeedableRng;

    /// The triangle-and-mirror moments are bit for bit the plain double
    /// loop's (the load-time speed-up must not move a single score).
    #[test]
    fn moments_equal_the_plain_double_loop_bit_for_bit() {
        use rand::Rng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut vs: Vec<Vec<f32>> = (0..500).map(|_| (0..7).map(|_| rng.random_range(-3f32..3.0)).collect()).collect();
        vs.insert(9, vec![1.0; 3]); // another length: skipped by both
        let m = Moments::new(vs.iter().map(Vec::as_slice)).unwrap();
        let (d, mut mean, mut second, mut n) = (7, vec![0f64; 7], vec![0f64; 49], 0usize);
        for v in vs.iter().filter(|v| v.len() == d) {
            n += 1;
            for (i, &x) in v.iter().enumerate() {
                mean[i] += x as f64;
                for (j, &y) in v.iter().enumerate() {
                    second[i * d + j] += x as f64 * y as f64;
                }
            }
        }
        mean.iter_mut().for_each(|x| *x /= n as f64);
        second.iter_mut().for_each(|x| *x /= n as f64);
        assert_eq!((m.n, m.dim), (n, d));
        assert_eq!(
            m.mean.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            mean.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
        assert_eq!(
            m.second.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            second.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
        assert!(Moments::new(std::iter::empty()).is_none());
    }

    #[test]
    fn moments_match_a_scan() {
        let vs: Vec<Vec<f32>> =
            (0..200).map(|i| (0..5).map(|j| ((i * 7 + j * 3) % 11) as f32 - 4.0).collect()).collect();
        let q = [0.3f32, -1.0, 2.0, 0.5, 0.0];
        let m = Moments::new(vs.iter().map(Vec::as_slice)).unwrap();
        let (mean, sd) = m.of(&q).unwrap();
        let xs: Vec<f64> = vs.iter().map(|v| dot(v, &q) as f64).collect();
        let em = xs.iter().sum::<f64>() / xs.len() as f64;
        let esd = (xs.iter().map(|x| (x - em).powi(2)).sum::<f64>() / xs.len() as f64).sqrt();
        assert!((mean - em).abs() < 1e-4, "{mean} vs {em}");
        assert!((sd - esd).abs() < 1e-4, "{sd} vs {esd}");
    }
}
