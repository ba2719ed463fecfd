//! Ranking quality on a fixed train/test split, the Encore side of
//! `bench/quality_ml100k.sh`.
//!
//! ```text
//! quality_bench --train train.csv --test test.csv --model als|als-tuned|bpr|lmf|knn-cosine|knn-tfidf|knn-bm25
//! ```
//!
//! The CSV files hold `user,item,plays` with dense 0-based indices (no
//! header). Prints one JSON line with `implicit`'s metric definitions at
//! k = 10 (precision, map, ndcg, auc) and the textbook ones.

use encore_cf::{AlsConfig, BprConfig, CfModel, ItemKnnConfig, ItemKnnModel, Weighting};
use encore_eval::{evaluate, split, Scorer, Split};
use encore_types::{Interactions, InteractionsBuilder};
use rand::SeedableRng;

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter().position(|a| a == name).and_then(|p| args.get(p + 1)).cloned().unwrap_or_else(|| default.to_string())
}

fn read(path: &str, shape: Option<(usize, usize)>) -> Interactions {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut t: Vec<(usize, u32, f32)> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].parse().unwrap(), f[1].parse().unwrap(), f[2].parse().unwrap())
        })
        .collect();
    t.sort_by_key(|e| (e.0, e.1));
    let (nu, ni) = shape.unwrap_or_else(|| {
        (t.iter().map(|e| e.0 + 1).max().unwrap_or(0), t.iter().map(|e| e.1 as usize + 1).max().unwrap_or(0))
    });
    let mut b = InteractionsBuilder::new((0..nu as i64).collect(), (0..ni as i64).collect());
    let mut k = 0;
    for u in 0..nu {
        let start = k;
        while k < t.len() && t[k].0 == u {
            k += 1;
        }
        b.push_row(&t[start..k].iter().map(|e| (e.1, e.2, 0, 0)).collect::<Vec<_>>());
    }
    b.finish()
}

struct Cf(CfModel);
impl Scorer for Cf {
    fn scores(&self, u: usize, _train: &[u32]) -> Vec<f32> {
        self.0.scores(self.0.user_vector(u)).unwrap()
    }
}

struct Knn<'a>(ItemKnnModel, &'a Interactions);
impl Scorer for Knn<'_> {
    fn scores(&self, u: usize, _train: &[u32]) -> Vec<f32> {
        let r = self.1.row(u);
        self.0.scores(&r.indices.iter().zip(r.plays).map(|(&i, &p)| (i as usize, p)).collect::<Vec<_>>())
    }
}

fn als(cfg: &AlsConfig, train: &Interactions) -> Cf {
    Cf(cfg.fit(train, &mut rand_chacha::ChaCha8Rng::seed_from_u64(1), &mut |_| {}).unwrap())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let train_all = read(&arg(&args, "--train", "train.csv"), None);
    let test = read(&arg(&args, "--test", "test.csv"), Some((train_all.n_users(), train_all.n_items())));
    let model = arg(&args, "--model", "als");
    let base = AlsConfig { factors: 64, regularization: 0.01, alpha: 1.0, iterations: 15, ..AlsConfig::default() };
    let t = std::time::Instant::now();
    let mut chosen = serde_json::Value::Null;
    let m = match model.as_str() {
        "als" => evaluate(&als(&base, &train_all), &train_all, &test, 10),
        "als-tuned" => {
            // Pick factors, regularization and alpha on a validation split
            // of the training data only.
            let (fit, valid) =
                split(&train_all, Split::Random { test_fraction: 0.2 }, &mut rand_chacha::ChaCha8Rng::seed_from_u64(2))
                    .unwrap();
            let mut best = (f64::MIN, base.clone());
            for factors in [16, 32, 64, 128] {
                for regularization in [0.01, 0.1, 1.0, 10.0] {
                    for alpha in [1.0, 2.0, 5.0, 10.0] {
                        let cfg = AlsConfig { factors, regularization, alpha, ..base.clone() };
                        let score = evaluate(&als(&cfg, &fit), &fit, &valid, 10).ndcg;
                        if score > best.0 {
                            best = (score, cfg);
                        }
                    }
                }
            }
            chosen = serde_json::json!({ "factors": best.1.factors, "regularization": best.1.regularization, "alpha": best.1.alpha });
            evaluate(&als(&best.1, &train_all), &train_all, &test, 10)
        }
        "bpr" => {
            let cfg = BprConfig { factors: 64, learning_rate: 0.01, regularization: 0.01, iterations: 100 };
            let model = cfg.fit(&train_all, &mut rand_chacha::ChaCha8Rng::seed_from_u64(1), &mut |_, _| {}).unwrap();
            evaluate(&Cf(model), &train_all, &test, 10)
        }
        "lmf" => {
            let model = encore_cf::LmfConfig::default()
                .fit(&train_all, &mut rand_chacha::ChaCha8Rng::seed_from_u64(1), &mut |_, _| {})
                .unwrap();
            evaluate(&Cf(model), &train_all, &test, 10)
        }
        knn => {
            let weighting = match knn {
                "knn-cosine" => Weighting::Cosine,
                "knn-tfidf" => Weighting::TfIdf,
                "knn-bm25" => Weighting::Bm25 { k1: 100.0, b: 0.8 },
                other => panic!("unknown model {other}"),
            };
            let model = ItemKnnConfig { neighbours: 20, weighting }.fit(&train_all).unwrap();
            evaluate(&Knn(model, &train_all), &train_all, &test, 10)
        }
    };
    println!(
        "{}",
        serde_json::json!({
            "tool": "encore", "model": model, "seconds": t.elapsed().as_secs_f64(), "chosen": chosen,
            "precision": m.precision, "map": m.map, "ndcg": m.ndcg, "auc": m.auc,
            "recall_at_k": m.recall_at_k, "full_auc": m.full_auc, "mpr": m.mpr,
        })
    );
}
