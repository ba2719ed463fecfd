//! The mixes people ask for, with names: an instant mix from any seeds
//! (songs, albums, artists, genres, a playlist), a path between two songs,
//! rediscovery, and a user's sonic fingerprint. The ranking is
//! [`encore_rank`]'s (see its `mix` module); this module resolves seeds,
//! applies a user's exclusions and days, and names and explains results.

mod path;
mod rediscover;

use std::collections::{HashMap, HashSet};

use encore_rank::{MixReason, MixRequest, MixSeed, Tunables};

use encore_store::Store;

use encore_types::normalize_name;

use serde::{Deserialize, Serialize};

use crate::playlist::PlaylistEntry;

pub use path::{PathEntry, SongPath};
pub use rediscover::{Fingerprint, FingerprintCluster, RediscoverEntry, Rediscovery};

use crate::{chrono_day, now, played, today, Engine, EngineError, Models, Result};

/// Songs an artist seed stands for (most listened first).
const ARTIST_SEED_SONGS: usize = 10;

/// Songs a genre seed stands for (most listened first).
const GENRE_SEED_SONGS: usize = 20;

/// What to mix: seeds of every kind, each with a weight (default 1), and
/// the rules. Unset rules take the defaults of [`MixRequest`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MixQuery {
    /// Seed songs (store ids) and weights.
    pub songs: Vec<(i64, f32)>,
    /// Seed albums (release names) and weights.
    pub albums: Vec<(String, f32)>,
    /// Seed artists (names) and weights.
    pub artists: Vec<(String, f32)>,
    /// Seed genres and weights.
    pub genres: Vec<(String, f32)>,
    /// A playlist's entries as one seed (weight 1).
    pub playlist: Vec<PlaylistEntry>,
    /// Personalise for this user (store id): their taste is mixed in and
    /// their recent and disliked songs are left out.
    pub user: Option<i64>,
    /// How many songs (default 50).
    pub n: Option<usize>,
    /// Start with the heaviest seed song.
    pub seed_first: bool,
    /// At most this many songs per artist (default 2).
    pub max_per_artist: Option<usize>,
    /// At most this many songs per album (default 3).
    pub max_per_album: Option<usize>,
    /// Least distance between consecutive songs (default 0.05).
    pub min_distance: Option<f32>,
    /// Variety: sampling temperature (default 0.1; 0 = always the best).
    pub temperature: Option<f32>,
    /// Weight of the similarity to songs already chosen (MMR; default
    /// 0.5).
    pub diversity: Option<f32>,
    /// Weight of the user's taste (default 0.3).
    pub personal: Option<f32>,
    /// With a user: leave out songs they played within this many days
    /// (default 30).
    pub exclude_played_days: Option<u32>,
    /// Attribute bounds and targets.
    pub tunables: Tunables,
    /// The day (YYYY-MM-DD; default today): the same request on the same
    /// day gives the same mix.
    pub day: Option<String>,
}

/// A seed as it was understood.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeedUsed {
    /// `song`, `album`, `artist`, `genre` or `playlist`.
    pub kind: &'static str,
    /// What was asked for.
    pub name: String,
    /// Its weight.
    pub weight: f32,
    /// Catalog songs that stand for it.
    pub songs: usize,
}

/// One song of a mix, named and explained.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MixEntry {
    /// Store id.
    pub song_id: i64,
    /// Title.
    pub title: String,
    /// Artist name.
    pub artist: Option<String>,
    /// Artist id.
    pub artist_id: Option<i64>,
    /// Album.
    pub album: Option<String>,
    /// Genre.
    pub genre: Option<String>,
    /// Relevance to the seeds (standardised, plus taste).
    pub relevance: f32,
    /// The model that makes it close (`cf`, `audio`, `text`,
    /// `fingerprint`, `seed`).
    pub by: String,
    /// The closest seed song, if any.
    pub seed_song_id: Option<i64>,
    /// Why, as a sentence.
    pub explanation: String,
}

