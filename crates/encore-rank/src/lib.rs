//! The hybrid ranker: one recommender from collaborative filtering, text and
//! audio.
//!
//! **Features.** For a user (their history, optionally seeds) every catalog
//! song gets one raw score per source, standardised over the catalog
//! (z-scores) so sources are comparable:
//! - `cf`: user vector · song vector; a song without plays uses its vector
//!   predicted from audio (cold start), rescaled to the trained vectors'
//!   mean length;
//! - `knn`: mean cosine of the song's (CF or predicted) vector with the
//!   user's ten most recent songs;
//! - `audio`: cosine of the song's audio vector with the user's
//!   play-weighted audio profile;
//! - `text`: cosine of the song's term vector with the user's term profile;
//! - `popular`: ln(1 + listeners) × the user's share of plays in the song's
//!   genre (a song nobody played yet counts its artist's mean listeners);
//! - `seed`: the best mean similarity (CF, audio, text) to a seed song or a
//!   song of a seed artist.
//!
//! **Candidates.** Each source nominates its top songs (named: `cf`, `knn`,
//! `audio`, `text`, `comention` — the most popular songs of artists the
//! articles mention together with the user's top artists —, `cold` — songs
//! without plays, by predicted CF score —, `popular`, `seed`); the union is filtered (played songs, songs already
//! served, attribute bounds), fused, and re-ranked.
//!
//! **Fusion.** [`Fusion`] is a logistic regression on the features, fitted
//! on a validation split (which candidates did users go on to play?) and
//! stored with the model.
//!
//! **Rules.** Played songs are never recommended (or not within a window);
//! at most `max_per_artist` songs per artist; maximal marginal relevance
//! (MMR) trades score for diversity; `min_*`/`max_*` bounds filter on tempo,
//! key, mode, loudness and duration, `target_*` values penalise distance;
//! a discovery list can demand a share of artists the user never played.
//!
//! **Explanations.** Every result has each feature's contribution to its
//! score and a [`Reason`] for the largest one, which the engine turns into a
//! sentence with names.
#![deny(missing_docs)]

mod fusion;
mod mix;
mod retrieval;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use encore_cf::CfModel;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use fusion::Fusion;
pub use mix::{
    Centroid, MixItem, MixReason, MixRequest, MixSeed, PathItem, PathMethod, PathRequest, PathResponse, PathStats,
    RediscoverRequest, Rediscovered, JOINT_WEIGHTS,
};
pub use retrieval::{Retrieval, RetrievalConfig, VectorSet};

/// Number of features.
pub const N_FEATURES: usize = 6;
/// Feature names, in order.
pub const FEATURES: [&str; N_FEATURES] = ["cf", "knn", "audio", "text", "popular", "seed"];
const CF: usize = 0;
const KNN: usize = 1;
const AUDIO: usize = 2;
const TEXT: usize = 3;
const POPULAR: usize = 4;
const SEED: usize = 5;

/// Errors of the ranker.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request parameter is out of range.
    #[error("{0}")]
    BadRequest(String),
    /// Building a retrieval index failed.
    #[error("building the candidate index: {0}")]
    Index(String),
}

/// Result of the ranker.
pub type Result<T> = std::result::Result<T, Error>;

/// Musical attributes used by filters and targets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Attributes {
    /// BPM.
    pub tempo: f32,
    /// Pitch class of the key, 0 = C.
    pub key: u8,
    /// Major (true) or minor.
    pub major: bool,
    /// Integrated loudness, LUFS.
    pub loudness: f32,
    /// Duration, seconds.
    pub duration: f32,
}

/// Everything known about the catalog, by catalog position (songs sorted
/// by store id).
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Store ids, ascending.
    pub song_ids: Vec<i64>,
    /// Artist of each song.
    pub artist: Vec<Option<i64>>,
    /// Genre of each song.
    pub genre: Vec<Option<String>>,
    /// Audio attributes of each song.
    pub attrs: Vec<Option<Attributes>>,
    /// Column of each song in the CF model.
    pub cf_col: Vec<Option<u32>>,
    /// Audio-predicted CF vector of songs without a CF column.
    pub predicted: Vec<Option<Vec<f32>>>,
    /// Audio vector (L2-normalised) of each song.
    pub audio: Vec<Option<Vec<f32>>>,
    /// Term vector (L2-normalised, sparse) of each song.
    pub text: Vec<Option<Vec<(u32, f32)>>>,
    /// Distinct listeners of each song.
    pub listeners: Vec<f32>,
    /// Artists mentioned together with each artist in the text (strongest
    /// first), by artist id.
    pub comentioned: HashMap<i64, Vec<i64>>,
    /// Album of each song, as a position in `album_names` (an album is one
    /// artist's release of that name); empty when no song names one.
    pub album: Vec<Option<u32>>,
    /// Album names, by position.
    pub album_names: Vec<String>,
}

impl Catalog {
    /// Number of songs.
    pub fn len(&self) -> usize {
        self.song_ids.len()
    }

    /// Whether the catalog is empty.
    pub fn is_empty(&self) -> bool {
        self.song_ids.is_empty()
    }

    /// Position of song `id`.
    pub fn index(&self, id: i64) -> Option<usize> {
        self.song_ids.binary_search(&id).ok()
    }

    /// Album of song `s` (position in `album_names`), if known.
    pub fn album_of(&self, s: usize) -> Option<u32> {
        self.album.get(s).copied().flatten()
    }

    /// Checks that every column has one entry per song.
    pub fn validate(&self) -> Result<()> {
        let n = self.len();
        let lens = [
            self.artist.len(),
            self.genre.len(),
            self.attrs.len(),
            self.cf_col.len(),
            self.predicted.len(),
            self.audio.len(),
            self.text.len(),
            self.listeners.len(),
        ];
        let albums_ok = (self.album.is_empty() || self.album.len() == n)
            && self.album.iter().flatten().all(|&a| (a as usize) < self.album_names.len());
        if !albums_ok || lens.iter().any(|&l| l != n) || self.song_ids.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::BadRequest(format!("catalog columns disagree: {n} songs, columns {lens:?}")));
        }
        Ok(())
    }
}

