//! `encore recommend` and `encore similar`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use encore_store::{SongInfo, Store};
use serde::Serialize;

use crate::ui;
use encore_engine::playlist::PlaylistFormat;

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
    /// Which model: hybrid (every model, fused) or cf (collaborative
    /// filtering alone, with Hu et al.'s exact explanation).
    #[arg(long, default_value = "hybrid", value_parser = ["hybrid", "cf"])]
    model: String,
    /// How candidates are found: index (retrieval: HNSW for large sets,
    /// exact scans of small ones), scan (score every song) or ann (HNSW
    /// for every set).
    #[arg(long, default_value = "index")]
    candidates: encore_engine::Candidates,
    #[command(flatten)]
    query: QueryArgs,
    /// A playlist file (hybrid model only).
    #[command(flatten)]
    playlist: PlaylistArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Seeds, bounds and targets of a hybrid recommendation.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct QueryArgs {
    /// Seed song ids (up to 5 seeds in all).
    #[arg(long = "seed-song")]
    seed_songs: Vec<i64>,
    /// Seed artist ids.
    #[arg(long = "seed-artist")]
    seed_artists: Vec<i64>,
    #[command(flatten)]
    tunables: TunableArgs,
    /// Only leave out songs played within this many days (default: every
    /// song ever played is left out).
    #[arg(long)]
    exclude_played_days: Option<u32>,
    /// At most this many songs per artist.
    #[arg(long, default_value_t = 2)]
    max_per_artist: usize,
}

/// Bounds and targets on tempo, key, mode, loudness and duration.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TunableArgs {
    /// Minimum tempo, BPM.
    #[arg(long)]
    min_tempo: Option<f32>,
    /// Maximum tempo, BPM.
    #[arg(long)]
    max_tempo: Option<f32>,
    /// Preferred tempo, BPM.
    #[arg(long)]
    target_tempo: Option<f32>,
    /// Key, e.g. "A" or "F#".
    #[arg(long)]
    key: Option<String>,
    /// Mode: major or minor.
    #[arg(long, value_parser = ["major", "minor"])]
    mode: Option<String>,
    /// Minimum loudness, LUFS.
    #[arg(long)]
    min_loudness: Option<f32>,
    /// Maximum loudness, LUFS.
    #[arg(long)]
    max_loudness: Option<f32>,
    /// Preferred loudness, LUFS.
    #[arg(long)]
    target_loudness: Option<f32>,
    /// Minimum duration, seconds.
    #[arg(long)]
    min_duration: Option<f32>,
    /// Maximum duration, seconds.
    #[arg(long)]
    max_duration: Option<f32>,
    /// Preferred duration, seconds.
    #[arg(long)]
    target_duration: Option<f32>,
}

impl TunableArgs {
    pub fn tunables(&self) -> anyhow::Result<encore_rank::Tunables> {
        let key = match &self.key {
            None => None,
            Some(k) => Some(
                encore_engine::views::KEYS
                    .iter()
                    .position(|x| x.eq_ignore_ascii_case(k))
                    .with_context(|| format!("unknown key {k:?}: use C, C#, D, … B"))? as u8,
            ),
        };
        Ok(encore_rank::Tunables {
            min_tempo: self.min_tempo,
            max_tempo: self.max_tempo,
            target_tempo: self.target_tempo,
            key,
            major: self.mode.as_deref().map(|m| m == "major"),
            min_loudness: self.min_loudness,
            max_loudness: self.max_loudness,
            target_loudness: self.target_loudness,
            min_duration: self.min_duration,
            max_duration: self.max_duration,
            target_duration: self.target_duration,
        })
    }
}

impl QueryArgs {
    pub fn query(&self, n: usize) -> anyhow::Result<encore_engine::Query> {
        Ok(encore_engine::Query {
            n: Some(n),
            seed_songs: self.seed_songs.clone(),
            seed_artists: self.seed_artists.clone(),
            tunables: self.tunables.tunables()?,
            exclude_played_days: self.exclude_played_days,
            max_per_artist: Some(self.max_per_artist),
        })
    }
}

