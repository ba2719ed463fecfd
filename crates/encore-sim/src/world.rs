//! The world model: genres, artists, songs, users and their listens.
//!
//! About 650 lines, 80 of them the genre table and 70 tests: the
//! generation is one seeded sequence of draws, and splitting it would make
//! the order of those draws (which fixes every demo world) harder to see.

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

/// Moods, with the words used for them. A mood also sounds: see
/// [`MOOD_SOUND`].
pub(crate) const MOODS: &[(&str, &[&str])] = &[
    ("summery", &["summery", "sunny", "breezy", "carefree"]),
    ("nostalgic", &["nostalgic", "wistful", "bittersweet", "retro"]),
    ("melancholic", &["melancholic", "sad", "lonely", "mournful"]),
    ("euphoric", &["euphoric", "joyful", "ecstatic", "triumphant"]),
    ("dreamy", &["dreamy", "hazy", "floating", "lush"]),
    ("dark", &["brooding", "ominous", "menacing", "nocturnal"]),
];

/// What each mood of [`MOODS`] sounds like, as (energy, valence) in 0–1:
/// energy places the tempo in the genre's range and sets how hard the notes
/// and hats are struck; valence leans the mode to major and brightens the
/// timbre.
pub(crate) const MOOD_SOUND: [(f32, f32); 6] =
    [(0.65, 0.85), (0.35, 0.5), (0.2, 0.1), (0.9, 0.9), (0.25, 0.65), (0.7, 0.1)];

/// The instruments an artist plays the chords and the arpeggio on.
pub const INSTRUMENTS: &[&str] = &["synth", "pluck", "organ", "bell", "strings"];

/// How an artist's arpeggio and hats sit against the beat.
pub const GROOVES: &[&str] = &["straight", "swing", "offbeat"];

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
    /// Index in [`INSTRUMENTS`].
    pub instrument: usize,
    /// Index in [`GROOVES`].
    pub groove: usize,
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
    /// Index in [`INSTRUMENTS`] (mostly the artist's).
    pub instrument: usize,
    /// Index in [`GROOVES`] (the artist's).
    pub groove: usize,
    /// Energy, 0–1 (the mood's, with spread).
    pub energy: f32,
    /// Valence, 0–1 (the mood's, with spread).
    pub valence: f32,
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
    /// Album: the artist's songs in order, four to an album, each album
    /// named after its first song (no randomness, so the rest of the world
    /// does not depend on it).
    pub album: String,
}

/// Songs per album.
pub const ALBUM_SONGS: usize = 4;

/// A user with a latent taste.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    /// Index in [`World::users`].
    pub id: usize,
    /// User name.
    pub name: String,
    /// Taste: a distribution over genres.
    pub taste: Vec<f64>,
    /// Taste in sound beyond genre: weights (mean 1) over moods,
    /// [`INSTRUMENTS`] and [`GROOVES`]; together they scale how often the
    /// user picks an artist within a genre and how often a song is skipped.
    pub sound_taste: SoundTaste,
    /// Whether the user also has a Spotify export.
    pub spotify: bool,
}

/// A user's taste in how music sounds, beyond its genre.
#[derive(Debug, Clone, Serialize)]
pub struct SoundTaste {
    /// Weight of each mood of the mood list.
    pub mood: Vec<f64>,
    /// Weight of each of [`INSTRUMENTS`].
    pub instrument: Vec<f64>,
    /// Weight of each of [`GROOVES`].
    pub groove: Vec<f64>,
}

impl SoundTaste {
    fn sample(rng: &mut impl Rng) -> SoundTaste {
        // Weights with mean 1: a few favourites, the rest well below.
        let gamma = Gamma::new(0.5, 1.0).expect("valid gamma");
        let mut draw = |n: usize| -> Vec<f64> {
            let mut w: Vec<f64> = (0..n).map(|_| gamma.sample(rng) + 0.02).collect();
            let mean = w.iter().sum::<f64>() / n as f64;
            w.iter_mut().for_each(|x| *x /= mean);
            w
        };
        SoundTaste { mood: draw(MOODS.len()), instrument: draw(INSTRUMENTS.len()), groove: draw(GROOVES.len()) }
    }

