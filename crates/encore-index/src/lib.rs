//! Nearest-neighbour search over song and user vectors.
//!
//! [`VectorIndex`] is an HNSW graph from [usearch] (incremental add and
//! remove, filtered search, and serving straight from a memory-mapped file
//! with [`VectorIndex::open`]`(…, true)`); [`exact_search`] is the brute-force
//! reference it is measured against. usearch was picked over the pure-Rust
//! HNSW crates for those three features and for its speed against Spotify's
//! voyager, measured side by side by `bench/ann.sh`; its C++ core builds in
//! under a minute here (without the optional `numkong` kernels).
//!
//! Saved as a directory: `index.usearch` (usearch's own format) and
//! `index.json` (dimensions, metric, settings, size), so opening never
//! rebuilds the graph.
#![deny(missing_docs)]

use std::path::Path;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use usearch::{Index, IndexOptions, MetricKind, ScalarKind};

/// Errors of the index.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// From usearch.
    #[error("vector index: {0}")]
    Usearch(String),
    /// Reading or writing `index.json`.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// Vectors of the wrong length, or other misuse.
    #[error("{0}")]
    Shape(String),
}

/// Result of the index.
pub type Result<T> = std::result::Result<T, Error>;

fn us(e: impl std::fmt::Display) -> Error {
    Error::Usearch(e.to_string())
}

/// How vectors are compared (higher similarity = nearer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Dot product (e.g. user · song).
    InnerProduct,
    /// Cosine.
    Cosine,
    /// Negative squared Euclidean distance.
    L2,
}

impl Metric {
    fn kind(self) -> MetricKind {
        match self {
            Metric::InnerProduct => MetricKind::IP,
            Metric::Cosine => MetricKind::Cos,
            Metric::L2 => MetricKind::L2sq,
        }
    }

    /// usearch's distance → similarity.
    fn similarity(self, distance: f32) -> f32 {
        match self {
            Metric::InnerProduct | Metric::Cosine => 1.0 - distance,
            Metric::L2 => -distance,
        }
    }

    /// Similarity of two vectors under this metric.
    pub fn score(self, a: &[f32], b: &[f32]) -> f32 {
        match self {
            Metric::InnerProduct => a.iter().zip(b).map(|(x, y)| x * y).sum(),
            Metric::Cosine => {
                let d: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
                let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
                let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
                if na > 0.0 && nb > 0.0 {
                    d / (na * nb)
                } else {
                    0.0
                }
            }
            Metric::L2 => -a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f32>(),
        }
    }
}

/// Graph settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IndexConfig {
    /// Similarity.
    pub metric: Metric,
    /// Edges per node (HNSW's M).
    pub connectivity: usize,
    /// Candidate list while building (ef_construction).
    pub expansion_add: usize,
    /// Candidate list while searching (ef).
    pub expansion_search: usize,
}

impl Default for IndexConfig {
    fn default() -> Self {
        IndexConfig { metric: Metric::InnerProduct, connectivity: 16, expansion_add: 128, expansion_search: 128 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Meta {
    dimensions: usize,
    config: IndexConfig,
    size: usize,
}

/// An approximate nearest-neighbour index of keyed vectors.
pub struct VectorIndex {
    inner: Index,
    dim: usize,
    config: IndexConfig,
}

impl std::fmt::Debug for VectorIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorIndex").field("dim", &self.dim).field("len", &self.len()).finish()
    }
}

impl VectorIndex {
    /// An empty index for `dim`-dimensional vectors.
    pub fn new(dim: usize, config: IndexConfig) -> Result<VectorIndex> {
        if dim == 0 {
            return Err(Error::Shape("vectors need at least one dimension".into()));
        }
        let opts = IndexOptions {
            dimensions: dim,
            metric: config.metric.kind(),
            quantization: ScalarKind::F32,
            connectivity: config.connectivity,
            expansion_add: config.expansion_add,
            expansion_search: config.expansion_search,
            multi: false,
        };
        Ok(VectorIndex { inner: Index::new(&opts).map_err(us)?, dim, config })
    }

    /// Builds an index of `keys[i]` → row `i` of `vectors` (row-major,
    /// `dim` wide), inserting in parallel.
    pub fn build(dim: usize, vectors: &[f32], keys: &[u64], config: IndexConfig) -> Result<VectorIndex> {
        if vectors.len() != keys.len() * dim {
            return Err(Error::Shape(format!(
                "{} keys need {} numbers, got {}",
                keys.len(),
                keys.len() * dim,
                vectors.len()
            )));
        }
        let idx = VectorIndex::new(dim, config)?;
        idx.inner.reserve_capacity_and_threads(keys.len(), rayon::current_num_threads()).map_err(us)?;
        keys.par_iter().zip(vectors.par_chunks_exact(dim)).try_for_each(|(&k, v)| idx.inner.add(k, v).map_err(us))?;
        Ok(idx)
    }

