//! The world model: genres, artists, songs, users and their listens.

use std::collections::HashSet;

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, LogNormal};
use serde::{Deserialize, Serialize};

use crate::names;

/// A genre's character: what its songs sound like and how people write
/// about them.
#[derive(Debug, Clone, Serialize)]
pub struct Genre {
    /// Name.
    pub name: &'static str,
    /// Tempo range in BPM.
    pub tempo: (f32, f32),
    /// Probability that a song is in a major key.
    pub p_major: f32,
    /// Target RMS level of its clips, dBFS.
    pub level_db: f32,
    /// Whether its songs have drums.
    pub drums: bool,
    /// Whether the kick falls on every beat (four-on-the-floor).
    pub four_on_floor: bool,
    /// Harmonic brightness of the chord voice, 0 (sine) to 1 (bright).
    pub brightness: f32,
    /// Words that describe the genre's songs.
    pub vocab: &'static [&'static str],
}

/// The genres of the demo world.
pub const GENRES: &[Genre] = &[
    Genre {
        name: "techno",
        tempo: (124.0, 135.0),
        p_major: 0.3,
        level_db: -11.0,
        drums: true,
        four_on_floor: true,
        brightness: 0.8,
        vocab: &["hypnotic", "relentless", "industrial", "pounding", "minimal", "warehouse", "driving", "mechanical"],
    },
    Genre {
        name: "house",
        tempo: (118.0, 126.0),
        p_major: 0.7,
        level_db: -12.0,
        drums: true,
        four_on_floor: true,
        brightness: 0.6,
        vocab: &["groovy", "soulful", "funky", "uplifting", "disco", "warm", "danceable", "bouncy"],
    },
    Genre {
        name: "hiphop",
        tempo: (84.0, 98.0),
        p_major: 0.35,
        level_db: -12.0,
        drums: true,
        four_on_floor: false,
        brightness: 0.4,
        vocab: &["gritty", "laidback", "boombap", "lyrical", "streetwise", "jazzy", "head-nodding", "raw"],
    },
    Genre {
        name: "rock",
        tempo: (110.0, 150.0),
        p_major: 0.65,
        level_db: -13.0,
        drums: true,
        four_on_floor: false,
        brightness: 0.9,
        vocab: &["distorted", "anthemic", "raucous", "guitar-driven", "loud", "rebellious", "riffy", "energetic"],
    },
    Genre {
        name: "folk",
        tempo: (76.0, 104.0),
        p_major: 0.75,
        level_db: -18.0,
        drums: false,
        four_on_floor: false,
        brightness: 0.35,
        vocab: &["acoustic", "earnest", "pastoral", "intimate", "rustic", "storytelling", "gentle", "homespun"],
    },
    Genre {
        name: "jazz",
        tempo: (100.0, 140.0),
        p_major: 0.55,
        level_db: -19.0,
        drums: true,
        four_on_floor: false,
        brightness: 0.3,
        vocab: &["swinging", "improvised", "smoky", "sophisticated", "brassy", "virtuosic", "cool", "syncopated"],
    },
    Genre {
        name: "ambient",
        tempo: (60.0, 80.0),
        p_major: 0.5,
        level_db: -22.0,
        drums: false,
        four_on_floor: false,
        brightness: 0.1,
        vocab: &["ethereal", "spacious", "drifting", "meditative", "atmospheric", "glacial", "serene", "textural"],
    },
    Genre {
        name: "metal",
        tempo: (150.0, 190.0),
        p_major: 0.15,
        level_db: -10.0,
        drums: true,
        four_on_floor: false,
        brightness: 1.0,
        vocab: &["crushing", "brutal", "heavy", "thunderous", "aggressive", "shredding", "dark", "furious"],
    },
];

/// Moods, with the words used for them.
pub(crate) const MOODS: &[(&str, &[&str])] = &[
    ("summery", &["summery", "sunny", "breezy", "carefree"]),
    ("nostalgic", &["nostalgic", "wistful", "bittersweet", "retro"]),
    ("melancholic", &["melancholic", "sad", "lonely", "mournful"]),
    ("euphoric", &["euphoric", "joyful", "ecstatic", "triumphant"]),
    ("dreamy", &["dreamy", "hazy", "floating", "lush"]),
    ("dark", &["brooding", "ominous", "menacing", "nocturnal"]),
];