/// Today's discovery playlist for a user (or, with --all-users, every
/// user's as playlist files).
#[derive(Debug, clap::Args)]
pub struct DiscoverArgs {
    /// The user's name (as imported).
    #[arg(long, required_unless_present_any = ["user_id", "all_users"], conflicts_with = "user_id")]
    user: Option<String>,
    /// The user's store id instead of the name.
    #[arg(long)]
    user_id: Option<i64>,
    /// Every user's playlist, one file each into --out DIR (a nightly job).
    #[arg(long, conflicts_with_all = ["user", "user_id"], requires = "out")]
    all_users: bool,
    /// The day, YYYY-MM-DD (default: today, UTC).
    #[arg(long)]
    date: Option<String>,
    /// How many songs.
    #[arg(short, default_value_t = 30)]
    n: usize,
    /// How candidates are found: index (retrieval: HNSW for large sets,
    /// exact scans of small ones), scan (score every song) or ann (HNSW
    /// for every set).
    #[arg(long, default_value = "index")]
    candidates: encore_engine::Candidates,
    #[command(flatten)]
    playlist: PlaylistArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Playlist files for a player to open.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PlaylistArgs {
    /// Write a playlist file instead of the list: m3u8, xspf or jspf.
    #[arg(long = "format")]
    format: Option<PlaylistFormat>,
    /// Where to write it (default: standard output); a folder with
    /// --all-users.
    #[arg(long)]
    out: Option<std::path::PathBuf>,
    /// M3U8 paths are written relative to this folder (your music library
    /// as the player sees it).
    #[arg(long)]
    library_root: Option<std::path::PathBuf>,
}

impl PlaylistArgs {
    /// Writes the songs `ids` as a playlist called `title` to `--out` (or
    /// standard output); returns the songs left out.
    fn emit(
        &self,
        engine: &encore_engine::Engine,
        ids: &[i64],
        title: &str,
        out: Option<&Path>,
    ) -> anyhow::Result<usize> {
        let format = self.format.unwrap_or(PlaylistFormat::M3u8);
        let mut tracks = engine.playlist_tracks(ids)?;
        // Canonical paths on both sides, so a root given through a link
        // still makes them relative.
        for t in &mut tracks {
            if let Some(c) = t.path.as_ref().and_then(|p| std::fs::canonicalize(p).ok()) {
                t.path = Some(c.to_string_lossy().into_owned());
            }
        }
        let root = self.library_root.as_ref().map(|r| std::fs::canonicalize(r).unwrap_or_else(|_| r.clone()));
        let w = encore_engine::playlist::write(format, title, &tracks, root.as_deref());
        match out {
            Some(p) => crate::ui::write_atomic(p, w.text.as_bytes())?,
            None => {
                use std::io::Write;
                std::io::stdout().write_all(w.text.as_bytes())?;
            }
        }
        Ok(w.left_out)
    }
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
    /// Which model measures similarity.
    #[arg(long, value_enum, default_value_t = encore_engine::SimilarBy::Cf)]
    by: encore_engine::SimilarBy,
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
    /// Hybrid only: the reason as a sentence, the nominating sources and
    /// each feature's contribution.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    hybrid: Option<HybridPart>,
}

#[derive(Debug, Serialize)]
struct HybridPart {
    explanation: String,
    sources: Vec<String>,
    contributions: std::collections::BTreeMap<String, f32>,
    reason: encore_rank::Reason,
    new_artist: bool,
}

#[derive(Debug, Serialize)]
pub struct RecommendReport {
    user: String,
    model_version: String,
    history_songs: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pool: Option<encore_rank::PoolSizes>,
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
    by: encore_engine::SimilarBy,
    similar: Vec<Similar>,
}

fn describe(s: &SongInfo) -> String {
    format!("{} – {} [{}]", s.artist.as_deref().unwrap_or("?"), s.title, s.id)
}

fn resolve_user(store: &Store, user: &Option<String>, user_id: Option<i64>) -> anyhow::Result<(i64, String)> {
    Ok(match (user, user_id) {
        (Some(name), _) => (store.user_id(name)?.with_context(|| format!("no user called {name:?}"))?, name.clone()),
        (None, Some(id)) => (id, store.user_name(id)?.with_context(|| format!("no user with id {id}"))?),
        (None, None) => anyhow::bail!("give --user or --user-id"),
    })
}

fn report_of(engine: &encore_engine::Engine, r: encore_engine::Recommendations) -> anyhow::Result<RecommendReport> {
    let mut recs = Vec::new();
    for it in r.items {
        let song = engine.songs(&[it.song_id])?.pop().context("song vanished from the store")?;
        let because_song = match &it.reason {
            encore_rank::Reason::BecauseYouPlay { song }
            | encore_rank::Reason::LikeRecent { song }
            | encore_rank::Reason::SoundsLike { song, .. }
            | encore_rank::Reason::Described { song }
            | encore_rank::Reason::Seed { song } => Some(*song),
            _ => None,
        };
        let top = it.contributions.values().copied().fold(f32::MIN, f32::max);
        let because = match because_song {
            Some(id) => engine.songs(&[id])?.into_iter().map(|song| Because { song, contribution: top }).collect(),
            None => Vec::new(),
        };
        recs.push(Rec {
            song,
            score: it.score,
            because,
            hybrid: Some(HybridPart {
                explanation: it.explanation,
                sources: it.sources,
                contributions: it.contributions,
                reason: it.reason,
                new_artist: it.new_artist,
            }),
        });
    }
    Ok(RecommendReport {
        user: r.user,
        model_version: r.model_version,
        history_songs: r.history_songs,
        date: r.date,
        pool: Some(r.pool),
        recommendations: recs,
    })
}

pub fn print_report(report: &RecommendReport) {
    match &report.date {
        Some(d) => println!("discovery playlist of {} for {} ({} songs)", report.user, d, report.recommendations.len()),
        None => println!(
            "{} songs for {} (history: {} songs)",
            report.recommendations.len(),
            report.user,
            report.history_songs
        ),
    }
    for (k, r) in report.recommendations.iter().enumerate() {
        println!("{:>3}. {:<60} {:.3}", k + 1, describe(&r.song), r.score);
        match &r.hybrid {
            Some(h) => println!("       {} [{}]", h.explanation, h.sources.join(", ")),
            None => {
                if let Some(b) = r.because.first() {
                    println!("       because you play {}", describe(&b.song));
                }
            }
        }
    }
    if let Some(p) = &report.pool {
        let by: Vec<String> = p.by_source.iter().map(|(s, n)| format!("{s} {n}")).collect();
        println!(
            "pool: {} nominated ({}), {} after played songs, {} after served songs, {} after filters, {} returned",
            p.candidates,
            by.join(", "),
            p.after_played,
            p.after_excluded,
            p.after_filters,
            p.returned
        );
    }
}

/// The discovery playlist of the user called `user` for `day`.
pub fn discover_report(data_dir: &Path, user: &str, day: &str, n: usize) -> anyhow::Result<RecommendReport> {
    let engine = encore_engine::Engine::open(data_dir)?;
    let (uid, _) = engine.find_user(Some(user), None)?;
    let r = engine.discover(uid, day, n)?;
    report_of(&engine, r)
}

pub fn discover(data_dir: &Path, a: DiscoverArgs) -> anyhow::Result<ExitCode> {
    let engine = encore_engine::Engine::open_with(data_dir, a.candidates)?;
    let day = a.date.clone().unwrap_or_else(encore_engine::today);
    if a.all_users {
        return discover_all(&engine, &day, &a);
    }
    let (uid, _) = engine.find_user(a.user.as_deref(), a.user_id)?;
    let r = engine.discover(uid, &day, a.n)?;
    if a.playlist.format.is_some() || a.playlist.out.is_some() {
        let ids: Vec<i64> = r.items.iter().map(|i| i.song_id).collect();
        let title = format!("Discover {} for {}", r.date.as_deref().unwrap_or(&day), r.user);
        let left = a.playlist.emit(&engine, &ids, &title, a.playlist.out.as_deref())?;
        if left > 0 {
            eprintln!("{left} of {} songs have no local file and are not in the M3U8", ids.len());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let report = report_of(&engine, r)?;
    if a.json {
        ui::print_json(&report)?;
    } else {
        print_report(&report);
    }
    Ok(ExitCode::SUCCESS)
}

/// What `discover --all-users` wrote.
#[derive(Debug, Serialize)]
struct AllUsersReport {
    dir: std::path::PathBuf,
    date: String,
    files: usize,
    songs: usize,
    left_out: usize,
    failed: Vec<String>,
}

/// Every user's discovery playlist for `day`, one file each.
fn discover_all(engine: &encore_engine::Engine, day: &str, a: &DiscoverArgs) -> anyhow::Result<ExitCode> {
    let dir = a.playlist.out.clone().context("--all-users needs --out DIR")?;
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let format = a.playlist.format.unwrap_or(PlaylistFormat::M3u8);
    let users = engine.user_names()?;
    let bar = ui::count_bar(users.len() as u64, "playlists");
    let mut r =
        AllUsersReport { dir: dir.clone(), date: day.to_string(), files: 0, songs: 0, left_out: 0, failed: Vec::new() };
    for (id, name) in &users {
        bar.inc(1);
        let list = match engine.discover(*id, day, a.n) {
            Ok(l) => l,
            Err(e) => {
                r.failed.push(format!("{name}: {e}"));
                continue;
            }
        };
        let ids: Vec<i64> = list.items.iter().map(|i| i.song_id).collect();
        // A file name from the user name: letters, digits, '-', '_', '.'.
        let safe: String =
            name.chars().map(|c| if c.is_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
        let path = dir.join(format!("{safe}-{id}.{}", format.extension()));
        r.left_out += a.playlist.emit(engine, &ids, &format!("Discover {day} for {name}"), Some(&path))?;
        r.files += 1;
        r.songs += ids.len();
    }
    bar.finish_and_clear();
    if a.json {
        ui::print_json(&r)?;
    } else {
        println!(
            "{} playlists ({} songs, {} without a local file left out) in {}",
            r.files,
            r.songs,
            r.left_out,
            r.dir.display()
        );
        for f in &r.failed {
            eprintln!("no playlist: {f}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn recommend(data_dir: &Path, a: RecommendArgs) -> anyhow::Result<ExitCode> {
    if a.model == "hybrid" && !a.as_trained {
        let engine = encore_engine::Engine::open_with(data_dir, a.candidates)?;
        let (uid, _) = engine.find_user(a.user.as_deref(), a.user_id)?;
        let r = engine.recommend(uid, &a.query.query(a.n)?)?;
        if a.playlist.format.is_some() || a.playlist.out.is_some() {
            let ids: Vec<i64> = r.items.iter().map(|i| i.song_id).collect();
            let left =
                a.playlist.emit(&engine, &ids, &format!("Recommended for {}", r.user), a.playlist.out.as_deref())?;
            if left > 0 {
                eprintln!("{left} of {} songs have no local file and are not in the M3U8", ids.len());
            }
            return Ok(ExitCode::SUCCESS);
        }
        let report = report_of(&engine, r)?;
        if a.json {
            ui::print_json(&report)?;
        } else {
            print_report(&report);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let store = ui::open_store(data_dir)?;
    let (model, version) = encore_train::cf::current(&store)?;
    let (uid, name) = resolve_user(&store, &a.user, a.user_id)?;
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
        out.push(Rec { song, score: r.score, because, hybrid: None });
    }
    let report = RecommendReport {
        user: name,
        model_version: version,
        history_songs: history.len(),
        date: None,
        pool: None,
        recommendations: out,
    };
    if a.json {
        ui::print_json(&report)?;
    } else {
        print_report(&report);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn similar(data_dir: &Path, a: SimilarArgs) -> anyhow::Result<ExitCode> {
    let engine = encore_engine::Engine::open(data_dir)?;
    let hits = engine.similar(a.song, a.by, a.n)?;
    let song = engine.songs(&[a.song])?.pop().context("song vanished from the store")?;
    let mut similar = Vec::new();
    for (id, score) in &hits {
        if let Some(info) = engine.songs(&[*id])?.pop() {
            similar.push(Similar { song: info, score: *score });
        }
    }
    let report = SimilarReport { song, by: a.by, similar };
    if a.json {
        ui::print_json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("songs like {} (by {}):", describe(&report.song), report.by.as_str());
    for (k, s) in report.similar.iter().enumerate() {
        println!("{:>3}. {:<60} {:.3}", k + 1, describe(&s.song), s.score);
    }
    Ok(ExitCode::SUCCESS)
}
