//! Rediscovery (songs a user played often and then stopped playing) and
//! the sonic fingerprint (clusters of the audio of a user's most played
//! songs); formulas in [`crate::mix`]'s docs.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::mix::z_scores;
use crate::{Error, Hybrid, Played, Profile, Result};
use encore_types::vector::{dot, unit};

/// Rediscovery's decay, days: a song last played this long before the
/// user's latest listen gets 63 % of its full weight.
const REDISCOVER_TAU_DAYS: f64 = 90.0;

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

impl Hybrid<'_> {
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
