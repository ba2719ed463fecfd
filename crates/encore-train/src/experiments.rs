//! Offline experiments on the store's data: every model on one held-out
//! split ([`eval`]), ALS hyperparameters chosen on a validation split
//! ([`tune`]), and a Markdown report with plots ([`write_report`]).

use std::path::Path;

use encore_cf::{AlsConfig, CfModel};
use encore_eval::{evaluate, evaluate_with, split, Metrics, Popular, RandomOrder, Scorer, Split};
use encore_store::Store;
use encore_types::vector::{dot, unit};
use encore_types::Interactions;
use rand::SeedableRng;
use serde::Serialize;

use crate::cf::CfSettings;
use crate::cold_start::{ColdStartReport, ColdStartSettings};
use crate::error::io;
use crate::{Error, Progress, Step};

/// Which part of each user's data is held out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum SplitKind {
    /// A share of each user's songs, at random.
    Random,
    /// Each user's last days.
    Time,
}

/// The held-out split and the cut-off of the metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitSettings {
    /// Random or by time.
    pub kind: SplitKind,
    /// Share held out by the random split.
    pub test_fraction: f32,
    /// Days held out by the time split.
    pub days: u32,
    /// Cut-off of the ranking metrics.
    pub k: usize,
}

impl Default for SplitSettings {
    fn default() -> Self {
        SplitSettings { kind: SplitKind::Random, test_fraction: 0.2, days: 14, k: 10 }
    }
}

impl SplitSettings {
    /// The split these settings describe.
    pub fn split(&self) -> Split {
        match self.kind {
            SplitKind::Time => Split::Time { days: self.days },
            SplitKind::Random => Split::Random { test_fraction: self.test_fraction },
        }
    }
}

/// The models `eval` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum ModelName {
    /// Every model, fused.
    Hybrid,
    /// Implicit ALS.
    Cf,
    /// Descriptor similarity to the user's songs.
    Audio,
    /// Term similarity to the user's songs.
    Text,
    /// Bayesian personalised ranking.
    Bpr,
    /// Logistic matrix factorisation.
    Lmf,
    /// Item-kNN, cosine.
    KnnCosine,
    /// Item-kNN, TF-IDF weighted.
    KnnTfidf,
    /// Item-kNN, BM25 weighted.
    KnnBm25,
    /// Most played first.
    Popular,
    /// Random order.
    Random,
}

impl ModelName {
    /// The name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            ModelName::Hybrid => "hybrid",
            ModelName::Cf => "cf",
            ModelName::Audio => "audio",
            ModelName::Text => "text",
            ModelName::Bpr => "bpr",
            ModelName::Lmf => "lmf",
            ModelName::KnnCosine => "knn-cosine",
            ModelName::KnnTfidf => "knn-tfidf",
            ModelName::KnnBm25 => "knn-bm25",
            ModelName::Popular => "popular",
            ModelName::Random => "random",
        }
    }

    fn content(self) -> bool {
        matches!(self, ModelName::Hybrid | ModelName::Audio | ModelName::Text)
    }
}

/// Settings of [`eval`].
#[derive(Debug, Clone, PartialEq)]
pub struct EvalSettings {
    /// Models to evaluate, in this order.
    pub models: Vec<ModelName>,
    /// Also run the cold-start protocol.
    pub cold_start: bool,
    /// BPR epochs.
    pub bpr_iterations: usize,
    /// BPR learning rate.
    pub bpr_learning_rate: f32,
    /// BPR regularization.
    pub bpr_regularization: f32,
    /// Neighbours kept per song by item-kNN.
    pub neighbours: usize,
    /// The split.
    pub split: SplitSettings,
    /// ALS (and the seed of everything).
    pub cf: CfSettings,
}