/// One song of a user's history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Played {
    /// Catalog position.
    pub song: usize,
    /// Full plays.
    pub plays: f32,
    /// Skips.
    pub skips: u32,
    /// Latest play, Unix seconds.
    pub last_played: i64,
}

impl Played {
    /// Whether the user likes it: more full plays than half the skips.
    pub fn liked(&self) -> bool {
        self.plays - 0.5 * self.skips as f32 > 0.0
    }
}

/// Bounds and targets on song attributes (Spotify-Web-API style).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tunables {
    /// Minimum tempo, BPM.
    pub min_tempo: Option<f32>,
    /// Maximum tempo, BPM.
    pub max_tempo: Option<f32>,
    /// Preferred tempo, BPM.
    pub target_tempo: Option<f32>,
    /// Required key (pitch class, 0 = C).
    pub key: Option<u8>,
    /// Required mode: true = major.
    pub major: Option<bool>,
    /// Minimum loudness, LUFS.
    pub min_loudness: Option<f32>,
    /// Maximum loudness, LUFS.
    pub max_loudness: Option<f32>,
    /// Preferred loudness, LUFS.
    pub target_loudness: Option<f32>,
    /// Minimum duration, seconds.
    pub min_duration: Option<f32>,
    /// Maximum duration, seconds.
    pub max_duration: Option<f32>,
    /// Preferred duration, seconds.
    pub target_duration: Option<f32>,
}

impl Tunables {
    fn any_filter(&self) -> bool {
        self.min_tempo.is_some()
            || self.max_tempo.is_some()
            || self.key.is_some()
            || self.major.is_some()
            || self.min_loudness.is_some()
            || self.max_loudness.is_some()
            || self.min_duration.is_some()
            || self.max_duration.is_some()
    }

    fn admits(&self, a: Option<&Attributes>) -> bool {
        if !self.any_filter() {
            return true;
        }
        let Some(a) = a else { return false };
        let ge = |v: f32, m: Option<f32>| m.is_none_or(|m| v >= m);
        let le = |v: f32, m: Option<f32>| m.is_none_or(|m| v <= m);
        ge(a.tempo, self.min_tempo)
            && le(a.tempo, self.max_tempo)
            && self.key.is_none_or(|k| k == a.key)
            && self.major.is_none_or(|m| m == a.major)
            && ge(a.loudness, self.min_loudness)
            && le(a.loudness, self.max_loudness)
            && ge(a.duration, self.min_duration)
            && le(a.duration, self.max_duration)
    }

    /// Penalty (in logit units) for distance from the targets.
    fn penalty(&self, a: Option<&Attributes>) -> f32 {
        let Some(a) = a else {
            return if self.target_tempo.or(self.target_loudness).or(self.target_duration).is_some() {
                1.0
            } else {
                0.0
            };
        };
        let mut p = 0.0;
        if let Some(t) = self.target_tempo {
            p += (a.tempo - t).abs() / 10.0;
        }
        if let Some(t) = self.target_loudness {
            p += (a.loudness - t).abs() / 3.0;
        }
        if let Some(t) = self.target_duration {
            p += (a.duration - t).abs() / 60.0;
        }
        p
    }

    /// Checks the bounds make sense.
    pub fn validate(&self) -> Result<()> {
        let pair = |name: &str, lo: Option<f32>, hi: Option<f32>| -> Result<()> {
            for v in [lo, hi].into_iter().flatten() {
                if !v.is_finite() {
                    return Err(Error::BadRequest(format!("{name} bounds must be finite numbers")));
                }
            }
            if let (Some(l), Some(h)) = (lo, hi) {
                if l > h {
                    return Err(Error::BadRequest(format!("min_{name} {l} is above max_{name} {h}")));
                }
            }
            Ok(())
        };
        pair("tempo", self.min_tempo, self.max_tempo)?;
        pair("loudness", self.min_loudness, self.max_loudness)?;
        pair("duration", self.min_duration, self.max_duration)?;
        if self.key.is_some_and(|k| k > 11) {
            return Err(Error::BadRequest("key must be a pitch class 0–11".into()));
        }
        Ok(())
    }
}

/// What to rank for.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// How many songs.
    pub n: usize,
    /// Seed songs (catalog positions), at most 5 seeds in all.
    pub seed_songs: Vec<usize>,
    /// Seed artists (store ids).
    pub seed_artists: Vec<i64>,
    /// Attribute bounds and targets.
    pub tunables: Tunables,
    /// Songs the user played are left out; with `Some(days)`, only those
    /// played within that many days of `now`.
    pub exclude_played_days: Option<u32>,
    /// "Now", Unix seconds (for the played window).
    pub now: i64,
    /// Songs never to return (e.g. served in earlier discovery playlists).
    pub exclude: HashSet<usize>,
    /// At most this many songs per artist.
    pub max_per_artist: usize,
    /// MMR trade-off: 1 = score only, 0 = diversity only.
    pub mmr_lambda: f32,
    /// At least this share of the list from artists the user never played.
    pub min_new_artist_share: f32,
    /// Random jitter added to scores (discovery's daily variety), with its
    /// seed.
    pub jitter: Option<(f32, u64)>,
    /// Songs each source nominates.
    pub per_source: usize,
}

impl Default for Request {
    fn default() -> Self {
        Request {
            n: 20,
            seed_songs: Vec::new(),
            seed_artists: Vec::new(),
            tunables: Tunables::default(),
            exclude_played_days: None,
            now: 0,
            exclude: HashSet::new(),
            max_per_artist: 2,
            mmr_lambda: 0.8,
            min_new_artist_share: 0.0,
            jitter: None,
            per_source: 200,
        }
    }
}

