//! Small dense kernels on `f32` slices.
//!
//! `dot` is hand-written with sixteen independent accumulators:
//! a plain `iter().zip().map().sum()` keeps one running sum, which the
//! compiler may not reorder, so it does not vectorise. With sixteen lanes it
//! compiles to packed multiplies and adds (`mul_add` would be a slow libm
//! call wherever FMA is not enabled at compile time). Callers run the hot
//! loops inside [`pulp::Arch::dispatch`], which compiles them once more for
//! the CPU's widest instructions (AVX2 + FMA on x86-64) and picks at run time.
//! The k×k work (Gram matrices, Cholesky) goes to faer.

use faer::linalg::cholesky::llt::factor::cholesky_in_place;
use faer::linalg::triangular_solve::{solve_lower_triangular_in_place, solve_upper_triangular_in_place};
use faer::reborrow::{Reborrow, ReborrowMut};
use faer::{Accum, MatMut, MatRef, Par};

/// `a · b`.
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0f32; 16];
    let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..16 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut s = 0.0;
    for l in 0..8 {
        s += acc[l] + acc[l + 8];
    }
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// `out = M v` for a k×k row-major `m`.
#[inline(always)]
pub fn matvec(m: &[f32], v: &[f32], out: &mut [f32]) {
    let k = v.len();
    for (i, o) in out.iter_mut().enumerate() {
        *o = dot(&m[i * k..(i + 1) * k], v);
    }
}

/// `a · b` with explicit SIMD registers of the dispatched instruction set:
/// two vector accumulators and fused multiply-adds where the CPU has them.
/// Hand-written because it is the inner loop of the CG solver. Measured by
/// `bench/als_speed.sh` (seconds per CG iteration, 50k × 20k × 2M, 2 threads;
/// `implicit` ≈ 0.2): auto-vectorised loops 0.22, these kernels 0.108, plus the
/// four-row `simd_matvec` 0.098, plus two entries at a time (`simd_dot2`)
/// 0.086.
#[inline(always)]
pub fn simd_dot<S: pulp::Simd>(simd: S, a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let (ah, at) = S::as_simd_f32s(a);
    let (bh, bt) = S::as_simd_f32s(b);
    let mut acc0 = simd.splat_f32s(0.0);
    let mut acc1 = simd.splat_f32s(0.0);
    let pairs_a = ah.chunks_exact(2);
    let pairs_b = bh.chunks_exact(2);
    let (ra, rb) = (pairs_a.remainder(), pairs_b.remainder());
    for (x, y) in pairs_a.zip(pairs_b) {
        acc0 = simd.mul_add_f32s(x[0], y[0], acc0);
        acc1 = simd.mul_add_f32s(x[1], y[1], acc1);
    }
    for (x, y) in ra.iter().zip(rb) {
        acc0 = simd.mul_add_f32s(*x, *y, acc0);
    }
    let mut s = simd.reduce_sum_f32s(simd.add_f32s(acc0, acc1));
    for (x, y) in at.iter().zip(bt) {
        s += x * y;
    }
    s
}

/// `(a · v, b · v)` in one pass over `v` (see [`simd_dot`]).
#[inline(always)]
pub fn simd_dot2<S: pulp::Simd>(simd: S, a: &[f32], b: &[f32], v: &[f32]) -> (f32, f32) {
    let (ah, at) = S::as_simd_f32s(a);
    let (bh, bt) = S::as_simd_f32s(b);
    let (vh, vt) = S::as_simd_f32s(v);
    let z = simd.splat_f32s(0.0);
    let (mut a0, mut a1, mut b0, mut b1) = (z, z, z, z);
    let n = vh.len();
    let mut c = 0;
    while c + 1 < n {
        a0 = simd.mul_add_f32s(ah[c], vh[c], a0);
        b0 = simd.mul_add_f32s(bh[c], vh[c], b0);
        a1 = simd.mul_add_f32s(ah[c + 1], vh[c + 1], a1);
        b1 = simd.mul_add_f32s(bh[c + 1], vh[c + 1], b1);
        c += 2;
    }
    if c < n {
        a0 = simd.mul_add_f32s(ah[c], vh[c], a0);
        b0 = simd.mul_add_f32s(bh[c], vh[c], b0);
    }
    let mut sa = simd.reduce_sum_f32s(simd.add_f32s(a0, a1));
    let mut sb = simd.reduce_sum_f32s(simd.add_f32s(b0, b1));
    for ((x, y), w) in at.iter().zip(bt).zip(vt) {
        sa += x * w;
        sb += y * w;
    }
    (sa, sb)
}