/// An instant mix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mix {
    /// The seeds.
    pub seeds: Vec<SeedUsed>,
    /// Playlist entries that matched no catalog song ("line N: artist – title").
    pub unmatched: Vec<String>,
    /// The user it is personalised for.
    pub user: Option<String>,
    /// The day it is for.
    pub date: String,
    /// Release (or CF model) version used.
    pub model_version: String,
    /// The songs.
    pub items: Vec<MixEntry>,
}

/// Seeds as catalog songs, what they leave out, and how they were read.
struct Resolved {
    seeds: Vec<MixSeed>,
    exclude: HashSet<usize>,
    used: Vec<SeedUsed>,
    unmatched: Vec<String>,
}

fn weight_ok(kind: &str, name: &str, w: f32) -> Result<()> {
    if w.is_finite() && w > 0.0 && w <= 100.0 {
        Ok(())
    } else {
        Err(EngineError::BadRequest(format!("the weight of {kind} {name:?} must be above 0 and at most 100, got {w}")))
    }
}

fn song_name(store: &Store, id: i64) -> Result<String> {
    Ok(store
        .songs(&[id])?
        .pop()
        .map(|s| format!("\"{}\" by {}", s.title, s.artist.unwrap_or_else(|| "an unknown artist".into())))
        .unwrap_or_else(|| format!("song {id}")))
}

impl Engine {
    /// The store id of the user called `name`.
    pub fn user_named(&self, name: &str) -> Result<i64> {
        self.with_store(|s| s.user_id(name)?.ok_or_else(|| EngineError::NotFound(format!("no user called {name:?}"))))
    }

    /// The user a request names: by name first (a name made of digits is
    /// found when a user has it), else by store id; an unknown name:
    /// `NotFound`.
    pub fn user_ref(&self, raw: &str) -> Result<i64> {
        match self.user_named(raw) {
            // Whether the id exists is the caller's NotFound.
            Err(EngineError::NotFound(_)) => raw.parse::<i64>().map_err(|_| {
                EngineError::NotFound(format!("no user called {:?}", raw.chars().take(40).collect::<String>()))
            }),
            found => found,
        }
    }

    /// Every user's name, by id.
    pub fn user_names(&self) -> Result<Vec<(i64, String)>> {
        self.with_store(|s| Ok(s.user_names()?))
    }

