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
    #[arg(long, default_value_t = 20)]
    pub audio_epochs: usize,
    /// Leave the audio network out (descriptors still count).
    #[arg(long)]
    pub no_audio_network: bool,
    /// Model versions to keep per kind after publishing (older ones, unless
    /// a kept release names them, are removed; see `encore gc`).
    #[arg(long, default_value_t = encore_engine::DEFAULT_KEEP)]
    pub keep: usize,
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

impl AllArgs {
    /// Every default, as the command line would give them.
    pub fn defaults() -> AllArgs {
        crate::ui::defaults()
    }
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
        What::All(a) => train_all(data_dir, &a, true).map(|_| ExitCode::SUCCESS),
    }
}

#[derive(Debug, Serialize)]
pub struct AllReport {
    pub release: String,
    pub manifest: encore_engine::Manifest,
    pub fusion: encore_rank::Fusion,
    /// Old versions removed after publishing.
    pub gc: encore_engine::GcReport,
    pub seconds: f64,
}

/// `encore train all`: trains every model in order and publishes a release;
/// prints the outcome (JSON with `--json`) when `print`.
pub fn train_all(data_dir: &Path, a: &AllArgs, print: bool) -> anyhow::Result<AllReport> {
    let started = std::time::Instant::now();
    let quiet = a.cf.json || !print;
    let say = |s: String| {
        if !quiet {
            eprintln!("{s}");
        }
    };
    let cf = train_cf_with(data_dir, &a.cf, true)?;
    say(format!("cf: {cf}"));
    let store = crate::ui::open_store(data_dir)?;
    let mut has_docs = false;
    store.for_each_document(|_| has_docs = true)?;
    let text = if has_docs {
        let (model, dir) = crate::cmd_text::train(&store, encore_text::TermModelConfig::default())?;
        say(format!("text: {} ({} terms)", dir.display(), model.stats.terms));
        Some((model, dir.display().to_string()))
    } else {
        say("text: no documents, skipped".into());
        None
    };
    let analysed = crate::cmd_audio::catalog_audio(&store)?.iter().filter(|s| s.descriptors.is_some()).count();
    let audio = if analysed >= 2 && !a.no_audio_network {
        let t = crate::cmd_audio::TrainArgs {
            epochs: a.audio_epochs,
            json: false,
            ..crate::cmd_audio::TrainArgs::parse_defaults()
        };
        let cnn = crate::cmd_audio::train_with(data_dir, &t, true)?;
        let (n, dir) = crate::cmd_audio::embed_with(data_dir, false, t.max_seconds, true)?;
        say(format!("audio: network {cnn}, {n} songs embedded in {dir}"));
        Some(dir)
    } else {
        say(format!("audio: {analysed} analysed songs, network skipped"));
        None
    };
    let embeddings = audio.as_ref().map(|d| encore_engine::AudioEmbeddings::load(Path::new(d))).transpose()?;
    let m = store.interactions()?;
    let bar = ui::count_bar(1, "fitting the fusion weights");
    let fusion = encore_engine::fit_fusion(
        &store,
        &m,
        &a.cf.config(),
        text.as_ref().map(|t| &t.0),
        embeddings.as_ref(),
        &encore_engine::FusionConfig::default(),
    )?;
    bar.finish_and_clear();
    let fusion_dir = encore_engine::save_fusion(&store, &fusion)?;
    let manifest =
        encore_engine::Manifest { cf, text: text.map(|t| t.1), audio, fusion: Some(fusion_dir.display().to_string()) };
    let release = encore_engine::publish_release(&store, &manifest)?;
    let gc = encore_engine::collect_garbage(&store, a.keep).map_err(|e| anyhow::anyhow!(e))?;
    let report = AllReport {
        release: release.display().to_string(),
        manifest,
        fusion,
        gc,
        seconds: started.elapsed().as_secs_f64(),
    };
    if !print {
    } else if a.cf.json {
        ui::print_json(&report)?;
    } else {
        let w: Vec<String> =
            encore_rank::FEATURES.iter().zip(report.fusion.weights).map(|(n, w)| format!("{n} {w:+.2}")).collect();
        println!(
            "fusion fitted on {} candidates ({} played): {}",
            report.fusion.examples,
            report.fusion.positives,
            w.join(", ")
        );
        println!("published release {} in {:.1}s", report.release, report.seconds);
    }
    Ok(report)
}

pub fn train_cf(data_dir: &Path, a: &CfArgs) -> anyhow::Result<String> {
    train_cf_with(data_dir, a, false)
}

/// [`train_cf`], printing nothing when `quiet`.
pub fn train_cf_with(data_dir: &Path, a: &CfArgs, quiet: bool) -> anyhow::Result<String> {
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
    if quiet {
    } else if a.json {
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