/// Why a song was picked (the strongest source), turned into a sentence by
/// the engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// Collaborative filtering: listeners of this song also play `song`.
    BecauseYouPlay {
        /// The history song (store id) closest in CF space.
        song: i64,
    },
    /// Close to a song played recently.
    LikeRecent {
        /// The recent song (store id).
        song: i64,
    },
    /// Sounds like a song the user plays.
    SoundsLike {
        /// The history song (store id) closest in audio space.
        song: i64,
        /// Same key and mode.
        same_key: bool,
        /// Both within 4 % of this tempo.
        tempo: Option<f32>,
    },
    /// Its description matches the user's songs' descriptions.
    Described {
        /// The history song (store id) closest in text space.
        song: i64,
    },
    /// Its artist is written about together with artists the user plays.
    MentionedWith {
        /// The song's artist (store id).
        artist: i64,
    },
    /// New song (no plays yet) whose predicted vector fits the user.
    NewRelease,
    /// Popular in a genre the user plays.
    PopularInGenre {
        /// The genre.
        genre: Option<String>,
    },
    /// Like a seed.
    Seed {
        /// The closest seed song (store id).
        song: i64,
    },
}

/// One ranked song.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranked {
    /// Catalog position.
    pub song: usize,
    /// Store id.
    pub song_id: i64,
    /// Fused score (logit, after target penalties).
    pub score: f32,
    /// Each feature's contribution to the score, by name.
    pub contributions: Vec<(String, f32)>,
    /// The sources that nominated it.
    pub sources: Vec<String>,
    /// The strongest reason.
    pub reason: Reason,
    /// Whether the user never played its artist.
    pub new_artist: bool,
}

/// How big the pool was at each stage.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PoolSizes {
    /// Songs nominated by each source.
    pub by_source: Vec<(String, usize)>,
    /// Distinct nominated songs.
    pub candidates: usize,
    /// After leaving out played songs.
    pub after_played: usize,
    /// After leaving out excluded (already served) songs.
    pub after_excluded: usize,
    /// After the attribute bounds.
    pub after_filters: usize,
    /// Returned.
    pub returned: usize,
}

/// The answer to a [`Request`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Response {
    /// The songs, best first.
    pub items: Vec<Ranked>,
    /// Pool sizes.
    pub pool: PoolSizes,
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn unit(v: &[f32]) -> Vec<f32> {
    let n = dot(v, v).sqrt();
    if n > 0.0 {
        v.iter().map(|x| x / n).collect()
    } else {
        v.to_vec()
    }
}

fn sparse_dot(a: &[(u32, f32)], b: &[(u32, f32)]) -> f32 {
    let (mut i, mut j, mut s) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                s += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    s
}

/// z-scores of one song's raw features (0 where missing or constant).
fn standardise(raw: &[Option<f32>; N_FEATURES], stats: &[Option<(f64, f64)>; N_FEATURES]) -> [f32; N_FEATURES] {
    let mut z = [0f32; N_FEATURES];
    for f in 0..N_FEATURES {
        if let (Some(x), Some((mean, sd))) = (raw[f], stats[f]) {
            z[f] = ((x as f64 - mean) / sd) as f32;
        }
    }
    z
}

/// Mean and standard deviation of the values (`None` for fewer than two,
/// or when they are constant).
fn moments(values: impl Iterator<Item = f32>) -> Option<(f64, f64)> {
    let (mut sum, mut sq, mut n) = (0f64, 0f64, 0f64);
    for x in values {
        sum += x as f64;
        sq += (x as f64).powi(2);
        n += 1.0;
    }
    if n < 2.0 {
        return None;
    }
    let mean = sum / n;
    let sd = (sq / n - mean * mean).max(0.0).sqrt();
    (sd >= 1e-9).then_some((mean, sd))
}

/// The positions of the `k` best (score, position) pairs, in no particular
/// order (ties to the lower position).
fn top_k(mut v: Vec<(f32, usize)>, k: usize) -> Vec<usize> {
    let k = k.min(v.len());
    if k == 0 {
        return Vec::new();
    }
    v.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    v.truncate(k);
    v.into_iter().map(|e| e.1).collect()
}

/// The per-user inputs of the features.
#[derive(Debug, Clone)]
pub struct Profile {
    history: Vec<Played>,
    cf_vector: Vec<f32>,
    /// Whether `cf_vector` is non-zero (the user has played a CF song).
    has_cf: bool,
    recent: Vec<(usize, Vec<f32>)>,
    /// Mean of the recent songs' unit vectors: the mean cosine with them is
    /// one dot product with this.
    recent_mean: Vec<f32>,
    audio: Option<Vec<f32>>,
    text: Option<Vec<(u32, f32)>>,
    genre_share: HashMap<String, f32>,
    seeds: Vec<usize>,
    played_artists: HashSet<i64>,
    /// Artists co-mentioned with the user's most played artists (and not
    /// played by them).
    comentioned: HashSet<i64>,
}

/// A user's raw and standardised feature values for every catalog song.
#[derive(Debug, Clone)]
pub struct Scores {
    /// Raw score per source per song (`None` where the source says nothing).
    pub raw: Vec<[Option<f32>; N_FEATURES]>,
    /// Standardised features (0 where the raw score is missing).
    pub z: Vec<[f32; N_FEATURES]>,
}

/// The ranker: the catalog, the CF model and the fitted fusion.
#[derive(Debug, Clone)]
pub struct Hybrid<'a> {
    /// The catalog.
    pub catalog: &'a Catalog,
    /// The CF model.
    pub cf: &'a CfModel,
    /// The fusion weights.
    pub fusion: &'a Fusion,
    prep: std::borrow::Cow<'a, Prepared>,
}

/// What [`Hybrid`] derives from a catalog and a CF model once: build it
/// with [`Prepared::new`] when the models load and rank every request with
/// [`Hybrid::with_prepared`] (on a 580k-song catalog it is ~300 MB).
#[derive(Debug, Clone)]
pub struct Prepared {
    /// CF vector of each catalog song (trained, or predicted and rescaled).
    song_vecs: Vec<Option<Vec<f32>>>,
    /// The same, L2-normalised.
    song_units: Vec<Option<Vec<f32>>>,
    /// Mean length of the trained song vectors.
    cf_scale: f32,
    /// Listeners of each song; a song nobody played yet gets the mean of
    /// its artist's played songs (what is known of a new release).
    popularity: Vec<f32>,
    /// Each artist's songs, most listened first.
    by_artist: HashMap<i64, Vec<u32>>,
    /// Candidate retrieval; without it every request scores the catalog.
    retrieval: Option<Arc<Retrieval>>,
}