impl Default for EvalSettings {
    fn default() -> Self {
        let bpr = encore_cf::BprConfig::default();
        EvalSettings {
            models: vec![
                ModelName::Hybrid,
                ModelName::Cf,
                ModelName::Audio,
                ModelName::Text,
                ModelName::Popular,
                ModelName::Random,
            ],
            cold_start: false,
            bpr_iterations: bpr.iterations,
            bpr_learning_rate: 0.05,
            bpr_regularization: bpr.regularization,
            neighbours: 20,
            split: SplitSettings::default(),
            cf: CfSettings::default(),
        }
    }
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

/// One model's result.
#[derive(Debug, Serialize)]
pub struct ModelResult {
    /// Its name.
    pub model: String,
    /// Every metric.
    pub metrics: Metrics,
    /// Seconds to train it.
    pub train_seconds: f64,
}

/// What [`eval`] measured.
#[derive(Debug, Serialize)]
pub struct EvalReport {
    /// The split.
    pub split: Split,
    /// Cut-off of the metrics.
    pub k: usize,
    /// Pairs trained on.
    pub train_pairs: usize,
    /// Pairs held out.
    pub test_pairs: usize,
    /// One result per model, in the order asked.
    pub results: Vec<ModelResult>,
    /// The cold-start protocol's table, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cold_start: Option<ColdStartReport>,
}

fn load_split(store: &Store, s: &SplitSettings, seed: u64) -> crate::Result<(Interactions, Interactions)> {
    let m = store.interactions()?;
    crate::need_listens(&m)?;
    Ok(split(&m, s.split(), &mut rand_chacha::ChaCha8Rng::seed_from_u64(seed))?)
}

fn fit(cfg: &AlsConfig, train: &Interactions, seed: u64) -> crate::Result<(CfModel, f64)> {
    let t = std::time::Instant::now();
    let model = cfg.fit(train, &mut rand_chacha::ChaCha8Rng::seed_from_u64(seed), &mut |_| {})?;
    Ok((model, t.elapsed().as_secs_f64()))
}

/// `f`'s result and the seconds it took.
fn timed<T, E: Into<Error>>(f: impl FnOnce() -> Result<T, E>) -> crate::Result<(T, f64)> {
    let t = std::time::Instant::now();
    let out = f().map_err(Into::into)?;
    Ok((out, t.elapsed().as_secs_f64()))
}

fn text_model(store: &Store) -> crate::Result<Option<encore_text::TermModel>> {
    Ok(match store.artifacts(encore_text::KIND)?.current()? {
        Some((p, _)) => Some(encore_text::TermModel::load(&p)?),
        None => None,
    })
}

/// Trains every model of `s.models` on one split of the store's data and
/// measures it on the held-out part (stage "models", one step per model).
pub fn eval(store: &Store, s: &EvalSettings, progress: Progress<'_>) -> crate::Result<EvalReport> {
    let (train, test) = load_split(store, &s.split, s.cf.seed)?;
    let k = s.split.k;
    // The CF model of the training split, shared by cf and the hybrid; its
    // item vectors also measure intra-list diversity.
    let cfg = AlsConfig { track_loss: false, ..s.cf.als() };
    let (cf_model, cf_secs) = fit(&cfg, &train, s.cf.seed)?;
    let units: Vec<Vec<f32>> = (0..cf_model.item_ids().len()).map(|i| unit(cf_model.item_vector(i))).collect();
    let sim = |i: u32, j: u32| -> f32 { dot(&units[i as usize], &units[j as usize]) };
    let sim: encore_eval::Similarity<'_> = &sim;
    let built = if s.models.iter().any(|m| m.content()) {
        let text = text_model(store)?;
        let t = std::time::Instant::now();
        let catalog = encore_engine::build_catalog(
            store,
            &encore_engine::Listeners::of(&train),
            &cf_model,
            text.as_ref(),
            None,
            encore_engine::AudioVectors::Descriptors,
        )?;
        let fusion = if s.models.contains(&ModelName::Hybrid) {
            encore_engine::fit_fusion(
                store,
                &train,
                &cfg,
                text.as_ref(),
                None,
                &encore_engine::FusionConfig { seed: s.cf.seed + 1, ..Default::default() },
            )?
        } else {
            encore_rank::Fusion::default()
        };
        let col_to_song: Vec<Option<usize>> = train.item_ids.iter().map(|&id| catalog.index(id)).collect();
        Some((catalog, fusion, col_to_song, t.elapsed().as_secs_f64()))
    } else {
        None
    };
    let stage = "models";
    let total = s.models.len() as u64;
    let mut results = Vec::new();
    for &name in &s.models {
        progress(Step { stage, done: results.len() as u64, total, note: Some(name.name()) });
        let (metrics, secs) = match name {
            ModelName::Cf => (evaluate_with(&Cf(cf_model.clone()), &train, &test, k, Some(sim)), cf_secs),
            ModelName::Hybrid | ModelName::Audio | ModelName::Text => {
                let (catalog, fusion, col_to_song, secs) = built.as_ref().expect("content loaded");
                let scorer = HybridScorer {
                    hybrid: encore_rank::Hybrid::new(catalog, &cf_model, fusion)?,
                    train: &train,
                    col_to_song: col_to_song.clone(),
                    feature: match name {
                        ModelName::Audio => Some("audio"),
                        ModelName::Text => Some("text"),
                        _ => None,
                    },
                };
                let secs = if name == ModelName::Hybrid { cf_secs + secs } else { *secs };
                (evaluate_with(&scorer, &train, &test, k, Some(sim)), secs)
            }
            ModelName::Bpr => {
                let cfg = encore_cf::BprConfig {
                    factors: s.cf.factors,
                    learning_rate: s.bpr_learning_rate,
                    regularization: s.bpr_regularization,
                    iterations: s.bpr_iterations,
                };
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(s.cf.seed);
                let (model, secs) = timed(|| cfg.fit(&train, &mut rng, &mut |_, _| {}))?;
                (evaluate(&Cf(model), &train, &test, k), secs)
            }
            ModelName::Lmf => {
                let cfg = encore_cf::LmfConfig { factors: s.cf.factors.min(64), ..Default::default() };
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(s.cf.seed);
                let (model, secs) = timed(|| cfg.fit(&train, &mut rng, &mut |_, _| {}))?;
                (evaluate(&Cf(model), &train, &test, k), secs)
            }
            ModelName::KnnCosine | ModelName::KnnTfidf | ModelName::KnnBm25 => {
                let weighting = match name {
                    ModelName::KnnCosine => encore_cf::Weighting::Cosine,
                    ModelName::KnnTfidf => encore_cf::Weighting::TfIdf,
                    _ => encore_cf::Weighting::Bm25 { k1: 100.0, b: 0.8 },
                };
                let (model, secs) =
                    timed(|| encore_cf::ItemKnnConfig { neighbours: s.neighbours, weighting }.fit(&train))?;
                (evaluate(&KnnRows(model, &train), &train, &test, k), secs)
            }
            ModelName::Popular => (evaluate_with(&Popular::fit(&train), &train, &test, k, Some(sim)), 0.0),
            ModelName::Random => {
                let scorer = RandomOrder { seed: s.cf.seed, items: train.n_items() };
                (evaluate_with(&scorer, &train, &test, k, Some(sim)), 0.0)
            }
        };
        results.push(ModelResult { model: name.name().to_string(), metrics, train_seconds: secs });
    }
    progress(Step { stage, done: total, total, note: None });
    let cold_start = if s.cold_start {
        let settings = ColdStartSettings {
            network: crate::audio::NetworkSettings { seed: s.cf.seed, ..Default::default() },
            ..ColdStartSettings::default()
        };
        Some(crate::cold_start::cold_start(store, &settings, progress)?)
    } else {
        None
    };
    Ok(EvalReport { split: s.split.split(), k, train_pairs: train.nnz(), test_pairs: test.nnz(), results, cold_start })
}

/// Writes `report.md` and `metrics.svg` (every metric of every model) into
/// `dir`.
pub fn write_report(dir: &Path, r: &EvalReport) -> crate::Result<()> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
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
    std::fs::write(dir.join("report.md"), md).map_err(io(dir.join("report.md")))?;
    Ok(())
}

