//! `encore train cf|all`.

use std::path::Path;
use std::process::ExitCode;

use encore_train::cf::{CfSettings, CfTrained, ConfidenceKind, SolverKind};
use encore_train::release::{ReleaseReport, ReleaseSettings};

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
    /// Every model in order — CF, text, the audio network and its
    /// predictions, the fusion weights — published as one release.
    All(AllArgs),
}

/// Settings of `encore train all`.
#[derive(Debug, Clone, clap::Args)]
pub struct AllArgs {
    #[command(flatten)]
    pub cf: CfArgs,
    /// Epochs of the audio network.
    #[arg(long, default_value_t = ReleaseSettings::default().audio_epochs)]
    pub audio_epochs: usize,
    /// Leave the audio network out (descriptors still count).
    #[arg(long)]
    pub no_audio_network: bool,
    /// Model versions to keep per kind after publishing (older ones, unless
    /// a kept release names them, are removed; see `encore gc`).
    #[arg(long, default_value_t = ReleaseSettings::default().keep)]
    pub keep: usize,
}

impl AllArgs {
    fn settings(&self) -> ReleaseSettings {
        ReleaseSettings {
            cf: self.cf.settings(),
            audio_epochs: self.audio_epochs,
            audio_network: !self.no_audio_network,
            keep: self.keep,
        }
    }
}

/// Hyperparameters of implicit ALS.
#[derive(Debug, Clone, clap::Args)]
pub struct CfArgs {
    /// Latent factors.
    #[arg(long, default_value_t = CfSettings::default().factors)]
    pub factors: usize,
    /// Iterations.
    #[arg(long, default_value_t = CfSettings::default().iterations)]
    pub iterations: usize,
    /// L2 regularisation.
    #[arg(long, default_value_t = CfSettings::default().regularization)]
    pub regularization: f32,
    /// Confidence scale α: c = 1 + α·f(plays).
    #[arg(long, default_value_t = CfSettings::default().alpha)]
    pub alpha: f32,
    /// f: linear (f(x) = x) or log (f(x) = ln(1 + x/ε)).
    #[arg(long, value_enum, default_value_t = CfSettings::default().confidence)]
    pub confidence: ConfidenceKind,
    /// ε of the log confidence.
    #[arg(long, default_value_t = CfSettings::default().epsilon)]
    pub epsilon: f32,
    /// Weight of a skip against a play.
    #[arg(long, default_value_t = CfSettings::default().skip_weight)]
    pub skip_weight: f32,
    /// Row solver: cg (conjugate gradient) or cholesky (exact).
    #[arg(long, value_enum, default_value_t = CfSettings::default().solver)]
    pub solver: SolverKind,
    /// Conjugate-gradient steps per row.
    #[arg(long, default_value_t = CfSettings::default().cg_steps)]
    pub cg_steps: usize,
    /// Seed of the initial factors.
    #[arg(long, default_value_t = CfSettings::default().seed)]
    pub seed: u64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

impl CfArgs {
    pub fn settings(&self) -> CfSettings {
        CfSettings {
            factors: self.factors,
            iterations: self.iterations,
            regularization: self.regularization,
            alpha: self.alpha,
            confidence: self.confidence,
            epsilon: self.epsilon,
            skip_weight: self.skip_weight,
            solver: self.solver,
            cg_steps: self.cg_steps,
            seed: self.seed,
        }
    }
}

pub fn run(data_dir: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let store = ui::open_store(data_dir)?;
    let bars = ui::Bars::new();
    match args.what {
        What::Cf(a) => {
            let r = encore_train::cf::train_cf(&store, &a.settings(), &|s| bars.step(s))?;
            drop(bars);
            if a.json {
                ui::print_json(&r)?;
            } else {
                print_cf(&r);
            }
        }
        What::All(a) => {
            let r = encore_train::release::train_all(&store, &a.settings(), &|s| bars.step(s))?;
            drop(bars);
            if a.cf.json {
                ui::print_json(&r)?;
            } else {
                print_release(&r);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_cf(r: &CfTrained) {
    let its = &r.metrics.seconds_per_iteration;
    let mut sorted = its.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "trained ALS: {} users x {} songs, {} entries, {} factors, {} iterations in {:.2}s (median {:.3}s/iteration), final loss {:.6}",
        r.users,
        r.songs,
        r.nnz,
        r.config.factors,
        its.len(),
        r.metrics.train_seconds,
        sorted.get(sorted.len() / 2).copied().unwrap_or(0.0),
        r.metrics.final_loss
    );
    println!("published {}", r.version_dir);
}

/// The fusion weights as "name ±w" pairs.
fn fusion_weights(r: &ReleaseReport) -> String {
    let w: Vec<String> =
        encore_rank::FEATURES.iter().zip(r.fusion.weights).map(|(n, w)| format!("{n} {w:+.2}")).collect();
    w.join(", ")
}

fn print_release(r: &ReleaseReport) {
    eprintln!("cf: {}", r.cf.version_dir);
    match (&r.manifest.text, &r.text) {
        (Some(dir), Some(stats)) => eprintln!("text: {dir} ({} terms)", stats.terms),
        _ => eprintln!("text: no documents, skipped"),
    }
    match (&r.audio.network, &r.manifest.audio) {
        (Some(net), Some(emb)) => {
            eprintln!("audio: network {net}, {} songs embedded in {emb}", r.audio.embedded_songs)
        }
        _ => eprintln!("audio: {} analysed songs, network skipped", r.audio.analysed_songs),
    }
    println!(
        "fusion fitted on {} candidates ({} played): {}",
        r.fusion.examples,
        r.fusion.positives,
        fusion_weights(r)
    );
    println!("published release {} in {:.1}s", r.release, r.seconds);
}
