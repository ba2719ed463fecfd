//! `encore recommend` and `encore similar`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use encore_cf::CfModel;
use encore_store::{SongInfo, Store};
use serde::Serialize;

use crate::ui;

/// Songs a user will like, with the songs of theirs that led there.
#[derive(Debug, clap::Args)]
pub struct RecommendArgs {
    /// The user's name (as imported).
    #[arg(long, required_unless_present = "user_id", conflicts_with = "user_id")]
    user: Option<String>,
    /// The user's store id instead of the name.
    #[arg(long)]
    user_id: Option<i64>,
    /// Score with the user's vector as trained and keep songs they played —
    /// what Spark's `recommendForAllUsers` does — instead of folding in the
    /// current history and leaving played songs out.
    #[arg(long)]
    as_trained: bool,
    /// How many songs.
    #[arg(short, default_value_t = 20)]
    n: usize,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Songs like a song.
#[derive(Debug, clap::Args)]
pub struct SimilarArgs {
    /// The song's store id (see `encore recommend` output).
    #[arg(long)]
    song: i64,
    /// How many songs.
    #[arg(short, default_value_t = 10)]
    n: usize,
    /// Which model: cf (collaborative filtering).
    #[arg(long, default_value = "cf", value_parser = ["cf"])]
    by: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct Because {
    song: SongInfo,
    contribution: f32,
}

#[derive(Debug, Serialize)]
struct Rec {
    song: SongInfo,
    score: f32,
    because: Vec<Because>,
}

#[derive(Debug, Serialize)]
struct RecommendReport {
    user: String,
    model_version: String,
    history_songs: usize,
    recommendations: Vec<Rec>,
}

#[derive(Debug, Serialize)]
struct Similar {
    song: SongInfo,
    score: f32,
}

#[derive(Debug, Serialize)]
struct SimilarReport {
    song: SongInfo,
    by: String,
    similar: Vec<Similar>,
}

/// The store and its current CF model (with the model's directory).
pub fn open(data_dir: &Path) -> anyhow::Result<(Store, CfModel, String)> {
    let store = crate::ui::open_store(data_dir)?;
    let (path, header) = store
        .artifacts(encore_cf::KIND)?
        .current()?
        .context("no collaborative-filtering model yet: run `encore train cf` first")?;
    header.check(encore_cf::KIND, encore_cf::FORMAT_VERSION)?;
    let model = CfModel::load(&path)?;
    Ok((store, model, path.display().to_string()))
}

fn describe(s: &SongInfo) -> String {
    format!("{} – {} [{}]", s.artist.as_deref().unwrap_or("?"), s.title, s.id)
}

pub fn recommend(data_dir: &Path, a: RecommendArgs) -> anyhow::Result<ExitCode> {
    let (store, model, version) = open(data_dir)?;
    let (uid, name) = match (&a.user, a.user_id) {
        (Some(name), _) => (store.user_id(name)?.with_context(|| format!("no user called {name:?}"))?, name.clone()),
        (None, Some(id)) => (id, store.user_name(id)?.with_context(|| format!("no user with id {id}"))?),
        (None, None) => anyhow::bail!("give --user or --user-id"),
    };
    // The user's current history, folded in against the song factors, so
    // listens imported since training count.
    let history: Vec<(usize, f32, u32)> = store
        .user_history(uid)?
        .iter()
        .filter_map(|h| model.item_index(h.song_id).map(|i| (i, h.plays, h.skips)))
        .collect();
    let mut played: Vec<u32> = history.iter().map(|h| h.0 as u32).collect();
    played.sort_unstable();
    let recs = if a.as_trained {
        let u = model.user_index(uid).with_context(|| format!("user {name:?} is not in the model"))?;
        model.recommend(u, a.n, &[])?
    } else {
        model.recommend_vector(&model.fold_in(&history)?, a.n, &played)?
    };
    let mut out = Vec::new();
    for r in recs {
        let because = model
            .explain(&history, r.index)?
            .into_iter()
            .take(3)
            .filter(|c| c.contribution > 0.0)
            .filter_map(|c| {
                store.songs(&[c.item.id]).ok()?.pop().map(|song| Because { song, contribution: c.contribution })
            })
            .collect();
        let song = store.songs(&[r.id])?.pop().context("song vanished from the store")?;
        out.push(Rec { song, score: r.score, because });
    }
    let report =
        RecommendReport { user: name, model_version: version, history_songs: history.len(), recommendations: out };
    if a.json {
        ui::print_json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("{} songs for {} (history: {} songs)", report.recommendations.len(), report.user, report.history_songs);
    for (k, r) in report.recommendations.iter().enumerate() {
        println!("{:>3}. {:<60} {:.3}", k + 1, describe(&r.song), r.score);
        if let Some(b) = r.because.first() {
            println!("       because you play {}", describe(&b.song));
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn similar(data_dir: &Path, a: SimilarArgs) -> anyhow::Result<ExitCode> {
    let (store, model, _) = open(data_dir)?;
    let song = store.songs(&[a.song])?.pop().with_context(|| format!("no song with id {}", a.song))?;
    let i = model.item_index(a.song).with_context(|| format!("song {} is not in the model", a.song))?;
    let mut similar = Vec::new();
    for s in model.similar_items(i, a.n)? {
        if let Some(info) = store.songs(&[s.id])?.pop() {
            similar.push(Similar { song: info, score: s.score });
        }
    }
    let report = SimilarReport { song, by: a.by, similar };
    if a.json {
        ui::print_json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("songs like {} (by {}):", describe(&report.song), report.by);
    for (k, s) in report.similar.iter().enumerate() {
        println!("{:>3}. {:<60} {:.3}", k + 1, describe(&s.song), s.score);
    }
    Ok(ExitCode::SUCCESS)
}
