//! `encore eval-mixes`: the mixes measured on the demo world, whose ground
//! truth knows every song's genre, mood, instrument and groove and every
//! listener's taste, next to simple baselines.
//!
//! Runs on a copy of the store (the daily lists it asks for are recorded
//! there, not in the data directory's store).
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use encore_engine::mixes::MixQuery;
use encore_engine::{Engine, SimilarBy};
use encore_rank::{MixRequest, PathMethod};
use encore_sim::{World, WorldConfig};
use rand::seq::{IndexedRandom, SliceRandom};
use rand::SeedableRng;
use serde::Serialize;

use crate::ui;

/// Measure the mixes on a demo world's data directory.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The demo world's seed (as given to `encore demo`).
    #[arg(long, default_value_t = 42)]
    world_seed: u64,
    /// Its users.
    #[arg(long, default_value_t = 2000)]
    world_users: usize,
    /// Its songs.
    #[arg(long, default_value_t = 1000)]
    world_songs: usize,
    /// Seed songs (and song pairs for paths) to measure.
    #[arg(long, default_value_t = 100)]
    seeds: usize,
    /// Users for the daily lists and the fingerprint.
    #[arg(long, default_value_t = 40)]
    users: usize,
    /// Songs per mix.
    #[arg(short, default_value_t = 30)]
    n: usize,
    /// The mix's temperature (default: the mix's own).
    #[arg(long)]
    temperature: Option<f32>,
    /// The mix's diversity weight (default: the mix's own).
    #[arg(long)]
    diversity: Option<f32>,
    /// The mix's least distance between consecutive songs (default: the
    /// mix's own).
    #[arg(long)]
    min_distance: Option<f32>,
    /// Measure the instant mixes from songs only (for tuning their
    /// settings).
    #[arg(long)]
    song_mixes_only: bool,
    /// Also write the JSON report to this file.
    #[arg(long)]
    out: Option<std::path::PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Quality of one kind of list, averaged over the lists.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ListQuality {
    /// What made the lists.
    pub method: String,
    /// Lists measured.
    pub lists: usize,
    /// Mean length.
    pub length: f64,
    /// Share of items with the seed's genre.
    pub same_genre: f64,
    /// Share of items with the seed's mood.
    pub same_mood: f64,
    /// Share of items with the seed's lead instrument.
    pub same_instrument: f64,
    /// Intra-list distance from the truth: mean over item pairs of the
    /// share of genre, mood and instrument that differ.
    pub intra_list_distance: f64,
    /// Distinct artists per item.
    pub artists_per_item: f64,
}

/// Evenness of paths.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PathQuality {
    /// What made the paths.
    pub method: String,
    /// Paths measured.
    pub paths: usize,
    /// Median of the largest step.
    pub median_max_step: f64,
    /// Median of the mean step.
    pub median_mean_step: f64,
    /// Median of largest / mean step (1 = perfectly even).
    pub median_unevenness: f64,
}

/// Songs repeated across seven consecutive days.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Repeats {
    /// The list.
    pub list: String,
    /// Users measured.
    pub users: usize,
    /// Songs served in all.
    pub served: usize,
    /// Songs served on more than one day (must be 0 for discovery and
    /// rediscovery).
    pub repeated: usize,
}

/// Fit of a fingerprint mix to the listener's true taste.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TasteFit {
    /// What made the lists.
    pub method: String,
    /// Users measured.
    pub users: usize,
    /// Mean true sound affinity of the items (mood × instrument × groove
    /// weights; about 1 for random songs).
    pub sound_affinity: f64,
    /// Mean true genre share of the items in the user's taste.
    pub genre_taste: f64,
}

/// The whole measurement.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Instant mixes from one song, and baselines.
    pub song_mixes: Vec<ListQuality>,
    /// Instant mixes from one artist (coherence against the artist's
    /// genre), and a baseline.
    pub artist_mixes: Vec<ListQuality>,
    /// Paths and baselines.
    pub paths: Vec<PathQuality>,
    /// Repeats over seven days.
    pub repeats: Vec<Repeats>,
    /// Fingerprint mixes, the one-centroid version and random songs.
    pub fingerprint: Vec<TasteFit>,
    /// Rediscovery: mean plays of the rediscovered songs over the mean
    /// plays of the users' songs (above 1 = loved songs).
    pub rediscover_play_ratio: f64,
    /// Users with at least one song to rediscover.
    pub rediscover_users: usize,
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// Truth of one song: (genre, mood, instrument, groove, artist).
type Truth = (usize, usize, usize, usize, usize);

