//! ALS speed benchmark, the Encore side of `bench/als_speed.sh`.
//!
//! ```text
//! als_bench generate --users 50000 --items 20000 --nnz 2000000 --out m.coo
//! als_bench train --input m.coo --solver cg --factors 64 --iterations 15
//! ```
//!
//! `m.coo` is little-endian `(u32 user, u32 item, f32 plays)` records sorted
//! by user then item; the Python side reads the same file. `train` prints one
//! JSON line: seconds of each iteration, their median, CPU utilisation during
//! training, and the final loss.

use std::collections::HashSet;
use std::io::{BufWriter, Read, Write};

use encore_cf::{AlsConfig, Solver};
use encore_types::InteractionsBuilder;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, LogNormal, Zipf};

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|p| args.get(p + 1))
        .map(|v| v.parse().unwrap_or_else(|_| panic!("bad value for {name}")))
        .unwrap_or(default)
}

/// utime + stime of this process, seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn generate(args: &[String]) {
    let users: u32 = arg(args, "--users", 50_000);
    let items: u32 = arg(args, "--items", 20_000);
    let nnz: usize = arg(args, "--nnz", 2_000_000);
    let seed: u64 = arg(args, "--seed", 1);
    let out: String = arg(args, "--out", "m.coo".to_string());
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let item_zipf = Zipf::new(items as f64, 1.0).unwrap();
    let activity = LogNormal::new(0.0, 1.0).unwrap();
    let weights: Vec<f64> = (0..users).map(|_| activity.sample(&mut rng)).collect();
    let total: f64 = weights.iter().sum();
    let mut cum = Vec::with_capacity(weights.len());
    let mut acc = 0.0;
    for w in &weights {
        acc += w / total;
        cum.push(acc);
    }
    let mut seen: HashSet<u64> = HashSet::with_capacity(nnz);
    let mut triples: Vec<(u32, u32, f32)> = Vec::with_capacity(nnz);
    while triples.len() < nnz {
        let x: f64 = rng.random();
        let u = cum.partition_point(|&c| c < x).min(users as usize - 1) as u32;
        // Permute item ranks so popularity is not aligned with the id.
        let rank = item_zipf.sample(&mut rng) as u64 - 1;
        let i = ((rank * 7919) % items as u64) as u32;
        if seen.insert((u as u64) << 32 | i as u64) {
            let plays = 1.0 + (-(rng.random::<f64>().max(1e-12)).ln() * 3.0).floor() as f32;
            triples.push((u, i, plays));
        }
    }
    triples.sort_unstable_by_key(|t| (t.0, t.1));
    let mut w = BufWriter::new(std::fs::File::create(&out).unwrap());
    for (u, i, p) in &triples {
        w.write_all(&u.to_le_bytes()).unwrap();
        w.write_all(&i.to_le_bytes()).unwrap();
        w.write_all(&p.to_le_bytes()).unwrap();
    }
    w.flush().unwrap();
    println!("{{\"users\": {users}, \"items\": {items}, \"nnz\": {}}}", triples.len());
}

fn train(args: &[String]) {
    let input: String = arg(args, "--input", "m.coo".to_string());
    let mut bytes = Vec::new();
    std::fs::File::open(&input).unwrap().read_to_end(&mut bytes).unwrap();
    let recs: Vec<(u32, u32, f32)> = bytes
        .chunks_exact(12)
        .map(|c| {
            let w = |k: usize| [c[k], c[k + 1], c[k + 2], c[k + 3]];
            (u32::from_le_bytes(w(0)), u32::from_le_bytes(w(4)), f32::from_le_bytes(w(8)))
        })
        .collect();
    let n_users = recs.iter().map(|r| r.0).max().map_or(0, |m| m + 1) as usize;
    let n_items = recs.iter().map(|r| r.1).max().map_or(0, |m| m + 1) as usize;
    let mut b = InteractionsBuilder::new((0..n_users as i64).collect(), (0..n_items as i64).collect());
    let mut start = 0;
    for u in 0..n_users as u32 {
        let end = start + recs[start..].iter().take_while(|r| r.0 == u).count();
        let row: Vec<(u32, f32, u32, i64)> = recs[start..end].iter().map(|r| (r.1, r.2, 0, 0)).collect();
        b.push_row(&row);
        start = end;
    }
    let m = b.finish();
    let solver = match arg(args, "--solver", "cg".to_string()).as_str() {
        "cholesky" => Solver::Cholesky,
        _ => Solver::Cg { steps: arg(args, "--cg-steps", 3) },
    };
    let cfg = AlsConfig {
        factors: arg(args, "--factors", 64),
        iterations: arg(args, "--iterations", 15),
        regularization: arg(args, "--regularization", 0.01),
        alpha: arg(args, "--alpha", 1.0),
        solver,
        ..AlsConfig::default()
    };
    let (cpu0, wall0) = (cpu_seconds(), std::time::Instant::now());
    let model = cfg.fit(&m, &mut rand_chacha::ChaCha8Rng::seed_from_u64(arg(args, "--seed", 1)), &mut |_| {}).unwrap();
    let wall = wall0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let mut its = model.metrics().seconds_per_iteration.clone();
    let per_iter = its.clone();
    its.sort_by(f64::total_cmp);
    println!(
        "{}",
        serde_json::json!({
            "tool": "encore",
            "solver": if matches!(solver, Solver::Cholesky) { "cholesky" } else { "cg" },
            "threads": rayon::current_num_threads(),
            "seconds_per_iteration": per_iter,
            "median_seconds_per_iteration": its[its.len() / 2],
            "cpu_utilisation": cpu / wall,
            "final_loss": model.metrics().final_loss,
            "train_seconds": wall,
        })
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("generate") => generate(&args),
        Some("train") => train(&args),
        _ => eprintln!("usage: als_bench generate|train [options]"),
    }
}
