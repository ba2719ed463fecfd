use std::path::Path;
use std::process::ExitCode;

use encore_store::{Histogram, StoreStats};

use crate::ui;

/// Print counts, density and the play-count distribution.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(data_dir: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let stats = crate::ui::open_store(data_dir)?.stats()?;
    if args.json {
        ui::print_json(&stats)?;
    } else {
        print_human(&stats);
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints `stats` as a table with histograms.
pub fn print_human(stats: &StoreStats) {
    let m = &stats.songs_matrix;
    println!("users            {}", stats.users);
    println!("songs            {}", stats.songs);
    println!("artists          {}", stats.artists);
    println!("listens          {} ({} skips or short plays)", stats.listens, stats.skipped_listens);
    println!("song counts      {} rows", stats.song_count_rows);
    println!("artist counts    {} rows", stats.artist_count_rows);
    println!("imports          {}", stats.imports);
    println!("users x songs    {} x {}, {} pairs, density {:.3e}", m.users, m.items, m.nnz, m.density);
    println!("full plays       {}", m.plays);
    let a = &stats.artists_matrix;
    println!("users x artists  {} x {}, {} pairs, density {:.3e}", a.users, a.items, a.nnz, a.density);
    print_hist("plays per (user, song)", &m.plays_per_pair);
    print_hist("songs per user", &m.items_per_user);
    print_hist("users per song", &m.users_per_item);
}

fn print_hist(title: &str, h: &Histogram) {
    println!("{title}:");
    let max = h.counts.iter().copied().max().unwrap_or(1).max(1);
    for (b, c) in h.buckets.iter().zip(&h.counts) {
        let bar = "#".repeat(((c * 40).div_ceil(max)) as usize);
        println!("  {b:>11} {c:>10} {bar}");
    }
}