struct Acc {
    method: String,
    lists: usize,
    length: f64,
    same: [f64; 3],
    ild: f64,
    artists: f64,
}

impl Acc {
    fn new(method: &str) -> Acc {
        Acc { method: method.into(), lists: 0, length: 0.0, same: [0.0; 3], ild: 0.0, artists: 0.0 }
    }

    fn add(&mut self, seed: [usize; 3], items: &[Truth]) {
        if items.is_empty() {
            return;
        }
        let n = items.len() as f64;
        self.lists += 1;
        self.length += n;
        self.same[0] += items.iter().filter(|t| t.0 == seed[0]).count() as f64 / n;
        self.same[1] += items.iter().filter(|t| t.1 == seed[1]).count() as f64 / n;
        self.same[2] += items.iter().filter(|t| t.2 == seed[2]).count() as f64 / n;
        let (mut d, mut pairs) = (0.0, 0.0);
        for i in 0..items.len() {
            for j in i + 1..items.len() {
                let (a, b) = (items[i], items[j]);
                d += ((a.0 != b.0) as u8 + (a.1 != b.1) as u8 + (a.2 != b.2) as u8) as f64 / 3.0;
                pairs += 1.0;
            }
        }
        self.ild += if pairs > 0.0 { d / pairs } else { 0.0 };
        self.artists += items.iter().map(|t| t.4).collect::<HashSet<_>>().len() as f64 / n;
    }

    fn done(self) -> ListQuality {
        let l = self.lists.max(1) as f64;
        ListQuality {
            method: self.method,
            lists: self.lists,
            length: self.length / l,
            same_genre: self.same[0] / l,
            same_mood: self.same[1] / l,
            same_instrument: self.same[2] / l,
            intra_list_distance: self.ild / l,
            artists_per_item: self.artists / l,
        }
    }
}

/// A scratch copy of the data directory: the store copied, everything else
/// linked.
fn scratch(data_dir: &Path) -> anyhow::Result<tempfile::TempDir> {
    let tmp = tempfile::tempdir().context("creating a scratch directory")?;
    for e in std::fs::read_dir(data_dir).with_context(|| format!("reading {}", data_dir.display()))? {
        let e = e?;
        let name = e.file_name();
        let to = tmp.path().join(&name);
        if name.to_string_lossy().starts_with("encore.db") {
            std::fs::copy(e.path(), &to).with_context(|| format!("copying {}", e.path().display()))?;
        } else {
            let from = std::fs::canonicalize(e.path())?;
            #[cfg(unix)]
            std::os::unix::fs::symlink(&from, &to)?;
            #[cfg(not(unix))]
            anyhow::bail!("eval-mixes needs symbolic links (unix)");
        }
    }
    Ok(tmp)
}

