//! Mixes: an instant mix from seeds, a path from one song to another,
//! rediscovery of songs a user stopped playing, and a user's sonic
//! fingerprint.
//!
//! **Instant mix.** Every song's relevance is the weighted mean of its
//! [`Hybrid::similarity`] (CF, audio and text cosines) to the seed songs
//! and of its audio cosine to the seed centroids (the fingerprint),
//! standardised over the catalog; with a user, `personal` × their
//! standardised fused score is added. Seed songs are candidates unless
//! excluded (the engine excludes seed songs, albums and playlists, not the
//! songs standing for an artist or genre). The list is then built one song at a
//! time from the best `20 n` candidates: a song is eligible when its artist
//! and album are under their caps and it is at least `min_distance`
//! (1 − similarity) away from the song before it; its value is its
//! relevance minus `diversity` × its largest similarity to the songs
//! already chosen (maximal marginal relevance, so the nearest songs do not
//! take every slot), and it is drawn with probability ∝ exp(value / T)
//! among the 20 best eligible values (T = `temperature`; 0 = always the
//! best). The draw is seeded, so the same request on the same day gives the
//! same mix.
//!
//! **Path.** Songs live in a joint space: the audio vector and the CF
//! vector, each L2-normalised and scaled by the square root of its weight
//! in [`JOINT_WEIGHTS`] (so squared distances add up with those weights).
//! The straight line from A to B is cut into `n − 1` equal steps; the
//! songs nearest each step point are dealt out round by round, 16 to a
//! point, so the candidate sets are disjoint and every point gets some. A Viterbi pass
//! then picks one candidate per step minimising the sum of squared step
//! lengths, which favours even steps (a song cannot repeat: each is a
//! candidate of one step only).
//!
//! **Rediscovery.** A song the user played at least `min_plays` times and
//! not in the `quiet_days` before their latest listen (nor since) scores
//! ln(1 + plays) × (1 − e^(−gap/90 days)), gap = time from its last play
//! to the user's latest listen; standardised over those songs, plus
//! `taste` × the standardised fused score of today's profile.
//!
//! **Fingerprint.** The audio vectors of the user's most played songs,
//! clustered by spherical k-means (k ≤ 3, deterministic start): a few
//! centroids, not one mean, so a listener of two styles gets both.

use std::collections::{HashMap, HashSet};

use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::{dot, moments, top_k, unit, Error, Hybrid, Played, Profile, Result, Tunables};

/// Weights of the audio and CF parts of the joint space of paths.
pub const JOINT_WEIGHTS: [(&str, f32); 2] = [("audio", 0.5), ("cf", 0.5)];

/// Candidates per step of a path.
const PATH_CANDIDATES: usize = 16;
/// Rediscovery's decay, days: a song last played this long before the
/// user's latest listen gets 63 % of its full weight.
const REDISCOVER_TAU_DAYS: f64 = 90.0;

/// A seed song and its weight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MixSeed {
    /// Catalog position.
    pub song: usize,
    /// Weight (> 0).
    pub weight: f32,
}

/// A cluster of a user's most played songs in audio space.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Centroid {
    /// Unit audio vector.
    pub vector: Vec<f32>,
    /// Share of the clustered plays.
    pub weight: f32,
    /// Its songs (catalog positions), most played first.
    pub songs: Vec<usize>,
}

/// What to mix.
#[derive(Debug, Clone, PartialEq)]
pub struct MixRequest {
    /// Seed songs.
    pub seeds: Vec<MixSeed>,
    /// Audio centroids as seeds (a fingerprint).
    pub centroids: Vec<Centroid>,
    /// How many songs.
    pub n: usize,
    /// Start with the heaviest seed song.
    pub seed_first: bool,
    /// At most this many songs per artist.
    pub max_per_artist: usize,
    /// At most this many songs per album.
    pub max_per_album: usize,
    /// Least distance (1 − similarity) between consecutive songs.
    pub min_distance: f32,
    /// Sampling temperature (0: always the best).
    pub temperature: f32,
    /// Weight of the similarity to songs already chosen (MMR).
    pub diversity: f32,
    /// Weight of the user's taste (0 without a user).
    pub personal: f32,
    /// Seed of the draw.
    pub rng_seed: u64,
    /// Songs never to return (played recently, disliked).
    pub exclude: HashSet<usize>,
    /// Attribute bounds and targets.
    pub tunables: Tunables,
}

