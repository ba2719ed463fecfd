//! `encore eval` and `encore tune`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use encore_cf::{AlsConfig, CfModel};
use encore_eval::{evaluate, split, Metrics, Scorer, Split};
use encore_types::Interactions;
use rand::SeedableRng;
use serde::Serialize;

use crate::cmd_train::CfArgs;
use crate::ui;

/// Split options shared by eval and tune.
#[derive(Debug, Clone, clap::Args)]
pub struct SplitArgs {
    /// random: hold out a share of each user's songs; time: their last days.
    #[arg(long, default_value = "random", value_parser = ["random", "time"])]
    split: String,
    /// Share held out by the random split.
    #[arg(long, default_value_t = 0.2)]
    test_fraction: f32,
    /// Days held out by the time split.
    #[arg(long, default_value_t = 14)]
    days: u32,
    /// Cut-off of the ranking metrics.
    #[arg(long, default_value_t = 10)]
    k: usize,
}

impl SplitArgs {
    fn split(&self) -> Split {
        if self.split == "time" {
            Split::Time { days: self.days }
        } else {
            Split::Random { test_fraction: self.test_fraction }
        }
    }
}

/// Evaluate recommenders offline on a held-out split of the store's data.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Models to evaluate, comma-separated: hybrid (every model, fused),
    /// cf (ALS), audio (descriptor similarity to the user's songs), text
    /// (term similarity), bpr, lmf, knn-cosine, knn-tfidf, knn-bm25,
    /// popular, random.
    #[arg(long, default_value = "hybrid,cf,audio,text,popular,random")]
    model: String,
    /// Also run the cold-start protocol (songs held out of training, ranked
    /// from audio and text) for the audio network, its baselines and the
    /// hybrid.
    #[arg(long)]
    cold_start: bool,
    /// Write a Markdown report with SVG plots into this directory.
    #[arg(long)]
    report: Option<std::path::PathBuf>,
    /// BPR epochs.
    #[arg(long, default_value_t = 100)]
    bpr_iterations: usize,
    /// BPR learning rate.
    #[arg(long, default_value_t = 0.05)]
    bpr_learning_rate: f32,
    /// BPR regularization.
    #[arg(long, default_value_t = 0.01)]
    bpr_regularization: f32,
    /// Neighbours kept per song by item-kNN.
    #[arg(long, default_value_t = 20)]
    neighbours: usize,
    #[command(flatten)]
    split: SplitArgs,
    #[command(flatten)]
    cf: CfArgs,
}

/// Pick ALS's factors, regularization and alpha on a validation split.
#[derive(Debug, clap::Args)]
pub struct TuneArgs {
    #[command(flatten)]
    split: SplitArgs,
    /// Candidate factor counts.
    #[arg(long, value_delimiter = ',', default_value = "16,32,64")]
    grid_factors: Vec<usize>,
    /// Candidate regularizations.
    #[arg(long, value_delimiter = ',', default_value = "0.01,0.1,1")]
    grid_regularization: Vec<f32>,
    /// Candidate alphas.
    #[arg(long, value_delimiter = ',', default_value = "1,5,20")]
    grid_alpha: Vec<f32>,
    #[command(flatten)]
    cf: CfArgs,
}

/// Item-kNN needs the user's plays, not just the item indices.
struct KnnRows<'a>(encore_cf::ItemKnnModel, &'a Interactions);
impl Scorer for KnnRows<'_> {
    fn scores(&self, u: usize, _train: &[u32]) -> Vec<f32> {
        let r = self.1.row(u);
        let h: Vec<(usize, f32)> = r.indices.iter().zip(r.plays).map(|(&i, &p)| (i as usize, p)).collect();
        self.0.scores(&h)
    }
}

struct Cf(CfModel);
impl Scorer for Cf {
    fn scores(&self, u: usize, _train: &[u32]) -> Vec<f32> {
        self.0.scores(self.0.user_vector(u)).expect("the model's own vector")
    }
}

