use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use encore_ingest::{import_file, Format, ImportOptions, ImportSummary};
use encore_sim::{write_world, World, WorldConfig, WorldFiles};
use encore_store::StoreStats;
use serde::Serialize;

use crate::ui;

/// Generate the demo world (audio, text, listening logs) into the data
/// directory and import it.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Users in the world.
    #[arg(long, default_value_t = 2000)]
    users: usize,
    /// Songs in the world (about 5 % are unplayed new releases).
    #[arg(long, default_value_t = 1000)]
    songs: usize,
    /// Seed: the same seed gives the same world.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Length of each synthesised audio clip, seconds.
    #[arg(long, default_value_t = 10.0)]
    clip_seconds: f32,
    /// Do not serve the web page at the end.
    #[arg(long)]
    no_serve: bool,
    /// Where to serve it.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: std::net::SocketAddr,
    /// Stop after importing and analysing: train no models.
    #[arg(long)]
    no_train: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct Report {
    world: WorldFiles,
    imports: Vec<ImportSummary>,
    text: encore_train::text::IngestReport,
    text_model: encore_train::text::BuildStats,
    audio_analyzed: usize,
    audio_failed: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    trained: Option<encore_train::release::ReleaseReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sample_discovery: Option<crate::cmd_query::RecommendReport>,
    stats: StoreStats,
    seconds: f64,
}

pub fn run(data_dir: &Path, args: Args) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.songs > 0 && args.users > 0, "--songs and --users must be at least 1");
    anyhow::ensure!((1.0..=120.0).contains(&args.clip_seconds), "--clip-seconds must be between 1 and 120");
    let started = Instant::now();
    let cfg = WorldConfig {
        users: args.users,
        songs: args.songs,
        seed: args.seed,
        clip_seconds: args.clip_seconds,
        ..Default::default()
    };
    let world = World::generate(&cfg);
    let bar = ui::count_bar(world.songs.len() as u64, "audio clips");
    let files = write_world(&world, &data_dir.join("demo"), &|stage, done, total| {
        if stage == "audio clips" {
            bar.set_length(total);
            bar.set_position(done);
        } else {
            bar.set_message(stage.to_string());
        }
    })
    .context("writing the demo world")?;
    bar.finish_and_clear();

    let mut store = crate::ui::open_store(data_dir)?;
    let mut inputs = vec![(Format::Catalog, files.catalog.clone()), (Format::ListenBrainz, files.listenbrainz.clone())];
    if let Some(sp) = &files.spotify {
        inputs.push((Format::SpotifyHistory, sp.clone()));
    }
    let mut imports = Vec::new();
    for (format, path) in inputs {
        let bar = ui::bytes_bar(0, format!("import {format}"));
        let s = import_file(&mut store, format, &path, &ImportOptions::default(), &mut |d, t| {
            bar.set_length(t);
            bar.set_position(d);
        })?;
        bar.finish_and_clear();
        imports.push(s);
    }
    // The articles (the text model is built from them below).
    let text = encore_train::text::ingest(&mut store, &[files.articles.clone(), files.html_dir.clone()])?;
    // The audio: descriptors of every clip (unchanged clips are not redone).
    let (audio_ok, audio_failed) = crate::cmd_audio::analyze_paths(&mut store, std::slice::from_ref(&files.audio_dir))?;
    let stats = store.stats()?;
    let (text_model, trained, sample_discovery) = if args.no_train {
        let (model, _) = encore_train::text::train(&store, encore_train::text::TermModelConfig::default())?;
        (model.stats, None, None)
    } else {
        // Every model, the text model among them, in one release.
        let bars = ui::Bars::new();
        let settings = encore_train::release::ReleaseSettings::default();
        let t = encore_train::release::train_all(&store, &settings, &|s| bars.step(s))?;
        drop(bars);
        drop(store);
        let sample = crate::cmd_query::discover_report(data_dir, "listener_00000", &encore_engine::today(), 10)?;
        (t.text.clone().unwrap_or_default(), Some(t), Some(sample))
    };
    let report = Report {
        trained,
        sample_discovery,
        world: files,
        imports,
        text,
        text_model,
        audio_analyzed: audio_ok.len(),
        audio_failed: audio_failed.len(),
        stats,
        seconds: started.elapsed().as_secs_f64(),
    };
    let serve = |data_dir: &Path| -> anyhow::Result<ExitCode> {
        if args.no_serve || args.no_train {
            return Ok(ExitCode::SUCCESS);
        }
        crate::cmd_serve::run(
            data_dir,
            crate::cmd_serve::Args { bind: args.bind, ..crate::cmd_serve::Args::defaults() },
        )
    };
    if args.json {
        ui::print_json(&report)?;
        return serve(data_dir);
    }
    let w = &report.world;
    println!(
        "demo world (seed {}): {} songs with audio clips, {} listens, {} articles in {}",
        args.seed,
        w.clips,
        w.listens,
        w.articles_count,
        w.dir.display()
    );
    for s in &report.imports {
        let status = match s.status {
            encore_ingest::ImportStatus::AlreadyImported => "already imported, unchanged",
            _ => "imported",
        };
        println!(
            "  {:<16} {:>8} rows: {} new, {} duplicates, {} skipped, {} ignored ({status})",
            s.format, s.rows_read, s.imported, s.duplicates, s.skipped, s.ignored
        );
    }
    println!(
        "  text             {:>8} documents: {} new, {} already stored; text model: {} terms, {} artists, {} songs",
        report.text.documents_read,
        report.text.added,
        report.text.duplicates,
        report.text_model.terms,
        report.text_model.artists,
        report.text_model.songs
    );
    println!("  audio            {:>8} clips analysed, {} failed", report.audio_analyzed, report.audio_failed);
    if let Some(t) = &report.trained {
        let w: Vec<String> =
            encore_rank::FEATURES.iter().zip(t.fusion.weights).map(|(n, w)| format!("{n} {w:.2}")).collect();
        println!("  models           release {} (fusion weights: {})", t.release, w.join(", "));
    }
    println!("done in {:.1}s\n", report.seconds);
    crate::cmd_stats::print_human(&report.stats);
    if let Some(d) = &report.sample_discovery {
        println!();
        crate::cmd_query::print_report(d);
    }
    if !args.no_serve && !args.no_train {
        println!("\nthe web page: http://{} (Ctrl-C to stop)", args.bind);
    }
    serve(data_dir)
}