/// `y += alpha · x` with explicit SIMD registers (see [`simd_dot`]).
#[inline(always)]
pub fn simd_axpy<S: pulp::Simd>(simd: S, alpha: f32, x: &[f32], y: &mut [f32]) {
    debug_assert_eq!(x.len(), y.len());
    let (xh, xt) = S::as_simd_f32s(x);
    let (yh, yt) = S::as_mut_simd_f32s(y);
    let a = simd.splat_f32s(alpha);
    for (yv, xv) in yh.iter_mut().zip(xh) {
        *yv = simd.mul_add_f32s(a, *xv, *yv);
    }
    for (yi, xi) in yt.iter_mut().zip(xt) {
        *yi += alpha * xi;
    }
}

/// `out = M v` for a k×k row-major `m` (see [`simd_dot`]): four rows at a
/// time, so each vector of `v` is loaded once per four rows.
#[inline(always)]
pub fn simd_matvec<S: pulp::Simd>(simd: S, m: &[f32], v: &[f32], out: &mut [f32]) {
    let k = v.len();
    let (vh, vt) = S::as_simd_f32s(v);
    let mut rows = out.chunks_exact_mut(4).enumerate();
    for (blk, o) in &mut rows {
        let r = blk * 4;
        let (m0, t0) = S::as_simd_f32s(&m[r * k..(r + 1) * k]);
        let (m1, t1) = S::as_simd_f32s(&m[(r + 1) * k..(r + 2) * k]);
        let (m2, t2) = S::as_simd_f32s(&m[(r + 2) * k..(r + 3) * k]);
        let (m3, t3) = S::as_simd_f32s(&m[(r + 3) * k..(r + 4) * k]);
        let z = simd.splat_f32s(0.0);
        let (mut a0, mut a1, mut a2, mut a3) = (z, z, z, z);
        for c in 0..vh.len() {
            let x = vh[c];
            a0 = simd.mul_add_f32s(m0[c], x, a0);
            a1 = simd.mul_add_f32s(m1[c], x, a1);
            a2 = simd.mul_add_f32s(m2[c], x, a2);
            a3 = simd.mul_add_f32s(m3[c], x, a3);
        }
        let tail = |t: &[f32]| t.iter().zip(vt).map(|(a, b)| a * b).sum::<f32>();
        o[0] = simd.reduce_sum_f32s(a0) + tail(t0);
        o[1] = simd.reduce_sum_f32s(a1) + tail(t1);
        o[2] = simd.reduce_sum_f32s(a2) + tail(t2);
        o[3] = simd.reduce_sum_f32s(a3) + tail(t3);
    }
    let done = k - k % 4;
    for (i, o) in out[done..].iter_mut().enumerate() {
        let r = done + i;
        *o = simd_dot(simd, &m[r * k..(r + 1) * k], v);
    }
}

/// `Yᵀ Y` of a row-major `n × k` matrix, as a row-major k×k matrix.
pub fn gram(y: &[f32], k: usize) -> Vec<f32> {
    let n = y.len().checked_div(k).unwrap_or(0);
    let ym = MatRef::from_row_major_slice(y, n, k);
    let mut out = vec![0f32; k * k];
    let om = MatMut::from_row_major_slice_mut(&mut out, k, k);
    faer::linalg::matmul::matmul(om, Accum::Replace, ym.transpose(), ym, 1.0, Par::rayon(0));
    out
}