/// Most-played songs first (users who played them in training).
struct Popular(Vec<f32>);
impl Popular {
    fn fit(train: &Interactions) -> Popular {
        let mut c = vec![0f32; train.n_items()];
        for &i in &train.indices {
            c[i as usize] += 1.0;
        }
        Popular(c)
    }
}
impl Scorer for Popular {
    fn scores(&self, _u: usize, _train: &[u32]) -> Vec<f32> {
        self.0.clone()
    }
}

/// Uniformly random order, seeded per user.
struct RandomOrder(u64, usize);
impl Scorer for RandomOrder {
    fn scores(&self, u: usize, _train: &[u32]) -> Vec<f32> {
        use rand::Rng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(self.0 ^ (u as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        (0..self.1).map(|_| rng.random::<f32>()).collect()
    }
}

/// A single source of the hybrid ranker (or the fused hybrid) as a scorer
/// over the matrix columns.
struct HybridScorer<'a> {
    hybrid: encore_rank::Hybrid<'a>,
    train: &'a Interactions,
    col_to_song: Vec<Option<usize>>,
    /// None: the fused hybrid; Some(feature): that feature alone.
    feature: Option<&'static str>,
}
impl Scorer for HybridScorer<'_> {
    fn scores(&self, u: usize, _train: &[u32]) -> Vec<f32> {
        let history = encore_engine::row_history(self.train, u, &self.col_to_song);
        let p = self.hybrid.profile(&history, &[], &[]);
        let all = match self.feature {
            None => self.hybrid.score_all(&p, 200),
            Some(f) => self.hybrid.feature_scores(&p, f).expect("known feature"),
        };
        self.col_to_song.iter().map(|s| s.map_or(f32::NEG_INFINITY, |s| all[s])).collect()
    }
}

/// What the content-based models need, trained on the training split only.
struct Content {
    store: encore_store::Store,
    text: Option<encore_text::TermModel>,
}

impl Content {
    fn open(data_dir: &Path) -> anyhow::Result<Content> {
        let store = crate::ui::open_store(data_dir)?;
        let text = match store.artifacts(encore_text::KIND)?.current()? {
            Some((p, _)) => Some(encore_text::TermModel::load(&p)?),
            None => None,
        };
        Ok(Content { store, text })
    }
}

#[derive(Debug, Serialize)]
struct ModelResult {
    model: String,
    metrics: Metrics,
    train_seconds: f64,
}

#[derive(Debug, Serialize)]
struct EvalReport {
    split: Split,
    k: usize,
    train_pairs: usize,
    test_pairs: usize,
    results: Vec<ModelResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cold_start: Option<crate::cmd_audio::ColdStartReport>,
}

fn load_split(data_dir: &Path, s: &SplitArgs, seed: u64) -> anyhow::Result<(Interactions, Interactions)> {
    let store = crate::ui::open_store(data_dir)?;
    let m = store.interactions()?;
    anyhow::ensure!(m.nnz() > 0, "the store has no listening data: run `encore import` or `encore demo` first");
    Ok(split(&m, s.split(), &mut rand_chacha::ChaCha8Rng::seed_from_u64(seed))?)
}

fn fit(cfg: &AlsConfig, train: &Interactions, seed: u64) -> anyhow::Result<(CfModel, f64)> {
    let t = std::time::Instant::now();
    let model = cfg.fit(train, &mut rand_chacha::ChaCha8Rng::seed_from_u64(seed), &mut |_| {})?;
    Ok((model, t.elapsed().as_secs_f64()))
}