impl<'a> Hybrid<'a> {
    /// Prepares the ranker.
    pub fn new(catalog: &'a Catalog, cf: &'a CfModel, fusion: &'a Fusion) -> Result<Hybrid<'a>> {
        let prep = Prepared::new(catalog, cf)?;
        Ok(Hybrid { catalog, cf, fusion, prep: std::borrow::Cow::Owned(prep) })
    }

    /// The ranker over a [`Prepared`] made from the same catalog and model.
    pub fn with_prepared(catalog: &'a Catalog, cf: &'a CfModel, fusion: &'a Fusion, prep: &'a Prepared) -> Hybrid<'a> {
        Hybrid { catalog, cf, fusion, prep: std::borrow::Cow::Borrowed(prep) }
    }
}

impl Prepared {
    /// Derives the per-song vectors and popularity.
    pub fn new(catalog: &Catalog, cf: &CfModel) -> Result<Prepared> {
        catalog.validate()?;
        let n = cf.item_ids().len().max(1);
        let cf_scale =
            (0..cf.item_ids().len()).map(|i| dot(cf.item_vector(i), cf.item_vector(i)).sqrt()).sum::<f32>() / n as f32;
        let song_vecs: Vec<Option<Vec<f32>>> = (0..catalog.len())
            .map(|s| {
                if let Some(c) = catalog.cf_col[s] {
                    Some(cf.item_vector(c as usize).to_vec())
                } else {
                    catalog.predicted[s]
                        .as_ref()
                        .filter(|p| p.len() == cf.factors())
                        .map(|p| unit(p).iter().map(|x| x * cf_scale).collect())
                }
            })
            .collect();
        let mut by_artist: HashMap<i64, (f32, f32)> = HashMap::new();
        for s in 0..catalog.len() {
            if let (Some(a), true) = (catalog.artist[s], catalog.listeners[s] > 0.0) {
                let e = by_artist.entry(a).or_default();
                e.0 += catalog.listeners[s];
                e.1 += 1.0;
            }
        }
        let popularity = (0..catalog.len())
            .map(|s| {
                if catalog.listeners[s] > 0.0 {
                    catalog.listeners[s]
                } else {
                    catalog.artist[s].and_then(|a| by_artist.get(&a)).map_or(0.0, |(sum, n)| sum / n)
                }
            })
            .collect();
        let song_units = song_vecs.iter().map(|v| v.as_deref().map(unit)).collect();
        let mut by_artist: HashMap<i64, Vec<u32>> = HashMap::new();
        for s in 0..catalog.len() {
            if let Some(a) = catalog.artist[s] {
                by_artist.entry(a).or_default().push(s as u32);
            }
        }
        for v in by_artist.values_mut() {
            v.sort_by(|&a, &b| catalog.listeners[b as usize].total_cmp(&catalog.listeners[a as usize]).then(a.cmp(&b)));
        }
        Ok(Prepared { song_vecs, song_units, cf_scale, popularity, by_artist, retrieval: None })
    }

    /// Adds candidate retrieval (see [`Retrieval`]): requests then cost
    /// O(candidates) instead of O(catalog). `catalog` must be the one this
    /// was prepared from.
    pub fn with_retrieval(mut self, catalog: &Catalog, cfg: RetrievalConfig) -> Result<Prepared> {
        let r = Retrieval::build(catalog, &self.song_vecs, &self.song_units, &self.popularity, cfg)?;
        self.retrieval = Some(Arc::new(r));
        Ok(self)
    }

    /// The candidate retrieval, if built.
    pub fn retrieval(&self) -> Option<&Retrieval> {
        self.retrieval.as_deref()
    }
}

impl<'a> Hybrid<'a> {
    /// CF vector (trained, or predicted and rescaled) of a catalog song.
    pub fn song_vector(&self, s: usize) -> Option<&[f32]> {
        self.prep.song_vecs[s].as_deref()
    }

    /// [`Hybrid::song_vector`], L2-normalised (computed once per model).
    pub fn song_unit(&self, s: usize) -> Option<&[f32]> {
        self.prep.song_units[s].as_deref()
    }

