//! Training and offline experiments: everything that turns the store's
//! data into published models, and everything that measures them.
//!
//! - [`cf`]: implicit ALS on the users × songs matrix ([`cf::train_cf`]),
//!   Spark factors in and out;
//! - [`text`]: documents into the store, the term model out of them;
//! - [`audio`]: descriptors of audio files, the audio network trained
//!   against the CF vectors, its predictions for every song, songs that
//!   sound alike;
//! - [`release`]: every model in order, the fusion weights, one release
//!   ([`release::train_all`]);
//! - [`experiments`]: `eval` (every model on one held-out split), `tune`
//!   (ALS hyperparameters on a validation split) and [`cold_start`] (songs
//!   held out of training entirely).
//!
//! Every step takes a settings struct whose `Default` is the one source of
//! its defaults (the command line reads them), and reports progress through
//! a [`Progress`] callback instead of drawing anything itself. Models are
//! published through the store's artifact directories (write, then commit
//! by rename), so an interrupted run never leaves a half-written model in
//! use.

pub mod audio;
pub mod cf;
pub mod cold_start;
mod error;
pub mod experiments;
pub mod plot;
pub mod release;
pub mod text;

pub use error::{Error, Result};

/// How far a long step has come: `done` of `total` units of `stage`, with
/// an optional note (a loss, say). A step reports `done == 0` when it
/// starts and `done == total` when it ends.
#[derive(Debug, Clone, Copy)]
pub struct Step<'a> {
    /// What is being done ("ALS iterations", "analysing audio").
    pub stage: &'a str,
    /// Units done.
    pub done: u64,
    /// Units in all.
    pub total: u64,
    /// A short note on the state (e.g. "loss 0.0123").
    pub note: Option<&'a str>,
}

/// Where steps report their progress. Called from worker threads too.
pub type Progress<'a> = &'a (dyn Fn(Step<'_>) + Sync);

/// A [`Progress`] that ignores everything.
pub fn quiet() -> Progress<'static> {
    &|_| {}
}

fn report(progress: Progress<'_>, stage: &str, done: u64, total: u64) {
    progress(Step { stage, done, total, note: None });
}

const NO_LISTENS: &str = "the store has no listening data: run `encore import` or `encore demo` first";

/// [`Error::Missing`] unless `m` has listens.
fn need_listens(m: &encore_types::Interactions) -> Result<()> {
    if m.nnz() == 0 {
        return Err(Error::Missing(NO_LISTENS.into()));
    }
    Ok(())
}
