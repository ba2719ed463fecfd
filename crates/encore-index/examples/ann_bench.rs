//! The vector-index benchmark, usearch side (bench/ann.sh runs voyager on
//! the same files in the same run).
//!
//! ```text
//! ann_bench DIR [N] [QUERIES] [DIM]
//! ```
//!
//! Writes `DIR/base.f32`, `DIR/queries.f32` (clustered Gaussian vectors: the
//! queries are held out of the same distribution) and `DIR/truth.u32` (the
//! exact top 10 by inner product, computed by brute force); builds the index
//! with every core, saves it, opens it (loaded and memory-mapped) and
//! searches the queries on one thread at several `ef`. One JSON line per
//! measurement.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use encore_index::{exact_search, recall, IndexConfig, Metric, VectorIndex};
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;

fn write(path: &Path, bytes: &[u8]) {
    std::fs::File::create(path).and_then(|mut f| f.write_all(bytes)).expect("write");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = Path::new(&args[1]);
    let n: usize = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(200_000);
    let nq: usize = args.get(3).and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let dim: usize = args.get(4).and_then(|v| v.parse().ok()).unwrap_or(64);
    std::fs::create_dir_all(dir).expect("dir");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    let normal = Normal::new(0.0f32, 1.0).unwrap();
    let centres: Vec<Vec<f32>> = (0..256).map(|_| (0..dim).map(|_| normal.sample(&mut rng)).collect()).collect();
    let mut all = Vec::with_capacity((n + nq) * dim);
    for _ in 0..n + nq {
        let c = &centres[rng.random_range(0..centres.len())];
        all.extend(c.iter().map(|x| x + 0.35 * normal.sample(&mut rng)));
    }
    let (base, queries) = all.split_at(n * dim);
    write(&dir.join("base.f32"), &base.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>());
    write(&dir.join("queries.f32"), &queries.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>());
    let t = Instant::now();
    let truth: Vec<Vec<u64>> = queries
        .par_chunks_exact(dim)
        .map(|q| exact_search(base, dim, q, 10, Metric::InnerProduct).into_iter().map(|x| x.0 as u64).collect())
        .collect();
    let exact_s = t.elapsed().as_secs_f64();
    let truth_bytes: Vec<u8> = truth.iter().flatten().flat_map(|&k| (k as u32).to_le_bytes()).collect();
    write(&dir.join("truth.u32"), &truth_bytes);
    println!(
        "{}",
        serde_json::json!({"tool": "exact", "n": n, "queries": nq, "dim": dim, "seconds": exact_s,
            "qps_per_core": nq as f64 / exact_s / rayon::current_num_threads() as f64})
    );

    let keys: Vec<u64> = (0..n as u64).collect();
    let cfg = IndexConfig { metric: Metric::InnerProduct, connectivity: 16, expansion_add: 128, expansion_search: 64 };
    let t = Instant::now();
    let idx = VectorIndex::build(dim, base, &keys, cfg).expect("build");
    let build_s = t.elapsed().as_secs_f64();
    let index_dir = dir.join("usearch");
    std::fs::create_dir_all(&index_dir).expect("dir");
    idx.save(&index_dir).expect("save");
    drop(idx);
    let t = Instant::now();
    let loaded = VectorIndex::open(&index_dir, false).expect("open");
    let open_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let viewed = VectorIndex::open(&index_dir, true).expect("view");
    let view_s = t.elapsed().as_secs_f64();
    drop(viewed);
    println!(
        "{}",
        serde_json::json!({"tool": "usearch", "event": "build", "threads": rayon::current_num_threads(),
            "build_seconds": build_s, "open_seconds": open_s, "mmap_open_seconds": view_s})
    );
    for ef in [16, 32, 64, 128, 256] {
        loaded.set_expansion_search(ef);
        let t = Instant::now();
        let mut r = 0.0;
        for (q, tr) in queries.chunks_exact(dim).zip(&truth) {
            let got: Vec<u64> = loaded.search(q, 10).expect("search").into_iter().map(|x| x.0).collect();
            r += recall(&got, tr);
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "{}",
            serde_json::json!({"tool": "usearch", "event": "search", "ef": ef, "recall_at_10": r / nq as f64,
                "qps_per_core": nq as f64 / s})
        );
    }
}
