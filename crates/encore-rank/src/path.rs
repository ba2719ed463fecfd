//! Paths: songs from one song to another in even steps through a joint
//! space of audio and CF vectors (formulas in [`crate::mix`]'s docs).

use std::collections::HashSet;

use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::{Error, Hybrid, Result};
use encore_types::vector::unit;

/// Weights of the audio and CF parts of the joint space of paths.
pub const JOINT_WEIGHTS: [(&str, f32); 2] = [("audio", 0.5), ("cf", 0.5)];

/// Candidates per step of a path.
const PATH_CANDIDATES: usize = 16;

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

impl Hybrid<'_> {
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
}