pub fn run(data_dir: &Path, a: Args) -> anyhow::Result<ExitCode> {
    let world = World::generate(&WorldConfig {
        users: a.world_users,
        songs: a.world_songs,
        seed: a.world_seed,
        ..Default::default()
    });
    let tmp = scratch(data_dir)?;
    let engine = Engine::open(tmp.path()).map_err(|e| anyhow::anyhow!(e))?;
    let m = engine.models();
    let c = m.catalog();
    // Catalog songs ↔ world songs, by MusicBrainz id.
    let by_mbid: HashMap<&str, usize> = world.songs.iter().map(|s| (s.mbid.as_str(), s.id)).collect();
    let keys = engine.song_keys()?;
    let mut truth: HashMap<i64, Truth> = HashMap::new();
    for encore_engine::views::SongKey { id, mbid, .. } in &keys {
        if let Some(&w) = mbid.as_deref().and_then(|x| by_mbid.get(x)) {
            let s = &world.songs[w];
            truth.insert(*id, (s.genre, s.mood, s.instrument, s.groove, s.artist));
        }
    }
    anyhow::ensure!(
        truth.len() * 2 >= c.len(),
        "only {} of {} songs match the world (seed {}, {} users, {} songs): is this the demo's data directory?",
        truth.len(),
        c.len(),
        a.world_seed,
        a.world_users,
        a.world_songs
    );
    let t_of = |ids: &[i64]| -> Vec<Truth> { ids.iter().filter_map(|id| truth.get(id).copied()).collect() };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let day = "2026-12-01";
    let base = MixQuery {
        temperature: a.temperature,
        diversity: a.diversity,
        min_distance: a.min_distance,
        day: Some(day.into()),
        ..Default::default()
    };

    // Instant mixes from one song, against nearest neighbours by one model
    // and random songs.
    let mut with_audio: Vec<i64> = (0..c.len())
        .filter(|&s| c.audio[s].is_some() && truth.contains_key(&c.song_ids[s]))
        .map(|s| c.song_ids[s])
        .collect();
    with_audio.shuffle(&mut rng);
    let seeds: Vec<i64> = with_audio.iter().take(a.seeds).copied().collect();
    let mut accs: Vec<Acc> =
        ["mix", "mix (no variety: temperature 0)", "nearest by cf", "nearest by audio", "nearest by hybrid", "random"]
            .iter()
            .map(|m| Acc::new(m))
            .collect();
    let all_ids: Vec<i64> = c.song_ids.clone();
    let bar = ui::count_bar(seeds.len() as u64, "song mixes");
    for &sid in &seeds {
        let st = truth[&sid];
        let seed = [st.0, st.1, st.2];
        for (k, temp) in [(0, None), (1, Some(0.0))] {
            let q =
                MixQuery { songs: vec![(sid, 1.0)], n: Some(a.n), temperature: temp.or(a.temperature), ..base.clone() };
            let mix = engine.mix(&q)?;
            accs[k].add(seed, &t_of(&mix.items.iter().map(|i| i.song_id).collect::<Vec<_>>()));
        }
        for (k, by) in [(2, SimilarBy::Cf), (3, SimilarBy::Audio), (4, SimilarBy::Hybrid)] {
            if let Ok(list) = engine.similar(sid, by, a.n) {
                accs[k].add(seed, &t_of(&list.iter().map(|x| x.0).collect::<Vec<_>>()));
            }
        }
        let random: Vec<i64> =
            all_ids.choose_multiple(&mut rng, a.n + 1).copied().filter(|&x| x != sid).take(a.n).collect();
        accs[5].add(seed, &t_of(&random));
        bar.inc(1);
    }
    bar.finish_and_clear();
    let song_mixes: Vec<ListQuality> = accs.into_iter().map(Acc::done).collect();
    if a.song_mixes_only {
        return finish(&a, &Report { song_mixes, ..Default::default() });
    }

    // Artist mixes: coherence against the artist's genre (mood and
    // instrument against its most common ones).
    let mut artist_accs = vec![Acc::new("mix"), Acc::new("random")];
    let mut artists: Vec<usize> = (0..world.artists.len()).collect();
    artists.shuffle(&mut rng);
    for &ar in artists.iter().take(a.seeds / 2) {
        let art = &world.artists[ar];
        let seed = [art.genre, art.mood, art.instrument];
        let q = MixQuery { artists: vec![(art.name.clone(), 1.0)], n: Some(a.n), ..base.clone() };
        let Ok(mix) = engine.mix(&q) else { continue };
        artist_accs[0].add(seed, &t_of(&mix.items.iter().map(|i| i.song_id).collect::<Vec<_>>()));
        let random: Vec<i64> = all_ids.choose_multiple(&mut rng, a.n).copied().collect();
        artist_accs[1].add(seed, &t_of(&random));
    }
    let artist_mixes = artist_accs.into_iter().map(Acc::done).collect();

    // Paths between random pairs.
    let mut paths = Vec::new();
    let methods = [
        ("smooth path", PathMethod::Smooth),
        ("nearest song to each step point", PathMethod::NearestToLine),
        ("random songs", PathMethod::Random(11)),
    ];
    let pairs: Vec<(i64, i64)> =
        with_audio.chunks(2).filter(|p| p.len() == 2).take(a.seeds / 2).map(|p| (p[0], p[1])).collect();
    for (name, method) in methods {
        let (mut mx, mut mn, mut un) = (Vec::new(), Vec::new(), Vec::new());
        for &(x, y) in &pairs {
            let Ok(p) = engine.path_with(x, y, 25, method) else { continue };
            mx.push(p.stats.max_step as f64);
            mn.push(p.stats.mean_step as f64);
            un.push(p.stats.max_step as f64 / (p.stats.mean_step as f64).max(1e-9));
        }
        paths.push(PathQuality {
            method: name.into(),
            paths: mx.len(),
            median_max_step: median(mx),
            median_mean_step: median(mn),
            median_unevenness: median(un),
        });
    }

    // Seven days of discovery, rediscovery and instant mixes per user.
    let mut users: Vec<&encore_sim::User> = world.users.iter().collect();
    users.shuffle(&mut rng);
    let users: Vec<(i64, &encore_sim::User)> =
        users.into_iter().filter_map(|u| engine.user_named(&u.name).ok().map(|id| (id, u))).take(a.users).collect();
    let today = encore_engine::today();
    let mut reps: Vec<Repeats> = ["discover", "rediscover", "mix (same seed daily)"]
        .iter()
        .map(|l| Repeats { list: l.to_string(), users: users.len(), ..Default::default() })
        .collect();
    let (mut plays_ratio, mut rediscover_users) = (Vec::new(), 0);
    let bar = ui::count_bar(users.len() as u64, "daily lists");
    for &(uid, _) in &users {
        let mut seen: [HashSet<i64>; 3] = Default::default();
        let history = engine.user_history(uid)?;
        let seed_song = history.iter().max_by(|a, b| a.plays.total_cmp(&b.plays)).map(|h| h.song_id);
        for k in 0..7 {
            let d = encore_engine::mixes::day_offset(&today, k).context("today is a day")?;
            let lists: [Vec<i64>; 3] = [
                engine.discover(uid, &d, 20)?.items.iter().map(|i| i.song_id).collect(),
                engine.rediscover(uid, &d, 10, None)?.items.iter().map(|i| i.song_id).collect(),
                match seed_song {
                    Some(s) => engine
                        .mix(&MixQuery {
                            songs: vec![(s, 1.0)],
                            user: Some(uid),
                            n: Some(20),
                            day: Some(d.clone()),
                            ..base.clone()
                        })?
                        .items
                        .iter()
                        .map(|i| i.song_id)
                        .collect(),
                    None => Vec::new(),
                },
            ];
            for (j, list) in lists.iter().enumerate() {
                for id in list {
                    reps[j].served += 1;
                    if !seen[j].insert(*id) {
                        reps[j].repeated += 1;
                    }
                }
            }
            if k == 0 && !lists[1].is_empty() {
                rediscover_users += 1;
                let mean_all = history.iter().map(|h| h.plays as f64).sum::<f64>() / history.len().max(1) as f64;
                let plays: HashMap<i64, f32> = history.iter().map(|h| (h.song_id, h.plays)).collect();
                let mean_r = lists[1].iter().map(|id| plays.get(id).copied().unwrap_or(0.0) as f64).sum::<f64>()
                    / lists[1].len() as f64;
                plays_ratio.push(mean_r / mean_all.max(1e-9));
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();

    // Fingerprints: three centroids, one, and random unplayed songs,
    // against each listener's true taste.
    let h = m.hybrid()?;
    let mut fits: Vec<(String, f64, f64, usize)> = vec![
        ("fingerprint (3 centroids)".into(), 0.0, 0.0, 0),
        ("one mean".into(), 0.0, 0.0, 0),
        ("random unplayed".into(), 0.0, 0.0, 0),
    ];
    for &(uid, user) in &users {
        let played = engine.played(uid)?;
        let exclude: HashSet<usize> = played.iter().map(|p| p.song).collect();
        let fit = |ids: &[i64]| -> Option<(f64, f64)> {
            let t = t_of(ids);
            (!t.is_empty()).then(|| {
                let n = t.len() as f64;
                (
                    t.iter().map(|x| user.sound_taste.affinity(x.1, x.2, x.3)).sum::<f64>() / n,
                    t.iter().map(|x| user.taste[x.0]).sum::<f64>() / n,
                )
            })
        };
        for (k, cents) in [(0, h.fingerprint(&played, 3, 50)), (1, h.fingerprint(&played, 1, 50))] {
            if cents.is_empty() {
                continue;
            }
            let req = MixRequest {
                centroids: cents,
                n: a.n,
                personal: 0.0,
                exclude: exclude.clone(),
                ..MixRequest::default()
            };
            let items = h.mix(None, &req)?;
            let ids: Vec<i64> = items.iter().map(|i| c.song_ids[i.song]).collect();
            if let Some((s, g)) = fit(&ids) {
                fits[k].1 += s;
                fits[k].2 += g;
                fits[k].3 += 1;
            }
        }
        let unplayed: Vec<i64> = (0..c.len()).filter(|s| !exclude.contains(s)).map(|s| c.song_ids[s]).collect();
        let random: Vec<i64> = unplayed.choose_multiple(&mut rng, a.n).copied().collect();
        if let Some((s, g)) = fit(&random) {
            fits[2].1 += s;
            fits[2].2 += g;
            fits[2].3 += 1;
        }
    }
    let fingerprint = fits
        .into_iter()
        .map(|(method, s, g, n)| TasteFit {
            method,
            users: n,
            sound_affinity: s / n.max(1) as f64,
            genre_taste: g / n.max(1) as f64,
        })
        .collect();

    let report = Report {
        song_mixes,
        artist_mixes,
        paths,
        repeats: reps,
        fingerprint,
        rediscover_play_ratio: median(plays_ratio),
        rediscover_users,
    };
    finish(&a, &report)
}

fn finish(a: &Args, report: &Report) -> anyhow::Result<ExitCode> {
    if let Some(out) = &a.out {
        std::fs::write(out, serde_json::to_vec_pretty(report)?)
            .with_context(|| format!("writing {}", out.display()))?;
    }
    if a.json {
        ui::print_json(report)?;
    } else {
        print(report);
    }
    Ok(ExitCode::SUCCESS)
}

fn print(r: &Report) {
    let lists = |title: &str, v: &[ListQuality]| {
        println!("{title}");
        println!(
            "  {:<34} {:>5} {:>6} {:>7} {:>7} {:>7} {:>7} {:>8}",
            "method", "lists", "len", "genre", "mood", "instr", "ILD", "artists"
        );
        for q in v {
            println!(
                "  {:<34} {:>5} {:>6.1} {:>7.3} {:>7.3} {:>7.3} {:>7.3} {:>8.3}",
                q.method,
                q.lists,
                q.length,
                q.same_genre,
                q.same_mood,
                q.same_instrument,
                q.intra_list_distance,
                q.artists_per_item
            );
        }
    };
    lists(
        "instant mix from one song (share of items with the seed's genre / mood / instrument; ILD from the truth)",
        &r.song_mixes,
    );
    if r.artist_mixes.is_empty() {
        return;
    }
    lists("instant mix from one artist", &r.artist_mixes);
    println!("paths of 25 songs (joint audio + CF space)");
    println!("  {:<34} {:>5} {:>9} {:>9} {:>11}", "method", "paths", "max step", "mean step", "max / mean");
    for p in &r.paths {
        println!(
            "  {:<34} {:>5} {:>9.3} {:>9.3} {:>11.2}",
            p.method, p.paths, p.median_max_step, p.median_mean_step, p.median_unevenness
        );
    }
    println!("seven consecutive days");
    for x in &r.repeats {
        println!("  {:<34} {} users, {} songs served, {} repeated", x.list, x.users, x.served, x.repeated);
    }
    println!("fingerprint mixes against each listener's true taste");
    for f in &r.fingerprint {
        println!(
            "  {:<34} {} users, sound affinity {:.3}, genre taste {:.3}",
            f.method, f.users, f.sound_affinity, f.genre_taste
        );
    }
    println!(
        "rediscovery: {} users with songs to rediscover; their plays / the user's mean plays: {:.2} (median)",
        r.rediscover_users, r.rediscover_play_ratio
    );
}