    /// Builds a user's profile from their history (and seeds).
    pub fn profile(&self, history: &[Played], seed_songs: &[usize], seed_artists: &[i64]) -> Profile {
        let c = self.catalog;
        let cf_hist: Vec<(usize, f32, u32)> =
            history.iter().filter_map(|h| c.cf_col[h.song].map(|col| (col as usize, h.plays, h.skips))).collect();
        let cf_vector = if cf_hist.is_empty() {
            vec![0.0; self.cf.factors()]
        } else {
            self.cf.fold_in(&cf_hist).unwrap_or_else(|_| vec![0.0; self.cf.factors()])
        };
        let mut liked: Vec<&Played> = history.iter().filter(|h| h.liked()).collect();
        liked.sort_by(|a, b| b.last_played.cmp(&a.last_played).then(b.plays.total_cmp(&a.plays)));
        let recent: Vec<(usize, Vec<f32>)> =
            liked.iter().filter_map(|h| self.song_vector(h.song).map(|v| (h.song, unit(v)))).take(10).collect();
        let mut audio = vec![0f32; 0];
        let mut text: HashMap<u32, f32> = HashMap::new();
        let mut genre: HashMap<String, f32> = HashMap::new();
        let mut total = 0f32;
        for h in &liked {
            let w = (1.0 + h.plays).ln();
            if let Some(a) = &c.audio[h.song] {
                if audio.is_empty() {
                    audio = vec![0.0; a.len()];
                }
                if audio.len() == a.len() {
                    audio.iter_mut().zip(a).for_each(|(p, x)| *p += w * x);
                }
            }
            if let Some(t) = &c.text[h.song] {
                for &(k, x) in t {
                    *text.entry(k).or_default() += w * x;
                }
            }
            if let Some(g) = &c.genre[h.song] {
                *genre.entry(g.clone()).or_default() += h.plays;
                total += h.plays;
            }
        }
        genre.values_mut().for_each(|v| *v /= total.max(1e-6));
        let mut tv: Vec<(u32, f32)> = text.into_iter().collect();
        tv.sort_unstable_by_key(|e| e.0);
        let tn = tv.iter().map(|e| e.1 * e.1).sum::<f32>().sqrt();
        tv.iter_mut().for_each(|e| e.1 /= tn.max(1e-12));
        let mut seeds: Vec<usize> = seed_songs.to_vec();
        if !seed_artists.is_empty() {
            // The artist's most-listened songs stand for the artist.
            let mut by_artist: Vec<usize> = seed_artists
                .iter()
                .filter_map(|a| self.prep.by_artist.get(a))
                .flat_map(|v| v.iter().map(|&s| s as usize))
                .collect();
            by_artist.sort_by(|&a, &b| c.listeners[b].total_cmp(&c.listeners[a]).then(a.cmp(&b)));
            by_artist.dedup();
            seeds.extend(by_artist.into_iter().take(3 * seed_artists.len()));
        }
        let mut by_artist: HashMap<i64, f32> = HashMap::new();
        for h in &liked {
            if let Some(a) = c.artist[h.song] {
                *by_artist.entry(a).or_default() += h.plays;
            }
        }
        let mut top_artists: Vec<(i64, f32)> = by_artist.into_iter().collect();
        top_artists.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let played_artists: HashSet<i64> = history.iter().filter_map(|h| c.artist[h.song]).collect();
        let comentioned = top_artists
            .iter()
            .take(5)
            .filter_map(|(a, _)| c.comentioned.get(a))
            .flat_map(|v| v.iter().take(5).copied())
            .filter(|a| !played_artists.contains(a))
            .collect();
        let mut recent_mean = vec![0f32; self.cf.factors()];
        for (_, w) in &recent {
            recent_mean.iter_mut().zip(w).for_each(|(m, x)| *m += x / recent.len() as f32);
        }
        Profile {
            has_cf: cf_vector.iter().any(|&x| x != 0.0),
            recent_mean,
            comentioned,
            history: history.to_vec(),
            cf_vector,
            recent,
            audio: (!audio.is_empty()).then(|| unit(&audio)),
            text: (!tv.is_empty()).then_some(tv),
            genre_share: genre,
            seeds,
            played_artists,
        }
    }

    /// Similarity of two catalog songs: the mean of their CF, audio and
    /// text cosines, where both have the vector.
    pub fn similarity(&self, a: usize, b: usize) -> f32 {
        let parts = self.similarity_parts(a, b);
        let (s, n) = parts.iter().flatten().fold((0.0, 0.0), |(s, n), x| (s + x, n + 1.0));
        if n > 0.0 {
            s / n
        } else {
            0.0
        }
    }

    /// The CF, audio and text cosines of two catalog songs (`None` where
    /// either lacks the vector).
    pub fn similarity_parts(&self, a: usize, b: usize) -> [Option<f32>; 3] {
        let c = self.catalog;
        [
            self.song_unit(a).zip(self.song_unit(b)).map(|(x, y)| dot(x, y)),
            c.audio[a].as_deref().zip(c.audio[b].as_deref()).map(|(x, y)| dot(x, y)),
            c.text[a].as_deref().zip(c.text[b].as_deref()).map(|(x, y)| sparse_dot(x, y)),
        ]
    }

    /// Raw feature values of song `s` for `p` (`None` where the source says
    /// nothing).
    fn raw(&self, p: &Profile, s: usize) -> [Option<f32>; N_FEATURES] {
        let c = self.catalog;
        let mut r = [None; N_FEATURES];
        if let (Some(v), true) = (self.song_vector(s), p.has_cf) {
            r[CF] = Some(dot(&p.cf_vector, v));
        }
        if let (Some(u), false) = (self.prep.song_units[s].as_deref(), p.recent.is_empty()) {
            r[KNN] = Some(dot(u, &p.recent_mean));
        }
        if let (Some(a), Some(pa)) = (&c.audio[s], &p.audio) {
            r[AUDIO] = Some(dot(a, pa));
        }
        if let (Some(t), Some(pt)) = (&c.text[s], &p.text) {
            r[TEXT] = Some(sparse_dot(t, pt));
        }
        r[POPULAR] = Some(self.popular(p, s));
        if !p.seeds.is_empty() {
            r[SEED] = p.seeds.iter().map(|&q| self.similarity(s, q)).reduce(f32::max);
        }
        r
    }

    /// The `popular` feature: ln(1 + listeners) × the user's genre share.
    fn popular(&self, p: &Profile, s: usize) -> f32 {
        let share = if p.genre_share.is_empty() {
            1.0
        } else {
            self.catalog.genre[s].as_ref().and_then(|g| p.genre_share.get(g)).copied().unwrap_or(0.0)
        };
        (1.0 + self.prep.popularity[s]).ln() * share
    }

    /// Raw and standardised features of every song for `p`.
    pub fn scores(&self, p: &Profile) -> Scores {
        let c = self.catalog;
        let raw: Vec<[Option<f32>; N_FEATURES]> = (0..c.len()).into_par_iter().map(|s| self.raw(p, s)).collect();
        let stats: [Option<(f64, f64)>; N_FEATURES] = std::array::from_fn(|f| moments(raw.iter().filter_map(|r| r[f])));
        let z = raw.iter().map(|r| standardise(r, &stats)).collect();
        Scores { raw, z }
    }

