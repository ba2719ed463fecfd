//! Collaborative filtering: implicit-feedback matrix factorisation of the
//! users × songs listening matrix.
//!
//! [`AlsConfig::fit`] turns an [`encore_types::Interactions`] matrix into a
//! [`CfModel`]: a taste vector per user and a profile vector per song. The
//! model recommends songs, finds similar songs and users, folds in a new
//! listening history without retraining, and explains a recommendation by the
//! user's own songs.
//!
//! ```
//! use encore_cf::{AlsConfig, Solver};
//! use encore_types::InteractionsBuilder;
//! use rand::SeedableRng;
//!
//! // Users 0 and 1 both play songs 0 and 1; user 0 also plays 2, user 1 plays 3.
//! let mut b = InteractionsBuilder::new(vec![1, 2, 3], vec![10, 11, 12, 13]);
//! b.push_row(&[(0, 5.0, 0, 0), (1, 5.0, 0, 0), (2, 5.0, 0, 0)]);
//! b.push_row(&[(0, 5.0, 0, 0), (1, 5.0, 0, 0), (3, 5.0, 0, 0)]);
//! b.push_row(&[(2, 1.0, 0, 0)]);
//! let m = b.finish();
//! let cfg = AlsConfig { factors: 4, iterations: 20, solver: Solver::Cholesky, ..AlsConfig::default() };
//! let model = cfg.fit(&m, &mut rand_chacha::ChaCha8Rng::seed_from_u64(1), &mut |_| {}).unwrap();
//! // Song 3 (played by the user like user 0) is user 0's best new song.
//! let recs = model.recommend(0, 1, &[0, 1, 2]).unwrap();
//! assert_eq!(recs[0].id, 13);
//! ```
#![deny(missing_docs)]

mod als;
mod bpr;
mod error;
mod knn;
mod linalg;
mod lmf;
mod model;
pub mod parquet_io;
pub mod weights;

pub use als::{AlsConfig, IterationStats, Solver};
pub use bpr::BprConfig;
pub use error::{Error, Result};
pub use knn::{ItemKnnConfig, ItemKnnModel, Weighting};
pub use lmf::LmfConfig;
pub use model::{CfModel, Contribution, Scored, TrainMetrics, FORMAT_VERSION, KIND};
pub use weights::Confidence;