/// Adds `Gᵀ G` to the k×k row-major `a`, where `g` is row-major `m × k`.
pub fn add_gram(a: &mut [f32], g: &[f32], k: usize) {
    let m = g.len() / k;
    if m == 0 {
        return;
    }
    let gm = MatRef::from_row_major_slice(g, m, k);
    let am = MatMut::from_row_major_slice_mut(a, k, k);
    faer::linalg::matmul::matmul(am, Accum::Add, gm.transpose(), gm, 1.0, Par::Seq);
}

/// Solves `A x = b` for a symmetric positive definite k×k row-major `a`
/// (overwritten by its Cholesky factor), `b` overwritten by `x`. `stack` is
/// scratch from [`cholesky_scratch`]. Returns false if `a` is not positive
/// definite.
pub fn cholesky_solve(a: &mut [f32], b: &mut [f32], stack: &mut faer::dyn_stack::MemStack) -> bool {
    let k = b.len();
    // Row-major k×k seen as column-major is the transpose; A is symmetric, so
    // the same matrix.
    let mut am = MatMut::from_column_major_slice_mut(a, k, k);
    if cholesky_in_place(am.rb_mut(), Default::default(), Par::Seq, stack, Default::default()).is_err() {
        return false;
    }
    let l = am.rb();
    let mut bm = MatMut::from_column_major_slice_mut(b, k, 1);
    solve_lower_triangular_in_place(l, bm.rb_mut(), Par::Seq);
    solve_upper_triangular_in_place(l.transpose(), bm.rb_mut(), Par::Seq);
    true
}

/// Scratch memory for [`cholesky_solve`] of dimension `k`.
pub fn cholesky_scratch(k: usize) -> faer::dyn_stack::MemBuffer {
    faer::dyn_stack::MemBuffer::new(faer::linalg::cholesky::llt::factor::cholesky_in_place_scratch::<f32>(
        k,
        Par::Seq,
        Default::default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_the_obvious_sum() {
        let a: Vec<f32> = (0..67).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..67).map(|i| (i as f32 * 0.11).cos()).collect();
        let want: f64 = a.iter().zip(&b).map(|(x, y)| *x as f64 * *y as f64).sum();
        assert!((dot(&a, &b) as f64 - want).abs() < 1e-4);
        let simd = pulp::Arch::new().dispatch(SimdDot(&a, &b));
        assert!((simd as f64 - want).abs() < 1e-4);
        let mut y = b.clone();
        pulp::Arch::new().dispatch(SimdAxpy(0.5, &a, &mut y));
        for i in 0..a.len() {
            assert!((y[i] - (b[i] + 0.5 * a[i])).abs() < 1e-6);
        }
    }

    struct SimdDot<'a>(&'a [f32], &'a [f32]);
    impl pulp::WithSimd for SimdDot<'_> {
        type Output = f32;
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, simd: S) -> f32 {
            simd_dot(simd, self.0, self.1)
        }
    }

    struct SimdAxpy<'a>(f32, &'a [f32], &'a mut [f32]);
    impl pulp::WithSimd for SimdAxpy<'_> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, simd: S) {
            simd_axpy(simd, self.0, self.1, self.2)
        }
    }

    #[test]
    fn cholesky_solves_a_spd_system() {
        let k = 5;
        let g: Vec<f32> = (0..40).map(|i| ((i * 7 % 11) as f32 - 5.0) / 3.0).collect();
        let mut a = gram(&g, k);
        for i in 0..k {
            a[i * k + i] += 0.5;
        }
        let a0 = a.clone();
        let x_true = [1.0f32, -2.0, 0.5, 3.0, -1.0];
        let mut b = vec![0f32; k];
        matvec(&a0, &x_true, &mut b);
        let mut buf = cholesky_scratch(k);
        assert!(cholesky_solve(&mut a, &mut b, faer::dyn_stack::MemStack::new(&mut buf)));
        for (x, t) in b.iter().zip(x_true) {
            assert!((x - t).abs() < 1e-3, "{x} vs {t}");
        }
        let mut add = a0.clone();
        add_gram(&mut add, &g[..10], k);
        let direct = gram(&g[..10], k);
        for i in 0..k * k {
            assert!((add[i] - a0[i] - direct[i]).abs() < 1e-4);
        }
    }
}
