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

use crate::{dot, moments, top_k, Centroid, Error, Hybrid, Profile, Result, Tunables};

/// A seed song and its weight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MixSeed {
    /// Catalog position.
    pub song: usize,
    /// Weight (> 0).
    pub weight: f32,
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

pub(crate) fn z_scores(v: &[f32]) -> Vec<f32> {
    match moments(v.iter().copied().filter(|x| x.is_finite())) {
        Some((m, sd)) => v.iter().map(|&x| if x.is_finite() { ((x as f64 - m) / sd) as f32 } else { 0.0 }).collect(),
        None => vec![0.0; v.len()],
    }
}

impl Hybrid<'_> {
    pub(crate) fn check_song(&self, s: usize) -> Result<()> {
        if s >= self.catalog.len() {
            return Err(Error::BadRequest(format!("no song at catalog position {s}")));
        }
        Ok(())
    }

    /// Relevance of song `s` to the seeds (weighted mean similarity).
    pub(crate) fn seed_relevance(&self, req: &MixRequest, s: usize) -> f32 {
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
}
