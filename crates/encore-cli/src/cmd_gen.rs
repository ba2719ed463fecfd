use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::ui;

/// Generate synthetic input files in real formats, for benchmarks.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// A Last.fm-1K-shaped TSV file (sorted by user, newest first).
    #[command(name = "lastfm-1k")]
    Lastfm1k {
        /// Rows to write.
        #[arg(long, default_value_t = 19_150_868)]
        rows: u64,
        /// Users.
        #[arg(long, default_value_t = 992)]
        users: u32,
        /// Artists (Zipf popularity, up to 60 songs each; the catalog is
        /// the songs that get played).
        #[arg(long, default_value_t = 170_000)]
        artists: u64,
        /// Seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output file.
        #[arg(long, short)]
        out: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.what {
        What::Lastfm1k { rows, users, artists, seed, out, json } => {
            anyhow::ensure!(users > 0, "--users must be at least 1");
            let file = std::fs::File::create(&out).with_context(|| format!("creating {}", out.display()))?;
            let mut w = BufWriter::with_capacity(1 << 20, file);
            let g = encore_sim::write_lastfm_1k(&mut w, rows, users, artists, seed)?;
            w.flush()?;
            if json {
                ui::print_json(&g)?;
            } else {
                println!("{}: {} rows ({} malformed on purpose)", out.display(), g.rows, g.malformed);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
