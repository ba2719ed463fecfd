//! `encore factors export|import` (Parquet, Spark MLlib's ALS layout) and
//! `encore export interactions`.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::ui;

/// Move factor models in and out as Parquet (Spark MLlib ALS layout).
#[derive(Debug, clap::Args)]
pub struct FactorsArgs {
    #[command(subcommand)]
    what: FactorsCmd,
}

#[derive(Debug, clap::Subcommand)]
enum FactorsCmd {
    /// Write the current CF model as DIR/userFactors, DIR/itemFactors, DIR/metadata.
    Export {
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
    },
    /// Publish factors saved by Spark's ALSModel.save as the current CF model.
    Import {
        /// Directory with userFactors/ and itemFactors/.
        #[arg(long)]
        from: PathBuf,
        /// Regularization used when folding in users.
        #[arg(long, default_value_t = 0.01)]
        regularization: f32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Export data for other tools.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[command(subcommand)]
    what: ExportCmd,
}

#[derive(Debug, clap::Subcommand)]
enum ExportCmd {
    /// The users × songs matrix as CSV `user,item,plays,skips` with store ids
    /// (what a Spark ALS job trains on).
    Interactions {
        /// Output CSV file.
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn factors(data_dir: &Path, a: FactorsArgs) -> anyhow::Result<ExitCode> {
    match a.what {
        FactorsCmd::Export { out } => {
            let store = ui::open_store(data_dir)?;
            let r = encore_train::cf::export_spark(&store, &out)?;
            println!(
                "wrote {} user and {} song vectors ({} factors) to {}",
                r.users,
                r.songs,
                r.factors,
                out.display()
            );
        }
        FactorsCmd::Import { from, regularization, json } => {
            let store = ui::open_store(data_dir)?;
            let r = encore_train::cf::import_spark(&store, &from, regularization)?;
            if json {
                ui::print_json(&r)?;
            } else {
                println!("published {} ({} users, {} songs, {} factors)", r.version_dir, r.users, r.songs, r.factors);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn export(data_dir: &Path, a: ExportArgs) -> anyhow::Result<ExitCode> {
    let store = crate::ui::open_store(data_dir)?;
    match a.what {
        ExportCmd::Interactions { out } => {
            let m = store.interactions()?;
            let f = std::fs::File::create(&out).with_context(|| format!("creating {}", out.display()))?;
            let mut w = BufWriter::new(f);
            writeln!(w, "user,item,plays,skips")?;
            for u in 0..m.n_users() {
                let r = m.row(u);
                for k in 0..r.indices.len() {
                    writeln!(
                        w,
                        "{},{},{},{}",
                        m.user_ids[u], m.item_ids[r.indices[k] as usize], r.plays[k], r.skips[k]
                    )?;
                }
            }
            w.flush()?;
            println!("wrote {} pairs to {}", m.nnz(), out.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