    /// How much the user likes the sound of a song with this mood,
    /// instrument and groove (mean about 1 over random songs).
    pub fn affinity(&self, mood: usize, instrument: usize, groove: usize) -> f64 {
        self.mood[mood] * self.instrument[instrument] * self.groove[groove]
    }
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
        // The sound beyond genre (instruments, grooves, energy, valence,
        // sound tastes) draws from its own stream.
        let mut style = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x5A0D_5A0D);
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
                    instrument: style.random_range(0..INSTRUMENTS.len()),
                    groove: style.random_range(0..GROOVES.len()),
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
        let mut songs: Vec<Song> = (0..n_songs)
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
                let title = unique(&mut rng, &mut titles, names::title);
                let mbid = names::mbid(&mut rng);
                let mood = if rng.random::<f32>() < 0.8 { a.mood } else { rng.random_range(0..MOODS.len()) };
                let (e, v) = MOOD_SOUND[mood];
                let spread = |x: f32, r: &mut ChaCha8Rng| (x + r.random_range(-0.15..0.15)).clamp(0.0, 1.0);
                let energy = spread(e, &mut style);
                let valence = spread(v, &mut style);
                // Energy places the tempo in the genre's range.
                let at = (0.7 * energy + 0.3 * rng.random::<f32>()).clamp(0.0, 1.0);
                Song {
                    id,
                    artist,
                    title,
                    mbid,
                    genre: a.genre,
                    mood,
                    instrument: if style.random::<f32>() < 0.85 {
                        a.instrument
                    } else {
                        style.random_range(0..INSTRUMENTS.len())
                    },
                    groove: a.groove,
                    energy,
                    valence,
                    tempo: ((g.tempo.0 + at * (g.tempo.1 - g.tempo.0)) * 2.0).round() / 2.0,
                    key: rng.random_range(0..12),
                    major: rng.random::<f32>() < 0.5 * g.p_major + 0.5 * valence,
                    level_db: g.level_db + rng.random_range(-1.5..1.5) + 2.0 * (energy - 0.5),
                    popularity: rng.random_range(0.2..1.0),
                    new_release,
                    released: date(released),
                    album: String::new(),
                }
            })
            .collect();
        for s in &songs {
            artists[s.artist].songs.push(s.id);
        }
        for a in &artists {
            for chunk in a.songs.chunks(ALBUM_SONGS) {
                let name = songs[chunk[0]].title.clone();
                for &s in chunk {
                    songs[s].album = name.clone();
                }
            }
        }

        let gamma = Gamma::new(0.35, 1.0).expect("valid gamma");
        let users: Vec<User> = (0..cfg.users)
            .map(|id| {
                let mut taste: Vec<f64> = (0..GENRES.len()).map(|_| gamma.sample(&mut rng) + 1e-3).collect();
                let sum: f64 = taste.iter().sum();
                taste.iter_mut().for_each(|t| *t /= sum);
                User {
                    id,
                    name: format!("listener_{id:05}"),
                    taste,
                    sound_taste: SoundTaste::sample(&mut style),
                    spotify: rng.random::<f32>() < cfg.spotify_share,
                }
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

/// How much `u` likes the sound of `s`.
fn sound(u: &User, s: &Song) -> f64 {
    u.sound_taste.affinity(s.mood, s.instrument, s.groove)
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
/// popularity times how much the user likes the artist's sound (mood,
/// instrument, groove), a song by its popularity and sound; favourites come
/// back; a song far from the user's taste is often skipped.
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
                    let t = &u.sound_taste;
                    let &a = weighted(rng, &by_genre[g], |&a| {
                        let ar = &artists[a];
                        ar.popularity * t.affinity(ar.mood, ar.instrument, ar.groove)
                    })
                    .expect("non-empty");
                    *weighted(rng, &playable[a], |&s| songs[s].popularity * sound(u, &songs[s])).expect("non-empty")
                };
                let s = &songs[song];
                let fit = u.taste[s.genre];
                // A sound the user dislikes is skipped more.
                let dislike = 1.0 / (1.0 + sound(u, s));
                let skipped = rng.random::<f64>() < 0.45 * (1.0 - fit).powi(3) + 0.3 * dislike * dislike + 0.02;
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

    #[test]
    fn users_play_the_sounds_they_like() {
        let w = World::generate(&WorldConfig { users: 300, songs: 400, ..Default::default() });
        // Within their genres users pick by sound: the mean affinity of the
        // songs they play fully must clearly exceed that of the songs of
        // the same genres they could have picked at random.
        let (mut played, mut n) = (0.0, 0usize);
        let (mut offered, mut m) = (0.0, 0usize);
        for l in w.listens.iter().filter(|l| !l.skipped) {
            let u = &w.users[l.user];
            played += sound(u, &w.songs[l.song]);
            n += 1;
            for s in w.songs.iter().filter(|s| s.genre == w.songs[l.song].genre && !s.new_release).take(20) {
                offered += sound(u, s);
                m += 1;
            }
        }
        let (played, offered) = (played / n as f64, offered / m as f64);
        assert!(played > 1.5 * offered, "played {played:.2} vs offered {offered:.2}");
        // Moods sound: euphoric songs are faster in their genre's range and
        // more often major than melancholic ones.
        let mean = |mood: usize, f: &dyn Fn(&Song) -> f32| {
            let v: Vec<f32> = w.songs.iter().filter(|s| s.mood == mood).map(f).collect();
            v.iter().sum::<f32>() / v.len() as f32
        };
        let place = |s: &Song| {
            let g = &GENRES[s.genre];
            (s.tempo - g.tempo.0) / (g.tempo.1 - g.tempo.0)
        };
        assert!(mean(3, &place) > mean(2, &place) + 0.2);
        assert!(mean(3, &|s| s.major as u8 as f32) > mean(2, &|s| s.major as u8 as f32) + 0.2);
    }
}