/// Knobs of the demo world.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorldConfig {
    /// Number of users.
    pub users: usize,
    /// Number of songs (new releases included).
    pub songs: usize,
    /// Seed of everything.
    pub seed: u64,
    /// Length of each audio clip in seconds.
    pub clip_seconds: f32,
    /// Sample rate of the clips.
    pub sample_rate: u32,
    /// Days of listening history.
    pub days: u32,
    /// Share of songs that are new releases without plays.
    pub new_release_share: f32,
    /// Share of users who also have a Spotify export (with skips).
    pub spotify_share: f32,
}

impl Default for WorldConfig {
    fn default() -> Self {
        WorldConfig {
            users: 2000,
            songs: 1000,
            seed: 42,
            clip_seconds: 10.0,
            sample_rate: 22_050,
            days: 60,
            new_release_share: 0.05,
            spotify_share: 0.1,
        }
    }
}

/// An artist.
#[derive(Debug, Clone, Serialize)]
pub struct Artist {
    /// Index in [`World::artists`].
    pub id: usize,
    /// Name.
    pub name: String,
    /// MusicBrainz-shaped id.
    pub mbid: String,
    /// Index in [`GENRES`].
    pub genre: usize,
    /// Relative popularity (power law).
    pub popularity: f64,
    /// Index in the mood list.
    pub mood: usize,
    /// Indices of the artist's songs.
    pub songs: Vec<usize>,
}

/// A song with its ground truth.
#[derive(Debug, Clone, Serialize)]
pub struct Song {
    /// Index in [`World::songs`].
    pub id: usize,
    /// Index of its artist.
    pub artist: usize,
    /// Title.
    pub title: String,
    /// MusicBrainz-shaped id.
    pub mbid: String,
    /// Genre index (the artist's).
    pub genre: usize,
    /// Mood index.
    pub mood: usize,
    /// Tempo in BPM.
    pub tempo: f32,
    /// Key, pitch class 0 = C … 11 = B.
    pub key: u8,
    /// Major (true) or minor.
    pub major: bool,
    /// Target RMS level of the clip, dBFS.
    pub level_db: f32,
    /// Relative popularity within the artist.
    pub popularity: f64,
    /// A new release: audio and text, no plays.
    pub new_release: bool,
    /// Release date, `YYYY-MM-DD`.
    pub released: String,
}

/// A user with a latent taste.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    /// Index in [`World::users`].
    pub id: usize,
    /// User name.
    pub name: String,
    /// Taste: a distribution over genres.
    pub taste: Vec<f64>,
    /// Whether the user also has a Spotify export.
    pub spotify: bool,
}

/// One listen of the simulated history.
#[derive(Debug, Clone, Serialize)]
pub struct Listen {
    /// User index.
    pub user: usize,
    /// Song index.
    pub song: usize,
    /// Unix seconds at the start.
    pub ts: i64,
    /// Milliseconds played.
    pub ms_played: u32,
    /// Whether the user skipped it.
    pub skipped: bool,
}

/// The whole demo world.
#[derive(Debug, Clone, Serialize)]
pub struct World {
    /// The configuration that made it.
    pub config: WorldConfig,
    /// Artists.
    pub artists: Vec<Artist>,
    /// Songs.
    pub songs: Vec<Song>,
    /// Users.
    pub users: Vec<User>,
    /// The listening history, by user, in time order.
    pub listens: Vec<Listen>,
}

/// Start of the listening window: 2026-09-01T00:00:00Z.
pub(crate) const HISTORY_START: i64 = 1_788_220_800;

fn unique(rng: &mut ChaCha8Rng, seen: &mut HashSet<String>, make: impl Fn(&mut ChaCha8Rng) -> String) -> String {
    for _ in 0..50 {
        let n = make(rng);
        if seen.insert(crate::world::fold(&n)) {
            return n;
        }
    }
    // Name space exhausted: number the name.
    let base = make(rng);
    let mut k = 2;
    loop {
        let n = format!("{base} {k}");
        if seen.insert(fold(&n)) {
            return n;
        }
        k += 1;
    }
}

pub(crate) fn fold(s: &str) -> String {
    s.to_lowercase()
}

fn date(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0).map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