/// The defaults: temperature, diversity and least distance chosen by
/// `bench/mixes.sh` on a tuning demo world (seed 7), reported on another.
impl Default for MixRequest {
    fn default() -> Self {
        MixRequest {
            seeds: Vec::new(),
            centroids: Vec::new(),
            n: 50,
            seed_first: false,
            max_per_artist: 2,
            max_per_album: 3,
            min_distance: 0.05,
            temperature: 0.1,
            diversity: 0.5,
            personal: 0.3,
            rng_seed: 0,
            exclude: HashSet::new(),
            tunables: Tunables::default(),
        }
    }
}

/// Why a song is in a mix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MixReason {
    /// The seed song it is closest to (catalog position), if any.
    pub seed: Option<usize>,
    /// The model that makes it close: `cf`, `audio`, `text`, or
    /// `fingerprint` (a centroid), or `seed` (it is the seed).
    pub by: &'static str,
    /// Same key and mode as that seed.
    pub same_key: bool,
    /// Its tempo when within 4 % of the seed's.
    pub tempo: Option<f32>,
    /// The user's taste added at least a quarter of its relevance.
    pub personal: bool,
    /// The seed centroid it is closest to (position in the request's
    /// `centroids`), when that is why.
    pub centroid: Option<usize>,
}

/// One song of a mix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MixItem {
    /// Catalog position.
    pub song: usize,
    /// Relevance (standardised seed similarity plus taste).
    pub relevance: f32,
    /// Why.
    pub reason: MixReason,
}

/// A path request.
#[derive(Debug, Clone, PartialEq)]
pub struct PathRequest {
    /// First song.
    pub from: usize,
    /// Last song.
    pub to: usize,
    /// Songs on the path, both ends included (2–200).
    pub n: usize,
    /// Songs never to use.
    pub exclude: HashSet<usize>,
}

/// One song of a path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathItem {
    /// Catalog position.
    pub song: usize,
    /// Distance from the song before (0 for the first).
    pub step: f32,
}

/// How even a path is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PathStats {
    /// Largest step.
    pub max_step: f32,
    /// Mean step.
    pub mean_step: f32,
    /// Distance from the first song straight to the last.
    pub direct: f32,
}

/// A path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathResponse {
    /// The songs, first to last.
    pub items: Vec<PathItem>,
    /// Step statistics.
    pub stats: PathStats,
    /// The vector kinds of the joint space used (both ends must have them).
    pub space: Vec<&'static str>,
}

/// Rediscovery settings.
#[derive(Debug, Clone, PartialEq)]
pub struct RediscoverRequest {
    /// How many songs.
    pub n: usize,
    /// Leave out songs played within this many days of the user's latest
    /// listen (or of `now`, whichever is later).
    pub quiet_days: u32,
    /// Least full plays for a song to count as loved.
    pub min_plays: f32,
    /// Weight of today's taste.
    pub taste: f32,
    /// "Now", Unix seconds.
    pub now: i64,
    /// At most this many songs per artist.
    pub max_per_artist: usize,
    /// Songs never to return (served on other days).
    pub exclude: HashSet<usize>,
}

impl Default for RediscoverRequest {
    fn default() -> Self {
        RediscoverRequest {
            n: 30,
            quiet_days: 14,
            min_plays: 3.0,
            taste: 0.25,
            now: 0,
            max_per_artist: 2,
            exclude: HashSet::new(),
        }
    }
}