    /// Catalog mean and standard deviation of each feature for `p`,
    /// without scoring the catalog (see [`Retrieval`]); `None` where the
    /// feature is constant or absent.
    fn fast_stats(&self, r: &Retrieval, p: &Profile) -> [Option<(f64, f64)>; N_FEATURES] {
        let c = self.catalog;
        let mut st = [None; N_FEATURES];
        if p.has_cf {
            st[CF] = r.cf_stats(&p.cf_vector);
        }
        if !p.recent.is_empty() {
            st[KNN] = r.unit_stats(&p.recent_mean);
        }
        if let Some(pa) = &p.audio {
            st[AUDIO] = r.audio_stats(pa);
        }
        let (s1, s2) = if p.genre_share.is_empty() {
            (r.pop_all.s1, r.pop_all.s2)
        } else {
            p.genre_share
                .iter()
                .filter_map(|(g, &w)| r.pop_genre.get(g).map(|e| (w as f64, e)))
                .fold((0.0, 0.0), |(a, b), (w, e)| (a + w * e.s1, b + w * w * e.s2))
        };
        let n = c.len() as f64;
        if n >= 2.0 {
            let mean = s1 / n;
            let sd = (s2 / n - mean * mean).max(0.0).sqrt();
            st[POPULAR] = (sd >= 1e-9).then_some((mean, sd));
        }
        let sampled = |f: &dyn Fn(usize) -> Option<f32>| moments(r.sample.iter().filter_map(|&s| f(s as usize)));
        if let Some(pt) = &p.text {
            st[TEXT] = sampled(&|s| c.text[s].as_ref().map(|t| sparse_dot(t, pt)));
        }
        if !p.seeds.is_empty() {
            st[SEED] = sampled(&|s| p.seeds.iter().map(|&q| self.similarity(s, q)).reduce(f32::max));
        }
        st
    }

    /// Each source's nominations from the retrieval indexes and lists.
    fn nominate_fast(&self, r: &Retrieval, p: &Profile, k: usize, n: usize) -> Vec<(&'static str, Vec<usize>)> {
        let c = self.catalog;
        let best = |mut v: Vec<(f32, usize)>| -> Vec<usize> {
            v.sort_unstable_by_key(|e| e.1);
            v.dedup_by_key(|e| e.1);
            top_k(v, k)
        };
        let cf = if p.has_cf { r.top_warm(&p.cf_vector, k, n) } else { Vec::new() };
        let cold = if p.has_cf { r.top_cold(&p.cf_vector, k, n) } else { Vec::new() };
        let knn = if p.recent.is_empty() { Vec::new() } else { r.top_unit(&p.recent_mean, k, n) };
        let audio = p.audio.as_ref().map(|a| r.top_audio(a, k, n)).unwrap_or_default();
        let text = p.text.as_ref().map(|t| r.top_text(c, t, k)).unwrap_or_default();
        let comention = best(
            p.comentioned
                .iter()
                .filter_map(|a| self.prep.by_artist.get(a))
                .flat_map(|v| v.iter().map(|&s| (self.popular(p, s as usize), s as usize)))
                .collect(),
        );
        // Within a genre the songs are in popularity order, so the top `k`
        // of each genre the user plays hold the top `k` overall.
        let mut pop: Vec<usize> = r.by_popularity.iter().take(k).map(|&s| s as usize).collect();
        for (g, &w) in &p.genre_share {
            if w > 0.0 {
                pop.extend(r.by_genre.get(g).into_iter().flat_map(|v| v.iter().take(k).map(|&s| s as usize)));
            }
        }
        let popular = best(pop.into_iter().map(|s| (self.popular(p, s), s)).collect());
        let mut out = vec![
            ("cf", cf),
            ("knn", knn),
            ("audio", audio),
            ("text", text),
            ("comention", comention),
            ("cold", cold),
            ("popular", popular),
        ];
        if !p.seeds.is_empty() {
            let mut near: Vec<usize> = Vec::new();
            for &q in &p.seeds {
                if let Some(u) = self.song_unit(q) {
                    near.extend(r.top_unit(u, k, n));
                }
                if let Some(a) = &c.audio[q] {
                    near.extend(r.top_audio(a, k, n));
                }
            }
            near.sort_unstable();
            near.dedup();
            let seed = best(
                near.into_iter()
                    .filter_map(|s| p.seeds.iter().map(|&q| self.similarity(s, q)).reduce(f32::max).map(|x| (x, s)))
                    .collect(),
            );
            out.push(("seed", seed));
        }
        out
    }

    /// Standardised features of `songs` for `p`: with retrieval from the
    /// catalog moments, else by scoring the catalog.
    fn z_of(&self, p: &Profile, songs: &[usize]) -> Vec<[f32; N_FEATURES]> {
        match self.prep.retrieval.as_deref() {
            Some(r) => {
                let st = self.fast_stats(r, p);
                songs.iter().map(|&s| standardise(&self.raw(p, s), &st)).collect()
            }
            None => {
                let sc = self.scores(p);
                songs.iter().map(|&s| sc.z[s]).collect()
            }
        }
    }

    /// Each source's nominations (catalog positions), named.
    fn nominations(&self, p: &Profile, sc: &Scores, per_source: usize) -> Vec<(&'static str, Vec<usize>)> {
        let c = self.catalog;
        let top = |f: usize, keep: &dyn Fn(usize) -> bool| -> Vec<usize> {
            top_k((0..c.len()).filter(|&s| keep(s)).filter_map(|s| sc.raw[s][f].map(|x| (x, s))).collect(), per_source)
        };
        let warm = |s: usize| c.cf_col[s].is_some();
        let cold = |s: usize| c.cf_col[s].is_none();
        let all = |_: usize| true;
        let comentioned = |s: usize| c.artist[s].is_some_and(|a| p.comentioned.contains(&a));
        let mut out = vec![
            ("cf", top(CF, &warm)),
            ("knn", top(KNN, &all)),
            ("audio", top(AUDIO, &all)),
            ("text", top(TEXT, &all)),
            ("comention", top(POPULAR, &comentioned)),
            ("cold", top(CF, &cold)),
            ("popular", top(POPULAR, &all)),
        ];
        if !p.seeds.is_empty() {
            out.push(("seed", top(SEED, &all)));
        }
        out
    }