pub fn eval(data_dir: &Path, a: EvalArgs) -> anyhow::Result<ExitCode> {
    let (train, test) = load_split(data_dir, &a.split, a.cf.seed)?;
    let names: Vec<&str> = a.model.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    let content_models = ["hybrid", "audio", "text"];
    let needs_content = names.iter().any(|n| content_models.contains(n));
    // The CF model of the training split, shared by cf and the hybrid; its
    // item vectors also measure intra-list diversity.
    let mut cfg = a.cf.config();
    cfg.track_loss = false;
    let (cf_model, cf_secs) = fit(&cfg, &train, a.cf.seed)?;
    let unit: Vec<Vec<f32>> = (0..cf_model.item_ids().len())
        .map(|i| {
            let v = cf_model.item_vector(i);
            let n = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
            v.iter().map(|x| x / n).collect()
        })
        .collect();
    let sim = |i: u32, j: u32| -> f32 { unit[i as usize].iter().zip(&unit[j as usize]).map(|(a, b)| a * b).sum() };
    let sim: encore_eval::Similarity<'_> = &sim;
    let content = if needs_content { Some(Content::open(data_dir)?) } else { None };
    let built = match &content {
        Some(c) => {
            let t = std::time::Instant::now();
            let catalog = encore_engine::build_catalog(
                &c.store,
                &train,
                &cf_model,
                c.text.as_ref(),
                None,
                encore_engine::AudioVectors::Descriptors,
            )?;
            let fusion = if names.contains(&"hybrid") {
                encore_engine::fit_fusion(
                    &c.store,
                    &train,
                    &cfg,
                    c.text.as_ref(),
                    None,
                    &encore_engine::FusionConfig { seed: a.cf.seed + 1, ..Default::default() },
                )?
            } else {
                encore_rank::Fusion::default()
            };
            let col_to_song: Vec<Option<usize>> = train.item_ids.iter().map(|&id| catalog.index(id)).collect();
            Some((catalog, fusion, col_to_song, t.elapsed().as_secs_f64()))
        }
        None => None,
    };
    let mut results = Vec::new();
    for name in names {
        let (metrics, secs) = match name {
            "cf" => (encore_eval::evaluate_with(&Cf(cf_model.clone()), &train, &test, a.split.k, Some(sim)), cf_secs),
            "hybrid" | "audio" | "text" => {
                let (catalog, fusion, col_to_song, secs) = built.as_ref().expect("content loaded");
                let scorer = HybridScorer {
                    hybrid: encore_rank::Hybrid::new(catalog, &cf_model, fusion)?,
                    train: &train,
                    col_to_song: col_to_song.clone(),
                    feature: match name {
                        "audio" => Some("audio"),
                        "text" => Some("text"),
                        _ => None,
                    },
                };
                let secs = if name == "hybrid" { cf_secs + secs } else { *secs };
                (encore_eval::evaluate_with(&scorer, &train, &test, a.split.k, Some(sim)), secs)
            }
            "bpr" => {
                let cfg = encore_cf::BprConfig {
                    factors: a.cf.factors,
                    learning_rate: a.bpr_learning_rate,
                    regularization: a.bpr_regularization,
                    iterations: a.bpr_iterations,
                };
                let t = std::time::Instant::now();
                let model = cfg.fit(&train, &mut rand_chacha::ChaCha8Rng::seed_from_u64(a.cf.seed), &mut |_, _| {})?;
                let secs = t.elapsed().as_secs_f64();
                (evaluate(&Cf(model), &train, &test, a.split.k), secs)
            }
            "lmf" => {
                let cfg = encore_cf::LmfConfig { factors: a.cf.factors.min(64), ..Default::default() };
                let t = std::time::Instant::now();
                let model = cfg.fit(&train, &mut rand_chacha::ChaCha8Rng::seed_from_u64(a.cf.seed), &mut |_, _| {})?;
                let secs = t.elapsed().as_secs_f64();
                (evaluate(&Cf(model), &train, &test, a.split.k), secs)
            }
            knn if knn.starts_with("knn-") => {
                let weighting = match knn {
                    "knn-cosine" => encore_cf::Weighting::Cosine,
                    "knn-tfidf" => encore_cf::Weighting::TfIdf,
                    "knn-bm25" => encore_cf::Weighting::Bm25 { k1: 100.0, b: 0.8 },
                    other => anyhow::bail!("unknown model {other:?} (knn-cosine, knn-tfidf or knn-bm25)"),
                };
                let t = std::time::Instant::now();
                let model = encore_cf::ItemKnnConfig { neighbours: a.neighbours, weighting }.fit(&train)?;
                let secs = t.elapsed().as_secs_f64();
                (evaluate(&KnnRows(model, &train), &train, &test, a.split.k), secs)
            }
            "popular" => {
                (encore_eval::evaluate_with(&Popular::fit(&train), &train, &test, a.split.k, Some(sim)), 0.0)
            }
            "random" => (
                encore_eval::evaluate_with(&RandomOrder(a.cf.seed, train.n_items()), &train, &test, a.split.k, Some(sim)),
                0.0,
            ),
            other => anyhow::bail!(
                "unknown model {other:?} (expected hybrid, cf, audio, text, bpr, lmf, knn-cosine, knn-tfidf, knn-bm25, popular or random)"
            ),
        };
        results.push(ModelResult { model: name.to_string(), metrics, train_seconds: secs });
    }
    let cold_start = if a.cold_start {
        let store = crate::ui::open_store(data_dir)?;
        let args = crate::cmd_audio::ColdStartArgs {
            train: crate::cmd_audio::TrainArgs { seed: a.cf.seed, ..crate::cmd_audio::TrainArgs::parse_defaults() },
            ..crate::cmd_audio::ColdStartArgs::defaults()
        };
        Some(crate::cmd_audio::cold_start(&store, &args)?)
    } else {
        None
    };
    let report = EvalReport {
        split: a.split.split(),
        k: a.split.k,
        train_pairs: train.nnz(),
        test_pairs: test.nnz(),
        results,
        cold_start,
    };
    if let Some(dir) = &a.report {
        write_report(dir, &report)?;
    }
    if a.cf.json {
        ui::print_json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "split {:?}: {} training pairs, {} test pairs, {} users evaluated, k = {}",
        report.split,
        report.train_pairs,
        report.test_pairs,
        report.results.first().map_or(0, |r| r.metrics.users),
        report.k
    );
    print_table(&report.results);
    if let Some(c) = &report.cold_start {
        println!();
        crate::cmd_audio::print_cold_start(c);
    }
    if let Some(dir) = &a.report {
        println!("report: {}", dir.join("report.md").display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes `report.md` and `metrics.svg` (every metric of every model) into
/// `dir`.
fn write_report(dir: &Path, r: &EvalReport) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
    type Pick = fn(&Metrics) -> f64;
    let metrics: [(&str, Pick); 7] = [
        ("nDCG", |m| m.ndcg),
        ("precision", |m| m.precision),
        ("MAP", |m| m.map),
        ("recall", |m| m.recall_at_k),
        ("full AUC", |m| m.full_auc),
        ("coverage", |m| m.coverage),
        ("diversity", |m| m.diversity.unwrap_or(0.0)),
    ];
    let series: Vec<(&str, Vec<(f64, f64)>)> = r
        .results
        .iter()
        .map(|res| {
            (res.model.as_str(), metrics.iter().enumerate().map(|(x, (_, f))| (x as f64, f(&res.metrics))).collect())
        })
        .collect();
    let names: Vec<String> = metrics.iter().enumerate().map(|(i, m)| format!("{i}={}", m.0)).collect();
    crate::plot::line_chart(
        &dir.join("metrics.svg"),
        &format!("Models at k = {} ({})", r.k, names.join(", ")),
        "metric",
        "value",
        &series,
    )?;
    let mut md = format!(
        "# Encore evaluation\n\nSplit: {:?}; {} training pairs, {} test pairs; k = {}.\n\n",
        r.split, r.train_pairs, r.test_pairs, r.k
    );
    md.push_str(
        "| model | nDCG | precision | MAP | AUC@k | recall | full AUC | MPR | coverage | novelty | diversity |\n",
    );
    md.push_str("|---|---|---|---|---|---|---|---|---|---|---|\n");
    for res in &r.results {
        let m = &res.metrics;
        md.push_str(&format!(
            "| {} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} | {:.2} | {:.4} |\n",
            res.model,
            m.ndcg,
            m.precision,
            m.map,
            m.auc,
            m.recall_at_k,
            m.full_auc,
            m.mpr,
            m.coverage,
            m.novelty,
            m.diversity.unwrap_or(f64::NAN)
        ));
    }
    md.push_str("\n![every metric of every model](metrics.svg)\n");
    if let Some(c) = &r.cold_start {
        md.push_str(&format!(
            "\n## Cold start\n\n{} songs held out of training entirely; the audio network trained on {} songs.\n\n",
            c.held_out_songs, c.network_targets
        ));
        md.push_str("| method | users | AUC | recall@k |\n|---|---|---|---|\n");
        for row in &c.rows {
            md.push_str(&format!(
                "| {} | {} | {:.4} | {:.4} |\n",
                row.method, row.metrics.users, row.metrics.auc, row.metrics.recall
            ));
        }
    }
    std::fs::write(dir.join("report.md"), md)?;
    Ok(())
}

fn print_table(results: &[ModelResult]) {
    println!(
        "{:<10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "model",
        "ndcg",
        "precision",
        "map",
        "auc@k",
        "p@k",
        "recall@k",
        "full_auc",
        "mpr",
        "coverage",
        "novelty",
        "diversity"
    );
    for r in results {
        let m = &r.metrics;
        println!(
            "{:<10} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9.2} {:>9.4}",
            r.model,
            m.ndcg,
            m.precision,
            m.map,
            m.auc,
            m.precision_at_k,
            m.recall_at_k,
            m.full_auc,
            m.mpr,
            m.coverage,
            m.novelty,
            m.diversity.unwrap_or(f64::NAN)
        );
    }
}

#[derive(Debug, Serialize)]
struct Trial {
    factors: usize,
    regularization: f32,
    alpha: f32,
    validation_ndcg: f64,
}

#[derive(Debug, Serialize)]
struct TuneReport {
    split: Split,
    k: usize,
    trials: Vec<Trial>,
    best: AlsConfig,
    /// Test metrics of the best configuration and of the one given on the
    /// command line (the defaults unless changed), both trained on the
    /// whole training split.
    test: Vec<ModelResult>,
}

pub fn tune(data_dir: &Path, a: TuneArgs) -> anyhow::Result<ExitCode> {
    let (train, test) = load_split(data_dir, &a.split, a.cf.seed)?;
    // Validation: the same kind of split, taken from the training data.
    let (fit_part, valid) = split(&train, a.split.split(), &mut rand_chacha::ChaCha8Rng::seed_from_u64(a.cf.seed + 1))?;
    let base = AlsConfig { track_loss: false, ..a.cf.config() };
    let total = (a.grid_factors.len() * a.grid_regularization.len() * a.grid_alpha.len()) as u64;
    let bar = ui::count_bar(total, "tuning ALS");
    let mut trials = Vec::new();
    for &factors in &a.grid_factors {
        for &regularization in &a.grid_regularization {
            for &alpha in &a.grid_alpha {
                let cfg = AlsConfig { factors, regularization, alpha, ..base.clone() };
                let (model, _) = fit(&cfg, &fit_part, a.cf.seed)?;
                let m = evaluate(&Cf(model), &fit_part, &valid, a.split.k);
                trials.push(Trial { factors, regularization, alpha, validation_ndcg: m.ndcg });
                bar.inc(1);
            }
        }
    }
    bar.finish_and_clear();
    let best_trial = trials
        .iter()
        .max_by(|x, y| x.validation_ndcg.total_cmp(&y.validation_ndcg))
        .context("no candidate configurations")?;
    let best = AlsConfig {
        factors: best_trial.factors,
        regularization: best_trial.regularization,
        alpha: best_trial.alpha,
        ..base.clone()
    };
    let mut test_results = Vec::new();
    for (name, cfg) in [("cf-tuned", &best), ("cf-given", &base)] {
        let (model, secs) = fit(cfg, &train, a.cf.seed)?;
        test_results.push(ModelResult {
            model: name.into(),
            metrics: evaluate(&Cf(model), &train, &test, a.split.k),
            train_seconds: secs,
        });
    }
    let report = TuneReport { split: a.split.split(), k: a.split.k, trials, best, test: test_results };
    if a.cf.json {
        ui::print_json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("{:>8} {:>14} {:>8} {:>16}", "factors", "regularization", "alpha", "validation ndcg");
    for t in &report.trials {
        println!("{:>8} {:>14} {:>8} {:>16.4}", t.factors, t.regularization, t.alpha, t.validation_ndcg);
    }
    println!(
        "\nbest: factors {}, regularization {}, alpha {}; on the test split:",
        report.best.factors, report.best.regularization, report.best.alpha
    );
    print_table(&report.test);
    Ok(ExitCode::SUCCESS)
}