/// One rediscovered song.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rediscovered {
    /// Catalog position.
    pub song: usize,
    /// Score.
    pub score: f32,
    /// Full plays.
    pub plays: f32,
    /// Last play, Unix seconds.
    pub last_played: i64,
    /// Days from its last play to the user's latest listen.
    pub quiet_days: f32,
}

fn z_scores(v: &[f32]) -> Vec<f32> {
    match moments(v.iter().copied().filter(|x| x.is_finite())) {
        Some((m, sd)) => v.iter().map(|&x| if x.is_finite() { ((x as f64 - m) / sd) as f32 } else { 0.0 }).collect(),
        None => vec![0.0; v.len()],
    }
}

impl Hybrid<'_> {
    fn check_song(&self, s: usize) -> Result<()> {
        if s >= self.catalog.len() {
            return Err(Error::BadRequest(format!("no song at catalog position {s}")));
        }
        Ok(())
    }

    /// Relevance of song `s` to the seeds (weighted mean similarity).
    fn seed_relevance(&self, req: &MixRequest, s: usize) -> f32 {
        let c = self.catalog;
        let (mut sum, mut w) = (0.0, 0.0);
        for q in &req.seeds {
            sum += q.weight * self.similarity(s, q.song);
            w += q.weight;
        }
        if let Some(a) = &c.audio[s] {
            for q in &req.centroids {
                if q.vector.len() == a.len() {
                    sum += q.weight * dot(a, &q.vector);
                }
                w += q.weight;
            }
        } else {
            w += req.centroids.iter().map(|q| q.weight).sum::<f32>();
        }
        if w > 0.0 {
            sum / w
        } else {
            0.0
        }
    }

    /// An instant mix for the seeds (and the user of profile `p`, if any).
    pub fn mix(&self, p: Option<&Profile>, req: &MixRequest) -> Result<Vec<MixItem>> {
        use rayon::prelude::*;
        let c = self.catalog;
        req.tunables.validate()?;
        if req.n == 0 || req.n > 500 {
            return Err(Error::BadRequest(format!("n must be between 1 and 500, got {}", req.n)));
        }
        if req.seeds.is_empty() && req.centroids.is_empty() {
            return Err(Error::BadRequest("a mix needs at least one seed".into()));
        }
        if req.seeds.len() > 500 {
            return Err(Error::BadRequest(format!("at most 500 seed songs, got {}", req.seeds.len())));
        }
        for q in &req.seeds {
            self.check_song(q.song)?;
            if !(q.weight.is_finite() && q.weight > 0.0) {
                return Err(Error::BadRequest(format!("seed weights must be positive numbers, got {}", q.weight)));
            }
        }
        for (name, v) in [("min_distance", req.min_distance), ("diversity", req.diversity), ("personal", req.personal)]
        {
            if !(0.0..=1.0).contains(&v) {
                return Err(Error::BadRequest(format!("{name} must be within 0–1, got {v}")));
            }
        }
        if !(0.0..=5.0).contains(&req.temperature) {
            return Err(Error::BadRequest(format!("temperature must be within 0–5, got {}", req.temperature)));
        }
        if req.max_per_artist == 0 || req.max_per_album == 0 {
            return Err(Error::BadRequest("max_per_artist and max_per_album must be at least 1".into()));
        }
        let raw: Vec<f32> = (0..c.len()).into_par_iter().map(|s| self.seed_relevance(req, s)).collect();
        let mut rel = z_scores(&raw);
        let mut taste = vec![0.0; c.len()];
        if let (Some(p), true) = (p, req.personal > 0.0) {
            let all: Vec<usize> = (0..c.len()).collect();
            taste = z_scores(&self.score_songs(p, &all));
            rel.iter_mut().zip(&taste).for_each(|(r, t)| *r += req.personal * t);
        }
        for (s, r) in rel.iter_mut().enumerate() {
            *r -= req.tunables.penalty(c.attrs[s].as_ref());
        }
        // The heaviest seed song (the first of equals).
        let first = req.seeds.iter().rev().max_by(|a, b| a.weight.total_cmp(&b.weight)).map(|q| q.song);
        let lead = first.filter(|_| req.seed_first);
        let pool: Vec<usize> = {
            let eligible: Vec<(f32, usize)> = (0..c.len())
                .filter(|&s| Some(s) != lead && !req.exclude.contains(&s))
                .filter(|&s| req.tunables.admits(c.attrs[s].as_ref()))
                .map(|s| (rel[s], s))
                .collect();
            let mut p = top_k(eligible, (req.n * 20).max(500));
            p.sort_by(|&a, &b| rel[b].total_cmp(&rel[a]).then(a.cmp(&b)));
            p
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(req.rng_seed);
        let mut chosen: Vec<usize> = Vec::with_capacity(req.n);
        let mut per_artist: HashMap<i64, usize> = HashMap::new();
        let mut per_album: HashMap<u32, usize> = HashMap::new();
        let count = |s: usize, per_artist: &mut HashMap<i64, usize>, per_album: &mut HashMap<u32, usize>| {
            if let Some(a) = c.artist[s] {
                *per_artist.entry(a).or_default() += 1;
            }
            if let Some(a) = c.album_of(s) {
                *per_album.entry(a).or_default() += 1;
            }
        };
        if let Some(f) = lead {
            chosen.push(f);
            count(f, &mut per_artist, &mut per_album);
        }
        let mut max_sim = vec![f32::NEG_INFINITY; pool.len()];
        if let Some(&f) = chosen.first() {
            pool.iter().zip(max_sim.iter_mut()).for_each(|(&s, m)| *m = self.similarity(s, f));
        }
        let mut taken = vec![false; pool.len()];
        while chosen.len() < req.n {
            let prev = chosen.last().copied();
            let open = |k: usize, spaced: bool| -> bool {
                let s = pool[k];
                !taken[k]
                    && c.artist[s].is_none_or(|a| per_artist.get(&a).copied().unwrap_or(0) < req.max_per_artist)
                    && c.album_of(s).is_none_or(|a| per_album.get(&a).copied().unwrap_or(0) < req.max_per_album)
                    && (!spaced || prev.is_none_or(|q| 1.0 - self.similarity(s, q) >= req.min_distance))
            };
            let value = |k: usize| rel[pool[k]] - req.diversity * max_sim[k].max(0.0);
            let mut best: Vec<(f32, usize)> =
                (0..pool.len()).filter(|&k| open(k, true)).map(|k| (value(k), k)).collect();
            if best.is_empty() {
                // Nothing far enough from the song before: the spacing
                // gives way before the list ends early.
                best = (0..pool.len()).filter(|&k| open(k, false)).map(|k| (value(k), k)).collect();
            }
            if best.is_empty() {
                break;
            }
            best.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            best.truncate(20);
            let k = if req.temperature <= 0.0 {
                best[0].1
            } else {
                let top = best[0].0;
                let w: Vec<f32> = best.iter().map(|e| ((e.0 - top) / req.temperature).exp()).collect();
                let mut x = rng.random::<f32>() * w.iter().sum::<f32>();
                let mut pick = best[best.len() - 1].1;
                for (e, wi) in best.iter().zip(&w) {
                    if x < *wi {
                        pick = e.1;
                        break;
                    }
                    x -= wi;
                }
                pick
            };
            taken[k] = true;
            let s = pool[k];
            chosen.push(s);
            count(s, &mut per_artist, &mut per_album);
            if req.diversity > 0.0 {
                for (j, &t) in pool.iter().enumerate() {
                    if !taken[j] {
                        max_sim[j] = max_sim[j].max(self.similarity(t, s));
                    }
                }
            }
        }
        Ok(chosen
            .into_iter()
            .map(|s| MixItem {
                song: s,
                relevance: rel[s],
                reason: self.mix_reason(req, s, req.personal * taste[s], rel[s]),
            })
            .collect())
    }

    /// Why `s` is in the mix; `taste` is the user's share of its relevance
    /// `rel` (both standardised).
    fn mix_reason(&self, req: &MixRequest, s: usize, taste: f32, rel: f32) -> MixReason {
        let c = self.catalog;
        let personal = taste > 0.0 && taste >= 0.25 * rel.abs();
        if req.seeds.iter().any(|q| q.song == s) {
            return MixReason {
                seed: Some(s),
                by: "seed",
                same_key: false,
                tempo: None,
                personal: false,
                centroid: None,
            };
        }
        let best = req
            .seeds
            .iter()
            .map(|q| (q.weight * self.similarity(s, q.song), q.song))
            .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
        let near = c.audio[s].as_ref().and_then(|a| {
            req.centroids
                .iter()
                .enumerate()
                .map(|(i, q)| (q.weight * dot(a, &q.vector), i))
                .max_by(|x, y| x.0.total_cmp(&y.0))
        });
        let centroid = near.map(|e| e.0);
        match (best, centroid) {
            (Some((x, q)), cen) if cen.is_none_or(|y| x >= y) => {
                let parts = self.similarity_parts(s, q);
                let by = ["cf", "audio", "text"]
                    .into_iter()
                    .zip(parts)
                    .filter_map(|(n, x)| x.map(|x| (n, x)))
                    .max_by(|a, b| a.1.total_cmp(&b.1))
                    .map_or("cf", |e| e.0);
                let (same_key, tempo) = match (c.attrs[s], c.attrs[q]) {
                    (Some(a), Some(b)) => (
                        a.key == b.key && a.major == b.major,
                        ((a.tempo - b.tempo).abs() <= 0.04 * b.tempo).then_some(a.tempo),
                    ),
                    _ => (false, None),
                };
                MixReason { seed: Some(q), by, same_key, tempo, personal, centroid: None }
            }
            _ => MixReason {
                seed: None,
                by: "fingerprint",
                same_key: false,
                tempo: None,
                personal,
                centroid: near.map(|e| e.1),
            },
        }
    }

    /// The joint-space vector of song `s` over `space` (`None` when it
    /// lacks one of them).
    fn joint(&self, s: usize, space: &[&'static str]) -> Option<Vec<f32>> {
        let mut v = Vec::new();
        for &(kind, w) in JOINT_WEIGHTS.iter() {
            if !space.contains(&kind) {
                continue;
            }
            let part = match kind {
                "audio" => self.catalog.audio[s].as_deref().map(unit)?,
                _ => self.song_unit(s)?.to_vec(),
            };
            v.extend(part.iter().map(|x| x * w.sqrt()));
        }
        Some(v)
    }

    /// The vector kinds both songs have, and every song's joint vector
    /// over them.
    fn joint_space(&self, a: usize, b: usize) -> Result<(Vec<&'static str>, JointVectors)> {
        let c = self.catalog;
        let mut space = Vec::new();
        if c.audio[a].is_some() && c.audio[b].is_some() {
            space.push("audio");
        }
        if self.song_unit(a).is_some() && self.song_unit(b).is_some() {
            space.push("cf");
        }
        if space.is_empty() {
            return Err(Error::BadRequest(
                "the two songs share no vector (neither both analysed audio nor both a CF vector)".into(),
            ));
        }
        use rayon::prelude::*;
        let vecs = (0..c.len()).into_par_iter().map(|s| self.joint(s, &space)).collect();
        Ok((space, vecs))
    }

    /// A path from `req.from` to `req.to` (see the module docs).
    pub fn path(&self, req: &PathRequest) -> Result<PathResponse> {
        self.path_with(req, PathMethod::Smooth)
    }

    /// A path by `method`: the smooth path, or one of the baselines it is
    /// measured against.
    pub fn path_with(&self, req: &PathRequest, method: PathMethod) -> Result<PathResponse> {
        self.check_song(req.from)?;
        self.check_song(req.to)?;
        if req.from == req.to {
            return Err(Error::BadRequest("a path needs two different songs".into()));
        }
        if !(2..=200).contains(&req.n) {
            return Err(Error::BadRequest(format!("n must be between 2 and 200, got {}", req.n)));
        }
        let (space, vecs) = self.joint_space(req.from, req.to)?;
        let a = vecs[req.from].clone().expect("both ends have the space");
        let b = vecs[req.to].clone().expect("both ends have the space");
        let inner = req.n - 2;
        let targets: Vec<Vec<f32>> = (1..=inner)
            .map(|k| {
                let t = k as f32 / (req.n - 1) as f32;
                a.iter().zip(&b).map(|(x, y)| x + t * (y - x)).collect()
            })
            .collect();
        let usable: Vec<usize> = (0..vecs.len())
            .filter(|&s| s != req.from && s != req.to && !req.exclude.contains(&s) && vecs[s].is_some())
            .collect();
        let d2 = |x: &[f32], y: &[f32]| x.iter().zip(y).map(|(p, q)| (p - q) * (p - q)).sum::<f32>();
        let middle: Vec<usize> = match method {
            PathMethod::Random(seed) => {
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
                let mut pool = usable.clone();
                let mut out = Vec::new();
                while out.len() < inner && !pool.is_empty() {
                    out.push(pool.swap_remove(rng.random_range(0..pool.len())));
                }
                out
            }
            PathMethod::NearestToLine => {
                let mut used = HashSet::new();
                let mut out = Vec::new();
                for t in &targets {
                    let best = usable
                        .iter()
                        .filter(|s| !used.contains(*s))
                        .map(|&s| (d2(vecs[s].as_deref().unwrap_or(&[]), t), s))
                        .min_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
                    if let Some((_, s)) = best {
                        used.insert(s);
                        out.push(s);
                    }
                }
                out
            }
            PathMethod::Smooth => {
                // Candidates: each step point's nearest songs, dealt out
                // round by round (one to every point per round) so the
                // sets are disjoint — no song can repeat — and every point
                // gets some while songs last.
                let near: Vec<Vec<usize>> = targets
                    .iter()
                    .map(|t| {
                        let mut v: Vec<(f32, usize)> =
                            usable.iter().map(|&s| (d2(vecs[s].as_deref().unwrap_or(&[]), t), s)).collect();
                        let keep = (4 * PATH_CANDIDATES).min(v.len());
                        if keep > 0 {
                            v.select_nth_unstable_by(keep - 1, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                            v.truncate(keep);
                        }
                        v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                        v.into_iter().map(|e| e.1).collect()
                    })
                    .collect();
                let mut taken: HashSet<usize> = HashSet::new();
                let mut next = vec![0usize; inner];
                let mut steps: Vec<Vec<usize>> = vec![Vec::new(); inner];
                for _ in 0..PATH_CANDIDATES {
                    for k in 0..inner {
                        while next[k] < near[k].len() {
                            let s = near[k][next[k]];
                            next[k] += 1;
                            if taken.insert(s) {
                                steps[k].push(s);
                                break;
                            }
                        }
                    }
                }
                let steps: Vec<Vec<usize>> = steps.into_iter().filter(|v| !v.is_empty()).collect();
                // Viterbi over the steps: least sum of squared steps.
                let vec_of = |s: usize| vecs[s].as_deref().unwrap_or(&[]);
                let mut cost: Vec<f32> =
                    steps.first().map_or(Vec::new(), |v| v.iter().map(|&s| d2(&a, vec_of(s))).collect());
                let mut back: Vec<Vec<usize>> = Vec::with_capacity(steps.len());
                for w in steps.windows(2) {
                    let (prev, next) = (&w[0], &w[1]);
                    let mut nc = Vec::with_capacity(next.len());
                    let mut nb = Vec::with_capacity(next.len());
                    for &t in next {
                        let (bc, bi) = prev
                            .iter()
                            .enumerate()
                            .map(|(i, &s)| (cost[i] + d2(vec_of(s), vec_of(t)), i))
                            .min_by(|x, y| x.0.total_cmp(&y.0))
                            .expect("steps are not empty");
                        nc.push(bc);
                        nb.push(bi);
                    }
                    cost = nc;
                    back.push(nb);
                }
                let mut out = Vec::new();
                if let Some(last) = steps.last() {
                    let (_, mut i) = last
                        .iter()
                        .enumerate()
                        .map(|(i, &s)| (cost[i] + d2(vec_of(s), &b), i))
                        .min_by(|x, y| x.0.total_cmp(&y.0))
                        .expect("steps are not empty");
                    out.push(last[i]);
                    for (k, nb) in back.iter().enumerate().rev() {
                        i = nb[i];
                        out.push(steps[k][i]);
                    }
                    out.reverse();
                }
                out
            }
        };
        let songs: Vec<usize> = std::iter::once(req.from).chain(middle).chain(std::iter::once(req.to)).collect();
        let mut items = Vec::with_capacity(songs.len());
        for (i, &s) in songs.iter().enumerate() {
            let step = if i == 0 {
                0.0
            } else {
                d2(vecs[songs[i - 1]].as_deref().unwrap_or(&[]), vecs[s].as_deref().unwrap_or(&[])).sqrt()
            };
            items.push(PathItem { song: s, step });
        }
        let steps: Vec<f32> = items.iter().skip(1).map(|i| i.step).collect();
        let stats = PathStats {
            max_step: steps.iter().copied().fold(0.0, f32::max),
            mean_step: steps.iter().sum::<f32>() / steps.len().max(1) as f32,
            direct: d2(&a, &b).sqrt(),
        };
        Ok(PathResponse { items, stats, space })
    }

    /// Songs the user loved and stopped playing (see the module docs).
    pub fn rediscover(&self, p: &Profile, req: &RediscoverRequest) -> Result<Vec<Rediscovered>> {
        if req.n == 0 || req.n > 500 {
            return Err(Error::BadRequest(format!("n must be between 1 and 500, got {}", req.n)));
        }
        if !(0.0..=1.0).contains(&req.taste) {
            return Err(Error::BadRequest(format!("taste must be within 0–1, got {}", req.taste)));
        }
        let c = self.catalog;
        let latest_listen = p.history.iter().map(|h| h.last_played).max().unwrap_or(0);
        let quiet = req.quiet_days as i64 * 86_400;
        let loved: Vec<&Played> = p
            .history
            .iter()
            .filter(|h| h.plays >= req.min_plays && h.last_played > 0 && h.liked())
            .filter(|h| latest_listen - h.last_played >= quiet && req.now - h.last_played >= quiet)
            .filter(|h| !req.exclude.contains(&h.song))
            .collect();
        let raw: Vec<f32> = loved
            .iter()
            .map(|h| {
                let gap = (latest_listen - h.last_played) as f64 / 86_400.0;
                ((1.0 + h.plays as f64).ln() * (1.0 - (-gap / REDISCOVER_TAU_DAYS).exp())) as f32
            })
            .collect();
        let songs: Vec<usize> = loved.iter().map(|h| h.song).collect();
        let taste = z_scores(&self.score_songs(p, &songs));
        let score: Vec<f32> = z_scores(&raw).iter().zip(&taste).map(|(r, t)| r + req.taste * t).collect();
        let mut order: Vec<usize> = (0..loved.len()).collect();
        order.sort_by(|&i, &j| score[j].total_cmp(&score[i]).then(songs[i].cmp(&songs[j])));
        let mut per_artist: HashMap<i64, usize> = HashMap::new();
        let mut out = Vec::new();
        for i in order {
            if out.len() == req.n {
                break;
            }
            let h = loved[i];
            if let Some(a) = c.artist[h.song] {
                let e = per_artist.entry(a).or_default();
                if *e >= req.max_per_artist {
                    continue;
                }
                *e += 1;
            }
            out.push(Rediscovered {
                song: h.song,
                score: score[i],
                plays: h.plays,
                last_played: h.last_played,
                quiet_days: ((latest_listen - h.last_played) as f64 / 86_400.0) as f32,
            });
        }
        Ok(out)
    }

    /// The user's sonic fingerprint: up to `k` audio centroids of their
    /// `top` most played songs.
    pub fn fingerprint(&self, history: &[Played], k: usize, top: usize) -> Vec<Centroid> {
        let c = self.catalog;
        let mut played: Vec<&Played> = history.iter().filter(|h| h.liked() && c.audio[h.song].is_some()).collect();
        played.sort_by(|a, b| b.plays.total_cmp(&a.plays).then(a.song.cmp(&b.song)));
        played.truncate(top);
        if played.is_empty() || k == 0 {
            return Vec::new();
        }
        let pts: Vec<(Vec<f32>, f32, usize)> =
            played.iter().map(|h| (unit(c.audio[h.song].as_deref().unwrap_or(&[])), h.plays, h.song)).collect();
        // At most one cluster per five songs.
        let k = k.min(pts.len().div_ceil(5)).max(1);
        // Deterministic start (farthest-first from the most played song),
        // then spherical k-means. Hand-written: a few dozen points, a few
        // iterations; a clustering crate would outweigh it.
        let mut cents: Vec<Vec<f32>> = vec![pts[0].0.clone()];
        while cents.len() < k {
            let far = pts
                .iter()
                .map(|p| (cents.iter().map(|q| dot(&p.0, q)).fold(f32::MIN, f32::max), &p.0))
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .map(|e| e.1.clone())
                .expect("points are not empty");
            cents.push(far);
        }
        let mut assign = vec![0usize; pts.len()];
        for _ in 0..20 {
            for (i, p) in pts.iter().enumerate() {
                assign[i] = (0..cents.len())
                    .max_by(|&a, &b| dot(&p.0, &cents[a]).total_cmp(&dot(&p.0, &cents[b])))
                    .unwrap_or(0);
            }
            for (j, cen) in cents.iter_mut().enumerate() {
                let mut sum = vec![0f32; cen.len()];
                for (i, p) in pts.iter().enumerate() {
                    if assign[i] == j {
                        let w = (1.0 + p.1).ln();
                        sum.iter_mut().zip(&p.0).for_each(|(s, x)| *s += w * x);
                    }
                }
                if sum.iter().any(|&x| x != 0.0) {
                    *cen = unit(&sum);
                }
            }
        }
        let total: f32 = pts.iter().map(|p| (1.0 + p.1).ln()).sum();
        let mut out: Vec<Centroid> = cents
            .into_iter()
            .enumerate()
            .map(|(j, vector)| {
                let members: Vec<usize> = (0..pts.len()).filter(|&i| assign[i] == j).collect();
                let weight = members.iter().map(|&i| (1.0 + pts[i].1).ln()).sum::<f32>() / total.max(1e-6);
                Centroid { vector, weight, songs: members.iter().map(|&i| pts[i].2).collect() }
            })
            .filter(|c| !c.songs.is_empty())
            .collect();
        out.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        out
    }
}

/// Every song's joint-space vector (`None` where it lacks a part).
type JointVectors = Vec<Option<Vec<f32>>>;

/// How a path is built: the smooth path, or a baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathMethod {
    /// Candidates near the line, then least sum of squared steps.
    Smooth,
    /// Baseline: the nearest unused song to each step point.
    NearestToLine,
    /// Baseline: random songs (seeded).
    Random(u64),
}