    /// Songs standing for each seed of `q`, and the seeds as understood.
    fn resolve_seeds(&self, store: &Store, m: &Models, q: &MixQuery) -> Result<Resolved> {
        let c = &m.catalog;
        let mut seeds: Vec<MixSeed> = Vec::new();
        let mut exclude = HashSet::new();
        let mut used = Vec::new();
        let by_listeners = |mut v: Vec<usize>, k: usize| -> Vec<usize> {
            v.sort_by(|&a, &b| c.listeners[b].total_cmp(&c.listeners[a]).then(a.cmp(&b)));
            v.truncate(k);
            v
        };
        let mut add = |kind: &'static str, name: String, w: f32, songs: Vec<usize>, excluded: bool| {
            used.push(SeedUsed { kind, name, weight: w, songs: songs.len() });
            for &s in &songs {
                seeds.push(MixSeed { song: s, weight: w / songs.len() as f32 });
                if excluded {
                    exclude.insert(s);
                }
            }
        };
        for &(id, w) in &q.songs {
            weight_ok("song", &id.to_string(), w)?;
            add("song", id.to_string(), w, vec![self.song_index(m, id)?], true);
        }
        for (name, w) in &q.albums {
            weight_ok("album", name, *w)?;
            let key = normalize_name(name);
            let ids: HashSet<u32> = c
                .album_names
                .iter()
                .enumerate()
                .filter(|(_, a)| normalize_name(a) == key)
                .map(|(i, _)| i as u32)
                .collect();
            let songs: Vec<usize> = (0..c.len()).filter(|&s| c.album_of(s).is_some_and(|a| ids.contains(&a))).collect();
            if songs.is_empty() {
                return Err(EngineError::NotFound(format!("no album named {name:?}")));
            }
            add("album", name.clone(), *w, songs, true);
        }
        if !q.artists.is_empty() {
            let artists = store.artists()?;
            for (name, w) in &q.artists {
                weight_ok("artist", name, *w)?;
                let key = normalize_name(name);
                let ids: HashSet<i64> = artists.iter().filter(|a| normalize_name(&a.1) == key).map(|a| a.0).collect();
                let songs: Vec<usize> =
                    (0..c.len()).filter(|&s| c.artist[s].is_some_and(|a| ids.contains(&a))).collect();
                if songs.is_empty() {
                    return Err(EngineError::NotFound(format!("no artist named {name:?} with songs")));
                }
                add("artist", name.clone(), *w, by_listeners(songs, ARTIST_SEED_SONGS), false);
            }
        }
        for (name, w) in &q.genres {
            weight_ok("genre", name, *w)?;
            let key = normalize_name(name);
            let songs: Vec<usize> =
                (0..c.len()).filter(|&s| c.genre[s].as_deref().is_some_and(|g| normalize_name(g) == key)).collect();
            if songs.is_empty() {
                return Err(EngineError::NotFound(format!("no genre named {name:?}")));
            }
            add("genre", name.clone(), *w, by_listeners(songs, GENRE_SEED_SONGS), false);
        }
        let mut unmatched = Vec::new();
        if !q.playlist.is_empty() {
            let (songs, missed) = match_playlist(store, m, &q.playlist)?;
            unmatched = missed;
            if songs.is_empty() {
                return Err(EngineError::NotFound(format!(
                    "no entry of the playlist matches a catalog song ({} entries)",
                    q.playlist.len()
                )));
            }
            add("playlist", format!("{} entries", q.playlist.len()), 1.0, songs, true);
        }
        if seeds.is_empty() {
            return Err(EngineError::BadRequest("a mix needs a seed: a song, album, artist, genre or playlist".into()));
        }
        Ok(Resolved { seeds, exclude, used, unmatched })
    }

    /// An instant mix (see [`MixQuery`]).
    pub fn mix(&self, q: &MixQuery) -> Result<Mix> {
        let day = q.day.clone().unwrap_or_else(today);
        if chrono_day(&day).is_none() {
            return Err(EngineError::BadRequest(format!("date must be YYYY-MM-DD, got {day:?}")));
        }
        let m = self.models();
        let h = m.hybrid()?;
        let defaults = MixRequest::default();
        let (resolved, history, user) = self.with_store(|store| {
            let resolved = self.resolve_seeds(store, &m, q)?;
            let (history, user) = match q.user {
                Some(u) => (played(store, &m.catalog, u)?, Some(self.user(store, u)?)),
                None => (Vec::new(), None),
            };
            Ok((resolved, history, user))
        })?;
        let Resolved { seeds, mut exclude, used, unmatched } = resolved;
        let days = q.exclude_played_days.unwrap_or(30) as i64;
        let t = now();
        for p in &history {
            let disliked = p.skips > 0 && !p.liked();
            if disliked || (p.last_played > 0 && t - p.last_played < days * 86_400) {
                exclude.insert(p.song);
            }
        }
        let profile = user.as_ref().map(|_| h.profile(&history, &[], &[]));
        let mut key = q.clone();
        key.day = None;
        let rng_seed = xxhash_rust::xxh3::xxh3_64(
            format!(
                "{}/{day}",
                serde_json::to_string(&key).map_err(|e| EngineError::Inconsistent(format!("a mix request: {e}")))?
            )
            .as_bytes(),
        );
        let req = MixRequest {
            seeds,
            centroids: Vec::new(),
            n: q.n.unwrap_or(defaults.n),
            seed_first: q.seed_first,
            max_per_artist: q.max_per_artist.unwrap_or(defaults.max_per_artist),
            max_per_album: q.max_per_album.unwrap_or(defaults.max_per_album),
            min_distance: q.min_distance.unwrap_or(defaults.min_distance),
            temperature: q.temperature.unwrap_or(defaults.temperature),
            diversity: q.diversity.unwrap_or(defaults.diversity),
            personal: if profile.is_some() { q.personal.unwrap_or(defaults.personal) } else { 0.0 },
            rng_seed,
            exclude,
            tunables: q.tunables.clone(),
        };
        let items = h.mix(profile.as_ref(), &req)?;
        let entries = self.with_store(|store| self.mix_entries(store, &m, &items, &[]))?;
        Ok(Mix { seeds: used, unmatched, user, date: day, model_version: m.version(), items: entries })
    }

    fn mix_entries(
        &self,
        store: &Store,
        m: &Models,
        items: &[encore_rank::MixItem],
        clusters: &[FingerprintCluster],
    ) -> Result<Vec<MixEntry>> {
        let c = &m.catalog;
        // Each seed is named once, however many items it explains.
        let mut seeds: HashMap<usize, String> = HashMap::new();
        for s in items.iter().filter_map(|it| it.reason.seed) {
            if let std::collections::hash_map::Entry::Vacant(e) = seeds.entry(s) {
                e.insert(song_name(store, c.song_ids[s])?);
            }
        }
        let ids: Vec<i64> = items.iter().map(|it| c.song_ids[it.song]).collect();
        let infos = store.songs(&ids)?;
        if infos.len() != ids.len() {
            return Err(EngineError::Inconsistent("a song of the mix vanished from the store".into()));
        }
        let mut out = Vec::with_capacity(items.len());
        for ((it, id), info) in items.iter().zip(ids).zip(infos) {
            let seed = it.reason.seed.and_then(|s| seeds.get(&s)).map(String::as_str);
            out.push(MixEntry {
                song_id: id,
                title: info.title,
                artist: info.artist,
                artist_id: info.artist_id,
                album: c.album_of(it.song).map(|a| c.album_names[a as usize].clone()),
                genre: info.genre,
                relevance: it.relevance,
                by: it.reason.by.to_string(),
                seed_song_id: it.reason.seed.map(|s| c.song_ids[s]),
                explanation: mix_sentence(&it.reason, seed, clusters),
            });
        }
        Ok(out)
    }
}

