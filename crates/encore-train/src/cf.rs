//! Collaborative filtering: implicit ALS on the store's users × songs
//! matrix, published as the current CF model; Spark's factors in and out.

use std::path::Path;

use encore_cf::{parquet_io, AlsConfig, Confidence, Solver};
use encore_store::Store;
use encore_types::ArtifactHeader;
use rand::SeedableRng;
use serde::Serialize;

pub use encore_cf::{CfModel, TrainMetrics};

use crate::{Error, Progress, Result, Step};

/// How plays become confidence (see [`encore_cf::weights`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum ConfidenceKind {
    /// c = 1 + α·plays.
    Linear,
    /// c = 1 + α·ln(1 + plays/ε).
    Log,
}

/// How each row's least-squares system is solved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum SolverKind {
    /// Conjugate gradient, a few steps per row (what `implicit` does).
    Cg,
    /// Exact Cholesky solve.
    Cholesky,
}

/// Hyperparameters of implicit ALS and the seed of its initial factors.
#[derive(Debug, Clone, PartialEq)]
pub struct CfSettings {
    /// Latent factors.
    pub factors: usize,
    /// Iterations.
    pub iterations: usize,
    /// L2 regularisation.
    pub regularization: f32,
    /// Confidence scale α.
    pub alpha: f32,
    /// The confidence's shape.
    pub confidence: ConfidenceKind,
    /// ε of the log confidence.
    pub epsilon: f32,
    /// Weight of a skip against a play.
    pub skip_weight: f32,
    /// Row solver.
    pub solver: SolverKind,
    /// Conjugate-gradient steps per row.
    pub cg_steps: usize,
    /// Seed of the initial factors.
    pub seed: u64,
}

impl Default for CfSettings {
    fn default() -> Self {
        let als = AlsConfig::default();
        CfSettings {
            factors: als.factors,
            iterations: als.iterations,
            regularization: als.regularization,
            alpha: als.alpha,
            confidence: match als.confidence {
                Confidence::Linear => ConfidenceKind::Linear,
                Confidence::Log { .. } => ConfidenceKind::Log,
            },
            epsilon: match als.confidence {
                Confidence::Log { epsilon } => epsilon,
                Confidence::Linear => 1.0,
            },
            skip_weight: als.skip_weight,
            solver: match als.solver {
                Solver::Cg { .. } => SolverKind::Cg,
                Solver::Cholesky => SolverKind::Cholesky,
            },
            cg_steps: match als.solver {
                Solver::Cg { steps } => steps,
                Solver::Cholesky => 3,
            },
            seed: 42,
        }
    }
}

impl CfSettings {
    /// The ALS configuration these settings describe (the loss is tracked
    /// after every iteration).
    pub fn als(&self) -> AlsConfig {
        AlsConfig {
            factors: self.factors,
            iterations: self.iterations,
            regularization: self.regularization,
            alpha: self.alpha,
            confidence: match self.confidence {
                ConfidenceKind::Log => Confidence::Log { epsilon: self.epsilon },
                ConfidenceKind::Linear => Confidence::Linear,
            },
            skip_weight: self.skip_weight,
            solver: match self.solver {
                SolverKind::Cholesky => Solver::Cholesky,
                SolverKind::Cg => Solver::Cg { steps: self.cg_steps },
            },
            track_loss: true,
        }
    }
}

/// What [`train_cf`] published.
#[derive(Debug, Clone, Serialize)]
pub struct CfTrained {
    /// The published version's directory.
    pub version_dir: String,
    /// Users of the matrix.
    pub users: usize,
    /// Songs of the matrix.
    pub songs: usize,
    /// Stored entries of the matrix.
    pub nnz: usize,
    /// The configuration trained.
    pub config: AlsConfig,
    /// Loss and time per iteration.
    pub metrics: TrainMetrics,
}

