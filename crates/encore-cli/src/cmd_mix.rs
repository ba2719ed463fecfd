//! `encore mix`, `encore path`, `encore rediscover` and `encore fingerprint`:
//! the mixes, printed or as JSON.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use encore_engine::mixes::{weighted, Mix, MixQuery};
use encore_engine::Engine;

use crate::cmd_query::TunableArgs;
use crate::ui;

/// An instant mix from any seeds: songs, albums, artists, genres, a
/// playlist. A seed may carry a weight after `@` (`--artist "Nina Simone@2"`).
#[derive(Debug, clap::Args)]
pub struct MixArgs {
    /// Seed song ids (`ID` or `ID@WEIGHT`).
    #[arg(long = "song")]
    songs: Vec<String>,
    /// Seed albums by name.
    #[arg(long = "album")]
    albums: Vec<String>,
    /// Seed artists by name.
    #[arg(long = "artist")]
    artists: Vec<String>,
    /// Seed genres by name.
    #[arg(long = "genre")]
    genres: Vec<String>,
    /// A playlist (M3U8 or JSPF) as one seed.
    #[arg(long)]
    playlist: Option<PathBuf>,
    /// Personalise for this user (name): their taste is mixed in, songs
    /// they played recently or disliked are left out.
    #[arg(long)]
    user: Option<String>,
    /// How many songs.
    #[arg(short, default_value_t = 50)]
    n: usize,
    /// Start with the (heaviest) seed song.
    #[arg(long)]
    seed_first: bool,
    /// At most this many songs per artist.
    #[arg(long, default_value_t = encore_rank::MixRequest::default().max_per_artist)]
    max_per_artist: usize,
    /// At most this many songs per album.
    #[arg(long, default_value_t = encore_rank::MixRequest::default().max_per_album)]
    max_per_album: usize,
    /// Least distance (1 − similarity) between consecutive songs.
    #[arg(long, default_value_t = encore_rank::MixRequest::default().min_distance)]
    min_distance: f32,
    /// Variety: 0 always takes the best song; higher draws more widely
    /// (seeded by the request and the day).
    #[arg(long, default_value_t = encore_rank::MixRequest::default().temperature)]
    temperature: f32,
    /// Weight of the similarity to songs already chosen, 0–1 (more: a
    /// wider mix).
    #[arg(long, default_value_t = encore_rank::MixRequest::default().diversity)]
    diversity: f32,
    /// Weight of the user's taste, 0–1.
    #[arg(long, default_value_t = encore_rank::MixRequest::default().personal)]
    personal: f32,
    /// With --user: leave out songs they played within this many days.
    #[arg(long, default_value_t = 30)]
    exclude_played_days: u32,
    /// The day, YYYY-MM-DD (default: today, UTC): the same request on the
    /// same day gives the same mix.
    #[arg(long)]
    date: Option<String>,
    #[command(flatten)]
    tunables: TunableArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// A path from one song to another in small, even steps.
#[derive(Debug, clap::Args)]
pub struct PathArgs {
    /// The first song (store id).
    #[arg(long)]
    from: i64,
    /// The last song (store id).
    #[arg(long)]
    to: i64,
    /// Songs on the path, both ends included.
    #[arg(short, default_value_t = 25)]
    n: usize,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Songs a user played often and then stopped playing.
#[derive(Debug, clap::Args)]
pub struct RediscoverArgs {
    /// The user's name.
    #[arg(long)]
    user: String,
    /// How many songs.
    #[arg(short, default_value_t = 30)]
    n: usize,
    /// Leave out songs played within this many days.
    #[arg(long, default_value_t = encore_rank::RediscoverRequest::default().quiet_days)]
    quiet_days: u32,
    /// The day, YYYY-MM-DD (default: today, UTC).
    #[arg(long)]
    date: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// A user's sonic fingerprint and unplayed songs near it.
#[derive(Debug, clap::Args)]
pub struct FingerprintArgs {
    /// The user's name.
    #[arg(long)]
    user: String,
    /// How many songs.
    #[arg(short, default_value_t = 30)]
    n: usize,
    /// The day, YYYY-MM-DD (default: today, UTC).
    #[arg(long)]
    date: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn open(data_dir: &Path) -> anyhow::Result<Engine> {
    Engine::open(data_dir).map_err(|e| anyhow::anyhow!(e))
}

pub fn mix(data_dir: &Path, a: MixArgs) -> anyhow::Result<ExitCode> {
    let engine = open(data_dir)?;
    let songs = a
        .songs
        .iter()
        .map(|s| {
            let (id, w) = weighted(s);
            Ok((id.trim().parse::<i64>().with_context(|| format!("--song takes a song id, got {id:?}"))?, w))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let playlist = match &a.playlist {
        Some(p) => encore_engine::playlist::read(p)?,
        None => Vec::new(),
    };
    let user = a.user.as_deref().map(|u| engine.user_named(u)).transpose()?;
    let q = MixQuery {
        songs,
        albums: a.albums.iter().map(|s| weighted(s)).collect(),
        artists: a.artists.iter().map(|s| weighted(s)).collect(),
        genres: a.genres.iter().map(|s| weighted(s)).collect(),
        playlist,
        user,
        n: Some(a.n),
        seed_first: a.seed_first,
        max_per_artist: Some(a.max_per_artist),
        max_per_album: Some(a.max_per_album),
        min_distance: Some(a.min_distance),
        temperature: Some(a.temperature),
        diversity: Some(a.diversity),
        personal: Some(a.personal),
        exclude_played_days: Some(a.exclude_played_days),
        tunables: a.tunables.tunables()?,
        day: a.date.clone(),
    };
    let m = engine.mix(&q)?;
    if a.json {
        ui::print_json(&m)?;
    } else {
        print_mix(&m);
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints numbered songs with their explanations.
fn print_items<'a>(items: impl Iterator<Item = (i64, Option<&'a str>, &'a str, String)>) {
    for (i, (id, artist, title, why)) in items.enumerate() {
        println!("{:>3}. [{id}] {} – {title}\n       {why}", i + 1, artist.unwrap_or("?"));
    }
}

fn print_mix(m: &Mix) {
    let seeds: Vec<String> =
        m.seeds.iter().map(|s| format!("{} {} ({} songs, weight {})", s.kind, s.name, s.songs, s.weight)).collect();
    println!("mix of {} for {} from {}", m.date, m.user.as_deref().unwrap_or("anyone"), seeds.join("; "));
    for u in &m.unmatched {
        eprintln!("playlist entry not in the catalog: {u}");
    }
    print_items(m.items.iter().map(|it| {
        let album = it.album.as_deref().map(|a| format!(" (album: {a})")).unwrap_or_default();
        (it.song_id, it.artist.as_deref(), it.title.as_str(), format!("{}{album}", it.explanation))
    }));
}

pub fn path(data_dir: &Path, a: PathArgs) -> anyhow::Result<ExitCode> {
    let engine = open(data_dir)?;
    let p = engine.path(a.from, a.to, a.n)?;
    if a.json {
        ui::print_json(&p)?;
        return Ok(ExitCode::SUCCESS);
    }
    let space: Vec<String> = p.space.iter().map(|(k, w)| format!("{k} {w}")).collect();
    println!(
        "path of {} songs in the joint space ({}): largest step {:.3}, mean step {:.3}, straight distance {:.3}",
        p.items.len(),
        space.join(" + "),
        p.stats.max_step,
        p.stats.mean_step,
        p.stats.direct
    );
    for (i, it) in p.items.iter().enumerate() {
        println!(
            "{:>3}. [{}] {} – {} ({}) step {:.3}",
            i + 1,
            it.song_id,
            it.artist.as_deref().unwrap_or("?"),
            it.title,
            it.genre.as_deref().unwrap_or("?"),
            it.step
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn rediscover(data_dir: &Path, a: RediscoverArgs) -> anyhow::Result<ExitCode> {
    let engine = open(data_dir)?;
    let user = engine.user_named(&a.user)?;
    let day = a.date.clone().unwrap_or_else(encore_engine::today);
    let r = engine.rediscover(user, &day, a.n, Some(a.quiet_days))?;
    if a.json {
        ui::print_json(&r)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("rediscover, {} for {}: {} of {} songs loved and left", r.date, r.user, r.items.len(), r.candidates);
    print_items(r.items.iter().map(|it| (it.song_id, it.artist.as_deref(), it.title.as_str(), it.explanation.clone())));
    Ok(ExitCode::SUCCESS)
}

pub fn fingerprint(data_dir: &Path, a: FingerprintArgs) -> anyhow::Result<ExitCode> {
    let engine = open(data_dir)?;
    let user = engine.user_named(&a.user)?;
    let f = engine.fingerprint(user, a.n, a.date.as_deref())?;
    if a.json {
        ui::print_json(&f)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("sonic fingerprint of {}: {} clusters", f.user, f.clusters.len());
    for (i, c) in f.clusters.iter().enumerate() {
        println!(
            "  {}. {:.0} % of plays, {} songs: {} · {} · {} · {}",
            i + 1,
            100.0 * c.weight,
            c.song_ids.len(),
            c.genre.as_deref().unwrap_or("?"),
            c.tempo.map_or("? BPM".into(), |t| format!("{t:.0} BPM")),
            c.loudness.map_or("? LUFS".into(), |l| format!("{l:.1} LUFS")),
            c.major_share.map_or("?".into(), |m| format!("{:.0} % major", 100.0 * m)),
        );
    }
    print_items(f.items.iter().map(|it| (it.song_id, it.artist.as_deref(), it.title.as_str(), it.explanation.clone())));
    Ok(ExitCode::SUCCESS)
}
