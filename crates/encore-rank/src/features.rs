//! The features: one raw score per source for every song, standardised
//! over the catalog (z-scores) so the sources are comparable.

use std::collections::HashSet;

use rayon::prelude::*;

use crate::profile::Profile;
use crate::{Error, Hybrid, Played, Result, Retrieval, AUDIO, CF, FEATURES, KNN, N_FEATURES, POPULAR, SEED, TEXT};
use encore_types::vector::{dot, sparse_dot};

/// z-scores of one song's raw features (0 where missing or constant).
pub(crate) fn standardise(
    raw: &[Option<f32>; N_FEATURES],
    stats: &[Option<(f64, f64)>; N_FEATURES],
) -> [f32; N_FEATURES] {
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
pub(crate) fn moments(values: impl Iterator<Item = f32>) -> Option<(f64, f64)> {
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

/// A user's raw and standardised feature values for every catalog song.
#[derive(Debug, Clone)]
pub struct Scores {
    /// Raw score per source per song (`None` where the source says nothing).
    pub raw: Vec<[Option<f32>; N_FEATURES]>,
    /// Standardised features (0 where the raw score is missing).
    pub z: Vec<[f32; N_FEATURES]>,
}

impl Hybrid<'_> {
    /// Raw feature values of song `s` for `p` (`None` where the source says
    /// nothing).
    pub(crate) fn raw(&self, p: &Profile, s: usize) -> [Option<f32>; N_FEATURES] {
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
    pub(crate) fn popular(&self, p: &Profile, s: usize) -> f32 {
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
    pub(crate) fn fast_stats(&self, r: &Retrieval, p: &Profile) -> [Option<(f64, f64)>; N_FEATURES] {
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

    /// Standardised features of `songs` for `p`: with retrieval from the
    /// catalog moments, else by scoring the catalog.
    pub(crate) fn z_of(&self, p: &Profile, songs: &[usize]) -> Vec<[f32; N_FEATURES]> {
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

    /// Fused scores of the given songs for `p` (no rules, no candidates).
    pub fn score_songs(&self, p: &Profile, songs: &[usize]) -> Vec<f32> {
        self.z_of(p, songs).iter().map(|z| self.fusion.logit(z)).collect()
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

    /// Training examples for [`crate::Fusion::fit`]: the candidates of a user with
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