impl World {
    /// Generates the world of `cfg`; the same configuration gives the same
    /// world on every machine.
    pub fn generate(cfg: &WorldConfig) -> World {
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let n_songs = cfg.songs.max(1);
        let n_artists = (n_songs / 6).max(GENRES.len().min(n_songs));
        let mut seen = HashSet::new();

        let mut artists: Vec<Artist> = (0..n_artists)
            .map(|id| {
                let genre = if id < GENRES.len() { id } else { rng.random_range(0..GENRES.len()) };
                Artist {
                    id,
                    name: unique(&mut rng, &mut seen, names::artist),
                    mbid: names::mbid(&mut rng),
                    genre,
                    // Zipf-like popularity by a random rank.
                    popularity: 0.0,
                    mood: rng.random_range(0..MOODS.len()),
                    songs: Vec::new(),
                }
            })
            .collect();
        let mut ranks: Vec<usize> = (0..n_artists).collect();
        for i in (1..ranks.len()).rev() {
            ranks.swap(i, rng.random_range(0..=i));
        }
        for (a, r) in artists.iter_mut().zip(ranks) {
            a.popularity = 1.0 / (r as f64 + 1.0).powf(0.9);
        }

        let end = HISTORY_START + cfg.days as i64 * 86_400;
        let mut titles = HashSet::new();
        let songs: Vec<Song> = (0..n_songs)
            .map(|id| {
                // Every artist gets a song first, then popular artists more.
                let artist = if id < n_artists {
                    id
                } else {
                    let total: f64 = artists.iter().map(|a| a.popularity.sqrt()).sum();
                    let mut x = rng.random::<f64>() * total;
                    artists
                        .iter()
                        .position(|a| {
                            x -= a.popularity.sqrt();
                            x <= 0.0
                        })
                        .unwrap_or(n_artists - 1)
                };
                let a = &artists[artist];
                let g = &GENRES[a.genre];
                let new_release = rng.random::<f32>() < cfg.new_release_share;
                let released = if new_release {
                    end + rng.random_range(0..14) * 86_400
                } else {
                    HISTORY_START - rng.random_range(30..3650) * 86_400
                };
                Song {
                    id,
                    artist,
                    title: unique(&mut rng, &mut titles, names::title),
                    mbid: names::mbid(&mut rng),
                    genre: a.genre,
                    mood: if rng.random::<f32>() < 0.8 { a.mood } else { rng.random_range(0..MOODS.len()) },
                    tempo: (rng.random_range(g.tempo.0..g.tempo.1) * 2.0).round() / 2.0,
                    key: rng.random_range(0..12),
                    major: rng.random::<f32>() < g.p_major,
                    level_db: g.level_db + rng.random_range(-2.0..2.0),
                    popularity: rng.random_range(0.2..1.0),
                    new_release,
                    released: date(released),
                }
            })
            .collect();
        for s in &songs {
            artists[s.artist].songs.push(s.id);
        }

        let gamma = Gamma::new(0.35, 1.0).expect("valid gamma");
        let users: Vec<User> = (0..cfg.users)
            .map(|id| {
                let mut taste: Vec<f64> = (0..GENRES.len()).map(|_| gamma.sample(&mut rng) + 1e-3).collect();
                let sum: f64 = taste.iter().sum();
                taste.iter_mut().for_each(|t| *t /= sum);
                User { id, name: format!("listener_{id:05}"), taste, spotify: rng.random::<f32>() < cfg.spotify_share }
            })
            .collect();

        let listens = simulate_listens(cfg, &artists, &songs, &users, &mut rng);
        World { config: cfg.clone(), artists, songs, users, listens }
    }

    /// Genre of `song` by name.
    pub fn genre_of(&self, song: usize) -> &'static str {
        GENRES[self.songs[song].genre].name
    }
}

fn weighted<'a, T>(rng: &mut impl Rng, items: &'a [T], weight: impl Fn(&T) -> f64) -> Option<&'a T> {
    let total: f64 = items.iter().map(&weight).sum();
    if total <= 0.0 {
        return items.choose(rng);
    }
    let mut x = rng.random::<f64>() * total;
    for it in items {
        x -= weight(it);
        if x <= 0.0 {
            return Some(it);
        }
    }
    items.last()
}