/// Trains ALS on the store's listening data and publishes the model as the
/// current CF version.
pub fn train_cf(store: &Store, settings: &CfSettings, progress: Progress<'_>) -> Result<CfTrained> {
    let m = store.interactions()?;
    crate::need_listens(&m)?;
    let cfg = settings.als();
    cfg.validate()?;
    let stage = "ALS iterations";
    let total = cfg.iterations as u64;
    crate::report(progress, stage, 0, total);
    let model = cfg.fit(&m, &mut rand_chacha::ChaCha8Rng::seed_from_u64(settings.seed), &mut |s| {
        let note = s.loss.map(|l| format!("ALS loss {l:.5}"));
        progress(Step { stage, done: s.iteration as u64, total, note: note.as_deref() });
    })?;
    crate::report(progress, stage, total, total);
    let version = publish(store, &model)?;
    Ok(CfTrained {
        version_dir: version,
        users: m.n_users(),
        songs: m.n_items(),
        nnz: model.metrics().nnz,
        config: cfg,
        metrics: model.metrics().clone(),
    })
}

fn publish(store: &Store, model: &CfModel) -> Result<String> {
    let dir = store.artifacts(encore_cf::KIND)?;
    let writer = dir.writer(ArtifactHeader::new(encore_cf::KIND, encore_cf::FORMAT_VERSION))?;
    model.save(writer.path())?;
    Ok(writer.commit()?.display().to_string())
}

/// The current CF model and its version directory.
pub fn current(store: &Store) -> Result<(CfModel, String)> {
    let path = store
        .artifacts(encore_cf::KIND)?
        .current_checked(encore_cf::FORMAT_VERSION)?
        .ok_or_else(|| Error::Missing("no collaborative-filtering model yet: run `encore train cf` first".into()))?;
    Ok((CfModel::load(&path)?, path.display().to_string()))
}

/// The size of a factor model moved in or out.
#[derive(Debug, Clone, Serialize)]
pub struct FactorsMoved {
    /// The published version (import) or the folder written (export).
    pub version_dir: String,
    /// User vectors.
    pub users: usize,
    /// Song vectors.
    pub songs: usize,
    /// Factors per vector.
    pub factors: usize,
}

impl FactorsMoved {
    fn of(model: &CfModel, dir: String) -> FactorsMoved {
        FactorsMoved {
            version_dir: dir,
            users: model.user_ids().len(),
            songs: model.item_ids().len(),
            factors: model.factors(),
        }
    }
}

/// Writes the current CF model as `out/userFactors`, `out/itemFactors` and
/// `out/metadata` (Spark MLlib's ALSModel layout).
pub fn export_spark(store: &Store, out: &Path) -> Result<FactorsMoved> {
    let (model, _) = current(store)?;
    parquet_io::export_spark(&model, out)?;
    Ok(FactorsMoved::of(&model, out.display().to_string()))
}

/// Publishes the factors a Spark `ALSModel.save` wrote into `from` as the
/// current CF model; `regularization` is used when folding users in.
pub fn import_spark(store: &Store, from: &Path, regularization: f32) -> Result<FactorsMoved> {
    let model = parquet_io::import_spark(from, regularization)
        .map_err(|source| Error::SparkFactors { path: from.to_path_buf(), source })?;
    let version = publish(store, &model)?;
    Ok(FactorsMoved::of(&model, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_settings_are_als_defaults() {
        let s = CfSettings::default();
        let als = AlsConfig { track_loss: true, ..AlsConfig::default() };
        assert_eq!(serde_json::to_value(s.als()).unwrap(), serde_json::to_value(als).unwrap());
    }

    #[test]
    fn kinds_choose_the_confidence_and_solver() {
        let s = CfSettings {
            confidence: ConfidenceKind::Log,
            epsilon: 0.5,
            solver: SolverKind::Cholesky,
            ..CfSettings::default()
        };
        let als = s.als();
        assert_eq!(als.confidence, Confidence::Log { epsilon: 0.5 });
        assert_eq!(als.solver, Solver::Cholesky);
    }
}
