//! Dense and sparse vector arithmetic shared by the model crates: one
//! definition of the dot product, the norm and the unit vector (summed in
//! order, so every crate gets the same bits for the same vectors).

/// `a · b` (over the shorter of the two).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The Euclidean length of `v`.
pub fn norm(v: &[f32]) -> f32 {
    dot(v, v).sqrt()
}

/// `v` scaled to length 1; a zero vector stays zero.
pub fn unit(v: &[f32]) -> Vec<f32> {
    let n = norm(v);
    if n > 0.0 {
        v.iter().map(|x| x / n).collect()
    } else {
        v.to_vec()
    }
}

/// The dot product of two sparse vectors given as (index, value) pairs in
/// ascending index order.
pub fn sparse_dot(a: &[(u32, f32)], b: &[(u32, f32)]) -> f32 {
    let (mut i, mut j, mut s) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                s += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_vectors_have_length_one_and_zero_stays_zero() {
        let u = unit(&[3.0, 4.0]);
        assert_eq!(u, vec![0.6, 0.8]);
        assert!((norm(&u) - 1.0).abs() < 1e-6);
        assert_eq!(unit(&[0.0, 0.0]), vec![0.0, 0.0]);
    }

    #[test]
    fn sparse_dot_meets_only_shared_indices() {
        let a = [(0, 1.0), (3, 2.0), (7, 1.0)];
        let b = [(3, 0.5), (4, 9.0), (7, 2.0)];
        assert_eq!(sparse_dot(&a, &b), 3.0);
        assert_eq!(sparse_dot(&a, &[]), 0.0);
        assert_eq!(dot(&[1.0, 2.0], &[3.0, 4.0]), 11.0);
    }
}