/// Settings of [`tune`].
#[derive(Debug, Clone, PartialEq)]
pub struct TuneSettings {
    /// The split (the validation split is the same kind, taken from the
    /// training part).
    pub split: SplitSettings,
    /// Candidate factor counts.
    pub grid_factors: Vec<usize>,
    /// Candidate regularizations.
    pub grid_regularization: Vec<f32>,
    /// Candidate alphas.
    pub grid_alpha: Vec<f32>,
    /// The other hyperparameters, and the configuration compared with the
    /// best one on the test split.
    pub cf: CfSettings,
}

impl Default for TuneSettings {
    fn default() -> Self {
        TuneSettings {
            split: SplitSettings::default(),
            grid_factors: vec![16, 32, 64],
            grid_regularization: vec![0.01, 0.1, 1.0],
            grid_alpha: vec![1.0, 5.0, 20.0],
            cf: CfSettings::default(),
        }
    }
}

/// One configuration tried by [`tune`].
#[derive(Debug, Serialize)]
pub struct Trial {
    /// Factors.
    pub factors: usize,
    /// Regularization.
    pub regularization: f32,
    /// Alpha.
    pub alpha: f32,
    /// nDCG on the validation split.
    pub validation_ndcg: f64,
}

/// What [`tune`] found.
#[derive(Debug, Serialize)]
pub struct TuneReport {
    /// The split.
    pub split: Split,
    /// Cut-off of the metrics.
    pub k: usize,
    /// Every configuration tried.
    pub trials: Vec<Trial>,
    /// The best by validation nDCG.
    pub best: AlsConfig,
    /// Test metrics of the best configuration and of the given one, both
    /// trained on the whole training split.
    pub test: Vec<ModelResult>,
}

