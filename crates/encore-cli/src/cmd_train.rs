use std::path::Path;
use std::process::ExitCode;

use encore_cf::{AlsConfig, Confidence, Solver};
use encore_types::ArtifactHeader;
use rand::SeedableRng;
use serde::Serialize;

use crate::ui;

/// Train a model on the store's listening data and publish it as a new
/// version.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// Collaborative filtering: implicit ALS on the users × songs matrix.
    Cf(CfArgs),
}

/// Hyperparameters of implicit ALS.
#[derive(Debug, Clone, clap::Args)]
pub struct CfArgs {
    /// Latent factors.
    #[arg(long, default_value_t = 64)]
    pub factors: usize,
    /// Iterations.
    #[arg(long, default_value_t = 15)]
    pub iterations: usize,
    /// L2 regularisation.
    #[arg(long, default_value_t = 0.01)]
    pub regularization: f32,
    /// Confidence scale α: c = 1 + α·f(plays).
    #[arg(long, default_value_t = 1.0)]
    pub alpha: f32,
    /// f: linear (f(x) = x) or log (f(x) = ln(1 + x/ε)).
    #[arg(long, default_value = "linear", value_parser = ["linear", "log"])]
    pub confidence: String,
    /// ε of the log confidence.
    #[arg(long, default_value_t = 1.0)]
    pub epsilon: f32,
    /// Weight of a skip against a play.
    #[arg(long, default_value_t = 0.5)]
    pub skip_weight: f32,
    /// Row solver: cg (conjugate gradient) or cholesky (exact).
    #[arg(long, default_value = "cg", value_parser = ["cg", "cholesky"])]
    pub solver: String,
    /// Conjugate-gradient steps per row.
    #[arg(long, default_value_t = 3)]
    pub cg_steps: usize,
    /// Seed of the initial factors.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

impl CfArgs {
    pub fn config(&self) -> AlsConfig {
        AlsConfig {
            factors: self.factors,
            iterations: self.iterations,
            regularization: self.regularization,
            alpha: self.alpha,
            confidence: if self.confidence == "log" {
                Confidence::Log { epsilon: self.epsilon }
            } else {
                Confidence::Linear
            },
            skip_weight: self.skip_weight,
            solver: if self.solver == "cholesky" { Solver::Cholesky } else { Solver::Cg { steps: self.cg_steps } },
            track_loss: true,
        }
    }
}

#[derive(Debug, Serialize)]
struct Report {
    version_dir: String,
    users: usize,
    songs: usize,
    nnz: usize,
    config: AlsConfig,
    metrics: encore_cf::TrainMetrics,
}

pub fn run(data_dir: &Path, args: Args) -> anyhow::Result<ExitCode> {
    match args.what {
        What::Cf(a) => train_cf(data_dir, &a).map(|_| ExitCode::SUCCESS),
    }
}

pub fn train_cf(data_dir: &Path, a: &CfArgs) -> anyhow::Result<String> {
    let store = crate::ui::open_store(data_dir)?;
    let m = store.interactions()?;
    anyhow::ensure!(m.nnz() > 0, "the store has no listening data: run `encore import` or `encore demo` first");
    let cfg = a.config();
    cfg.validate()?;
    let bar = ui::count_bar(cfg.iterations as u64, "ALS iterations");
    let model = cfg.fit(&m, &mut rand_chacha::ChaCha8Rng::seed_from_u64(a.seed), &mut |s| {
        bar.set_position(s.iteration as u64);
        if let Some(l) = s.loss {
            bar.set_message(format!("ALS loss {l:.5}"));
        }
    })?;
    bar.finish_and_clear();
    let dir = store.artifacts(encore_cf::KIND)?;
    let writer = dir.writer(ArtifactHeader::new(encore_cf::KIND, encore_cf::FORMAT_VERSION))?;
    model.save(writer.path())?;
    let version = writer.commit()?;
    let report = Report {
        version_dir: version.display().to_string(),
        users: m.n_users(),
        songs: m.n_items(),
        nnz: model.metrics().nnz,
        config: cfg,
        metrics: model.metrics().clone(),
    };
    if a.json {
        ui::print_json(&report)?;
    } else {
        let its = &report.metrics.seconds_per_iteration;
        let mut sorted = its.clone();
        sorted.sort_by(f64::total_cmp);
        println!(
            "trained ALS: {} users x {} songs, {} entries, {} factors, {} iterations in {:.2}s (median {:.3}s/iteration), final loss {:.6}",
            report.users,
            report.songs,
            report.nnz,
            report.config.factors,
            its.len(),
            report.metrics.train_seconds,
            sorted.get(sorted.len() / 2).copied().unwrap_or(0.0),
            report.metrics.final_loss
        );
        println!("published {}", report.version_dir);
    }
    Ok(report.version_dir)
}