/// Sessions over the window: a user picks a genre by taste, an artist by
/// popularity, a song by its popularity; favourites come back; a song far
/// from the user's taste is often skipped.
fn simulate_listens(
    cfg: &WorldConfig,
    artists: &[Artist],
    songs: &[Song],
    users: &[User],
    rng: &mut ChaCha8Rng,
) -> Vec<Listen> {
    let activity = LogNormal::new(4.4, 0.8).expect("valid lognormal");
    let playable: Vec<Vec<usize>> =
        artists.iter().map(|a| a.songs.iter().copied().filter(|&s| !songs[s].new_release).collect()).collect();
    let by_genre: Vec<Vec<usize>> = (0..GENRES.len())
        .map(|g| artists.iter().filter(|a| a.genre == g && !playable[a.id].is_empty()).map(|a| a.id).collect())
        .collect();
    let mut out = Vec::new();
    for u in users {
        let target = (activity.sample(rng) as usize).clamp(5, 2_000);
        let mut favourites: Vec<usize> = Vec::new();
        let mut ts = HISTORY_START + rng.random_range(0..86_400);
        let mut count = 0;
        while count < target {
            // A session: 3–15 songs, then a gap of hours to days.
            let len = rng.random_range(3..16);
            for _ in 0..len {
                let song = if !favourites.is_empty() && rng.random::<f32>() < 0.3 {
                    *favourites.choose(rng).expect("non-empty")
                } else {
                    let genres: Vec<usize> = (0..GENRES.len()).filter(|&g| !by_genre[g].is_empty()).collect();
                    let Some(&g) = weighted(rng, &genres, |&g| u.taste[g]) else { break };
                    let &a = weighted(rng, &by_genre[g], |&a| artists[a].popularity).expect("non-empty");
                    *weighted(rng, &playable[a], |&s| songs[s].popularity).expect("non-empty")
                };
                let s = &songs[song];
                let fit = u.taste[s.genre];
                let skipped = rng.random::<f64>() < 0.45 * (1.0 - fit).powi(3) + 0.03;
                let full_ms = (cfg.clip_seconds.max(1.0) * 1000.0) as u32 * 20; // nominal song length
                let ms_played =
                    if skipped { rng.random_range(2_000..25_000) } else { full_ms - rng.random_range(0..5_000) };
                out.push(Listen { user: u.id, song, ts, ms_played, skipped });
                if !skipped && fit > 0.3 && rng.random::<f32>() < 0.15 && favourites.len() < 20 {
                    favourites.push(song);
                }
                ts += (ms_played / 1000) as i64 + rng.random_range(1..20);
                count += 1;
            }
            ts += rng.random_range(3_600..(3 * 86_400));
            if ts > HISTORY_START + cfg.days as i64 * 86_400 {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worlds_are_deterministic_and_consistent() {
        let cfg = WorldConfig { users: 50, songs: 80, ..Default::default() };
        let w = World::generate(&cfg);
        let w2 = World::generate(&cfg);
        assert_eq!(serde_json::to_string(&w.listens).unwrap(), serde_json::to_string(&w2.listens).unwrap());
        assert_eq!(w.songs.len(), 80);
        assert!(w.listens.iter().all(|l| !w.songs[l.song].new_release), "new releases have no plays");
        let names: HashSet<_> = w.artists.iter().map(|a| a.name.to_lowercase()).collect();
        assert_eq!(names.len(), w.artists.len(), "artist names are unique");
        for s in &w.songs {
            let g = &GENRES[s.genre];
            assert!(s.tempo >= g.tempo.0 - 0.5 && s.tempo <= g.tempo.1 + 0.5);
        }
        let other = World::generate(&WorldConfig { seed: 7, ..cfg });
        assert_ne!(serde_json::to_string(&other.songs).unwrap(), serde_json::to_string(&w.songs).unwrap());
    }

    #[test]
    fn users_mostly_play_their_genres() {
        let w = World::generate(&WorldConfig { users: 200, songs: 200, ..Default::default() });
        // Share of full plays in the user's top genre should far exceed the
        // 1/8 a taste-blind user would have.
        let (mut top, mut all) = (0usize, 0usize);
        for l in w.listens.iter().filter(|l| !l.skipped) {
            let u = &w.users[l.user];
            let best = (0..GENRES.len()).max_by(|&a, &b| u.taste[a].total_cmp(&u.taste[b])).unwrap();
            top += (w.songs[l.song].genre == best) as usize;
            all += 1;
        }
        assert!(top as f64 / all as f64 > 0.4, "top-genre share {}", top as f64 / all as f64);
    }
}