    fn reason(&self, p: &Profile, s: usize, contributions: &[f32; N_FEATURES]) -> Reason {
        let c = self.catalog;
        let best = (0..N_FEATURES).max_by(|&a, &b| contributions[a].total_cmp(&contributions[b])).unwrap_or(CF);
        let closest = |sim: &dyn Fn(usize) -> Option<f32>| -> Option<usize> {
            p.history
                .iter()
                .filter(|h| h.liked())
                .filter_map(|h| sim(h.song).map(|x| (x, h.song)))
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|e| e.1)
        };
        let vec_sim = |h: usize| Some(dot(self.song_unit(s)?, self.song_unit(h)?));
        if let (true, Some(a)) = (best == TEXT || best == POPULAR, c.artist[s]) {
            if p.comentioned.contains(&a) {
                return Reason::MentionedWith { artist: a };
            }
        }
        match best {
            SEED if !p.seeds.is_empty() => {
                let q =
                    p.seeds.iter().copied().max_by(|&a, &b| self.similarity(s, a).total_cmp(&self.similarity(s, b)));
                Reason::Seed { song: c.song_ids[q.unwrap_or(s)] }
            }
            _ if c.cf_col[s].is_none() && best == CF => Reason::NewRelease,
            CF => match closest(&vec_sim) {
                Some(h) => Reason::BecauseYouPlay { song: c.song_ids[h] },
                None => Reason::PopularInGenre { genre: c.genre[s].clone() },
            },
            KNN => match self
                .song_unit(s)
                .and_then(|u| p.recent.iter().max_by(|a, b| dot(u, &a.1).total_cmp(&dot(u, &b.1))))
            {
                Some((h, _)) => Reason::LikeRecent { song: c.song_ids[*h] },
                None => Reason::PopularInGenre { genre: c.genre[s].clone() },
            },
            AUDIO => {
                let h = closest(&|h| Some(dot(c.audio[s].as_ref()?, c.audio[h].as_ref()?)));
                match h {
                    Some(h) => {
                        let (a, b) = (c.attrs[s], c.attrs[h]);
                        let same_key = matches!((a, b), (Some(a), Some(b)) if a.key == b.key && a.major == b.major);
                        let tempo = match (a, b) {
                            (Some(a), Some(b)) if (a.tempo - b.tempo).abs() <= 0.04 * b.tempo => Some(b.tempo),
                            _ => None,
                        };
                        Reason::SoundsLike { song: c.song_ids[h], same_key, tempo }
                    }
                    None => Reason::PopularInGenre { genre: c.genre[s].clone() },
                }
            }
            TEXT => match closest(&|h| Some(sparse_dot(c.text[s].as_ref()?, c.text[h].as_ref()?))) {
                Some(h) => Reason::Described { song: c.song_ids[h] },
                None => Reason::PopularInGenre { genre: c.genre[s].clone() },
            },
            _ => Reason::PopularInGenre { genre: c.genre[s].clone() },
        }
    }

    /// Ranks the catalog for a user with profile `p`.
    pub fn rank(&self, p: &Profile, req: &Request) -> Result<Response> {
        use rand::{Rng, SeedableRng};
        req.tunables.validate()?;
        if req.n == 0 || req.n > 1000 {
            return Err(Error::BadRequest(format!("n must be between 1 and 1000, got {}", req.n)));
        }
        if req.seed_songs.len() + req.seed_artists.len() > 5 {
            return Err(Error::BadRequest("at most 5 seeds (songs and artists together)".into()));
        }
        if !(0.0..=1.0).contains(&req.mmr_lambda) || !(0.0..=1.0).contains(&req.min_new_artist_share) {
            return Err(Error::BadRequest("mmr_lambda and min_new_artist_share must be within 0–1".into()));
        }
        let c = self.catalog;
        let k = req.per_source.max(req.n);
        let (noms, full) = match self.prep.retrieval.as_deref() {
            Some(r) => (self.nominate_fast(r, p, k, req.n), None),
            None => {
                let sc = self.scores(p);
                (self.nominations(p, &sc, k), Some(sc))
            }
        };
        let mut pool =
            PoolSizes { by_source: noms.iter().map(|(n, v)| (n.to_string(), v.len())).collect(), ..Default::default() };
        // (song, bit mask of the sources that nominated it), by song.
        let mut cand: Vec<(usize, u16)> =
            noms.iter().enumerate().flat_map(|(i, (_, v))| v.iter().map(move |&s| (s, 1u16 << i))).collect();
        cand.sort_unstable_by_key(|e| e.0);
        cand.dedup_by(|b, a| {
            let same = a.0 == b.0;
            if same {
                a.1 |= b.1;
            }
            same
        });
        pool.candidates = cand.len();
        let mut played: Vec<usize> = p
            .history
            .iter()
            .filter(|h| match req.exclude_played_days {
                None => true,
                Some(d) => h.last_played == 0 || h.last_played >= req.now - d as i64 * 86_400,
            })
            .map(|h| h.song)
            .collect();
        played.sort_unstable();
        cand.retain(|e| played.binary_search(&e.0).is_err());
        pool.after_played = cand.len();
        cand.retain(|e| !req.exclude.contains(&e.0));
        pool.after_excluded = cand.len();
        cand.retain(|e| req.tunables.admits(c.attrs[e.0].as_ref()));
        pool.after_filters = cand.len();

        // Standardised features of the surviving candidates only.
        let zs: Vec<[f32; N_FEATURES]> = match (&full, self.prep.retrieval.as_deref()) {
            (Some(sc), _) => cand.iter().map(|e| sc.z[e.0]).collect(),
            (None, Some(r)) => {
                let st = self.fast_stats(r, p);
                cand.iter().map(|e| standardise(&self.raw(p, e.0), &st)).collect()
            }
            (None, None) => unreachable!("scores are computed without retrieval"),
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(req.jitter.map_or(0, |j| j.1));
        // (candidate slot, score)
        let scored: Vec<(usize, f32)> = cand
            .iter()
            .zip(&zs)
            .enumerate()
            .map(|(i, (e, z))| {
                let mut v = self.fusion.logit(z) - req.tunables.penalty(c.attrs[e.0].as_ref());
                if let Some((scale, _)) = req.jitter {
                    v += scale * rng.random::<f32>();
                }
                (i, v)
            })
            .collect();
        // MMR with the artist cap and the new-artist quota.
        let (lo, hi) = scored.iter().fold((f32::MAX, f32::MIN), |(l, h), e| (l.min(e.1), h.max(e.1)));
        let span = (hi - lo).max(1e-6);
        let mut left: Vec<(usize, f32)> = scored;
        left.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        // The MMR window: wide enough for diversity to matter, narrow
        // enough that the pairwise similarities stay cheap.
        left.truncate(req.n * 10);
        let need_new = (req.min_new_artist_share * req.n as f32).ceil() as usize;
        let mut chosen: Vec<(usize, f32)> = Vec::with_capacity(req.n);
        let mut per_artist: HashMap<i64, usize> = HashMap::new();
        let mut new_count = 0;
        let mut max_sim = vec![0f32; left.len()];
        let mut taken = vec![false; left.len()];
        while chosen.len() < req.n {
            let slots = req.n - chosen.len();
            let must_new = need_new.saturating_sub(new_count) >= slots;
            let mut best: Option<(usize, f32)> = None;
            for (k, &(slot, v)) in left.iter().enumerate() {
                if taken[k] {
                    continue;
                }
                let artist = c.artist[cand[slot].0];
                if artist.is_some_and(|a| per_artist.get(&a).copied().unwrap_or(0) >= req.max_per_artist) {
                    continue;
                }
                let is_new = artist.is_none_or(|a| !p.played_artists.contains(&a));
                if must_new && !is_new {
                    continue;
                }
                let m = req.mmr_lambda * (v - lo) / span - (1.0 - req.mmr_lambda) * max_sim[k];
                if best.is_none_or(|b| m > b.1) {
                    best = Some((k, m));
                }
            }
            let Some((k, _)) = best else { break };
            taken[k] = true;
            let (slot, v) = left[k];
            let s = cand[slot].0;
            if let Some(a) = c.artist[s] {
                *per_artist.entry(a).or_default() += 1;
                if !p.played_artists.contains(&a) {
                    new_count += 1;
                }
            } else {
                new_count += 1;
            }
            chosen.push((slot, v));
            if req.mmr_lambda < 1.0 {
                for (j, &(t, _)) in left.iter().enumerate() {
                    if !taken[j] {
                        max_sim[j] = max_sim[j].max(self.similarity(s, cand[t].0));
                    }
                }
            }
        }
        pool.returned = chosen.len();
        let items = chosen
            .into_iter()
            .map(|(slot, score)| {
                let (s, mask) = cand[slot];
                let sources = (0..noms.len()).filter(|i| mask & (1 << i) != 0).map(|i| noms[i].0.to_string()).collect();
                self.item(p, &zs[slot], s, score, sources)
            })
            .collect();
        Ok(Response { items, pool })
    }

    fn item(&self, p: &Profile, z: &[f32; N_FEATURES], s: usize, score: f32, sources: Vec<String>) -> Ranked {
        let c = self.catalog;
        let contrib = self.fusion.contributions(z);
        Ranked {
            song: s,
            song_id: c.song_ids[s],
            score,
            contributions: FEATURES.iter().zip(contrib).map(|(n, v)| (n.to_string(), v)).collect(),
            sources,
            reason: self.reason(p, s, &contrib),
            new_artist: c.artist[s].is_none_or(|a| !p.played_artists.contains(&a)),
        }
    }

    /// Fused scores of the given songs for `p` (no rules, no candidates).
    pub fn score_songs(&self, p: &Profile, songs: &[usize]) -> Vec<f32> {
        self.z_of(p, songs).iter().map(|z| self.fusion.logit(z)).collect()
    }

    /// Scores and explains the given songs for `p` (no rules).
    pub fn explain(&self, p: &Profile, songs: &[usize]) -> Vec<Ranked> {
        let zs = self.z_of(p, songs);
        songs.iter().zip(&zs).map(|(&s, z)| self.item(p, z, s, self.fusion.logit(z), Vec::new())).collect()
    }

    /// Fused scores of every catalog song (no rules), for offline
    /// evaluation; songs no source nominates score −∞.
    pub fn score_all(&self, p: &Profile, per_source: usize) -> Vec<f32> {
        let sc = self.scores(p);
        let mut out = vec![f32::NEG_INFINITY; self.catalog.len()];
        for (_, v) in self.nominations(p, &sc, per_source) {
            for s in v {
                out[s] = self.fusion.logit(&sc.z[s]);
            }
        }
        out
    }

    /// Training examples for [`Fusion::fit`]: the candidates of a user with
    /// `history`, labelled by whether they are in `held_out` (catalog
    /// positions the user went on to play).
    pub fn examples(
        &self,
        history: &[Played],
        held_out: &HashSet<usize>,
        per_source: usize,
    ) -> Vec<([f32; N_FEATURES], bool)> {
        let p = self.profile(history, &[], &[]);
        let sc = self.scores(&p);
        let played: HashSet<usize> = history.iter().map(|h| h.song).collect();
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for (_, v) in self.nominations(&p, &sc, per_source) {
            for s in v {
                if !played.contains(&s) && seen.insert(s) {
                    out.push((sc.z[s], held_out.contains(&s)));
                }
            }
        }
        out
    }

    /// One feature's raw score of every catalog song for `p` (−∞ where
    /// the source says nothing): a single-source recommender.
    pub fn feature_scores(&self, p: &Profile, feature: &str) -> Result<Vec<f32>> {
        let f = FEATURES
            .iter()
            .position(|x| *x == feature)
            .ok_or_else(|| Error::BadRequest(format!("unknown feature {feature:?}")))?;
        Ok(self.scores(p).raw.iter().map(|r| r[f].unwrap_or(f32::NEG_INFINITY)).collect())
    }

    /// Mean length of the trained song vectors (the scale given to
    /// predicted vectors).
    pub fn cf_scale(&self) -> f32 {
        self.prep.cf_scale
    }
}
