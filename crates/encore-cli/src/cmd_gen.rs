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

/// What every generator takes.
#[derive(Debug, clap::Args)]
struct Common {
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output file (lastfm-1k) or folder (midi).
    #[arg(long, short)]
    out: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
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
        #[command(flatten)]
        common: Common,
    },
    /// A tempo/key ground-truth set: MIDI files with known tempo, key and
    /// mode (`NNN.mid`) and `truth.jsonl`, to render with a General MIDI
    /// synthesiser (bench/midi_truth.sh uses fluidsynth).
    Midi {
        /// Pieces to write.
        #[arg(long, short, default_value_t = 100)]
        n: usize,
        /// Length of each piece, seconds.
        #[arg(long, default_value_t = 20.0)]
        seconds: f64,
        #[command(flatten)]
        common: Common,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.what {
        What::Midi { n, seconds, common: Common { seed, out, json } } => {
            anyhow::ensure!(seconds > 0.0 && seconds.is_finite(), "--seconds must be positive");
            let set = encore_sim::write_midi_set(&out, n, seconds, seed)
                .with_context(|| format!("writing MIDI files into {}", out.display()))?;
            if json {
                ui::print_json(&set)?;
            } else {
                let drums = set.iter().filter(|p| p.drums).count();
                println!("{}: {} MIDI files ({drums} with drums) and truth.jsonl", out.display(), set.len());
            }
            Ok(ExitCode::SUCCESS)
        }
        What::Lastfm1k { rows, users, artists, common: Common { seed, out, json } } => {
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