/// Matches playlist entries to catalog songs: MusicBrainz id, then audio
/// path (or file name), then normalised artist and title.
fn match_playlist(store: &Store, m: &Models, entries: &[PlaylistEntry]) -> Result<(Vec<usize>, Vec<String>)> {
    let c = &m.catalog;
    let keys = store.song_keys()?;
    let by_mbid: HashMap<String, i64> =
        keys.iter().filter_map(|(id, mb, _)| mb.as_ref().map(|x| (x.to_ascii_lowercase(), *id))).collect();
    let file_name = |p: &str| p.rsplit(['/', '\\']).next().unwrap_or(p).to_string();
    let by_path: HashMap<String, i64> =
        keys.iter().filter_map(|(id, _, p)| p.as_ref().map(|p| (p.clone(), *id))).collect();
    let mut by_file: HashMap<String, Option<i64>> = HashMap::new();
    for (id, _, p) in &keys {
        if let Some(p) = p {
            // A file name shared by two songs matches neither.
            by_file.entry(file_name(p)).and_modify(|e| *e = None).or_insert(Some(*id));
        }
    }
    let artists: HashMap<i64, String> = store.artists()?.into_iter().map(|a| (a.0, normalize_name(&a.1))).collect();
    let mut by_name: HashMap<(String, String), i64> = HashMap::new();
    for (id, artist, title) in store.song_titles()? {
        let a = artist.and_then(|a| artists.get(&a).cloned()).unwrap_or_default();
        by_name.entry((a, normalize_name(&title))).or_insert(id);
    }
    let mut songs = Vec::new();
    let mut missed = Vec::new();
    for e in entries {
        let loc = e.location.as_deref().map(|l| l.strip_prefix("file://").unwrap_or(l));
        let id = e
            .mbid
            .as_ref()
            .and_then(|x| by_mbid.get(x).copied())
            .or_else(|| loc.and_then(|l| by_path.get(l).copied()))
            .or_else(|| loc.and_then(|l| by_file.get(&file_name(l)).copied().flatten()))
            .or_else(|| {
                let (a, t) = (e.artist.as_deref()?, e.title.as_deref()?);
                by_name.get(&(normalize_name(a), normalize_name(t))).copied()
            });
        match id.and_then(|id| c.index(id)) {
            Some(s) if !songs.contains(&s) => songs.push(s),
            Some(_) => {}
            None => missed.push(format!(
                "line {}: {} – {}",
                e.line,
                e.artist.as_deref().unwrap_or("?"),
                e.title.as_deref().or(e.location.as_deref()).unwrap_or("?")
            )),
        }
    }
    Ok((songs, missed))
}

