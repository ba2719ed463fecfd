//! `encore gc`: remove old model versions.

use std::path::Path;
use std::process::ExitCode;

use crate::ui;

/// Remove old model versions: keep the newest N per kind, every version the
/// kept releases name, and each kind's current one.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Versions to keep per kind.
    #[arg(long, default_value_t = encore_engine::DEFAULT_KEEP)]
    keep: usize,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(data_dir: &Path, a: Args) -> anyhow::Result<ExitCode> {
    let store = ui::open_store(data_dir)?;
    let r = encore_engine::collect_garbage(&store, a.keep).map_err(|e| anyhow::anyhow!(e))?;
    if a.json {
        ui::print_json(&r)?;
    } else {
        for d in &r.removed {
            println!("removed {d}");
        }
        println!(
            "{} versions removed ({:.1} MiB freed), {} kept (newest {} per kind and what kept releases name)",
            r.removed.len(),
            r.bytes_freed as f64 / (1 << 20) as f64,
            r.versions_left,
            r.keep
        );
    }
    Ok(ExitCode::SUCCESS)
}
