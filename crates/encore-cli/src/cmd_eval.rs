//! `encore eval` and `encore tune`.

use std::path::Path;
use std::process::ExitCode;

use encore_train::experiments::{EvalSettings, ModelName, ModelResult, SplitKind, SplitSettings, TuneSettings};

use crate::cmd_train::CfArgs;
use crate::ui;

/// Split options shared by eval and tune.
#[derive(Debug, Clone, clap::Args)]
pub struct SplitArgs {
    /// random: hold out a share of each user's songs; time: their last days.
    #[arg(long, value_enum, default_value_t = SplitSettings::default().kind)]
    split: SplitKind,
    /// Share held out by the random split.
    #[arg(long, default_value_t = SplitSettings::default().test_fraction)]
    test_fraction: f32,
    /// Days held out by the time split.
    #[arg(long, default_value_t = SplitSettings::default().days)]
    days: u32,
    /// Cut-off of the ranking metrics.
    #[arg(long, default_value_t = SplitSettings::default().k)]
    k: usize,
}

impl SplitArgs {
    fn settings(&self) -> SplitSettings {
        SplitSettings { kind: self.split, test_fraction: self.test_fraction, days: self.days, k: self.k }
    }
}

/// Evaluate recommenders offline on a held-out split of the store's data.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Models to evaluate, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = EvalSettings::default().models)]
    model: Vec<ModelName>,
    /// Also run the cold-start protocol (songs held out of training, ranked
    /// from audio and text) for the audio network, its baselines and the
    /// hybrid.
    #[arg(long)]
    cold_start: bool,
    /// Write a Markdown report with SVG plots into this directory.
    #[arg(long)]
    report: Option<std::path::PathBuf>,
    /// BPR epochs.
    #[arg(long, default_value_t = EvalSettings::default().bpr_iterations)]
    bpr_iterations: usize,
    /// BPR learning rate.
    #[arg(long, default_value_t = EvalSettings::default().bpr_learning_rate)]
    bpr_learning_rate: f32,
    /// BPR regularization.
    #[arg(long, default_value_t = EvalSettings::default().bpr_regularization)]
    bpr_regularization: f32,
    /// Neighbours kept per song by item-kNN.
    #[arg(long, default_value_t = EvalSettings::default().neighbours)]
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
    #[arg(long, value_delimiter = ',', default_values_t = TuneSettings::default().grid_factors)]
    grid_factors: Vec<usize>,
    /// Candidate regularizations.
    #[arg(long, value_delimiter = ',', default_values_t = TuneSettings::default().grid_regularization)]
    grid_regularization: Vec<f32>,
    /// Candidate alphas.
    #[arg(long, value_delimiter = ',', default_values_t = TuneSettings::default().grid_alpha)]
    grid_alpha: Vec<f32>,
    #[command(flatten)]
    cf: CfArgs,
}

pub fn eval(data_dir: &Path, a: EvalArgs) -> anyhow::Result<ExitCode> {
    let store = ui::open_store(data_dir)?;
    let settings = EvalSettings {
        models: a.model.clone(),
        cold_start: a.cold_start,
        bpr_iterations: a.bpr_iterations,
        bpr_learning_rate: a.bpr_learning_rate,
        bpr_regularization: a.bpr_regularization,
        neighbours: a.neighbours,
        split: a.split.settings(),
        cf: a.cf.settings(),
    };
    let bars = ui::Bars::new();
    let report = encore_train::experiments::eval(&store, &settings, &|s| bars.step(s))?;
    drop(bars);
    if let Some(dir) = &a.report {
        encore_train::experiments::write_report(dir, &report)?;
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

pub fn tune(data_dir: &Path, a: TuneArgs) -> anyhow::Result<ExitCode> {
    let store = ui::open_store(data_dir)?;
    let settings = TuneSettings {
        split: a.split.settings(),
        grid_factors: a.grid_factors.clone(),
        grid_regularization: a.grid_regularization.clone(),
        grid_alpha: a.grid_alpha.clone(),
        cf: a.cf.settings(),
    };
    let bars = ui::Bars::new();
    let report = encore_train::experiments::tune(&store, &settings, &|s| bars.step(s))?;
    drop(bars);
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