/// The sentence for `r`, with its seed song's name.
fn mix_sentence(r: &MixReason, seed: Option<&str>, clusters: &[FingerprintCluster]) -> String {
    let cluster = r.centroid.and_then(|i| clusters.get(i).map(|k| (i, k)));
    let mut s = match (r.by, seed) {
        ("seed", _) => "your seed".to_string(),
        ("fingerprint", _) if cluster.is_some() => {
            let (i, k) = cluster.expect("checked");
            let mut what: Vec<String> = Vec::new();
            what.extend(k.genre.clone());
            what.extend(k.tempo.map(|t| format!("{t:.0} BPM")));
            format!("sounds like part {} of your sonic fingerprint ({})", i + 1, what.join(", "))
        }
        ("fingerprint", _) | (_, None) => "close to your sonic fingerprint".to_string(),
        ("audio", Some(name)) => {
            let mut s = format!("sounds like {name}");
            match (r.same_key, r.tempo) {
                (true, Some(t)) => s.push_str(&format!(": same key, {t:.0} BPM")),
                (true, None) => s.push_str(": same key"),
                (false, Some(t)) => s.push_str(&format!(": {t:.0} BPM")),
                (false, None) => {}
            }
            s
        }
        ("text", Some(name)) => format!("written about like {name}"),
        (_, Some(name)) => format!("people who play {name} also play it"),
    };
    if r.personal {
        s.push_str(", and it fits your taste");
    }
    s
}

/// `NAME@WEIGHT` → (NAME, WEIGHT); without a numeric weight after the
/// last `@`, the whole text is the name and the weight 1 (so
/// `user@example` stays a name).
pub fn weighted(s: &str) -> (String, f32) {
    match s.rsplit_once('@') {
        Some((name, w)) if !name.is_empty() => match w.trim().parse::<f32>() {
            Ok(w) => (name.to_string(), w),
            Err(_) => (s.to_string(), 1.0),
        },
        _ => (s.to_string(), 1.0),
    }
}

/// The day `days` after `day` (YYYY-MM-DD; negative: before), or `None`
/// for a malformed day.
pub fn day_offset(day: &str, days: i64) -> Option<String> {
    let (y, m, d) = chrono_day(day)?;
    // Days from civil and back (Howard Hinnant's algorithms), from
    // 0000-03-01.
    let (y2, m2) = if m <= 2 { (y as i64 - 1, m as i64 + 9) } else { (y as i64, m as i64 - 3) };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * m2 + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let z = era * 146_097 + doe + days;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    Some(format!("{y:04}-{m:02}-{d:02}"))
}

#[cfg(test)]
mod tests {
    use super::{day_offset, weighted};

    #[test]
    fn days_cross_months_years_and_leap_days() {
        let day = |d: &str, k: i64| day_offset(d, k).unwrap();
        assert_eq!(day("2026-12-03", -28), "2026-11-05");
        assert_eq!(day("2024-03-01", -1), "2024-02-29");
        assert_eq!(day("2027-01-10", -28), "2026-12-13");
        assert_eq!(day("2026-12-03", 0), "2026-12-03");
        assert_eq!(day("2026-12-30", 3), "2027-01-02");
        assert_eq!(day("2024-02-28", 1), "2024-02-29");
        assert_eq!(day_offset("2026-02-30", 1), None);
    }

    #[test]
    fn weights_follow_an_at_sign() {
        assert_eq!(weighted("Nina Simone@2"), ("Nina Simone".to_string(), 2.0));
        assert_eq!(weighted("Nina Simone"), ("Nina Simone".to_string(), 1.0));
        assert_eq!(weighted("user@example"), ("user@example".to_string(), 1.0));
        assert_eq!(weighted("@3"), ("@3".to_string(), 1.0));
    }
}
