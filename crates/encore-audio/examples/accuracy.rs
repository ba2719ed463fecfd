//! Tempo and key accuracy against a ground-truth file, and speed.
//!
//! ```text
//! accuracy TRUTH.jsonl [LIMIT]
//! ```
//!
//! `TRUTH.jsonl` has one song per line with `audio`, `tempo_bpm`, `key`,
//! `mode` (the demo world writes `truth/songs.jsonl`). Prints one JSON line:
//! tempo Accuracy1 (within 4 %), Accuracy2 (also ×2, ×½, ×3, ×⅓), the MIREX
//! weighted key score, and audio seconds analysed per wall second per core.

use std::path::Path;

use rayon::prelude::*;

fn mirex(est_key: &str, est_mode: &str, key: &str, mode: &str) -> f64 {
    let pc = |k: &str| encore_audio::KEYS.iter().position(|x| *x == k).unwrap_or(0) as i32;
    let (e, t) = (pc(est_key), pc(key));
    let d = (e - t).rem_euclid(12);
    if est_mode == mode && d == 0 {
        1.0
    } else if est_mode == mode && (d == 7 || d == 5) {
        0.5 // fifth
    } else if est_mode != mode && ((mode == "major" && d == 9) || (mode == "minor" && d == 3)) {
        0.3 // relative
    } else if est_mode != mode && d == 0 {
        0.2 // parallel
    } else {
        0.0
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let truth = std::fs::read_to_string(&args[1]).expect("truth file");
    let limit: usize = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(usize::MAX);
    let rows: Vec<serde_json::Value> = truth.lines().take(limit).map(|l| serde_json::from_str(l).unwrap()).collect();
    let t = std::time::Instant::now();
    let results: Vec<(f64, bool, bool, f64)> = rows
        .par_iter()
        .map(|r| {
            let d = encore_audio::analyze_file(Path::new(r["audio"].as_str().unwrap())).unwrap();
            let truth = r["tempo_bpm"].as_f64().unwrap();
            let est = d.tempo_bpm as f64;
            let ok = |f: f64| (est - truth * f).abs() <= 0.04 * truth * f;
            let acc1 = ok(1.0);
            let acc2 = [1.0, 2.0, 0.5, 3.0, 1.0 / 3.0].iter().any(|&f| ok(f));
            let key = mirex(&d.key, &d.mode, r["key"].as_str().unwrap(), r["mode"].as_str().unwrap());
            (d.duration_s, acc1, acc2, key)
        })
        .collect();
    let wall = t.elapsed().as_secs_f64();
    let n = results.len() as f64;
    let audio: f64 = results.iter().map(|r| r.0).sum();
    println!(
        "{}",
        serde_json::json!({
            "songs": results.len(),
            "tempo_accuracy1": results.iter().filter(|r| r.1).count() as f64 / n,
            "tempo_accuracy2": results.iter().filter(|r| r.2).count() as f64 / n,
            "key_weighted_score": results.iter().map(|r| r.3).sum::<f64>() / n,
            "realtime_per_core": audio / wall / rayon::current_num_threads() as f64,
        })
    );
}
