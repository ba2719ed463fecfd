//! `encore`: the command-line program. Glue only: parsing arguments,
//! progress bars, printing; the work is in the library crates.

mod cmd_audio;
mod cmd_demo;
mod cmd_eval;
mod cmd_factors;
mod cmd_gc;
mod cmd_gen;
mod cmd_import;
mod cmd_library;
mod cmd_mix;
mod cmd_mixeval;
mod cmd_query;
mod cmd_serve;
mod cmd_stats;
mod cmd_text;
mod cmd_train;
mod cmd_users;
mod ui;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc instead of the system allocator: the audio network's training
/// allocates and frees tensors of a few MiB every step, which glibc hands
/// back to the kernel and faults in again (measured under `perf record`:
/// 27 s of a 63 s `encore audio cold-start` was kernel time; with mimalloc
/// the run took 44 s, 5 s of it in the kernel).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Encore: a music recommender from listening logs, text and audio.
#[derive(Debug, Parser)]
#[command(name = "encore", version, about, long_about = None)]
struct Cli {
    /// Data directory: the store (encore.db) and model artifacts.
    #[arg(long, global = true, env = "ENCORE_DATA_DIR", default_value = "encore-data")]
    data_dir: PathBuf,

    /// More log output (-v info, -vv debug); RUST_LOG also works.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Import listening data (Last.fm, ListenBrainz, MSD, Spotify, CSV, catalogs).
    Import(cmd_import::Args),
    /// Print counts and the shape of the interaction matrix.
    Stats(cmd_stats::Args),
    /// Generate the demo world into the data directory and import it.
    Demo(cmd_demo::Args),
    /// Generate synthetic input files for benchmarks.
    Gen(cmd_gen::Args),
    /// Train a model and publish it as a new version.
    Train(cmd_train::Args),
    /// Recommend songs to a user, with the reasons.
    Recommend(cmd_query::RecommendArgs),
    /// Find songs similar to a song.
    Similar(cmd_query::SimilarArgs),
    /// A user's discovery playlist for a day: new to them, never repeated.
    Discover(cmd_query::DiscoverArgs),
    /// An instant mix from songs, albums, artists, genres or a playlist.
    Mix(cmd_mix::MixArgs),
    /// A path of songs from one song to another, in even steps.
    Path(cmd_mix::PathArgs),
    /// Songs a user played often and then stopped playing.
    Rediscover(cmd_mix::RediscoverArgs),
    /// A user's sonic fingerprint, and unplayed songs near it.
    Fingerprint(cmd_mix::FingerprintArgs),
    /// Serve the HTTP API and the web page.
    Serve(cmd_serve::Args),
    /// Your music folders: scan their tags into the catalog.
    Library(cmd_library::Args),
    /// Listeners and their tokens for the ListenBrainz-compatible listen API.
    Users(cmd_users::Args),
    /// Evaluate recommenders on a held-out split (precision, recall, nDCG, MAP, AUC, …).
    Eval(cmd_eval::EvalArgs),
    /// Measure the mixes on the demo world against its ground truth.
    EvalMixes(cmd_mixeval::Args),
    /// Pick ALS hyperparameters on a validation split.
    Tune(cmd_eval::TuneArgs),
    /// Export or import factor models as Parquet (Spark MLlib ALS layout).
    Factors(cmd_factors::FactorsArgs),
    /// Export data for other tools (e.g. the interaction matrix for Spark).
    Export(cmd_factors::ExportArgs),
    /// The text model: ingest articles, train, describe, search.
    Text(cmd_text::Args),
    /// The raw-audio model: analyse audio files.
    Audio(cmd_audio::Args),
    /// Remove old model versions (keeps the newest few and what they need).
    Gc(cmd_gc::Args),
}

/// Dies quietly on a closed pipe (`encore stats | head`), as command-line
/// tools do, instead of panicking in `println!`: Rust ignores SIGPIPE by
/// default, so restore the default action.
#[cfg(unix)]
#[allow(unsafe_code)]
fn reset_sigpipe() {
    // SAFETY: setting a signal's disposition to SIG_DFL at start-up, before
    // any other thread exists, has no preconditions.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn reset_sigpipe() {}

fn main() -> ExitCode {
    reset_sigpipe();
    let cli = Cli::parse();
    ui::init_tracing(cli.verbose);
    let result = match cli.command {
        Command::Import(a) => cmd_import::run(&cli.data_dir, a),
        Command::Gc(a) => cmd_gc::run(&cli.data_dir, a),
        Command::Stats(a) => cmd_stats::run(&cli.data_dir, a),
        Command::Demo(a) => cmd_demo::run(&cli.data_dir, a),
        Command::Gen(a) => cmd_gen::run(a),
        Command::Train(a) => cmd_train::run(&cli.data_dir, a),
        Command::Recommend(a) => cmd_query::recommend(&cli.data_dir, a),
        Command::Similar(a) => cmd_query::similar(&cli.data_dir, a),
        Command::Discover(a) => cmd_query::discover(&cli.data_dir, a),
        Command::Mix(a) => cmd_mix::mix(&cli.data_dir, a),
        Command::Path(a) => cmd_mix::path(&cli.data_dir, a),
        Command::Rediscover(a) => cmd_mix::rediscover(&cli.data_dir, a),
        Command::Fingerprint(a) => cmd_mix::fingerprint(&cli.data_dir, a),
        Command::Serve(a) => cmd_serve::run(&cli.data_dir, a),
        Command::Library(a) => cmd_library::run(&cli.data_dir, a),
        Command::Users(a) => cmd_users::run(&cli.data_dir, a),
        Command::Eval(a) => cmd_eval::eval(&cli.data_dir, a),
        Command::EvalMixes(a) => cmd_mixeval::run(&cli.data_dir, a),
        Command::Tune(a) => cmd_eval::tune(&cli.data_dir, a),
        Command::Factors(a) => cmd_factors::factors(&cli.data_dir, a),
        Command::Export(a) => cmd_factors::export(&cli.data_dir, a),
        Command::Text(a) => cmd_text::run(&cli.data_dir, a),
        Command::Audio(a) => cmd_audio::run(&cli.data_dir, a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}