    /// Number of vectors.
    pub fn len(&self) -> usize {
        self.inner.size()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Dimensions.
    pub fn dim(&self) -> usize {
        self.dim
    }

    fn check(&self, v: &[f32]) -> Result<()> {
        if v.len() == self.dim {
            Ok(())
        } else {
            Err(Error::Shape(format!("vector has {} dimensions, the index {}", v.len(), self.dim)))
        }
    }

    /// Adds (or replaces) one vector.
    pub fn add(&self, key: u64, v: &[f32]) -> Result<()> {
        self.check(v)?;
        if self.inner.contains(key) {
            self.inner.remove(key).map_err(us)?;
        }
        if self.inner.size() + 1 > self.inner.capacity() {
            self.inner.reserve((self.inner.capacity() * 2).max(64)).map_err(us)?;
        }
        self.inner.add(key, v).map_err(us)
    }

    /// Removes a key; returns whether it was there.
    pub fn remove(&self, key: u64) -> Result<bool> {
        Ok(self.inner.remove(key).map_err(us)? > 0)
    }

    /// The (key, similarity) of the `k` nearest vectors, nearest first.
    pub fn search(&self, q: &[f32], k: usize) -> Result<Vec<(u64, f32)>> {
        self.check(q)?;
        let m = self.inner.search(q, k).map_err(us)?;
        Ok(m.keys.into_iter().zip(m.distances).map(|(key, d)| (key, self.config.metric.similarity(d))).collect())
    }

    /// [`VectorIndex::search`] among the keys `keep` accepts.
    pub fn search_filtered(&self, q: &[f32], k: usize, keep: impl Fn(u64) -> bool) -> Result<Vec<(u64, f32)>> {
        self.check(q)?;
        let m = self.inner.filtered_search(q, k, keep).map_err(us)?;
        Ok(m.keys.into_iter().zip(m.distances).map(|(key, d)| (key, self.config.metric.similarity(d))).collect())
    }

    /// Sets the search candidate list (ef): higher is slower and more exact.
    pub fn set_expansion_search(&self, ef: usize) {
        self.inner.change_expansion_search(ef);
    }

    /// Writes `index.usearch` and `index.json` into `dir`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let file = dir.join("index.usearch");
        self.inner.save(&file.display().to_string()).map_err(us)?;
        let meta = Meta { dimensions: self.dim, config: self.config, size: self.len() };
        let p = dir.join("index.json");
        std::fs::write(&p, serde_json::to_vec_pretty(&meta).expect("serialisable"))
            .map_err(|e| Error::Io { path: p.display().to_string(), reason: e.to_string() })
    }

    /// Opens an index saved by [`VectorIndex::save`] without rebuilding it:
    /// loaded into memory, or with `mmap` served from the file (read-only).
    pub fn open(dir: &Path, mmap: bool) -> Result<VectorIndex> {
        let p = dir.join("index.json");
        let bytes =
            std::fs::read(&p).map_err(|e| Error::Io { path: p.display().to_string(), reason: e.to_string() })?;
        let meta: Meta = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Io { path: p.display().to_string(), reason: e.to_string() })?;
        let idx = VectorIndex::new(meta.dimensions, meta.config)?;
        let file = dir.join("index.usearch").display().to_string();
        if mmap {
            idx.inner.view(&file).map_err(us)?;
        } else {
            idx.inner.load(&file).map_err(us)?;
        }
        idx.inner.change_expansion_search(meta.config.expansion_search);
        if idx.len() != meta.size {
            return Err(Error::Shape(format!("{file}: {} vectors, index.json says {}", idx.len(), meta.size)));
        }
        Ok(idx)
    }
}