/// Picks ALS's factors, regularization and alpha by validation nDCG, then
/// measures the best and the given configuration on the test split (stage
/// "tuning ALS", one step per configuration).
pub fn tune(store: &Store, s: &TuneSettings, progress: Progress<'_>) -> crate::Result<TuneReport> {
    let (train, test) = load_split(store, &s.split, s.cf.seed)?;
    let k = s.split.k;
    // Validation: the same kind of split, taken from the training data.
    let (fit_part, valid) = split(&train, s.split.split(), &mut rand_chacha::ChaCha8Rng::seed_from_u64(s.cf.seed + 1))?;
    let base = AlsConfig { track_loss: false, ..s.cf.als() };
    let stage = "tuning ALS";
    let total = (s.grid_factors.len() * s.grid_regularization.len() * s.grid_alpha.len()) as u64;
    crate::report(progress, stage, 0, total);
    let mut trials = Vec::new();
    for &factors in &s.grid_factors {
        for &regularization in &s.grid_regularization {
            for &alpha in &s.grid_alpha {
                let cfg = AlsConfig { factors, regularization, alpha, ..base.clone() };
                let (model, _) = fit(&cfg, &fit_part, s.cf.seed)?;
                let m = evaluate(&Cf(model), &fit_part, &valid, k);
                trials.push(Trial { factors, regularization, alpha, validation_ndcg: m.ndcg });
                crate::report(progress, stage, trials.len() as u64, total);
            }
        }
    }
    let best_trial = trials
        .iter()
        .max_by(|x, y| x.validation_ndcg.total_cmp(&y.validation_ndcg))
        .ok_or_else(|| Error::Settings("no candidate configurations: every grid needs at least one value".into()))?;
    let best = AlsConfig {
        factors: best_trial.factors,
        regularization: best_trial.regularization,
        alpha: best_trial.alpha,
        ..base.clone()
    };
    let mut test_results = Vec::new();
    for (name, cfg) in [("cf-tuned", &best), ("cf-given", &base)] {
        let (model, secs) = fit(cfg, &train, s.cf.seed)?;
        test_results.push(ModelResult {
            model: name.into(),
            metrics: evaluate(&Cf(model), &train, &test, k),
            train_seconds: secs,
        });
    }
    Ok(TuneReport { split: s.split.split(), k, trials, best, test: test_results })
}