/// The exact `k` nearest rows of `vectors` (row-major, `dim` wide) to `q`:
/// (row, similarity), nearest first.
pub fn exact_search(vectors: &[f32], dim: usize, q: &[f32], k: usize, metric: Metric) -> Vec<(usize, f32)> {
    let mut all: Vec<(usize, f32)> =
        vectors.chunks_exact(dim).enumerate().map(|(i, v)| (i, metric.score(q, v))).collect();
    let k = k.min(all.len());
    if k == 0 {
        return Vec::new();
    }
    all.select_nth_unstable_by(k - 1, |a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    all.truncate(k);
    // Give back the n-long buffer: callers collect the result in place.
    all.shrink_to_fit();
    all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    all
}

/// Share of `exact` found in `approx`.
pub fn recall(approx: &[u64], exact: &[u64]) -> f64 {
    if exact.is_empty() {
        return 1.0;
    }
    exact.iter().filter(|k| approx.contains(k)).count() as f64 / exact.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};
    use rand_distr::{Distribution, Normal};

    /// `n` vectors around `clusters` centres (0 = uniform random).
    fn data(n: usize, dim: usize, clusters: usize, seed: u64) -> Vec<f32> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let normal = Normal::new(0.0f32, 1.0).unwrap();
        let centres: Vec<Vec<f32>> =
            (0..clusters.max(1)).map(|_| (0..dim).map(|_| 3.0 * normal.sample(&mut rng)).collect()).collect();
        (0..n)
            .flat_map(|_| {
                let c = &centres[rng.random_range(0..centres.len())];
                let spread = if clusters == 0 { 1.0 } else { 0.5 };
                let base = if clusters == 0 { 0.0 } else { 1.0 };
                (0..dim).map(|d| base * c[d] + spread * normal.sample(&mut rng)).collect::<Vec<f32>>()
            })
            .collect()
    }

    fn mean_recall(idx: &VectorIndex, v: &[f32], queries: &[f32], dim: usize, metric: Metric) -> f64 {
        let qs: Vec<&[f32]> = queries.chunks_exact(dim).collect();
        qs.iter()
            .map(|q| {
                let a: Vec<u64> = idx.search(q, 10).unwrap().into_iter().map(|x| x.0).collect();
                let e: Vec<u64> = exact_search(v, dim, q, 10, metric).into_iter().map(|x| x.0 as u64).collect();
                recall(&a, &e)
            })
            .sum::<f64>()
            / qs.len() as f64
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]
        #[test]
        fn recall_at_10_against_exact_search(seed in 0u64..1000, clusters in prop::sample::select(vec![0usize, 8, 32]), cosine in any::<bool>()) {
            let (n, dim) = (3000, 24);
            // Held-out queries from the same distribution as the data.
            let all = data(n + 100, dim, clusters, seed);
            let (v, queries) = all.split_at(n * dim);
            let metric = if cosine { Metric::Cosine } else { Metric::L2 };
            let keys: Vec<u64> = (0..n as u64).collect();
            let idx = VectorIndex::build(dim, v, &keys, IndexConfig { metric, ..Default::default() }).unwrap();
            prop_assert_eq!(idx.len(), n);
            let r = mean_recall(&idx, v, queries, dim, metric);
            prop_assert!(r >= 0.95, "recall@10 {}", r);
        }
    }

    #[test]
    fn save_open_add_remove_filter() {
        let (n, dim) = (1000, 8);
        let v = data(n, dim, 4, 9);
        let keys: Vec<u64> = (0..n as u64).map(|k| k * 10).collect();
        let cfg = IndexConfig { metric: Metric::InnerProduct, ..Default::default() };
        let idx = VectorIndex::build(dim, &v, &keys, cfg).unwrap();
        let q = &v[..dim];
        let before = idx.search(q, 5).unwrap();
        let dir = tempfile::tempdir().unwrap();
        idx.save(dir.path()).unwrap();
        for mmap in [false, true] {
            let opened = VectorIndex::open(dir.path(), mmap).unwrap();
            assert_eq!(opened.len(), n);
            assert_eq!(opened.search(q, 5).unwrap(), before);
        }
        // Filtered: only keys divisible by 20.
        let f = idx.search_filtered(q, 5, |k| k % 20 == 0).unwrap();
        assert_eq!(f.len(), 5);
        assert!(f.iter().all(|x| x.0 % 20 == 0));
        // Remove the best hit; add a vector that beats everything.
        let top = before[0].0;
        assert!(idx.remove(top).unwrap());
        assert!(idx.search(q, 5).unwrap().iter().all(|x| x.0 != top));
        let big: Vec<f32> = q.iter().map(|x| x * 100.0).collect();
        idx.add(7, &big).unwrap();
        assert_eq!(idx.search(q, 1).unwrap()[0].0, 7);
        assert!(idx.add(8, &[1.0]).is_err());
        assert!(VectorIndex::open(&dir.path().join("missing"), false).is_err());
    }
}
